"""The files of one recording in an EMG-BIDS dataset: EDF+/BDF+ data, sidecars, TSV tables.

Pure builders used by :mod:`myoflow.storage.bids` (which owns the layout and the writing):

* :func:`edf_for_stream` turns one EMG stream into an ``edfio`` EDF+ (or BDF+) object whose
  digital values are the stored raw counts when they fit (so the samples come back exactly,
  within the header's 8-character precision of the physical range);
* :func:`emg_sidecar`, :func:`emg_channels`, :func:`events_rows`, :func:`motion_files` build the
  ``_emg.json``, ``_channels.tsv``, ``_events.tsv`` and ``_motion.*`` contents (BIDS 1.11
  electromyography and motion).

Times: a data file starts at its stream's first stored sample; samples sit on the stream's
nominal grid by their sample index (lost samples counted), lost samples are filled with 0 and
listed as ``gap`` events.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "EDF_RECORD_S",
    "MotionFile",
    "edf_for_stream",
    "emg_channels",
    "emg_sidecar",
    "events_rows",
    "grid",
    "motion_files",
    "target_muscle",
    "tsv",
]

#: Candidate EDF data-record durations (s): the first that holds a whole number of samples.
EDF_RECORD_S = (1.0, 2.0, 4.0, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0)
_G = 9.80665  # m/s^2 per g
_SIDES = {"l": "left", "r": "right"}
#: myoflow kind -> (BIDS motion channel type, unit conversion, BIDS unit, components)
_MOTION = {
    "acc": ("ACCEL", _G, "m/s^2", ("x", "y", "z")),
    "gyro": ("GYRO", 1.0, "deg/s", ("x", "y", "z")),
    "mag": ("MAGN", 1.0, None, ("x", "y", "z")),
    "quat": ("ORNT", 1.0, "n/a", ("quat_w", "quat_x", "quat_y", "quat_z")),
    "angle": ("JNTANG", 1.0, "deg", None),
}


#: Motion channel types whose ``<TYPE>ChannelCount`` the motion sidecar gives (0 when absent).
_COUNTED = ("ACCEL", "ANGACCEL", "GYRO", "JNTANG", "LATENCY", "MAGN", "MISC", "ORNT", "POS", "VEL")


def label(text: str, fallback: str) -> str:
    """A BIDS entity label: letters and digits only (``glute_bridge`` -> ``glutebridge``)."""
    out = re.sub(r"[^A-Za-z0-9]", "", text or "")
    return out or fallback


def target_muscle(placement: str | None) -> str:
    """``glute_max_r`` -> ``glute max (right)``; ``n/a`` when the channel has no placement."""
    if not placement:
        return "n/a"
    words = placement.split("_")
    if len(words) > 1 and words[-1].lower() in _SIDES:
        return f"{' '.join(words[:-1])} ({_SIDES[words[-1].lower()]})"
    return " ".join(words)


def tsv(header: Sequence[str] | None, rows: Sequence[Sequence[Any]]) -> str:
    """Tab-separated text (``n/a`` for None or NaN), a header line unless ``header`` is None."""

    def cell(v: Any) -> str:
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            return "n/a"
        if isinstance(v, float):
            return f"{v:.10g}"
        return str(v).replace("\t", " ").replace("\n", " ")

    lines = [] if header is None else ["\t".join(header)]
    lines += ["\t".join(cell(v) for v in row) for row in rows]
    return "\n".join(lines) + "\n"


def grid(view: Any) -> tuple[np.ndarray, int]:
    """Grid position of every stored row (lost samples counted from row 0) and the grid length."""
    if view.n_samples == 0:
        return np.zeros(0, np.int64), 0
    idx = view.sample_indices()
    pos = idx - idx[0]
    return pos, int(pos[-1]) + 1


def channel_names(info: Any) -> list[str]:
    """EDF labels and ``_channels.tsv`` names: the placement (16 characters at most), made unique
    with the channel label when two channels share one."""
    base = [
        (info.placements[c] if info.placements and info.placements[c] else info.channels[c])
        for c in range(info.n_channels)
    ]
    names = [b[:16] for b in base]
    if len(set(names)) < len(names):
        names = [
            f"{b[: 15 - len(ch)]}_{ch}" if names.count(b[:16]) > 1 else b[:16]
            for b, ch in zip(base, info.channels, strict=True)
        ]
    if len(set(names)) < len(names):
        names = [f"ch{c + 1}" for c in range(info.n_channels)]
    return names


def _record_s(rate: float, name: str) -> float:
    for d in EDF_RECORD_S:
        if abs(rate * d - round(rate * d)) < 1e-9 * max(1.0, rate * d):
            return d
    raise ValueError(
        f"stream {name!r}: rate {rate:g} Hz gives no whole number of samples per EDF data record"
    )


def edf_for_stream(view: Any, start: Any, annotations: Sequence[tuple[float, float, str]], fmt: str) -> Any:
    """An ``edfio.Edf`` (``fmt`` "edf") or ``edfio.Bdf`` ("bdf") of one EMG stream.

    Each channel's digital value is the stored raw count when the raw samples are integers that
    fit the format (16 bit EDF, 24 bit BDF); other data (float imports) are quantised over the
    stream's own range. The last data record is filled up with 0 after the last sample (a
    ``padding`` annotation says so); lost samples are 0 too. ``start`` is a UTC ``datetime``.
    """
    import edfio

    info = view.info
    rate = float(info.rate)
    rec_s = _record_s(rate, info.name)
    per_record = int(round(rate * rec_s))
    pos, n = grid(view)
    n_pad = -(-n // per_record) * per_record
    dmin, dmax = (-32768, 32767) if fmt == "edf" else (-8388608, 8388607)
    raw = view.raw()
    names = channel_names(info)
    signals: list[Any] = []
    for c in range(info.n_channels):
        scale, offset = float(view.scale[c]), float(view.offset[c])
        data = np.zeros(n_pad, np.float64)
        data[pos] = raw[:, c].astype(np.float64) * scale + offset
        whole = raw.dtype.kind in "iu" and (
            raw.size == 0 or (raw[:, c].min() >= dmin and raw[:, c].max() <= dmax)
        )
        if whole and scale > 0:
            prange = (dmin * scale + offset, dmax * scale + offset)
        else:
            lo, hi = (float(data.min()), float(data.max())) if n else (-1.0, 1.0)
            prange = (lo, hi) if hi > lo else (lo - 1.0, lo + 1.0)
        kwargs = {
            "label": names[c],
            "transducer_type": "surface EMG",
            "physical_dimension": info.unit,
            "physical_range": _header_range(prange),
            "digital_range": (dmin, dmax),
        }
        signals.append((edfio.EdfSignal if fmt == "edf" else edfio.BdfSignal)(data, rate, **kwargs))
    notes = [edfio.EdfAnnotation(float(o), float(d) if d > 0 else None, t[:80]) for o, d, t in annotations]
    if n_pad > n:
        notes.append(edfio.EdfAnnotation(n / rate, (n_pad - n) / rate, "padding (not recorded)"))
    kind = edfio.Edf if fmt == "edf" else edfio.Bdf
    return kind(
        signals,
        recording=edfio.Recording(startdate=start.date()),
        starttime=start.time().replace(microsecond=0, tzinfo=None),
        data_record_duration=rec_s,
        annotations=notes,
    )


def _header_range(prange: tuple[float, float]) -> tuple[float, float]:
    """A physical range that fits the header's 8 characters, widened (never narrowed) to fit."""
    lo, hi = prange
    return (_fit8(lo, math.floor), _fit8(hi, math.ceil))


def _fit8(v: float, rnd: Any) -> float:
    """``v`` rounded outwards (``rnd`` math.floor for a minimum, math.ceil for a maximum) to the
    most digits that fit 8 characters; never on the inner side of ``v``."""
    for digits in range(6, -1, -1):
        unit = 10.0**-digits
        q = rnd(v * 10**digits) / 10**digits
        if rnd is math.ceil and q < v:  # v * 10**digits rounded to a whole number in float
            q += unit
        elif rnd is math.floor and q > v:
            q -= unit
        text = f"{q:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{q:.0f}"
        if len(text) <= 8 and (float(text) >= v if rnd is math.ceil else float(text) <= v):
            return float(text)
    raise ValueError(f"physical value {v:g} does not fit an EDF header")


def emg_sidecar(
    view: Any, meta: Any, device: Any, task: str, mains_hz: float | None, n: int
) -> dict[str, Any]:
    """The ``_emg.json`` of one EMG stream (BIDS 1.11 required and recommended fields we know)."""
    info = view.info
    out: dict[str, Any] = {
        "TaskName": task,
        "TaskDescription": (meta.exercise or "").replace("_", " ") or "n/a",
        "SamplingFrequency": float(info.rate),
        "PowerLineFrequency": float(mains_hz) if mains_hz else "n/a",
        "SoftwareFilters": "n/a",
        "HardwareFilters": "n/a",
        "RecordingType": "continuous",
        "RecordingDuration": round(n / float(info.rate), 6),
        "EMGChannelCount": info.n_channels,
        "EMGPlacementScheme": "Other",
        "EMGPlacementSchemeDescription": (
            "Placement named per channel (target_muscle in _channels.tsv) as given to myoflow; "
            "the placement procedure was not recorded."
        ),
        "EMGReference": "n/a",
        "Manufacturer": "n/a",
        "ManufacturersModelName": device.model or "n/a",
        "SoftwareVersions": device.firmware or "n/a",
    }
    return out


def emg_channels(view: Any, mains_hz: float | None) -> str:
    """``_channels.tsv`` of one EMG stream: name, type, units, target_muscle, ..."""
    info = view.info
    names = channel_names(info)
    rows = []
    for c in range(info.n_channels):
        place = info.placements[c] if info.placements else None
        rows.append(
            [
                names[c],
                "EMG",
                info.unit,
                f"myoflow {info.name} {info.channels[c]}",
                float(info.rate),
                target_muscle(place),
                "n/a",
                "good",
            ]
        )
    head = ["name", "type", "units", "description", "sampling_frequency", "target_muscle", "notch", "status"]
    return tsv(head, rows)


@dataclass
class EventRow:
    """One row of ``_events.tsv`` (seconds from the data file's first sample)."""

    onset: float
    duration: float
    trial_type: str
    label: str = ""
    stream: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


#: The columns of ``_events.tsv`` and their ``_events.json`` descriptions.
EVENT_COLUMNS = {
    "onset": "Seconds from the first sample of the data file.",
    "duration": "Seconds (0 for an instant).",
    "trial_type": "rep (one analysed rep), gap (samples lost, filled with 0 in the data file), "
    "or the myoflow event kind (rep_start, rep_end, phase, marker, calibration, ...).",
    "label": "myoflow event label.",
    "stream": "myoflow stream the event belongs to.",
    "rep": "Rep number (1-based) of a rep row.",
    "set": "Set number (1-based) of a rep row.",
    "relaxed": "yes when every muscle relaxed at the bottom of the rep, else no.",
    "tense_muscles": "Placements that stayed above rest at the bottom of the rep.",
    "top_s": "Seconds from the rep's onset to the top (end of the concentric phase).",
    "eccentric_s": "Seconds from the rep's onset to the start of the eccentric phase.",
    "bottom_s": "Seconds from the rep's onset to the bottom (end of the eccentric phase).",
    "crossover_s": "Seconds from the rep's onset to the glute/hamstring crossover (n/a: none).",
    "data": "The myoflow event's data as JSON.",
}


def events_rows(rows: Sequence[EventRow]) -> str:
    """``_events.tsv`` text, sorted by onset."""
    cols = list(EVENT_COLUMNS)
    out = []
    for r in sorted(rows, key=lambda r: (r.onset, r.trial_type)):
        base = {"onset": round(r.onset, 6), "duration": round(r.duration, 6), "trial_type": r.trial_type}
        base.update({"label": r.label or None, "stream": r.stream or None})
        base.update(r.extra)
        out.append([base.get(c) for c in cols])
    return tsv(cols, out)


def events_sidecar() -> dict[str, Any]:
    """``_events.json``: a description of every column BIDS does not define itself."""
    return {c: {"Description": d} for c, d in EVENT_COLUMNS.items() if c not in ("onset", "duration")}


def rep_rows(reps: Sequence[dict[str, Any]], shift_s: float) -> list[EventRow]:
    """Rep rows from the analysis report's ``reps`` (session seconds + ``shift_s`` = file seconds)."""
    out = []
    for r in reps:
        ph = r["phases_s"]
        start = float(ph["start"])
        tense = [m for m, v in r.get("relaxation", {}).items() if not v.get("relaxed", True)]
        hand = r.get("handover") or {}
        cross = hand.get("crossover_s")
        extra = {
            "rep": int(r["index"]),
            "set": int(r["set_index"]) + 1,
            "relaxed": "no" if tense else "yes",
            "tense_muscles": ",".join(tense) or None,
            "top_s": round(float(ph["top"]) - start, 4),
            "eccentric_s": round(float(ph["eccentric"]) - start, 4),
            "bottom_s": round(float(ph["bottom"]) - start, 4),
            "crossover_s": None if cross is None else round(float(cross) - start, 4),
        }
        out.append(EventRow(start + shift_s, float(ph["end"]) - start, "rep", extra=extra))
    return out


def recording_events(events: Sequence[Any], t0: float) -> list[EventRow]:
    """Rows of the recording's own events (``metadata`` updates left out), times from ``t0``."""
    out = []
    for e in events:
        if e.kind == "metadata":
            continue
        dur = 0.0
        if isinstance(e.data, dict):
            d = e.data.get("duration_s", e.data.get("contraction_s"))
            dur = float(d) if isinstance(d, (int, float)) and math.isfinite(d) and d > 0 else 0.0
        data = json.dumps(e.data, sort_keys=True, default=str) if e.data else None
        out.append(EventRow(e.time - t0, dur, e.kind, e.label, e.stream or "", {"data": data}))
    return out


@dataclass
class MotionFile:
    """One tracking system's ``_motion.tsv`` rows, ``_channels.tsv`` and ``_motion.json``."""

    tracksys: str
    data: str
    channels: str
    sidecar: dict[str, Any]
    first_time: float


def motion_files(views: Sequence[Any], task: str, devices: dict[str, Any]) -> list[MotionFile]:
    """IMU streams as BIDS motion files: streams of one strap (``pelvis/acc`` + ``pelvis/gyro``)
    with the same rate and grid share a tracking system; others get one each."""
    groups: dict[str, list[Any]] = {}
    for v in views:
        key = v.name.split("/")[0]
        same = groups.get(key)
        if same and (float(same[0].rate) != float(v.rate) or grid(same[0])[1] != grid(v)[1]):
            key = v.name
        groups.setdefault(key, []).append(v)
    out = []
    for key, members in groups.items():
        rate = float(members[0].rate)
        _, n = grid(members[0])
        columns: list[np.ndarray] = []
        rows: list[list[Any]] = []
        counts: dict[str, int] = {}
        for v in members:
            btype, factor, unit, comps = _MOTION.get(v.info.kind, ("MISC", 1.0, None, None))
            pos, _ = grid(v)
            phys = v.physical().astype(np.float64) * factor
            for c in range(v.info.n_channels):
                col = np.full(n, np.nan)
                col[pos] = phys[:, c]
                columns.append(col)
                place = v.info.placements[c] if v.info.placements else None
                comp = comps[c] if comps and c < len(comps) else "n/a"
                rows.append(
                    [
                        label(f"{v.name}_{v.info.channels[c]}", "ch"),
                        comp,
                        btype,
                        place or key,
                        unit or v.info.unit,
                        rate,
                    ]
                )
                counts[btype] = counts.get(btype, 0) + 1
        data = np.column_stack(columns) if columns else np.zeros((n, 0))
        text = "".join(
            "\t".join("n/a" if not math.isfinite(x) else f"{x:.7g}" for x in row) + "\n" for row in data
        )
        dev = devices.get(members[0].name)
        effective = float(members[0].effective_rate)
        sidecar: dict[str, Any] = {
            "TaskName": task,
            "SamplingFrequency": rate,
            "SamplingFrequencyEffective": round(effective, 6) if math.isfinite(effective) else "n/a",
            "MissingValues": "n/a",
            "TrackedPointsCount": len({r[3] for r in rows}),
            "RecordingDuration": round(n / rate, 6),
            "TrackingSystemName": f"myoflow {key}",
            "Manufacturer": "n/a",
            "ManufacturersModelName": getattr(dev, "model", "") or "n/a",
            "SoftwareVersions": getattr(dev, "firmware", "") or "n/a",
            "MotionChannelCount": len(rows),
            **{f"{t}ChannelCount": counts.get(t, 0) for t in _COUNTED},
        }
        channels = tsv(["name", "component", "type", "tracked_point", "units", "sampling_frequency"], rows)
        out.append(MotionFile(label(key, "imu"), text, channels, sidecar, float(members[0].times(0, 1)[0])))
    return out
