"""Export myoflow recordings to CSV (this module) and NWB (:mod:`myoflow.storage.nwb`).

CSV layout written by :func:`export_csv` into one folder:

``<stream key>.csv``
    One row per stored sample: ``time_s`` (host-clock seconds, as in the recording),
    ``index`` (sample index, lost samples counted), then one column per channel in physical
    units (``raw * scale + offset`` in float64, 10 significant digits) named
    ``<kind>_<placement or channel>_<unit>`` (``emg_glute_max_r_uV``,
    ``acc_thigh_r_x_g``). Lost samples have no row: a gap shows as a jump in ``index``.
``<stream key>_gaps.csv``
    ``index, n_missing, t_start_s, t_end_s, reason`` per gap (header only when none).
``events.csv``
    ``time_s, kind, label, stream, data`` (data as a JSON object).
``session.json``
    Session metadata, the clock anchor (UTC = ``time_s + unix_s - monotonic_s``) and per-stream
    rate, unit, channels, placements and file names.

Streams are read and written in windows of :data:`WINDOW_ROWS` rows, so memory stays bounded.
Every file is written into a hidden folder beside ``out_dir`` and moved in only when all are
complete: a failure (full disk, damaged recording) leaves ``out_dir`` as it was and says which
file could not be written. No stream's file can replace another output (:func:`output_names`).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from myoflow.storage.schema import RecordingError

__all__ = ["EVENTS_FILE", "SESSION_FILE", "WINDOW_ROWS", "channel_columns", "export_csv", "output_names"]

EVENTS_FILE = "events.csv"
SESSION_FILE = "session.json"

#: Rows read from the recording and written at once.
WINDOW_ROWS = 1 << 16


def channel_columns(info: Any) -> list[str]:
    """CSV column names of a stream's channels: ``<kind>_<placement or channel>_<unit>``.

    When a stream has several channels at one placement (an IMU's x, y, z) the channel label is
    added: ``acc_thigh_r_x_g``. Characters other than letters, digits, ``_ . -`` become ``_``
    (``deg/s`` -> ``deg_s``, ``m/s^2`` -> ``m_s_2``).
    """
    unit = _clean(info.unit or "1")
    places = list(info.placements) if info.placements else [""] * info.n_channels
    shared = len(set(places)) < len(places)
    names = []
    for place, chan in zip(places, info.channels, strict=True):
        where = f"{place}_{chan}" if place and shared else (place or chan)
        names.append(f"{info.kind}_{_clean(where)}_{unit}")
    seen: dict[str, int] = {}
    for k, n in enumerate(names):
        if n in seen:
            names[k] = f"{n}_{k + 1}"
        seen[n] = k
    return names


def export_csv(
    recording: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    pseudonymise: Any = None,
) -> list[Path]:
    """Write a recording as CSV files into ``out_dir`` (created); returns the files written.

    ``pseudonymise`` (a :class:`~myoflow.storage.pseudonymise.Pseudonymiser`) hashes the
    subject id and drops BLE addresses, notes and the source file name from what is written.

    Raises
    ------
    ValueError
        ``out_dir`` holds files this export would replace and ``overwrite`` is False.
    RecordingError
        The recording cannot be read, or the export cannot be written (names the file and the
        problem; nothing is left behind).
    """
    from myoflow.storage.reader import open_recording

    out = Path(out_dir)
    with open_recording(recording) as rec:
        names = output_names(list(rec.streams))
        planned = [out / f for pair in names.values() for f in pair] + [out / EVENTS_FILE, out / SESSION_FILE]
        existing = [p.name for p in planned if p.exists()]
        if existing and not overwrite:
            raise ValueError(
                f"{out}: already holds {', '.join(existing[:4])}"
                f"{f' and {len(existing) - 4} more' if len(existing) > 4 else ''}; "
                "--overwrite (overwrite=True) replaces them"
            )
        made_out = not out.exists()
        tmp = out.parent / f".{out.name}.part-{os.getpid()}"
        try:
            out.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            _write_all(rec, recording, tmp, names, pseudonymise)
            for p in planned:  # every file is complete: move them in (renames, same folder)
                os.replace(tmp / p.name, p)
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if made_out:
                shutil.rmtree(out, ignore_errors=True)
            if isinstance(exc, OSError):
                where = exc.filename or tmp
                raise RecordingError(
                    out,
                    f"cannot write the CSV export ({exc.strerror or exc}, at {where}); nothing was written",
                ) from None
            raise
        tmp.rmdir()
    return planned


def output_names(streams: list[str]) -> dict[str, tuple[str, str]]:
    """File names ``(samples, gaps)`` per stream: ``<key>.csv`` and ``<key>_gaps.csv``.

    No name collides with another stream's or with ``events.csv``/``session.json``: a stream
    whose names are taken (a stream called ``events``, or ``x_gaps`` beside ``x``) gets ``_``
    appended to its key until they are free.
    """
    from myoflow.storage.schema import stream_key

    used = {EVENTS_FILE, SESSION_FILE}
    names = {}
    for name in streams:
        key = stream_key(name)
        while f"{key}.csv" in used or f"{key}_gaps.csv" in used:
            key += "_"
        names[name] = (f"{key}.csv", f"{key}_gaps.csv")
        used.update(names[name])
    return names


def _write_all(
    rec: Any, recording: Any, out: Path, names: dict[str, tuple[str, str]], pseudo: Any = None
) -> None:
    streams_meta = {}
    for name, view in rec.streams.items():
        data_name, gaps_name = names[name]
        _write_stream(view, out / data_name)
        _write_gaps(view, out / gaps_name)
        info = view.info
        streams_meta[name] = {
            "file": data_name,
            "gaps_file": gaps_name,
            "kind": info.kind,
            "unit": info.unit,
            "nominal_rate_hz": info.rate,
            "channels": list(info.channels),
            "placements": list(info.placements) if info.placements else None,
            "columns": channel_columns(info),
            "n_samples": view.n_samples,
            "device": asdict(view.device if pseudo is None else pseudo.device(view.device)),
        }
    with (out / EVENTS_FILE).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["time_s", "kind", "label", "stream", "data"])
        for ev in rec.events:
            if pseudo is not None:
                ev = pseudo.event(ev)
            w.writerow(
                [
                    repr(float(ev.time)),
                    ev.kind,
                    ev.label,
                    ev.stream or "",
                    json.dumps(ev.data, sort_keys=True),
                ]
            )
    meta = rec.metadata if pseudo is None else pseudo.metadata(rec.metadata)
    session = {
        "source": Path(recording).name if pseudo is None else "",
        "pseudonymised": pseudo is not None,
        "state": rec.state,
        "schema_version": rec.schema_version,
        "myoflow_version": rec.myoflow_version,
        "clock": {"monotonic_s": rec.clock.monotonic_s, "unix_s": rec.clock.unix_s},
        "metadata": asdict(meta),
        "streams": streams_meta,
    }
    (out / SESSION_FILE).write_text(json.dumps(session, indent=2) + "\n", encoding="utf-8")


def _write_stream(view: Any, path: Path) -> None:
    header = ",".join(["time_s", "index", *channel_columns(view.info)])
    n = view.n_samples
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write(header + "\n")
        for a in range(0, n, WINDOW_ROWS):
            b = min(a + WINDOW_ROWS, n)
            t = view.times(a, b)
            idx = view.sample_indices(a, b)
            x = view.raw(a, b).astype(np.float64) * view.scale + view.offset
            cols = [np.char.mod("%.9f", t), idx.astype(str)]
            cols += [np.char.mod("%.10g", x[:, c]) for c in range(x.shape[1])]
            rows = cols[0]
            for col in cols[1:]:
                rows = np.char.add(np.char.add(rows, ","), col)
            f.write("\n".join(rows.tolist()) + "\n")


def _write_gaps(view: Any, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["index", "n_missing", "t_start_s", "t_end_s", "reason"])
        for g in view.gaps:
            w.writerow(
                [
                    g.start_index,
                    "" if g.n_missing is None else g.n_missing,
                    repr(float(g.t_start)),
                    repr(float(g.t_end)),
                    g.reason,
                ]
            )


def _clean(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"
