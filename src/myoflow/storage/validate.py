"""Every invariant of a recording file, checked in one place: on open, by ``myoflow check``
and by ``recover``.

:func:`file_problems` walks an open h5py file and returns one sentence per broken invariant
(``"stream 'emg': time_map rows are not increasing (row 3 <= row 2)"``), never raising on
damaged content. :func:`~myoflow.storage.reader.open_recording` runs it without the ``deep``
checks and refuses the file with the first problem; :func:`check_recording` runs it with them
(every raw sample readable, no NaN or infinity in float samples) and lists them all.

A live file (being written, or left by a killed writer) may have tables flushed ahead of each
other: anchors, gaps, packets and events past the stored samples are allowed there (the
reader keeps the consistent part). A final or recovered file must be whole.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from myoflow.storage import schema
from myoflow.storage._validate_common import (
    MAX_CLOCK_S,
    Fatal,
    as_text,
    clock_offset,
    gap_limit,
    is_int,
    is_real,
    short_repr,
)
from myoflow.storage._validate_streams import streams

__all__ = ["MAX_CLOCK_S", "check_recording", "file_problems", "gap_limit", "open_problem"]


def file_problems(f: Any, *, deep: bool = False) -> list[str]:
    """Every broken invariant of the open h5py file ``f`` as one sentence each.

    ``deep`` also reads every raw sample (unreadable chunks) and looks for non-finite float
    samples; without it, only attributes and the tables (time maps, gaps, packets, events)
    are read.
    """
    out: list[str] = []
    try:
        live = _root(f, out)
        if out:
            return out
        stream_names = streams(f, out, live=live, deep=deep)
        _session(f, out)
        _events(f, out, live=live, streams=stream_names)
    except Fatal:
        pass
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:
        out.append(f"cannot read part of the file ({type(exc).__name__}: {exc})")
    return out


def open_problem(path: Path, exc: OSError) -> str:
    """Why the HDF5 file at ``path`` did not open (``exc``), in a few words."""
    text = str(exc)
    if "file signature not found" in text:
        return "not an HDF5 file (no HDF5 signature found; is it a recording at all?)"
    m = re.search(r"truncated file: eof = (\d+).*stored_eof = (\d+)", text)
    if m:
        return (
            f"truncated HDF5 file: it has {m.group(1)} bytes but its header says "
            f"{m.group(2)} (an interrupted copy or download?)"
        )
    if "ermission denied" in text:
        return "permission denied"
    return f"cannot be opened as HDF5 ({text})"


def check_recording(path: str | os.PathLike[str]) -> list[str]:
    """All problems of the recording at ``path`` (empty: every invariant holds), deep checks on.

    A file that cannot be opened as HDF5 at all gives one problem saying why.
    """
    import h5py

    p = Path(path)
    if not p.exists():
        return ["no such file"]
    if p.is_dir():
        return ["is a folder, not a recording file"]
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        try:
            if "already open for write" not in str(exc):
                raise
            f = h5py.File(p, "r", swmr=True)
        except OSError as exc2:
            return [open_problem(p, exc2)]
    with f:
        return file_problems(f, deep=True)


# --------------------------------------------------------------------------- root and session


def _root(f: Any, out: list[str]) -> bool:
    a = dict(f.attrs.items())  # one read of every attribute
    if as_text(a.get("format")) != schema.FORMAT_NAME:
        out.append(f"not a myoflow recording (root attribute 'format' is not {schema.FORMAT_NAME!r})")
        return False
    version = a.get("schema_version")
    if version is None or not is_int(version):
        out.append("root attribute 'schema_version' is missing or not an integer")
    elif int(version) > schema.SCHEMA_VERSION:
        out.append(
            f"written with recording schema version {int(version)} by myoflow "
            f"{as_text(a.get('myoflow_version'))}; this myoflow reads versions up to "
            f"{schema.SCHEMA_VERSION}: upgrade myoflow to read it"
        )
    elif int(version) < 1:
        out.append(f"root attribute 'schema_version' must be >= 1, got {int(version)}")
    state = as_text(a.get("state"))
    if not isinstance(a.get("state"), (str, bytes)) or state not in schema.STATES:
        out.append(f"root attribute 'state' must be one of {schema.STATES}, got {a.get('state')!r}")
    for name, lo in (("clock_unix_s", 0.0), ("clock_monotonic_s", -MAX_CLOCK_S)):
        value = a.get(name)
        if value is None or not is_real(value):
            out.append(f"root attribute {name!r} is missing or not a number (got {value!r})")
        elif not lo <= float(value) <= MAX_CLOCK_S:
            out.append(f"root attribute {name!r} is not a plausible clock reading: {float(value)!r} s")
    for name in ("myoflow_version",):
        if name in a and not isinstance(a[name], (str, bytes)):
            out.append(f"root attribute {name!r} must be text, got {a[name]!r}")
    for name in (schema.SESSION, schema.STREAMS, schema.EVENTS):
        if name not in f or not hasattr(f[name], "attrs") or hasattr(f[name], "shape"):
            out.append(f"required group '/{name}' is missing")
    return state == "live"


def _session(f: Any, out: list[str]) -> None:
    s = dict(f[schema.SESSION].attrs.items())
    for name in schema.METADATA_TEXT_FIELDS:
        if name in s and not isinstance(s[name], (str, bytes)):
            out.append(f"session attribute {name!r} must be text, got {short_repr(s[name])}")
    for name in schema.METADATA_JSON_FIELDS:
        if name not in s:
            continue
        value = s[name]
        if not isinstance(value, (str, bytes)):
            out.append(f"session attribute {name!r} must be JSON text, got {short_repr(value)}")
            continue
        try:
            obj = json.loads(as_text(value) or "{}")
        except (json.JSONDecodeError, RecursionError) as exc:
            out.append(f"session attribute {name!r} is not valid JSON ({exc})")
            continue
        out.extend(_metadata_value_problems(name, obj, f"session attribute {name!r}"))


def _metadata_value_problems(name: str, obj: Any, where: str) -> list[str]:
    if name in schema.METADATA_TEXT_FIELDS:
        return [] if isinstance(obj, str) else [f"{where} must be text, got {short_repr(obj)}"]
    if not isinstance(obj, dict):
        return [f"{where} must be a JSON object, got {type(obj).__name__} {short_repr(obj)}"]
    if name != "mvc_references":
        return []
    bad = [k for k, v in obj.items() if not _mvc_value_ok(v)]
    if bad:
        return [
            f"{where}: the reference of {bad[0]!r} must be a positive number, null or a list of them, "
            f"got {short_repr(obj[bad[0]])}"
        ]
    return []


def _mvc_value_ok(value: Any) -> bool:
    if isinstance(value, list):
        return all(_mvc_value_ok(v) for v in value if not isinstance(v, list)) and not any(
            isinstance(v, list) for v in value
        )
    if value is None:
        return True
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    )


# --------------------------------------------------------------------------- streams


def _events(f: Any, out: list[str], *, live: bool, streams: set[str]) -> None:
    ev = f[schema.EVENTS]
    for d in (schema.EVENT_TABLE, schema.EVENT_JSON):
        if d not in ev or not hasattr(ev[d], "shape"):
            out.append(f"required dataset '/{schema.EVENTS}/{d}' is missing")
            return
    table, blob_ds = ev[schema.EVENT_TABLE], ev[schema.EVENT_JSON]
    if table.ndim != 1 or table.dtype.names != schema.EVENT_DTYPE.names:
        out.append(f"dataset '/events/table' must be a 1-D table with columns {schema.EVENT_DTYPE.names}")
        return
    if blob_ds.ndim != 1 or blob_ds.dtype != np.uint8:
        out.append(
            f"dataset '/events/json' must be 1-D uint8 bytes, got shape {blob_ds.shape} dtype {blob_ds.dtype}"
        )
        return
    t = table[:]
    blob = blob_ds[:].tobytes()
    starts, lengths = t["offset"], t["length"]
    ends = starts + lengths
    if live:  # the table may be flushed ahead of its text
        keep = np.flatnonzero(ends > len(blob))
        t = t[: int(keep[0])] if keep.size else t
        starts, lengths, ends = t["offset"], t["length"], t["offset"] + t["length"]
    bad = np.flatnonzero((starts < 0) | (lengths < 0) | (ends > len(blob)))
    if bad.size:
        k = int(bad[0])
        out.append(
            f"event {k}: its text at bytes {int(starts[k])}..{int(ends[k])} lies outside "
            f"'/events/json' ({len(blob)} bytes)"
        )
        return
    if not np.all(np.isfinite(t["time"])):
        out.append(f"event {int(np.flatnonzero(~np.isfinite(t['time']))[0])}: time is not finite")
    offset = clock_offset(f)
    finite = t["time"][np.isfinite(t["time"])]
    if len(finite) and (finite.min() + offset < 0 or finite.max() + offset > MAX_CLOCK_S):
        out.append("event times are not plausible clock readings (UTC out of range)")
    for k, row in enumerate(t):
        problem = _event_record(blob[int(row["offset"]) : int(row["offset"] + row["length"])], streams)
        if problem:
            out.append(f"event {k}: {problem}")
            return


def _event_record(text: bytes, streams: set[str]) -> str | None:
    try:
        rec = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return f"record is not valid JSON text ({exc})"
    if not isinstance(rec, dict):
        return f"record must be a JSON object, got {short_repr(rec)}"
    for key, types in (("kind", str), ("label", str), ("data", dict)):
        if not isinstance(rec.get(key), types):
            what = "a JSON object" if types is dict else "a string"
            return f"field {key!r} must be {what}, got {short_repr(rec.get(key))}"
    stream = rec.get("stream")
    if stream is not None and (not isinstance(stream, str) or stream not in streams):
        return f"field 'stream' names {short_repr(stream)}, which is not a stream of the recording"
    if rec["kind"] == "metadata":
        try:
            schema.check_metadata_changes(rec["data"])
        except ValueError as exc:
            return f"bad metadata change: {exc}"
        for name, value in rec["data"].items():
            problems = _metadata_value_problems(name, value, f"metadata change of {name!r}")
            if problems:
                return problems[0]
    return None
