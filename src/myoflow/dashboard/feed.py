"""Sinks that fill what the dashboard reads: bounded, lock-protected, O(chunk) per call.

They run on the ingest's (or the replay's) thread; the GUI thread only copies out of them.

* :class:`RawTap`: ring buffers of the raw EMG of every EMG stream (the "raw on demand" lane and
  the MVC calibration's contractions), and the lower-lag feedback level of every channel
  (:class:`~myoflow.feedback.level.FeedbackLevels`: the mat bar and the tone).
* :class:`StatusBoard`: the latest :class:`~myoflow.devices.sinks.StrapStatus` of every strap,
  refreshed from the ingest a few times a second (loss % and rates change without a state
  change).
* :class:`Slot`: one sink that forwards to a target which can be swapped from another thread
  (a recorder started and stopped mid-session, an analysis rebuilt after calibration).
* :class:`MidSession`: puts a :class:`~myoflow.session.recorder_sink.RecorderSink` started mid-session in
  front of data whose sample indices do not start at 0, and keeps a failing recording from
  stopping the live session.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from myoflow._checks import check_positive
from myoflow.feedback.level import FeedbackLevels
from myoflow.stream import Block, Event, Gap, StreamInfo

__all__ = ["MidSession", "RawTap", "Slot", "StatusBoard"]


class _Ring:
    """The last ``capacity`` rows of one stream: samples ``(capacity, ch)`` and times."""

    def __init__(self, capacity: int, n_channels: int) -> None:
        self.data = np.full((capacity, n_channels), np.nan, dtype=np.float32)
        self.times = np.full(capacity, np.nan)
        self.write = 0  # rows written in total

    def push(self, times: np.ndarray, data: np.ndarray) -> None:
        cap = self.times.size
        if times.size >= cap:
            times, data = times[-cap:], data[-cap:]
        n = times.size
        i = self.write % cap
        first = min(n, cap - i)
        self.times[i : i + first] = times[:first]
        self.data[i : i + first] = data[:first]
        if n > first:
            self.times[: n - first] = times[first:]
            self.data[: n - first] = data[first:]
        self.write += n

    def last(self, n: int, column: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The newest ``n`` rows, oldest first (copies); only ``column`` when given."""
        cap = self.times.size
        n = min(n, cap, self.write)
        end = self.write % cap
        start = end - n
        data = self.data if column is None else self.data[:, column]
        if start >= 0:  # one slice
            return self.times[start:end].copy(), data[start:end].copy()
        return (
            np.concatenate((self.times[start:], self.times[:end])),
            np.concatenate((data[start:], data[:end])),
        )


class RawTap:
    """Keeps the last ``window_s`` of raw EMG of every EMG stream in ``streams``.

    Parameters
    ----------
    streams
        StreamInfos by name (the ingest's, or a recording's); non-EMG streams are ignored.
    window_s
        Seconds kept per stream (s).
    """

    def __init__(self, streams: Mapping[str, StreamInfo], window_s: float = 12.0) -> None:
        self.window_s = check_positive(window_s, "window_s", "s")
        self._lock = threading.Lock()
        self._rings: dict[str, _Ring] = {}
        self.rates: dict[str, float] = {}
        #: Blocks received so far, of every stream (the window's cheap "anything new?" probe).
        self.received = 0
        #: placement (or "<stream>/<channel>") -> (stream name, column)
        self.channels: dict[str, tuple[str, int]] = {}
        for name, info in streams.items():
            if info.kind != "emg":
                continue
            self._rings[name] = _Ring(int(np.ceil(self.window_s * info.rate)) + 1, info.n_channels)
            self.rates[name] = float(info.rate)
            for j, ch in enumerate(info.channels):
                label = info.placements[j] if info.placements else f"{name}/{ch}"
                self.channels.setdefault(label, (name, j))
        #: The feedback level of every EMG channel (display and sound only).
        self.feedback = FeedbackLevels(streams)

    def on_block(self, block: Block) -> None:
        ring = self._rings.get(block.stream.name)
        if ring is not None and len(block):
            with self._lock:
                ring.push(block.times, block.data)
            self.feedback.on_block(block)
        self.received += 1  # any stream: the window redraws only when this moved

    def on_gap(self, gap: Gap) -> None:
        """Gaps show as a jump in the times (nothing is invented); the feedback restarts."""
        self.feedback.on_gap(gap)

    def window(self, muscle: str, seconds: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(times (n,) s, values (n,) uV)`` of ``muscle``'s channel over the last ``seconds``."""
        stream, col = self._where(muscle)
        n = int(np.ceil((seconds or self.window_s) * self.rates[stream]))
        with self._lock:
            return self._rings[stream].last(n, col)

    def recent(self, stream: str, seconds: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(times (n,), samples (n, ch))`` of ``stream`` over the last ``seconds`` (all kept)."""
        if stream not in self._rings:
            raise ValueError(f"stream {stream!r} is not an EMG stream of this session: {sorted(self._rings)}")
        n = int(np.ceil((seconds or self.window_s) * self.rates[stream]))
        with self._lock:
            times, data = self._rings[stream].last(n)
        return times, data

    def _where(self, muscle: str) -> tuple[str, int]:
        if muscle not in self.channels:
            raise ValueError(f"muscle {muscle!r} has no raw EMG channel; known: {sorted(self.channels)}")
        return self.channels[muscle]


class StatusBoard:
    """The latest status of every strap, for the GUI thread (module docstring).

    ``refresh_s``: how often (wall s) :meth:`on_block` asks the ingest for fresh statistics.
    """

    def __init__(self, refresh_s: float = 0.25) -> None:
        self.refresh_s = check_positive(refresh_s, "refresh_s", "s")
        self.ingest: Any = None
        self._lock = threading.Lock()
        self._statuses: dict[str, Any] = {}
        self._next = 0.0

    def attach(self, ingest: Any) -> None:
        """Read statuses from ``ingest`` (call on its thread, e.g. in ``on_started``)."""
        self.ingest = ingest
        self._pull()

    def on_block(self, block: Block) -> None:
        if self.ingest is not None and time.monotonic() >= self._next:
            self._pull()

    def on_gap(self, gap: Gap) -> None:
        """Loss shows in the statistics at the next refresh."""

    def on_status(self, status: Any) -> None:
        with self._lock:
            self._statuses[status.name] = status

    def _pull(self) -> None:
        self._next = time.monotonic() + self.refresh_s
        fresh = self.ingest.status()
        with self._lock:
            for st in fresh:
                self._statuses[st.name] = st

    def statuses(self) -> list[Any]:
        """The latest status of every strap seen."""
        with self._lock:
            return list(self._statuses.values())


class Slot:
    """Forwards the sink calls to ``target`` (None: to nobody); :meth:`set` from any thread.

    When :meth:`set` returns, no call to the previous target is still running, so it can be
    closed right away.
    """

    def __init__(self, target: Any = None) -> None:
        self._lock = threading.Lock()
        self.target = target

    def set(self, target: Any) -> Any:
        """Forward to ``target`` from now on; returns the previous target."""
        with self._lock:
            old, self.target = self.target, target
        return old

    def _call(self, name: str, *args: Any) -> None:
        with self._lock:
            method = getattr(self.target, name, None)
            if callable(method):
                method(*args)

    def on_block(self, block: Block) -> None:
        self._call("on_block", block)

    def on_gap(self, gap: Gap) -> None:
        self._call("on_gap", gap)

    def on_event(self, event: Event) -> None:
        self._call("on_event", event)

    def on_status(self, status: Any) -> None:
        self._call("on_status", status)

    def on_packet(self, strap: str, packet: Any, host_time: float, out: list[Block | Gap]) -> None:
        self._call("on_packet", strap, packet, host_time, out)


class MidSession:
    """A recorder that joins a running session (module docstring).

    The recorder expects every stream to start at sample index 0; here each stream's indices
    are counted from its first block or gap after :meth:`on_packet` first saw it (the host
    times are kept as they are). An exception of the recorder is kept in :attr:`error` and
    ends the forwarding instead of stopping the straps. ``watch`` (e.g. a
    :class:`~myoflow.session.mains_watch.MainsWatch`) sees the same blocks through ``on_block``.
    """

    def __init__(self, recorder: Any, watch: Any = None) -> None:
        self.recorder = recorder
        self.watch = watch
        self.error: Exception | None = None
        self._offset: dict[str, int] = {}

    def on_packet(self, strap: str, packet: Any, host_time: float, out: list[Block | Gap]) -> None:
        if self.error is not None:
            return
        items = []
        for item in out:
            offset = self._offset.setdefault(item.stream.name, int(item.start_index))
            items.append(dataclasses.replace(item, start_index=item.start_index - offset) if offset else item)
        try:
            self.recorder.on_packet(strap, packet, host_time, items)
            if self.watch is not None:
                for item in items:
                    if isinstance(item, Block):
                        self.watch.on_block(item)
        except Exception as exc:  # the recording fails, the live session goes on
            self.error = exc

    def on_event(self, event: Event) -> None:
        if self.error is None:
            self.recorder.on_event(event)
