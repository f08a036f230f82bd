"""Read myoflow recordings lazily: finalised files, files still being written, crashed ones.

``open_recording(path)`` checks the file against :mod:`myoflow.storage.schema` and returns a
:class:`Recording`; samples are read from disk only when asked for, in any range, and
:meth:`StreamView.blocks` replays a stream as :class:`myoflow.stream.Block` objects that never
span a gap, with memory bounded by the block size. A file that another process is still
recording (or that a killed recorder left behind) is opened in SWMR mode; call
:meth:`Recording.refresh` to see what the writer has flushed since.

Every failure - missing, foreign, truncated, damaged or newer-schema file - is a
:class:`~myoflow.storage.schema.RecordingError` that names the file and what is wrong.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from myoflow.storage import schema
from myoflow.storage._layout import read_header, read_stream_spec
from myoflow.storage.schema import (
    ClockAnchor,
    DeviceInfo,
    RecordingError,
    SessionMetadata,
    StreamSpec,
)
from myoflow.storage.validate import file_problems, open_problem
from myoflow.stream import Block, Event, Gap, StreamInfo

__all__ = ["Recording", "RecordingError", "StreamView", "open_recording"]

#: Rows read from disk at once by :meth:`StreamView.blocks` (the memory bound of a replay).
READ_ROWS = 1 << 16


def open_recording(path: str | os.PathLike[str]) -> Recording:
    """Open a recording for lazy reading.

    Parameters
    ----------
    path
        A myoflow HDF5 recording: finalised, live (being written) or left by a killed writer.

    Raises
    ------
    RecordingError
        Naming the file and the problem when it is missing, not HDF5, truncated, damaged, not a
        myoflow recording, or written with a newer schema than this myoflow reads.
    """
    import h5py

    p = Path(path)
    if not p.exists():
        raise RecordingError(p, "no such file")
    if p.is_dir():
        raise RecordingError(p, "is a folder, not a recording file")
    swmr = False
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        if "already open for write" not in str(exc):
            raise RecordingError(p, open_problem(p, exc)) from None
        try:
            f = h5py.File(p, "r", swmr=True)
            swmr = True
        except OSError as exc2:
            raise RecordingError(p, open_problem(p, exc2)) from None
    try:
        return Recording(p, f, swmr)
    except RecordingError:
        f.close()
        raise
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as exc:
        f.close()
        raise RecordingError(p, f"damaged recording ({type(exc).__name__}: {exc})") from None


class Recording:
    """A recording opened by :func:`open_recording`.

    Attributes
    ----------
    path : Path
    state : str
        ``"live"`` (being written, or left by a killed writer), ``"final"`` or ``"recovered"``.
    swmr : bool
        True when the file was still open for writing (live or crashed) and was opened in
        SWMR mode; :meth:`refresh` then shows newly flushed data.
    schema_version, myoflow_version, clock
        From the file's root attributes; ``clock`` anchors the host monotonic clock to UTC.
    streams : dict[str, StreamView]
        By stream name, in the order they were declared.
    """

    def __init__(self, path: Path, f: Any, swmr: bool) -> None:
        self.path = path
        self.swmr = swmr
        self._f = f
        problems = file_problems(f)
        if problems:
            more = f" (and {len(problems) - 1} more: run 'myoflow check {path}')" if len(problems) > 1 else ""
            raise RecordingError(path, problems[0] + more)
        header = read_header(f, path)
        self.schema_version = header.schema_version
        self.myoflow_version = header.myoflow_version
        self.state = header.state
        self.clock: ClockAnchor = header.clock
        self._base_metadata = header.metadata
        self.streams: dict[str, StreamView] = {}
        for key in f[schema.STREAMS]:
            spec = read_stream_spec(f[schema.STREAMS][key], path)
            self.streams[spec.info.name] = StreamView(self, f[schema.STREAMS][key], spec)
        self._events: list[Event] | None = None

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        self._f.close()

    def refresh(self) -> None:
        """See data flushed by the writer since opening (or the last refresh); SWMR files only."""
        if self.swmr:
            try:
                ev = self._f[schema.EVENTS]
                ev[schema.EVENT_TABLE].refresh()
                ev[schema.EVENT_JSON].refresh()
                for view in self.streams.values():
                    view._refresh()
            except (OSError, RuntimeError) as exc:
                raise RecordingError(self.path, f"cannot refresh the live file ({exc})") from None
        self._events = None
        for view in self.streams.values():
            view._clear_cache()

    @property
    def events(self) -> list[Event]:
        """Every event, in the order it was recorded (times are host-clock seconds)."""
        if self._events is None:
            ev = self._f[schema.EVENTS]
            table = _read(self.path, ev[schema.EVENT_TABLE], slice(None))
            blob = _read(self.path, ev[schema.EVENT_JSON], slice(None)).tobytes()
            events = []
            for row in table:
                start, length = int(row["offset"]), int(row["length"])
                if start + length > len(blob):  # table flushed before its text (live/crash)
                    break
                try:
                    rec = json.loads(blob[start : start + length].decode("utf-8"))
                    events.append(
                        Event(
                            float(row["time"]),
                            str(rec["kind"]),
                            str(rec["label"]),
                            rec["stream"],
                            dict(rec["data"]),
                        )
                    )
                except (ValueError, KeyError, TypeError) as exc:
                    raise RecordingError(
                        self.path, f"event {len(events)} is not valid JSON text ({exc})"
                    ) from None
            self._events = events
        return list(self._events)

    @property
    def event_table(self) -> tuple[np.ndarray, np.ndarray]:
        """The raw events table and JSON bytes as stored (for copying a file exactly)."""
        self.events  # noqa: B018 - validates and finds the consistent length
        ev = self._f[schema.EVENTS]
        n = len(self._events or [])
        table = _read(self.path, ev[schema.EVENT_TABLE], slice(0, n))
        end = int(table["offset"][-1] + table["length"][-1]) if n else 0
        return table, _read(self.path, ev[schema.EVENT_JSON], slice(0, end))

    @property
    def metadata(self) -> SessionMetadata:
        """Session metadata, with changes recorded during the session (``"metadata"`` events)."""
        meta = self._base_metadata
        for event in self.events:
            if event.kind == "metadata":
                try:
                    meta = meta.updated(event.data)
                except ValueError as exc:
                    raise RecordingError(self.path, f"bad metadata event: {exc}") from None
        return meta

    @property
    def gaps(self) -> list[Gap]:
        """Every gap of every stream, sorted by start time."""
        return sorted((g for v in self.streams.values() for g in v.gaps), key=lambda g: g.t_start)

    def __repr__(self) -> str:
        return f"Recording({str(self.path)!r}, state={self.state!r}, streams={list(self.streams)})"


class StreamView:
    """Lazy access to one stream of a :class:`Recording`.

    Ranges ``start, stop`` are rows of the stored samples (lost samples are not stored; see
    :meth:`sample_indices`), ``0 <= start <= stop <= n_samples``.
    """

    def __init__(self, recording: Recording, group: Any, spec: StreamSpec) -> None:
        self._rec = recording
        self._g = group
        self.spec = spec
        self.info: StreamInfo = spec.info
        self.name = spec.info.name
        self.rate = spec.info.rate
        self.unit = spec.info.unit
        self.scale = spec.scale
        self.offset = spec.offset
        self.raw_dtype = spec.raw_dtype
        self.device: DeviceInfo = spec.device

    def _refresh(self) -> None:
        for name in (schema.RAW, *schema.TABLES):
            self._g[name].refresh()

    def _clear_cache(self) -> None:
        for name in ("_tables", "n_samples"):
            self.__dict__.pop(name, None)

    @cached_property
    def n_samples(self) -> int:
        """Stored samples readable consistently: rows that have both data and a time."""
        ds = self._g[schema.TIME_MAP]
        last = ds.shape[0]
        tm = _read(self._rec.path, ds, slice(last - 1, last)) if last else ds.dtype.type(0)
        covered = int(tm["row"][-1]) + 1 if last else 0
        return min(int(self._g[schema.RAW].shape[0]), covered)

    @cached_property
    def _tables(self) -> dict[str, np.ndarray]:
        n = self.n_samples
        path = self._rec.path
        tm = _read(path, self._g[schema.TIME_MAP], slice(None))
        cut = int(np.searchsorted(tm["row"], n - 1, side="left")) + 1 if n else 0
        tm = tm[:cut]
        if len(tm) > 1 and np.any(np.diff(tm["row"]) <= 0):
            raise RecordingError(path, f"stream {self.name!r}: time_map rows are not increasing")
        packets = _read(path, self._g[schema.PACKETS], slice(None))
        packets = packets[packets["row"] + packets["n_samples"] <= n]
        gaps = _read(path, self._g[schema.GAPS], slice(None))
        gaps = gaps[gaps["row"] <= n]
        known = np.where(gaps["n_missing"] > 0, gaps["n_missing"], 0)
        return {"time_map": tm, "packets": packets, "gaps": gaps, "lost_before": np.cumsum(known)}

    @property
    def time_map(self) -> np.ndarray:
        """Anchors ``(row, time)``: sample times are linear between consecutive anchors."""
        return self._tables["time_map"].copy()

    @property
    def packets(self) -> np.ndarray:
        """Per-packet table (see :data:`~myoflow.storage.schema.PACKET_DTYPE`)."""
        return self._tables["packets"].copy()

    @property
    def gap_table(self) -> np.ndarray:
        """Gaps as stored (see :data:`~myoflow.storage.schema.GAP_DTYPE`)."""
        return self._tables["gaps"].copy()

    @property
    def gaps(self) -> list[Gap]:
        """The stream's gaps as :class:`myoflow.stream.Gap` (``n_missing`` None when unknown)."""
        return [
            Gap(
                self.info,
                int(g["index"]),
                None if g["n_missing"] < 0 else int(g["n_missing"]),
                float(g["t_start"]),
                float(g["t_end"]),
                g["reason"].decode("utf-8", "replace"),
            )
            for g in self._tables["gaps"]
        ]

    @property
    def duration(self) -> float:
        """Seconds from the first to the last stored sample (0 for fewer than 2 samples)."""
        n = self.n_samples
        return float(self.times(n - 1, n)[0] - self.times(0, 1)[0]) if n > 1 else 0.0

    @property
    def effective_rate(self) -> float:
        """Samples per host-clock second, lost samples included; NaN with fewer than 2 samples."""
        n = self.n_samples
        if n < 2 or self.duration <= 0:
            return float("nan")
        idx = self.sample_indices(n - 1, n)[0] - self.sample_indices(0, 1)[0]
        return float(idx / self.duration)

    def _range(self, start: int, stop: int | None) -> tuple[int, int]:
        n = self.n_samples
        stop = n if stop is None else int(stop)
        start = int(start)
        if not 0 <= start <= stop <= n:
            raise ValueError(
                f"stream {self.name!r}: rows must satisfy 0 <= start <= stop <= {n}, "
                f"got start={start}, stop={stop}"
            )
        return start, stop

    def raw(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Samples as the device sent them, shape ``(stop - start, n_channels)``.

        A NaN or infinity in float samples (imports store missing values as gaps, never as
        NaN) is a :class:`RecordingError` naming the stream and row.
        """
        start, stop = self._range(start, stop)
        raw = _read(self._rec.path, self._g[schema.RAW], slice(start, stop))
        self._check_finite(raw, start)
        return raw

    def _check_finite(self, raw: np.ndarray, start: int) -> None:
        if raw.dtype.kind == "f" and not np.isfinite(raw).all():
            row = start + int(np.flatnonzero(~np.isfinite(raw).all(axis=1))[0])
            raise RecordingError(
                self._rec.path,
                f"stream {self.name!r}: sample row {row} holds a non-finite value (NaN or infinity)",
            )

    def physical(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Samples in ``unit``: ``raw * scale + offset``, float32 ``(stop - start, n_channels)``."""
        return self._to_physical(self.raw(start, stop))

    def physical_into(self, out: np.ndarray, start: int = 0, stop: int | None = None) -> None:
        """:meth:`physical` of rows ``start:stop`` written into ``out``, a C-contiguous float32
        ``(stop - start, n_channels)`` array (e.g. rows of a larger one). Samples stored as
        float32 in ``unit`` already (scale 1, offset 0) are read from the file straight into
        ``out``, without the copies and the float64 round trip of :meth:`physical`."""
        start, stop = self._range(start, stop)
        shape = (stop - start, self.info.n_channels)
        if out.dtype != np.float32 or out.shape != shape or not out.flags.c_contiguous:
            raise ValueError(f"out must be a C-contiguous float32 array of shape {shape}")
        ds = self._g[schema.RAW]
        if not (ds.dtype == np.float32 and np.all(self.scale == 1.0) and np.all(self.offset == 0.0)):
            out[...] = self.physical(start, stop)
            return
        _read(self._rec.path, ds, slice(start, stop), out)
        self._check_finite(out, start)
        np.add(out, 0.0, out=out)  # as ``raw * 1 + 0`` does: a -0.0 sample reads 0.0

    def _to_physical(self, raw: np.ndarray) -> np.ndarray:
        out = raw.astype(np.float64)
        out *= self.scale
        out += self.offset
        return out.astype(np.float32)

    def times(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Host-clock time of each sample in seconds, float64 ``(stop - start,)``."""
        start, stop = self._range(start, stop)
        tm = self._tables["time_map"]
        rows = np.arange(start, stop, dtype=np.float64)
        return np.interp(rows, tm["row"].astype(np.float64), tm["time"])

    def sample_indices(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Sample index (lost samples counted) of each row, int64 ``(stop - start,)``."""
        start, stop = self._range(start, stop)
        rows = np.arange(start, stop, dtype=np.int64)
        t = self._tables
        k = np.searchsorted(t["gaps"]["row"], rows, side="right")
        lost = np.concatenate(([0], t["lost_before"]))[k]
        return rows + lost

    def blocks(self, block_size: int = 256, start: int = 0, stop: int | None = None) -> Iterator[Block]:
        """Replay rows ``start:stop`` as Blocks in physical units that never span a gap.

        Blocks hold ``block_size`` samples except before a gap and at the end. At most
        ``max(block_size, READ_ROWS)`` rows are in memory at once.
        """
        if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) or block_size < 1:
            raise ValueError(f"block_size must be a positive number of samples, got {block_size!r}")
        start, stop = self._range(start, stop)
        rows = self._tables["gaps"]["row"]
        cuts = np.unique(np.concatenate(([start, stop], rows[(rows > start) & (rows < stop)])))
        window = max(int(block_size), READ_ROWS // block_size * block_size)
        for s0, s1 in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
            for w0 in range(s0, s1, window):
                w1 = min(w0 + window, s1)
                data = self.physical(w0, w1)
                times = self.times(w0, w1)
                first = int(self.sample_indices(w0, w0 + 1)[0])
                for b0 in range(0, w1 - w0, block_size):
                    b1 = min(b0 + block_size, w1 - w0)
                    yield Block(self.info, data[b0:b1], times[b0:b1], first + b0)

    def __repr__(self) -> str:
        return (
            f"StreamView({self.name!r}, kind={self.info.kind!r}, rate={self.rate}, "
            f"n_samples={self.n_samples})"
        )


def _read(path: Path, ds: Any, sel: slice, out: np.ndarray | None = None) -> np.ndarray:
    """``ds[sel]``, or read into ``out`` (returned); a RecordingError naming the file."""
    try:
        if out is None:
            return ds[sel]
        ds.read_direct(out, sel)
        return out
    except (OSError, RuntimeError, ValueError, KeyError) as exc:
        raise RecordingError(path, f"cannot read dataset '{ds.name}' ({exc})") from None
