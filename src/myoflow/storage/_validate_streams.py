"""The per-stream checks of a recording: attributes, time map, gaps, packets and raw samples
(:func:`myoflow.storage.validate.file_problems` calls :func:`streams`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from myoflow.storage import schema
from myoflow.storage._validate_common import (
    DEEP_ROWS,
    GAP_RATE_SLACK,
    MAX_CLOCK_S,
    as_text,
    clock_offset,
    gap_limit,
    is_real,
    short_repr,
    str_list,
)
from myoflow.stream import KIND_UNITS


def streams(f: Any, out: list[str], *, live: bool, deep: bool) -> set[str]:
    names: set[str] = set()
    offset = clock_offset(f)
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
    name = as_text(a.get("name")) if isinstance(a.get("name"), (str, bytes)) else key
    where = f"stream {name!r}"
    missing = [
        n for n in ("name", "kind", "unit", "nominal_rate", "channels", "scale", "offset") if n not in a
    ]
    if missing:
        out.append(f"{where} lacks the attribute(s) {', '.join(missing)}")
        return None
    for n in ("name", "kind", "unit", "device_model", "device_firmware", "device_address"):
        if n in a and not isinstance(a[n], (str, bytes)):
            out.append(f"{where}: attribute {n!r} must be text, got {short_repr(a[n])}")
    kind = as_text(a["kind"])
    if kind not in KIND_UNITS:
        out.append(f"{where}: attribute 'kind' must be one of {', '.join(KIND_UNITS)}, got {kind!r}")
    rate = a["nominal_rate"]
    if not is_real(rate) or not 0 < float(rate) <= 1e6:
        out.append(
            f"{where}: attribute 'nominal_rate' must be a positive number of Hz (<= 1 MHz), "
            f"got {short_repr(rate)}"
        )
        rate = None
    else:
        rate = float(rate)
    if "effective_rate" in a:
        eff = a["effective_rate"]
        if not is_real(eff) or not (math.isnan(float(eff)) or float(eff) > 0) or math.isinf(float(eff)):
            out.append(
                f"{where}: attribute 'effective_rate' must be a positive number of Hz, got {short_repr(eff)}"
            )
    channels = str_list(a["channels"])
    if channels is None or not channels:
        out.append(
            f"{where}: attribute 'channels' must be a non-empty list of labels, "
            f"got {short_repr(a['channels'])}"
        )
        return name
    n_ch = len(channels)
    if "placements" in a:
        places = str_list(a["placements"])
        if places is None or len(places) != n_ch:
            out.append(
                f"{where}: attribute 'placements' must hold {n_ch} labels (one per channel), "
                f"got {short_repr(a['placements'])}"
            )
    for conv in ("scale", "offset"):
        arr = np.asarray(a[conv])
        if arr.ndim != 1 or arr.shape[0] != n_ch or arr.dtype.kind not in "iuf":
            out.append(
                f"{where}: attribute {conv!r} must hold {n_ch} numbers (one per channel), "
                f"got {short_repr(a[conv])}"
            )
        elif not np.all(np.isfinite(arr)) or (conv == "scale" and np.any(arr == 0)):
            out.append(
                f"{where}: attribute {conv!r} must be finite"
                f"{' and non-zero' if conv == 'scale' else ''}, got {short_repr(arr)}"
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
    for r0 in range(0, n, DEEP_ROWS):
        try:
            chunk = raw[r0 : min(r0 + DEEP_ROWS, n)]
        except (OSError, RuntimeError, ValueError) as exc:
            out.append(f"{where}: samples from row {r0} cannot be read ({exc})")
            return
        if chunk.dtype.kind == "f" and not np.all(np.isfinite(chunk)):
            bad = int(np.flatnonzero(~np.isfinite(chunk).all(axis=1))[0]) + r0
            out.append(f"{where}: sample row {bad} holds a non-finite value (NaN or infinity)")
            return


# --------------------------------------------------------------------------- events
