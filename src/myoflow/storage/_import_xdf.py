"""Import XDF files (LabRecorder / Lab Streaming Layer) with ``pyxdf`` (``pip install myoflow[xdf]``).

What is done to an XDF file:

* ``pyxdf.load_xdf`` with ``synchronize_clocks=True`` (each stream's clock-offset measurements
  are applied, mapping its times onto the recording host's LSL clock) and
  ``dejitter_timestamps=True`` (a line is fitted through each stream's timestamps, per segment);
  the number of offsets and their mean are reported per stream;
* each numeric stream with a nominal rate becomes a myoflow stream of the same name; its kind
  comes from the LSL stream type (EMG, ECG, ACC, GYRO, QUAT/orientation, angle); other types
  (EEG, ...) are imported as ``"emg"`` (a biopotential) unless ``kinds`` says otherwise, and
  the report says so. Samples keep the XDF channel format (int16 stays int16); units from the
  ``<desc><channels>`` metadata when present, else ``"counts"`` for integer formats;
* a jump of more than 1.5 sample periods in a regular stream's times is a gap of
  ``round(dt * rate) - 1`` samples (reason ``"loss"``);
* string streams and streams with no nominal rate (markers) become events of kind
  ``"marker"`` at their synchronised times, label = the string, ``data["xdf_stream"]`` = name;
* times stay on the LSL clock (seconds); the UTC anchor is the file header's ``datetime`` at
  the first sample when present, else the file's modification time.
"""

from __future__ import annotations

import os
import struct
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from myoflow.storage.importers import ImportReport, MainsOption, SourceStream, unit_scale, write_import
from myoflow.stream import KIND_UNITS, Event, StreamInfo

__all__ = ["import_xdf"]

_TYPE_KINDS = {
    "emg": "emg",
    "ecg": "ecg",
    "ekg": "ecg",
    "acc": "acc",
    "accel": "acc",
    "accelerometer": "acc",
    "gyro": "gyro",
    "gyroscope": "gyro",
    "quat": "quat",
    "quaternion": "quat",
    "orientation": "quat",
    "angle": "angle",
    "goniometer": "angle",
}
_UNIT_SPELLINGS = {
    "microvolts": "uV",
    "microvolt": "uV",
    "millivolts": "mV",
    "millivolt": "mV",
    "volts": "V",
    "volt": "V",
    "degrees": "deg",
    "radians": "rad",
}


def import_xdf(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    kinds: dict[str, str] | None = None,
    placements: dict[str, list[str]] | None = None,
    subject_id: str = "",
    exercise: str = "",
    overwrite: bool = False,
    mains: MainsOption = None,
) -> ImportReport:
    """Import an XDF file; see the module docs for what is done to it.

    Parameters
    ----------
    kinds
        XDF stream name -> myoflow kind, overriding the kind from the stream type.
    placements
        XDF stream name -> one placement label per channel.

    Raises
    ------
    ImportError
        pyxdf is not installed (``pip install myoflow[xdf]``).
    """
    from myoflow._extras import require

    pyxdf = require("pyxdf", "importing XDF")
    path = Path(path)
    kinds, placements = dict(kinds or {}), dict(placements or {})
    for name, kind in kinds.items():
        if kind not in KIND_UNITS:
            raise ValueError(f"kinds[{name!r}]: kind must be one of {', '.join(KIND_UNITS)}, got {kind!r}")
    try:
        raw_streams, header = pyxdf.load_xdf(str(path), synchronize_clocks=True, dejitter_timestamps=True)
    except (
        OSError,
        ValueError,
        EOFError,
        KeyError,
        IndexError,
        TypeError,
        OverflowError,
        SyntaxError,
        struct.error,
    ) as exc:
        # SyntaxError: xml.etree's ParseError for a damaged XML header; struct.error: a cut chunk
        raise ValueError(f"{path}: not a readable XDF file ({type(exc).__name__}: {exc})") from None
    notes: list[str] = [
        "clock offsets applied and timestamps dejittered (pyxdf "
        "synchronize_clocks=True, dejitter_timestamps=True)"
    ]
    streams: list[SourceStream] = []
    events: list[Event] = []
    firsts = []
    for xs in raw_streams:
        info = xs["info"]
        name, stype = _first(info, "name"), _first(info, "type")
        fmt, srate = _first(info, "channel_format"), float(_first(info, "nominal_srate") or 0)
        stamps = np.asarray(xs["time_stamps"], dtype=np.float64)
        if stamps.size == 0:
            notes.append(f"XDF stream {name!r} ({stype}) holds no samples: skipped")
            continue
        firsts.append(stamps[0])
        offsets = xs.get("clock_values") or []
        if offsets:
            notes.append(
                f"XDF stream {name!r}: {len(offsets)} clock offset(s) applied, mean "
                f"{float(np.mean(offsets)):+.6g} s"
            )
        if fmt == "string" or srate <= 0:
            for t, value in zip(stamps, xs["time_series"], strict=True):
                label = " ".join(str(v) for v in np.ravel(np.asarray(value, dtype=object)))
                events.append(Event(float(t), "marker", label, None, {"xdf_stream": name}))
            notes.append(
                f"XDF stream {name!r} ({stype}, {fmt}, irregular or text): {len(stamps)} marker event(s)"
            )
            continue
        streams.append(_numeric_stream(xs, name, stype, srate, stamps, kinds, placements, notes))
    if not streams:
        raise ValueError(f"{path}: no numeric XDF stream with a sample rate to import")
    start = _header_datetime(header)
    if start is not None:
        notes.append("UTC anchor: the XDF header's datetime, taken as the time of the first sample")
    return write_import(
        out,
        streams,
        events,
        source=path,
        fmt="xdf",
        notes=notes,
        subject_id=subject_id,
        exercise=exercise,
        start_unix=start,
        clock_zero=float(min(firsts)),
        overwrite=overwrite,
        mains=mains,
    )


def _numeric_stream(
    xs: dict[str, Any],
    name: str,
    stype: str,
    srate: float,
    stamps: np.ndarray,
    kinds: dict[str, str],
    placements: dict[str, list[str]],
    notes: list[str],
) -> SourceStream:
    values = np.asarray(xs["time_series"])
    if values.ndim == 1:
        values = values[:, np.newaxis]
    kind = kinds.get(name) or _TYPE_KINDS.get(stype.lower())
    if kind is None:
        kind = "emg"
        notes.append(
            f"XDF stream {name!r} has type {stype!r}, which myoflow has no kind for: "
            "imported as 'emg' (to change it: --kind STREAM=KIND; kinds={name: kind} in Python)"
        )
    labels, units = _channels(xs["info"], values.shape[1])
    unit = units[0] if units and len(set(units)) == 1 else ""
    if unit:
        try:
            scale, stream_unit = unit_scale(kind, _UNIT_SPELLINGS.get(unit.lower(), unit))
        except ValueError:
            scale, stream_unit = 1.0, unit
            notes.append(
                f"XDF stream {name!r}: unit {unit!r} has no conversion to "
                f"{KIND_UNITS[kind]}; kept as {unit!r}"
            )
    elif values.dtype.kind in "iu":
        scale, stream_unit = 1.0, "counts"
        notes.append(f"XDF stream {name!r}: {values.dtype} samples with no unit: stored as counts")
    else:
        scale, stream_unit = 1.0, KIND_UNITS[kind]
        notes.append(f"XDF stream {name!r}: no unit given, assumed {KIND_UNITS[kind]}")
    place = placements.get(name)
    info = StreamInfo(name, kind, srate, tuple(labels), tuple(place) if place else None, stream_unit)
    steps = np.maximum(1, np.rint(np.diff(stamps) * srate).astype(np.int64))
    if np.any(steps > 1):
        notes.append(
            f"XDF stream {name!r}: {int(np.sum(steps - 1))} sample(s) missing between "
            f"timestamps in {int(np.count_nonzero(steps > 1))} place(s): recorded as gaps"
        )
    index = np.concatenate(([0], np.cumsum(steps)))
    raw_dtype = values.dtype if values.dtype.kind in "iuf" else None
    return SourceStream(
        info, values, scale=scale, raw_dtype=raw_dtype, times=stamps, index=index, gap_reason="loss"
    )


def _first(info: dict[str, Any], key: str) -> str:
    value = info.get(key)
    while isinstance(value, list):
        value = value[0] if value else ""
    return "" if value is None else str(value)


def _channels(info: dict[str, Any], n: int) -> tuple[list[str], list[str]]:
    labels, units = [f"ch{k + 1}" for k in range(n)], list[str]()
    try:
        chans = info["desc"][0]["channels"][0]["channel"]
    except (KeyError, IndexError, TypeError):
        return labels, units
    if len(chans) != n:
        return labels, units
    for k, ch in enumerate(chans):
        labels[k] = _first(ch, "label") or labels[k]
        units.append(_first(ch, "unit"))
    return labels, units


def _header_datetime(header: dict[str, Any]) -> float | None:
    text = _first(header.get("info", {}), "datetime")
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
