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
from myoflow.stream import KIND_UNITS

__all__ = ["MAX_CLOCK_S", "check_recording", "file_problems", "gap_limit", "open_problem"]

#: Largest plausible clock attribute and sample time in seconds (about year 2286 as Unix time).
MAX_CLOCK_S = 1e10
#: A gap may hold at most this many times the samples its time span allows, plus one second.
GAP_RATE_SLACK = 2.0
_DEEP_ROWS = 1 << 18


class _Fatal(Exception):
    """Raised inside the walk when nothing further can be checked."""


def gap_limit(rate: float, span_s: float) -> int:
    """Most samples a gap spanning ``span_s`` seconds at ``rate`` Hz may declare lost.

    ``GAP_RATE_SLACK`` times what the span allows, plus one second of samples: a gap is never
    larger than the time it covers (a device clock off by a factor of two is still accepted).
    """
    return int(GAP_RATE_SLACK * rate * max(span_s, 0.0) + rate + 1)


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
        stream_names = _streams(f, out, live=live, deep=deep)
        _session(f, out)
        _events(f, out, live=live, streams=stream_names)
    except _Fatal:
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
    if _text(a.get("format")) != schema.FORMAT_NAME:
        out.append(f"not a myoflow recording (root attribute 'format' is not {schema.FORMAT_NAME!r})")
        return False
    version = a.get("schema_version")
    if version is None or not _is_int(version):
        out.append("root attribute 'schema_version' is missing or not an integer")
    elif int(version) > schema.SCHEMA_VERSION:
        out.append(
            f"written with recording schema version {int(version)} by myoflow "
            f"{_text(a.get('myoflow_version'))}; this myoflow reads versions up to "
            f"{schema.SCHEMA_VERSION}: upgrade myoflow to read it"
        )
    elif int(version) < 1:
        out.append(f"root attribute 'schema_version' must be >= 1, got {int(version)}")
    state = _text(a.get("state"))
    if not isinstance(a.get("state"), (str, bytes)) or state not in schema.STATES:
        out.append(f"root attribute 'state' must be one of {schema.STATES}, got {a.get('state')!r}")
    for name, lo in (("clock_unix_s", 0.0), ("clock_monotonic_s", -MAX_CLOCK_S)):
        value = a.get(name)
        if value is None or not _is_real(value):
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


def _clock_offset(f: Any) -> float:
    return float(f.attrs["clock_unix_s"]) - float(f.attrs["clock_monotonic_s"])


def _session(f: Any, out: list[str]) -> None:
    s = dict(f[schema.SESSION].attrs.items())
    for name in schema.METADATA_TEXT_FIELDS:
        if name in s and not isinstance(s[name], (str, bytes)):
            out.append(f"session attribute {name!r} must be text, got {_short(s[name])}")
    for name in schema.METADATA_JSON_FIELDS:
        if name not in s:
            continue
        value = s[name]
        if not isinstance(value, (str, bytes)):
            out.append(f"session attribute {name!r} must be JSON text, got {_short(value)}")
            continue
        try:
            obj = json.loads(_text(value) or "{}")
        except (json.JSONDecodeError, RecursionError) as exc:
            out.append(f"session attribute {name!r} is not valid JSON ({exc})")
            continue
        out.extend(_metadata_value_problems(name, obj, f"session attribute {name!r}"))


def _metadata_value_problems(name: str, obj: Any, where: str) -> list[str]:
    if name in schema.METADATA_TEXT_FIELDS:
        return [] if isinstance(obj, str) else [f"{where} must be text, got {_short(obj)}"]
    if not isinstance(obj, dict):
        return [f"{where} must be a JSON object, got {type(obj).__name__} {_short(obj)}"]
    if name != "mvc_references":
        return []
    bad = [k for k, v in obj.items() if not _mvc_value_ok(v)]
    if bad:
        return [
            f"{where}: the reference of {bad[0]!r} must be a positive number, null or a list of them, "
            f"got {_short(obj[bad[0]])}"
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


def _streams(f: Any, out: list[str], *, live: bool, deep: bool) -> set[str]:
    names: set[str] = set()
    offset = _clock_offset(f)
    for key in f[schema.STREAMS]:
        g = f[schema.STREAMS][key]
        before = len(out)
        name = _stream(g, key, out, live=live, deep=deep, clock_offset=offset)
        if name is not None:
            if name in names:
                out.append(f"stream {name!r} is stored twice")
            names.add(name)
        elif len(out) == before:
            out.append(f"stream group '/streams/{key}' is not a stream")
    return names


def _stream(g: Any, key: str, out: list[str], *, live: bool, deep: bool, clock_offset: float) -> str | None:
    if hasattr(g, "shape"):
        out.append(f"'/streams/{key}' is a dataset, not a stream group")
        return None
    a = dict(g.attrs.items())
    name = _text(a.get("name")) if isinstance(a.get("name"), (str, bytes)) else key
    where = f"stream {name!r}"
    missing = [
        n for n in ("name", "kind", "unit", "nominal_rate", "channels", "scale", "offset") if n not in a
    ]
    if missing:
        out.append(f"{where} lacks the attribute(s) {', '.join(missing)}")
        return None
    for n in ("name", "kind", "unit", "device_model", "device_firmware", "device_address"):
        if n in a and not isinstance(a[n], (str, bytes)):
            out.append(f"{where}: attribute {n!r} must be text, got {_short(a[n])}")
    kind = _text(a["kind"])
    if kind not in KIND_UNITS:
        out.append(f"{where}: attribute 'kind' must be one of {', '.join(KIND_UNITS)}, got {kind!r}")
    rate = a["nominal_rate"]
    if not _is_real(rate) or not 0 < float(rate) <= 1e6:
        out.append(
            f"{where}: attribute 'nominal_rate' must be a positive number of Hz (<= 1 MHz), "
            f"got {_short(rate)}"
        )
        rate = None
    else:
        rate = float(rate)
    if "effective_rate" in a:
        eff = a["effective_rate"]
        if not _is_real(eff) or not (math.isnan(float(eff)) or float(eff) > 0) or math.isinf(float(eff)):
            out.append(
                f"{where}: attribute 'effective_rate' must be a positive number of Hz, got {_short(eff)}"
            )
    channels = _str_list(a["channels"])
    if channels is None or not channels:
        out.append(
            f"{where}: attribute 'channels' must be a non-empty list of labels, got {_short(a['channels'])}"
        )
        return name
    n_ch = len(channels)
    if "placements" in a:
        places = _str_list(a["placements"])
        if places is None or len(places) != n_ch:
            out.append(
                f"{where}: attribute 'placements' must hold {n_ch} labels (one per channel), "
                f"got {_short(a['placements'])}"
            )
    for conv in ("scale", "offset"):
        arr = np.asarray(a[conv])
        if arr.ndim != 1 or arr.shape[0] != n_ch or arr.dtype.kind not in "iuf":
            out.append(
                f"{where}: attribute {conv!r} must hold {n_ch} numbers (one per channel), "
                f"got {_short(a[conv])}"
            )
        elif not np.all(np.isfinite(arr)) or (conv == "scale" and np.any(arr == 0)):
            out.append(
                f"{where}: attribute {conv!r} must be finite"
                f"{' and non-zero' if conv == 'scale' else ''}, got {_short(arr)}"
            )
    ds_of = {d: g.get(d) for d in (schema.RAW, *schema.TABLES)}
    for d, obj in ds_of.items():
        if obj is None or not hasattr(obj, "shape"):
            out.append(f"{where} lacks the dataset {d!r}")
            return name
    raw = ds_of[schema.RAW]
    if raw.ndim != 2 or raw.shape[1] != n_ch or raw.dtype.kind not in "iuf":
        out.append(
            f"{where}: dataset 'raw' must be (n, {n_ch}) integers or floats, "
            f"got shape {raw.shape} dtype {raw.dtype}"
        )
        return name
    bad_tables = False
    for tname, tdtype in schema.TABLES.items():
        ds = ds_of[tname]
        if ds.ndim != 1 or ds.dtype.names != tdtype.names:
            out.append(
                f"{where}: dataset {tname!r} must be a 1-D table with columns {tdtype.names}, "
                f"got shape {ds.shape} columns {ds.dtype.names}"
            )
            bad_tables = True
    if bad_tables:
        return name
    n_raw = int(raw.shape[0])
    tm = ds_of[schema.TIME_MAP][:]
    n_rows, times_ok = _time_map(tm, n_raw, where, out, live=live, clock_offset=clock_offset)
    if rate is not None:
        _gaps(
            ds_of[schema.GAPS][:],
            n_rows,
            rate,
            tm if times_ok else None,
            where,
            out,
            live=live,
            clock_offset=clock_offset,
        )
    _packets(ds_of[schema.PACKETS][:], n_rows, where, out, live=live)
    if deep:
        _raw_deep(raw, n_rows, where, out)
    return name


def _time_map(
    tm: np.ndarray, n_raw: int, where: str, out: list[str], *, live: bool, clock_offset: float
) -> tuple[int, bool]:
    """Check the anchors; return the rows they cover consistently and whether times are usable."""
    rows, times = tm["row"], tm["time"]
    if n_raw and not len(tm):
        if not live:
            out.append(f"{where}: time_map is empty but 'raw' holds {n_raw} samples (their times are lost)")
        return (0 if live else n_raw), False
    if not len(tm):
        return 0, True
    ok = True
    if rows[0] != 0:
        out.append(f"{where}: time_map must start at row 0, starts at row {int(rows[0])}")
        ok = False
    step = np.diff(rows)
    if np.any(step <= 0):
        k = int(np.flatnonzero(step <= 0)[0])
        out.append(
            f"{where}: time_map rows are not increasing "
            f"(anchor {k + 1}: row {int(rows[k + 1])} after row {int(rows[k])})"
        )
        ok = False
    if not np.all(np.isfinite(times)):
        k = int(np.flatnonzero(~np.isfinite(times))[0])
        out.append(
            f"{where}: time_map time of anchor {k} (row {int(rows[k])}) is not finite: {float(times[k])!r}"
        )
        return (0 if live else n_raw), False
    if np.any(np.diff(times) < 0):
        k = int(np.flatnonzero(np.diff(times) < 0)[0])
        out.append(
            f"{where}: time_map times go backwards "
            f"(anchor {k + 1}: {float(times[k + 1])!r} s after {float(times[k])!r} s)"
        )
        ok = False
    utc = np.array([times[0], times[-1]]) + clock_offset
    if np.any(utc < 0) or np.any(utc > MAX_CLOCK_S):
        out.append(
            f"{where}: time_map times {float(times[0])!r}..{float(times[-1])!r} s "
            "are not plausible clock readings (UTC out of range)"
        )
        ok = False
    if not ok:
        return (0 if live else n_raw), False
    last = int(rows[-1])
    if not live and last != n_raw - 1:
        if last > n_raw - 1:
            out.append(f"{where}: time_map reaches row {last} but 'raw' holds only {n_raw} samples")
        else:
            out.append(
                f"{where}: time_map covers rows 0..{last} but 'raw' holds {n_raw} samples "
                "(the rest have no time)"
            )
    return min(n_raw, last + 1), True


def _gaps(
    gaps: np.ndarray,
    n: int,
    rate: float,
    tm: np.ndarray | None,
    where: str,
    out: list[str],
    *,
    live: bool,
    clock_offset: float,
) -> None:
    if not len(gaps):
        return
    if live:
        gaps = gaps[gaps["row"] <= n]
    rows = gaps["row"]
    first = len(out)
    bad = np.flatnonzero((rows < 0) | (rows > n))
    if bad.size:
        k = int(bad[0])
        out.append(f"{where}: gap {k} is at row {int(rows[k])}, outside the {n} stored samples")
    if np.any(np.diff(rows) < 0):
        out.append(f"{where}: gaps are not in row order")
    miss = gaps["n_missing"]
    bad = np.flatnonzero(miss < schema.UNKNOWN)
    if bad.size:
        out.append(
            f"{where}: gap {int(bad[0])} has n_missing {int(miss[bad[0]])} (must be >= 0, or -1 when unknown)"
        )
    t0, t1 = gaps["t_start"], gaps["t_end"]
    bad = np.flatnonzero(~np.isfinite(t0) | ~np.isfinite(t1) | (t1 < t0))
    if bad.size:
        k = int(bad[0])
        out.append(
            f"{where}: gap {k} has times {float(t0[k])!r}..{float(t1[k])!r} s (must be finite, start <= end)"
        )
    elif np.any(t0 + clock_offset < 0) or np.any(t1 + clock_offset > MAX_CLOCK_S):
        out.append(f"{where}: gap times are not plausible clock readings (UTC out of range)")
    if len(out) > first:
        return
    known = np.where(miss > 0, miss, 0)
    lost_before = np.concatenate(([0], np.cumsum(known)[:-1]))
    bad = np.flatnonzero(gaps["index"] != rows + lost_before)
    if bad.size:
        k = int(bad[0])
        out.append(
            f"{where}: gap {k} starts at sample index {int(gaps['index'][k])}, but row {int(rows[k])} "
            f"after {int(lost_before[k])} lost samples is index {int(rows[k] + lost_before[k])}"
        )
    span = t1 - t0
    if tm is not None and len(tm) and n:
        r = rows.astype(np.float64)
        before = np.interp(np.clip(r - 1, 0, n - 1), tm["row"], tm["time"])
        after = np.interp(np.clip(r, 0, n - 1), tm["row"], tm["time"])
        inside = (rows > 0) & (rows < n)
        span = np.where(inside, np.maximum(span, after - before), span)
    limit = GAP_RATE_SLACK * rate * np.maximum(span, 0.0) + rate + 1
    bad = np.flatnonzero(miss > limit)
    if bad.size:
        k = int(bad[0])
        out.append(
            f"{where}: gap {k} declares {int(miss[k])} lost samples, but its {span[k]:.6g} s span at "
            f"{rate:g} Hz allows at most {gap_limit(rate, float(span[k]))}"
        )
    for k, reason in enumerate(gaps["reason"]):
        try:
            reason.decode("utf-8")
        except UnicodeDecodeError:
            out.append(f"{where}: gap {k} reason is not UTF-8 text")
            break


def _packets(p: np.ndarray, n: int, where: str, out: list[str], *, live: bool) -> None:
    if not len(p):
        return
    end = p["row"] + p["n_samples"].astype(np.int64)
    if live:
        p, end = p[end <= n], end[end <= n]
        if not len(p):
            return
    bad = np.flatnonzero((p["row"] < 0) | (p["n_samples"] < 0) | (end > n))
    if bad.size:
        k = int(bad[0])
        out.append(
            f"{where}: packet {k} covers rows {int(p['row'][k])}..{int(end[k])}, "
            f"outside the {n} stored samples"
        )
    if np.any(np.diff(p["row"]) < 0):
        out.append(f"{where}: packets are not in row order")
    if np.any(p["index"] < p["row"]):
        out.append(f"{where}: a packet's sample index is before its row (index counts lost samples too)")
    if not np.all(np.isfinite(p["host_time"])):
        out.append(f"{where}: a packet's host_time is not finite")


def _raw_deep(raw: Any, n: int, where: str, out: list[str]) -> None:
    for r0 in range(0, n, _DEEP_ROWS):
        try:
            chunk = raw[r0 : min(r0 + _DEEP_ROWS, n)]
        except (OSError, RuntimeError, ValueError) as exc:
            out.append(f"{where}: samples from row {r0} cannot be read ({exc})")
            return
        if chunk.dtype.kind == "f" and not np.all(np.isfinite(chunk)):
            bad = int(np.flatnonzero(~np.isfinite(chunk).all(axis=1))[0]) + r0
            out.append(f"{where}: sample row {bad} holds a non-finite value (NaN or infinity)")
            return


# --------------------------------------------------------------------------- events


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
    offset = _clock_offset(f)
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
        return f"record must be a JSON object, got {_short(rec)}"
    for key, types in (("kind", str), ("label", str), ("data", dict)):
        if not isinstance(rec.get(key), types):
            what = "a JSON object" if types is dict else "a string"
            return f"field {key!r} must be {what}, got {_short(rec.get(key))}"
    stream = rec.get("stream")
    if stream is not None and (not isinstance(stream, str) or stream not in streams):
        return f"field 'stream' names {_short(stream)}, which is not a stream of the recording"
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


# --------------------------------------------------------------------------- helpers


def _is_int(value: Any) -> bool:
    arr = np.asarray(value)
    return arr.shape == () and np.issubdtype(arr.dtype, np.integer)


def _is_real(value: Any) -> bool:
    arr = np.asarray(value)
    return arr.shape == () and arr.dtype.kind in "iuf"


def _str_list(value: Any) -> list[str] | None:
    arr = np.atleast_1d(np.asarray(value, dtype=object))
    if arr.ndim != 1 or not all(isinstance(v, (str, bytes)) for v in arr):
        return None
    return [_text(v) for v in arr]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value.item())
    return str(value)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value.tolist() if isinstance(value, np.ndarray) else value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
