"""Record a session to HDF5 from its own thread: live-readable (SWMR), crash-safe, never blocking.

Producers (BLE callbacks, the session loop, the UI) call :meth:`Recorder.write_block`,
:meth:`~Recorder.write_gap` and :meth:`~Recorder.write_event`; those only check arguments and
put an item on a bounded :class:`queue.Queue`. A writer thread buffers the items and appends
them to the file every ``flush_interval`` seconds (0.25 s by default), flushing in SWMR mode so
another process can read the file while it grows and a killed recorder loses at most the last
flush interval. When the queue is full a sample block is dropped and becomes a gap of reason
``"recorder overflow"`` (counted in :attr:`Recorder.dropped_samples` and logged as a warning);
gaps, events and metadata are never dropped: they wait in order until the queue has room.

SWMR allows no new datasets or attributes once it is on, so every stream is declared with
:meth:`Recorder.add_stream` before :meth:`Recorder.start`; adding one later is an error.
Metadata changed during the session (notes, MVC references) is recorded as an event of kind
``"metadata"`` and merged into the session attributes when the file is finalised.

At :meth:`Recorder.close` the live file is rewritten compressed next to itself, verified and
renamed over the original (see :func:`myoflow.storage._recover.finalise`).
The writer thread itself (the open live file, its flushes and the free-space checks) lives in
:mod:`myoflow.storage._sink`; per-sample times become anchors in :mod:`myoflow.storage._timemap`.
"""

from __future__ import annotations

import collections
import logging
import os
import queue
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from myoflow.storage import schema
from myoflow.storage._sink import STOP as _STOP
from myoflow.storage._sink import LiveFile as _Sink
from myoflow.storage._sink import RecorderWriteError, as_stored_raw, run_writer
from myoflow.storage._timemap import TimeMap as _TimeMap  # noqa: F401 - kept importable from here
from myoflow.storage.schema import (
    ClockAnchor,
    DeviceInfo,
    RecordingError,
    SessionMetadata,
    StreamSpec,
)
from myoflow.stream import Event, Gap, StreamInfo

__all__ = ["Recorder", "RecorderWriteError"]

log = logging.getLogger(__name__)


class Recorder:
    """Write one session to an HDF5 file from a background thread.

    Parameters
    ----------
    path
        The recording file. It is written live at this path and replaced by the finalised,
        compressed file at :meth:`close`.
    metadata
        Session metadata (subject id, exercise, profile TOML, ...).
    clock
        The session's monotonic-to-UTC anchor; by default ``time.monotonic()`` and
        ``time.time()`` read at :meth:`start`.
    queue_size
        Capacity of the queue between producers and the writer thread, in items (blocks,
        gaps, events).
    flush_interval
        Seconds between SWMR flushes, at most 0.5.
    overwrite
        Replace an existing file at ``path`` instead of refusing to.
    on_full
        What :meth:`write_block` does when the queue is full: ``"drop"`` (live recording: the
        block becomes a ``"recorder overflow"`` gap, the caller is never blocked) or
        ``"wait"`` (imports and replays: wait for room, nothing is dropped).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        metadata: SessionMetadata | None = None,
        *,
        clock: ClockAnchor | None = None,
        queue_size: int = 2048,
        flush_interval: float = 0.25,
        overwrite: bool = False,
        on_full: str = "drop",
    ) -> None:
        from myoflow._checks import check_option, check_positive

        self.path = Path(path)
        if metadata is not None and not isinstance(metadata, SessionMetadata):
            raise ValueError(f"metadata must be a SessionMetadata, got {type(metadata).__name__}")
        self.metadata = metadata or SessionMetadata()
        self.clock = clock
        if isinstance(queue_size, bool) or not isinstance(queue_size, int) or queue_size < 1:
            raise ValueError(f"queue_size must be a positive number of items, got {queue_size!r}")
        interval = check_positive(flush_interval, "flush_interval", "s")
        if interval > 0.5:
            raise ValueError(f"flush_interval must be at most 0.5 s, got {flush_interval!r}")
        self.flush_interval = interval
        self.overwrite = bool(overwrite)
        self.on_full = check_option(on_full, "on_full", ("drop", "wait"))
        self.dropped_blocks = 0
        self.dropped_samples = 0
        self._specs: dict[str, StreamSpec] = {}
        self._next: dict[str, list[int]] = {}  # name -> [next sample index, next row]
        self._queue: queue.Queue[tuple[Any, ...]] = queue.Queue(maxsize=queue_size)
        self._pending: collections.deque[tuple[Any, ...]] = collections.deque()
        self._lock = threading.Lock()
        # the writer thread sleeps until the next flush or until the queue is a quarter full,
        # then drains it in one go: no thread switch per item
        self._wake = threading.Event()
        self._wake_at = max(1, queue_size // 4)
        self._thread: threading.Thread | None = None
        self._error: RecordingError | None = None
        self._closed = False

    # ------------------------------------------------------------ set-up

    def add_stream(
        self,
        info: StreamInfo,
        raw_dtype: Any,
        scale: float | np.ndarray = 1.0,
        offset: float | np.ndarray = 0.0,
        device: DeviceInfo | None = None,
    ) -> None:
        """Declare a stream before :meth:`start`; ``physical = raw * scale + offset`` per channel."""
        if self._thread is not None:
            raise RuntimeError(
                f"{self.path}: stream {info.name!r} added after start(); SWMR recording cannot add "
                "datasets to a live file, so declare every stream before start()"
            )
        spec = schema.make_stream_spec(info, raw_dtype, scale, offset, device)
        keys = {schema.stream_key(n) for n in self._specs}
        if info.name in self._specs or schema.stream_key(info.name) in keys:
            raise ValueError(f"stream name {info.name!r} is already used (or maps to the same group)")
        self._specs[info.name] = spec
        self._next[info.name] = [0, 0]

    def start(self) -> None:
        """Create the file with every dataset, switch SWMR on and start the writer thread.

        Raises :class:`RecorderWriteError` naming the path when the file cannot be created.
        """
        if self._thread is not None:
            raise RuntimeError(f"{self.path}: recorder already started")
        if not self._specs:
            raise ValueError(f"{self.path}: add at least one stream before start()")
        if self.clock is None:
            self.clock = ClockAnchor(time.monotonic(), time.time())
        sink = _Sink(self.path, list(self._specs.values()), self.clock, self.metadata, self.overwrite)
        self._thread = threading.Thread(target=self._run, args=(sink,), name="myoflow-recorder", daemon=True)
        self._thread.start()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None and not self._closed:
            self.close()

    # ------------------------------------------------------------ producers

    def write_block(
        self,
        stream: str,
        raw: np.ndarray,
        times: np.ndarray,
        *,
        start_index: int | None = None,
        host_time: float | None = None,
        counter: int | None = None,
        device_time_ns: int | None = None,
    ) -> bool:
        """Queue consecutive samples of one stream, typically one device packet. Never blocks.

        Parameters
        ----------
        stream
            A declared stream name.
        raw
            Shape ``(n_samples, n_channels)``, the samples as the device sent them.
        times
            Shape ``(n_samples,)``, float64 host-clock seconds of each sample.
        start_index
            Sample index of ``raw[0]``; by default right after the previous block or gap.
        host_time, counter, device_time_ns
            The packet's host receive time (s), counter and device time (ns); a packet row is
            recorded when ``host_time`` is given.

        Returns
        -------
        bool
            False when the queue was full and the block became a ``"recorder overflow"`` gap.
        """
        with self._lock:
            spec, nxt = self._check_stream(stream)
            arr = as_stored_raw(raw, spec)
            t = np.array(times, dtype=np.float64, copy=True).reshape(-1)
            if t.shape[0] != arr.shape[0]:
                raise ValueError(
                    f"stream {stream!r}: {arr.shape[0]} samples but times has {t.shape[0]} values"
                )
            index = self._check_index(stream, nxt, start_index)
            n = arr.shape[0]
            if n == 0:
                return True
            packet = None
            if host_time is not None:
                packet = (
                    nxt[1],
                    index,
                    n,
                    _or_unknown(counter),
                    _or_unknown(device_time_ns),
                    float(host_time),
                )
            item = ("block", stream, nxt[1], arr, t, packet)
            ok = self._put(item, overflow=(stream, index, nxt[1], n, t[0], t[-1]))
            nxt[0] += n
            if ok:
                nxt[1] += n
            return ok

    def write_gap(self, gap: Gap) -> None:
        """Record lost samples; ``gap.start_index`` must be where the stream's data ended."""
        with self._lock:
            spec, nxt = self._check_stream(gap.stream.name)
            self._check_index(gap.stream.name, nxt, gap.start_index)
            if gap.n_missing is not None and (
                not isinstance(gap.n_missing, (int, np.integer)) or gap.n_missing < 0
            ):
                raise ValueError(f"gap.n_missing must be None or >= 0, got {gap.n_missing!r}")
            reason = schema.encode_fixed(gap.reason, schema.REASON_BYTES, "gap reason")
            missing = schema.UNKNOWN if gap.n_missing is None else int(gap.n_missing)
            row = (nxt[0], nxt[1], missing, float(gap.t_start), float(gap.t_end), reason)
            self._put(("gap", gap.stream.name, row), overflow=None)
            nxt[0] += max(missing, 0)

    def write_event(self, event: Event) -> None:
        """Record an event (rep boundary, phase, cue, marker, calibration segment)."""
        kind = schema.encode_fixed(event.kind, schema.KIND_BYTES, "event kind")
        record = {"kind": event.kind, "label": event.label, "stream": event.stream, "data": event.data}
        text = schema.to_json(record, f"event {event.kind!r}").encode("utf-8")
        with self._lock:
            self._check_running()
            self._put(("event", float(event.time), kind, text), overflow=None)

    def update_metadata(self, *, time_s: float | None = None, **changes: Any) -> None:
        """Change session metadata during recording (recorded as a ``"metadata"`` event).

        ``time_s`` is the host-clock time of the change (default: ``time.monotonic()``).
        """
        schema.check_metadata_changes(changes)
        when = time.monotonic() if time_s is None else float(time_s)
        self.write_event(Event(when, "metadata", "", None, dict(changes)))

    def flush(self, timeout: float = 10.0) -> None:
        """Block until everything queued so far is written and flushed to the file."""
        done = threading.Event()
        with self._lock:
            self._check_running()
            self._drain_pending(block=True)
            self._wake.set()
            self._queue.put(("flush", done), timeout=timeout)
            self._wake.set()
        if not done.wait(timeout):
            raise RecorderWriteError(self.path, f"flush did not finish within {timeout} s")
        if self._error is not None:
            raise self._error

    def close(self, finalise: bool = True, timeout: float | None = None) -> Path:
        """Stop the writer, write what is queued, then (by default) finalise the file.

        Finalising writes a compressed copy beside the file, verifies it and renames it over
        the live file, so a crash at any point leaves a readable recording. Returns the path.
        """
        with self._lock:
            if self._closed:
                return self.path
            self._closed = True
            if self._thread is None:
                return self.path
            if self._error is None:
                self._drain_pending(block=True)
                self._wake.set()
                self._queue.put(_STOP)
                self._wake.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RecorderWriteError(self.path, f"writer thread did not stop within {timeout} s")
        if self._error is not None:
            raise self._error
        if finalise:
            from myoflow.storage._recover import finalise as _finalise

            _finalise(self.path, self.path, state="final")
        return self.path

    @property
    def error(self) -> RecordingError | None:
        """The error that stopped the writer thread, if any."""
        return self._error

    # ------------------------------------------------------------ internals

    def _check_running(self) -> None:
        if self._error is not None:
            raise self._error
        if self._thread is None:
            raise RuntimeError(f"{self.path}: call start() before writing")
        if self._closed:
            raise RuntimeError(f"{self.path}: recorder is closed")

    def _check_stream(self, name: str) -> tuple[StreamSpec, list[int]]:
        self._check_running()
        try:
            return self._specs[name], self._next[name]
        except KeyError:
            known = ", ".join(repr(n) for n in self._specs)
            raise ValueError(f"unknown stream {name!r}; declared streams: {known}") from None

    @staticmethod
    def _check_index(name: str, nxt: list[int], start_index: int | None) -> int:
        if start_index is None or int(start_index) == nxt[0]:
            return nxt[0]
        raise ValueError(
            f"stream {name!r}: data starts at sample index {start_index} but the stream is at "
            f"index {nxt[0]}; announce lost samples with write_gap() first"
        )

    def _put(self, item: tuple[Any, ...], overflow: tuple[Any, ...] | None) -> bool:
        self._drain_pending(block=False)
        if not self._pending:
            try:
                self._queue.put_nowait(item)
                if self._queue.qsize() >= self._wake_at:
                    self._wake.set()
                return True
            except queue.Full:
                pass
        if self.on_full == "wait":
            self._drain_pending(block=True)
            self._wake.set()
            self._queue.put(item)
            return True
        if overflow is None:
            self._pending.append(item)
            return True
        self._drop(*overflow)
        return False

    def _drain_pending(self, block: bool) -> None:
        while self._pending:
            if block:
                self._wake.set()
            try:
                self._queue.put(self._pending[0], block=block)
            except queue.Full:
                return
            self._pending.popleft()

    def _drop(self, name: str, index: int, row: int, n: int, t0: float, t1: float) -> None:
        if self.dropped_blocks == 0 or not self._pending:
            log.warning(
                "%s: recorder queue full (%d items), dropping samples of %r from index %d; "
                "they are recorded as a 'recorder overflow' gap",
                self.path,
                self._queue.maxsize,
                name,
                index,
            )
        self.dropped_blocks += 1
        self.dropped_samples += n
        for i in range(len(self._pending) - 1, -1, -1):
            item = self._pending[i]
            if item[0] == "gap" and item[1] == name:
                g = item[2]
                if g[5] == b"recorder overflow" and g[0] + g[2] == index and g[1] == row:
                    self._pending[i] = ("gap", name, (g[0], g[1], g[2] + n, g[3], float(t1), g[5]))
                    return
                break
        self._pending.append(("gap", name, (index, row, n, float(t0), float(t1), b"recorder overflow")))

    def _run(self, sink: _Sink) -> None:
        run_writer(sink, self._queue, self._wake, self.flush_interval, self._fail)

    def _fail(self, error: RecordingError) -> None:
        self._error = error


def _or_unknown(value: int | None) -> int:
    return schema.UNKNOWN if value is None else int(value)
