"""The writer thread's side of a recording: the open live file, its buffers and its loop.

:class:`LiveFile` creates the file with every dataset (SWMR allows none later), buffers what the
writer thread takes off the queue and appends it at each flush, checking free space first so a
full disk or a file size limit stops the recording with a clear error and a file that closes
cleanly. :func:`run_writer` is the thread's loop. :mod:`myoflow.storage.writer` owns the
producers' side (the :class:`~myoflow.storage.writer.Recorder` and its bounded queue).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from myoflow.storage import schema
from myoflow.storage._layout import write_layout
from myoflow.storage._timemap import TimeMap
from myoflow.storage.schema import ClockAnchor, RecordingError, SessionMetadata, StreamSpec

__all__ = ["STOP", "LiveFile", "RecorderWriteError", "as_stored_raw", "run_writer"]

# failures are reported under the recorder's logger, where users look for them
log = logging.getLogger("myoflow.storage.writer")

#: Queue item that stops the writer thread.
STOP = ("stop",)
#: Buffered bytes that force a flush before the interval is up (bounds the writer's memory).
_MAX_BUFFERED_BYTES = 32 * 1024 * 1024
#: Space kept free on the disk (and under the file size limit) so the file can still be closed.
_RESERVE_BYTES = 1024 * 1024
# HDF5's chunk cache per dataset (h5py's default: 1 MiB). Chunks written stay in it until it is
# full, so with the default a recording's memory grew for an hour and more (about 24 datasets
# filling 1 MiB each: +0.25-0.8 MB per minute at the glute rig's rates). The live file is not
# compressed, so without a cache HDF5 writes each append straight to the file; the SWMR flush
# still publishes it (tests/storage/test_recorder_memory.py).
_CHUNK_CACHE_BYTES = 0


class RecorderWriteError(RecordingError):
    """Writing the recording failed (disk full, folder read-only, file removed...)."""


def run_writer(
    sink: LiveFile,
    items: queue.Queue[tuple[Any, ...]],
    wake: threading.Event,
    flush_interval: float,
    on_error: Callable[[RecordingError], None],
) -> None:
    """The writer thread: drain ``items`` into ``sink``, flushing every ``flush_interval`` s.

    The thread sleeps until the next flush or until ``wake`` is set (the producers set it when
    the queue is a quarter full), then drains the queue in one go: no thread switch per item.
    It stops at :data:`STOP`. A failure is passed to ``on_error`` as a
    :class:`~myoflow.storage.schema.RecordingError` naming the file, the file is closed without
    touching what was flushed, and every producer waiting on the queue is released.
    """
    next_flush = time.monotonic() + flush_interval
    get = items.get_nowait
    try:
        stop = False
        while not stop:
            wake.wait(max(0.0, next_flush - time.monotonic()))
            wake.clear()
            while True:
                try:
                    item = get()
                except queue.Empty:
                    break
                if item is STOP:
                    stop = True
                elif item[0] == "flush":
                    sink.flush()
                    item[1].set()
                else:
                    sink.add(item)
                    if sink.buffered_bytes > _MAX_BUFFERED_BYTES:
                        sink.flush()
            if time.monotonic() >= next_flush:
                sink.flush()
                next_flush = time.monotonic() + flush_interval
        sink.flush()
        sink.close()
    except Exception as exc:  # report any failure to the producers, with the path
        if isinstance(exc, RecordingError):
            error = exc
        else:
            error = RecorderWriteError(sink.path, _describe_failure(exc))
        on_error(error)
        log.error("%s", error)
        sink.abandon(clean=isinstance(exc, RecordingError))
        _release_waiters(items)


def as_stored_raw(raw: np.ndarray, spec: StreamSpec) -> np.ndarray:
    """A C-contiguous copy of ``raw`` in the stream's stored dtype, refusing values it cannot hold."""
    arr = np.asarray(raw)
    name = spec.info.name
    if arr.ndim != 2 or arr.shape[1] != spec.info.n_channels:
        raise ValueError(
            f"stream {name!r}: raw must have shape (n_samples, {spec.info.n_channels}), got {arr.shape}"
        )
    dtype = spec.raw_dtype
    if arr.dtype == dtype or np.can_cast(arr.dtype, dtype, "safe"):
        return np.array(arr, dtype=dtype, order="C", copy=True)
    if dtype.kind in "iu" and arr.dtype.kind in "iu" and arr.size:
        info = np.iinfo(dtype)
        lo, hi = int(arr.min()), int(arr.max())
        if lo < info.min or hi > info.max:
            raise ValueError(
                f"stream {name!r}: raw values span [{lo}, {hi}], outside the stream's raw dtype "
                f"{dtype} [{info.min}, {info.max}]"
            )
        return np.array(arr, dtype=dtype, order="C", copy=True)
    if dtype.kind == "f" and arr.dtype.kind in "iuf":
        return np.array(arr, dtype=dtype, order="C", copy=True)
    raise ValueError(f"stream {name!r}: raw dtype {arr.dtype} cannot be stored as {dtype}")


def _release_waiters(q: queue.Queue[tuple[Any, ...]]) -> None:
    """Empty the queue after a failure so that no producer waits on a dead writer."""
    while True:
        try:
            item = q.get_nowait()
        except queue.Empty:
            return
        if item[0] == "flush":
            item[1].set()


def _describe_failure(exc: BaseException) -> str:
    text = str(exc)
    if getattr(exc, "errno", None) == 28 or "No space left" in text or "errno = 28" in text:
        what = "the disk is full (no space left on device)"
    elif getattr(exc, "errno", None) == 27 or "File too large" in text or "errno = 27" in text:
        what = "the file size limit was reached (file too large)"
    else:
        what = f"{type(exc).__name__}: {text}"
    return (
        f"writing the recording failed: {what}; everything flushed before stays readable "
        "(open it, or run 'myoflow recover' to finalise it)"
    )


class _StreamBuffer:
    """What the writer thread holds for one stream between flushes."""

    def __init__(self, spec: StreamSpec, group: Any) -> None:
        self.spec = spec
        # dataset handles stay open: closing one per flush would hide write errors in __del__
        self.ds = {name: group[name] for name in (schema.RAW, *schema.TABLES)}
        self.raw: list[np.ndarray] = []
        # runs of contiguous rows: (first row, time arrays, starts right after a gap)
        self.runs: list[tuple[int, list[np.ndarray], bool]] = []
        self.after_gap = False
        self.packets: list[tuple[Any, ...]] = []
        self.gaps: list[tuple[Any, ...]] = []
        self.timemap = TimeMap()

    def add_block(self, row: int, raw: np.ndarray, times: np.ndarray) -> None:
        if not self.runs or self.after_gap:
            self.runs.append((row, [], self.after_gap))
            self.after_gap = False
        self.raw.append(raw)
        self.runs[-1][1].append(times)

    def clear(self) -> None:
        self.raw, self.runs, self.packets, self.gaps = [], [], [], []


class LiveFile:
    """The open live file and the buffers of the writer thread."""

    def __init__(
        self,
        path: Path,
        specs: list[StreamSpec],
        clock: ClockAnchor,
        metadata: SessionMetadata,
        overwrite: bool,
    ) -> None:
        import h5py

        self.path = path
        try:
            flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
            os.close(os.open(path, flags, 0o644))
        except OSError as exc:
            raise RecorderWriteError(path, f"cannot create the recording file: {exc.strerror}") from exc
        try:
            self.file = h5py.File(path, "w", libver=("v110", "v110"), rdcc_nbytes=_CHUNK_CACHE_BYTES)
            write_layout(self.file, state="live", clock=clock, metadata=metadata, specs=specs)
            self.file.swmr_mode = True
        except (OSError, ValueError) as exc:
            raise RecorderWriteError(path, f"cannot create the recording file: {exc}") from exc
        streams = self.file[schema.STREAMS]
        self.buffers = {s.info.name: _StreamBuffer(s, streams[schema.stream_key(s.info.name)]) for s in specs}
        self.events: list[tuple[float, bytes, bytes]] = []
        events = self.file[schema.EVENTS]
        self.event_table = events[schema.EVENT_TABLE]
        self.event_json = events[schema.EVENT_JSON]
        self.buffered_bytes = 0

    def add(self, item: tuple[Any, ...]) -> None:
        """Buffer one queue item (``"block"``, ``"gap"`` or ``"event"``) until the next flush."""
        if item[0] == "block":
            _, name, row, raw, times, packet = item
            b = self.buffers[name]
            b.add_block(row, raw, times)
            if packet is not None:
                b.packets.append(packet)
            self.buffered_bytes += raw.nbytes + times.nbytes
        elif item[0] == "gap":
            b = self.buffers[item[1]]
            b.gaps.append(item[2])
            b.after_gap = True
        elif item[0] == "event":
            self.events.append(item[1:])

    def check_space(self) -> None:
        """Refuse to write when the disk or the file size limit leaves too little room.

        HDF5 handles a failed write badly (later closes can crash the process), so running out
        of space is detected before writing, keeping a reserve to close the file cleanly.
        """
        import resource

        need = self.buffered_bytes + _RESERVE_BYTES + 64 * 1024 * 4 * len(self.buffers)
        st = os.statvfs(self.path.parent)
        free = st.f_bavail * st.f_frsize
        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if limit != resource.RLIM_INFINITY:
            free = min(free, limit - os.path.getsize(self.path))
            full = "the file size limit (RLIMIT_FSIZE) is nearly reached"
        if free < need:
            if limit == resource.RLIM_INFINITY or st.f_bavail * st.f_frsize < need:
                full = "the disk is full"
            raise RecorderWriteError(
                self.path,
                f"writing the recording stopped: {full} ({free} bytes left, the next "
                f"write needs about {need}); everything written before stays readable (open it, "
                "or run 'myoflow recover' to finalise it)",
            )

    def flush(self) -> None:
        """Append everything buffered to the file and flush it (readers see it after this)."""
        self.check_space()
        for b in self.buffers.values():
            if b.raw:
                _append(b.ds[schema.RAW], np.concatenate(b.raw))
            if b.packets:
                _append(b.ds[schema.PACKETS], np.array(b.packets, dtype=schema.PACKET_DTYPE))
            if b.gaps:
                _append(b.ds[schema.GAPS], np.array(b.gaps, dtype=schema.GAP_DTYPE))
            ds = b.ds[schema.TIME_MAP]
            for row0, times, after_gap in b.runs:
                if after_gap:
                    b.timemap.seg = None
                replace, anchors = b.timemap.add_run(row0, np.concatenate(times))
                if replace is not None:
                    ds[ds.shape[0] - 1] = replace
                _append(ds, anchors)
            b.clear()
        if self.events:
            table, blob = self.event_table, self.event_json
            offset = blob.shape[0]
            rows = []
            for t, kind, text in self.events:
                rows.append((t, kind, offset, len(text)))
                offset += len(text)
            _append(blob, np.frombuffer(b"".join(e[2] for e in self.events), dtype=np.uint8))
            _append(table, np.array(rows, dtype=schema.EVENT_DTYPE))
            self.events = []
        self.buffered_bytes = 0
        self.file.flush()

    def close(self) -> None:
        """Close the file after the last flush."""
        self.file.close()

    def abandon(self, clean: bool) -> None:
        """Close the file after a failure.

        After a failed HDF5 write, closing would retry the write and can crash the process
        later; the file descriptor is first pointed at /dev/null so the library closes without
        touching the file, which keeps what the last successful flush put there.
        """
        try:
            if not clean:
                null = os.open(os.devnull, os.O_RDWR)
                os.dup2(null, self.file.id.get_vfd_handle())
                os.close(null)
            self.file.close()
        except Exception:  # the file is already damaged; what was flushed stays on disk
            log.debug("closing %s after a failure also failed", self.path, exc_info=True)


def _append(ds: Any, data: np.ndarray) -> None:
    if len(data) == 0:
        return
    n = ds.shape[0]
    ds.resize(n + len(data), axis=0)
    ds[n:] = data
