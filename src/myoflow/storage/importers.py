"""Import recordings made by other tools into the myoflow HDF5 format.

Every importer parses its format, describes the streams it found as :class:`SourceStream`
objects and hands them to :func:`write_import`, which writes them through the same
:class:`~myoflow.storage.writer.Recorder` as a live session (``on_full="wait"``: nothing is
dropped) and returns an :class:`ImportReport`. What had to be skipped or repaired is in the
report's ``notes``, and is kept in the recording: in the session ``notes`` text and, as a list,
in ``extra["import"]["notes"]``.

Rules shared by every format:

* rows with no value in a stream (empty cells, ``NaN``, ``inf``, text) are never invented: a run of
  them inside the stream becomes a gap of reason ``"missing in file"``; rows missing at the
  start or end only make the stream start later or end earlier (reported);
* values are stored as the file holds them: integers as integers (``int16``/``int32``),
  decimals as ``float64``, with the per-channel conversion to myoflow's unit for the kind
  (``uV`` for EMG, ``g``, ``deg/s``, ``deg``) in ``scale``/``offset``;
* times are seconds from the start of the file (or the file's own clock, XDF), and the UTC
  anchor is the file's start time when it has one, else the file's modification time
  (reported).

The format-specific importers live in :mod:`myoflow.storage.import_text` (CSV, UCI,
OpenSignals), :mod:`myoflow.storage.import_boards` (OpenBCI GUI, BrainFlow) and
:mod:`myoflow.storage._import_xdf` (XDF).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from myoflow.storage._import_types import MISSING_REASON, UNIT_FACTORS, ImportReport, SourceStream, unit_scale
from myoflow.storage.schema import RecordingError
from myoflow.stream import Event, Gap

__all__ = ["MISSING_REASON", "UNIT_FACTORS", "ImportReport", "SourceStream", "unit_scale", "write_import"]

#: ``write_import(mains=...)``: Hz, a detector ``(values, rate) -> Hz | None``, or None.
MainsOption = float | Callable[[np.ndarray, float], float | None] | None
_CHUNK_ROWS = 16384
#: Seconds of the first EMG stream a mains detector is given (the whole stream when shorter).
_MAINS_S = 120.0
_QUEUE_BLOCKS = 8


def write_import(
    out: str | os.PathLike[str],
    streams: list[SourceStream],
    events: list[Event],
    *,
    source: str | os.PathLike[str],
    fmt: str,
    notes: list[str],
    subject_id: str = "",
    exercise: str = "",
    start_unix: float | None = None,
    clock_zero: float = 0.0,
    overwrite: bool = False,
    mains: MainsOption = None,
    late_notes: Callable[[], list[str]] | None = None,
) -> ImportReport:
    """Write imported streams and events as a finalised myoflow recording at ``out``.

    Parameters
    ----------
    mains
        The mains frequency to store in ``filter_settings`` (``mains_hz``, ``mains_source``):
        a number (Hz, as given), or a function ``(values (n, ch), rate) -> 50.0 | 60.0 | None``
        that detects it from the first EMG stream's values (its first 120 s with values; e.g.
        :func:`myoflow.analysis.mains.detect_mains`, passed in by the caller: storage does no
        signal processing); None stores nothing.
    start_unix
        UTC (s since 1970) of time ``clock_zero`` on the streams' clock; None: the source
        file's modification time (reported in the notes).
    clock_zero
        The streams' clock reading at ``start_unix`` (0 for files timed from their start).
    late_notes
        Notes about the source known only after a first pass over chunked ``values`` (put
        first in the notes).

    The file is written as ``.<out name>.part`` beside ``out`` and renamed to ``out`` once it
    is finalised and verified: a failure (full disk, interrupted import) leaves ``out`` as it
    was, never a partial or empty file.

    Raises
    ------
    ValueError
        No stream with data, or ``out`` exists and ``overwrite`` is False.
    RecordingError
        The recording cannot be written (names ``out`` and the problem).
    """
    from myoflow import __version__
    from myoflow.storage.schema import ClockAnchor, SessionMetadata
    from myoflow.storage.writer import Recorder

    out, source = Path(out), Path(source)
    notes = list(notes)
    if out.exists() and not overwrite:
        raise ValueError(f"out: {out} already exists; pass overwrite=True (--overwrite) to replace it")
    plans = []
    for s in streams:
        plan = _scan(s, notes)
        if plan is not None:
            plans.append(plan)
    if late_notes is not None:
        notes[:0] = late_notes()
    if not plans:
        raise ValueError(f"{source}: no stream with any sample to import")
    if start_unix is None:
        start_unix = source.stat().st_mtime
        notes.append(
            "the file records no start time: the UTC anchor is the file's modification "
            "time, not the time of the recording"
        )
    settings = _mains_settings(mains, plans, notes)
    report = ImportReport(source, out, fmt, notes=notes)
    when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = f"Imported from {source.name} ({fmt}) by myoflow {__version__} at {when}." + "".join(
        f"\n- {n}" for n in notes
    )
    meta = SessionMetadata(
        subject_id=subject_id,
        exercise=exercise,
        notes=text,
        filter_settings=settings,
        extra={"import": {"source": source.name, "format": fmt, "notes": notes}},
    )
    part = out.with_name(f".{out.name}.part")  # renamed to out once complete and verified
    rec = Recorder(
        part,
        meta,
        clock=ClockAnchor(float(clock_zero), float(start_unix)),
        overwrite=True,  # the part file is ours; out itself was checked above
        on_full="wait",
        queue_size=_QUEUE_BLOCKS,  # memory bound: this many blocks of _CHUNK_ROWS rows in flight
    )
    for p in plans:
        rec.add_stream(p.stream.info, p.dtype, p.stream.scale, p.stream.offset, p.stream.device)
    try:
        rec.start()
        for p in plans:
            report.streams[p.stream.info.name] = p.n_valid
            report.gaps[p.stream.info.name] = _write_stream(rec, p)
        for ev in sorted(events, key=lambda e: e.time):
            rec.write_event(ev)
        report.n_events = len(events)
        rec.close()
        os.replace(part, out)
    except BaseException as exc:
        try:
            rec.close(finalise=False)
        except RecordingError:
            pass  # the first error is the one to report
        finally:
            part.unlink(missing_ok=True)
            part.with_name(part.name + ".finalising").unlink(missing_ok=True)
        if isinstance(exc, RecordingError):
            raise RecordingError(out, f"{exc.problem}; nothing was written") from None
        if isinstance(exc, OSError):
            raise RecordingError(
                out, f"cannot write the import ({exc.strerror or exc}); nothing was written"
            ) from None
        raise
    return report


def _mains_settings(mains: MainsOption, plans: list[_Plan], notes: list[str]) -> dict[str, Any]:
    if mains is None:
        return {}
    if not callable(mains):
        value = float(mains)
        if value not in (50.0, 60.0):
            raise ValueError(f"mains must be 50 or 60 Hz, got {mains!r}")
        return {"mains_hz": value, "mains_source": "given at import"}
    emg = next((p for p in plans if p.stream.info.kind == "emg"), None)
    if emg is None:
        return {}
    rate = float(emg.stream.info.rate)
    values = _first_rows(emg.stream, int(_MAINS_S * rate))
    found = mains(values, rate)
    if found is None:
        notes.append(
            "mains frequency not detected in the EMG spectrum (no clear 50 or 60 Hz line); not stored"
        )
        return {}
    notes.append(f"mains frequency {found:g} Hz detected from the EMG spectrum")
    return {"mains_hz": float(found), "mains_source": "detected from the spectrum at import"}


def _first_rows(s: SourceStream, limit: int) -> np.ndarray:
    """The first ``limit`` rows with a value of a stream, float64 (memory bounded by ``limit``)."""
    out = np.empty((limit, s.info.n_channels), dtype=np.float64)  # filled in place: no copies
    n = 0
    for row0, values in _chunks(s):
        kept = values[_rows(s, row0, values)][: limit - n]
        out[n : n + len(kept)] = kept
        n += len(kept)
        if n >= limit:
            break
    return out[:n]


@dataclass
class _Plan:
    """What a first pass over a stream's rows found: sizes, the storage dtype, what to report."""

    stream: SourceStream
    n_rows: int = 0
    n_valid: int = 0
    first: int = -1  # first and last row with a value
    last: int = -1
    first_pos: int = 0  # sample index (row or device index) of the first row with a value
    last_pos: int = -1
    partial: int = 0
    non_finite: int = 0
    inside: int = 0  # samples missing between the first and last row with a value
    runs: int = 0
    integral: bool = True
    lo: float = math.inf
    hi: float = -math.inf
    dtype: np.dtype = field(default_factory=lambda: np.dtype(np.float64))


def _chunks(s: SourceStream) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, values) chunks of a stream, checked for shape."""
    source = s.values() if callable(s.values) else [s.values]
    row = 0
    for chunk in source:
        values = np.asarray(chunk)
        if values.ndim != 2 or values.shape[1] != s.info.n_channels:
            raise ValueError(
                f"stream {s.info.name!r}: values must have shape (n_rows, {s.info.n_channels}), "
                f"got {values.shape}"
            )
        yield row, values
        row += values.shape[0]


def _rows(s: SourceStream, row0: int, values: np.ndarray, plan: _Plan | None = None) -> np.ndarray:
    """Rows of a chunk that hold a value in every channel (finite; NaN and infinities are gaps)."""
    n = values.shape[0]
    if values.dtype.kind == "f":
        bad = ~np.isfinite(values)
        any_bad = bad.any(axis=1)
        valid = ~any_bad
        if plan is not None:
            plan.partial += int(np.count_nonzero(any_bad & ~bad.all(axis=1)))
            plan.non_finite += int(np.count_nonzero(np.isinf(values)))
    else:
        valid = np.ones(n, dtype=bool)
    if s.valid is not None:
        valid &= np.asarray(s.valid[row0 : row0 + n], dtype=bool)
    return np.flatnonzero(valid)


def _positions(s: SourceStream, rows: np.ndarray) -> np.ndarray:
    return rows.astype(np.int64) if s.index is None else np.asarray(s.index, dtype=np.int64)[rows]


def _scan(s: SourceStream, notes: list[str]) -> _Plan | None:
    """First pass: sizes, gaps and the storage dtype of a stream; its notes into ``notes``."""
    name = s.info.name
    p = _Plan(s)
    for row0, values in _chunks(s):
        p.n_rows = row0 + values.shape[0]
        local = _rows(s, row0, values, p)
        if local.size == 0:
            continue
        rows = local + row0
        pos = _positions(s, rows)
        steps = np.diff(np.concatenate(([p.last_pos], pos)) if p.n_valid else pos)
        if np.any(steps <= 0):
            raise ValueError(f"stream {name!r}: sample indices must increase")
        p.runs += int(np.count_nonzero(steps > 1))
        if not p.n_valid:
            p.first, p.first_pos = int(rows[0]), int(pos[0])
        p.last, p.last_pos = int(rows[-1]), int(pos[-1])
        p.n_valid += int(rows.size)
        kept = values[local]
        if kept.dtype.kind == "f":
            p.integral = p.integral and bool(np.all(kept == np.rint(kept)))
        elif kept.dtype.kind not in "iu":
            p.integral = False
        if kept.size:
            p.lo, p.hi = min(p.lo, float(kept.min())), max(p.hi, float(kept.max()))
    if p.non_finite:
        notes.append(
            f"stream {name!r}: {p.non_finite} value(s) are infinite (inf or -inf): not a "
            "measurement, those rows are treated as missing (gaps), never stored as a number"
        )
    if p.partial:
        notes.append(
            f"stream {name!r}: {p.partial} row(s) had values in some channels only; "
            "those rows are treated as missing for the whole stream"
        )
    if not p.n_valid:
        notes.append(f"stream {name!r}: no row has a value; not imported")
        return None
    if p.first:
        notes.append(
            f"stream {name!r}: the first {p.first} row(s) have no value; the stream starts "
            "at the first row that has one"
        )
    if p.last < p.n_rows - 1:
        k = p.n_rows - 1 - p.last
        notes.append(
            f"stream {name!r}: the last {k} row(s) have no value; the stream ends {k} sample(s) "
            "before the file does"
        )
    p.inside = p.last_pos - p.first_pos + 1 - p.n_valid
    if p.inside:
        notes.append(
            f"stream {name!r}: {p.inside} sample(s) missing inside the stream, recorded as "
            f"{p.runs} gap(s) ({s.gap_reason!r}), not filled in"
        )
    p.dtype = np.dtype(s.raw_dtype) if s.raw_dtype is not None else _dtype_of(p)
    return p


def _dtype_of(p: _Plan) -> np.dtype:
    if p.integral:
        for dt in (np.int16, np.int32):
            info = np.iinfo(dt)
            if info.min <= p.lo and p.hi <= info.max:
                return np.dtype(dt)
    return np.dtype(np.float64)


def _write_stream(rec: Any, p: _Plan) -> int:
    """Second pass: write the rows with a value as blocks, the runs without as gaps."""
    s = p.stream
    info, period = s.info, 1.0 / s.info.rate
    gaps = 0
    prev_idx, prev_t = -1, 0.0
    for row0, values in _chunks(s):
        local = _rows(s, row0, values)
        if local.size == 0:
            continue
        rows = local + row0
        pos = _positions(s, rows)
        idx = pos - p.first_pos
        if s.times is None:
            times = s.t0 + pos.astype(np.float64) / info.rate
        else:
            times = np.asarray(s.times, dtype=np.float64)[rows]
        cuts = np.flatnonzero(np.diff(idx) != 1) + 1
        bounds = [0, *cuts.tolist(), len(rows)]
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            if prev_idx >= 0 and idx[a] != prev_idx + 1:
                t_start = prev_t + period
                t_end = max(t_start, float(times[a] - period))
                rec.write_gap(
                    Gap(info, prev_idx + 1, int(idx[a]) - prev_idx - 1, t_start, t_end, s.gap_reason)
                )
                gaps += 1
            for c in range(a, b, _CHUNK_ROWS):
                d = min(c + _CHUNK_ROWS, b)
                raw = values[local[c:d]]
                if p.dtype.kind in "iu" and raw.dtype.kind == "f":
                    raw = np.rint(raw).astype(p.dtype)
                rec.write_block(info.name, raw, times[c:d], start_index=int(idx[c]))
            prev_idx, prev_t = int(idx[b - 1]), float(times[b - 1])
    return gaps
