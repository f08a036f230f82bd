"""Replay a recording as if its straps were streaming: Blocks, Gaps and Events in time order.

A :class:`Replayer` merges every stream of a :class:`~myoflow.storage.reader.Recording` (and
its events) into one time-ordered sequence of the objects the live ingest delivers:
:class:`~myoflow.stream.Block` (never spanning a gap), :class:`~myoflow.stream.Gap` (always just
before the block that follows it) and :class:`~myoflow.stream.Event`. A block is due at the time
of its last sample, when a strap would have delivered it; a gap with the block after it; an
event at its time. Memory is bounded: each stream is read from disk in windows of
:data:`~myoflow.storage.reader.READ_ROWS` rows.

Three ways to drive it:

* :meth:`Replayer.run` paces delivery against a clock: real time (``speed=1``), ``speed`` times
  real time, or as fast as possible (``speed=None``). The clock is injectable: with a
  :class:`ManualClock` nothing ever sleeps and the pacing is deterministic.
* :meth:`Replayer.step` is the fixed-step mode: each call advances the replay by ``dt`` seconds
  of recording time and delivers what falls in that step; it never reads a clock or sleeps.
* :meth:`Replayer.poll` delivers what is due at the clock's current time (for a loop that owns
  the clock, e.g. a GUI timer).

Consumers are :class:`~myoflow.stream.Sink` objects, the contract the ingest delivers to: a
replay calls ``on_block``, ``on_gap`` and, where the sink has it, ``on_event``, so a sink
written for the ingest (without ``on_event``) can be replayed into too; it then gets no events.
:class:`myoflow.session.live.EnvelopeSummary` is a ready-made sink that runs EMG streams through
the live signal core (``myoflow replay`` prints its summary); it lives above the storage layer,
which knows nothing of the signal core.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from myoflow._checks import check_positive
from myoflow.storage.reader import Recording, StreamView
from myoflow.stream import Block, Clock, Event, Gap, Sink

__all__ = ["ManualClock", "ReplayStats", "Replayer"]

Item = Block | Gap | Event


#: Longest replay step (block_s), s.
MAX_BLOCK_S = 10.0
#: Paced items are delivered up to this much clock time early, so clock rounding never stalls.
_EARLY_S = 1e-6


class ManualClock:
    """A clock that moves only when told: deterministic pacing without sleeping (tests).

    Calling it returns the current time in seconds; :meth:`sleep` (used by
    :meth:`Replayer.run` instead of :func:`time.sleep`) and :meth:`advance` move it forward.
    """

    def __init__(self, start: float = 0.0) -> None:
        self.now = float(start)
        self.slept = 0.0

    def __call__(self) -> float:
        """The current time, s."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (negative values count as 0)."""
        seconds = max(0.0, float(seconds))
        self.now += seconds
        self.slept += seconds

    advance = sleep


@dataclass
class ReplayStats:
    """What a replay delivered so far.

    ``position_s``: recording seconds replayed since the first item; ``wall_s``: clock seconds
    :meth:`Replayer.run` took; per stream name: ``blocks``, ``samples``, ``gaps`` and
    ``lost`` (samples of gaps of known size); ``events``: events delivered.
    """

    position_s: float = 0.0
    wall_s: float = 0.0
    blocks: dict[str, int] = field(default_factory=dict)
    samples: dict[str, int] = field(default_factory=dict)
    gaps: dict[str, int] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)
    events: int = 0

    @property
    def speed(self) -> float:
        """Recording seconds per clock second (inf when no clock time passed)."""
        return self.position_s / self.wall_s if self.wall_s > 0 else math.inf


class Replayer:
    """Replay a recording's streams and events in time order, paced or in fixed steps.

    Parameters
    ----------
    recording
        An open :class:`~myoflow.storage.reader.Recording` (it stays open; close it yourself).
    speed
        Multiple of real time for :meth:`run` and :meth:`poll` (1.0: real time; 20: twenty
        times faster); ``None`` delivers as fast as possible.
    clock
        Zero-argument callable returning seconds (default :func:`time.monotonic`). When it has
        a ``sleep(seconds)`` method (as :class:`ManualClock`), :meth:`run` waits with it instead
        of :func:`time.sleep`.
    block_s
        Block length in seconds: each stream is cut into blocks of
        ``max(1, round(block_s * rate))`` samples (fewer before a gap and at the end); also the
        default step of :meth:`step`. Blocks of 20 ms are what a strap typically sends.
    streams
        Names of the streams to replay (default: all, in the recording's order).
    events
        Deliver the recording's events too.

    Raises
    ------
    ValueError
        For an argument out of range, naming it and the value.
    """

    def __init__(
        self,
        recording: Recording,
        speed: float | None = 1.0,
        clock: Clock | None = None,
        block_s: float = 0.02,
        *,
        streams: Sequence[str] | None = None,
        events: bool = True,
    ) -> None:
        if not isinstance(recording, Recording):
            raise ValueError(
                f"recording must be a Recording (myoflow.storage.reader.open_recording), "
                f"got {type(recording).__name__}"
            )
        self.recording = recording
        self.speed = None if speed is None else check_positive(speed, "speed", "x real time")
        if clock is not None and not callable(clock):
            raise ValueError(f"clock must be a callable returning seconds, got {clock!r}")
        self._clock: Clock = clock or time.monotonic
        self._sleep: Callable[[float], None] = getattr(clock, "sleep", time.sleep)
        self.block_s = check_positive(block_s, "block_s", "s")
        if self.block_s > MAX_BLOCK_S:
            raise ValueError(f"block_s must be at most {MAX_BLOCK_S} s, got {block_s!r}")
        names = list(recording.streams) if streams is None else list(streams)
        unknown = [n for n in names if n not in recording.streams]
        if unknown:
            known = ", ".join(repr(n) for n in recording.streams)
            raise ValueError(f"streams {unknown} are not in {recording.path}; it has {known}")
        self.views: list[StreamView] = [recording.streams[n] for n in names]
        self.block_sizes = {v.name: max(1, int(round(self.block_s * v.rate))) for v in self.views}
        self._events = recording.events if events else []
        self.t_start, self.t_end = self._span()
        self.position = self.t_start
        self.stats = ReplayStats(
            blocks=dict.fromkeys(names, 0),
            samples=dict.fromkeys(names, 0),
            gaps=dict.fromkeys(names, 0),
            lost=dict.fromkeys(names, 0),
        )
        self._items = self._merged()
        self._next: tuple[float, Item] | None = next(self._items, None)
        self._wall0: float | None = None
        self._pos0 = self.position

    @property
    def duration(self) -> float:
        """Seconds of recording from the first to the last item."""
        return self.t_end - self.t_start

    @property
    def done(self) -> bool:
        """True when everything has been delivered."""
        return self._next is None

    def due_at(self) -> float | None:
        """Recording time (host-clock s) of the next item, None when done."""
        return None if self._next is None else self._next[0]

    # ------------------------------------------------------------ driving

    def items(self) -> Iterator[Item]:
        """Yield the remaining items in time order, unpaced (counted in :attr:`stats`)."""
        while self._next is not None:
            yield self._advance()

    def step(self, sink: Sink, dt: float | None = None) -> int:
        """Fixed-step mode: advance ``dt`` s of recording time (default ``block_s``) and
        deliver every item due in it. Reads no clock and never sleeps. Returns items delivered."""
        dt = self.block_s if dt is None else check_positive(dt, "dt", "s")
        self.position += dt
        n = self._deliver_until(self.position, _deliverer(sink))
        if self._next is None:
            self.position = max(self.position, self.t_end)
        return n

    def poll(self, sink: Sink | _Router) -> int:
        """Deliver every item due at the clock's current time; never sleeps.

        The first call starts the replay's clock. With ``speed=None`` everything is due.
        Returns the number of items delivered.
        """
        deliver = _deliverer(sink)
        now = self._clock()
        if self._wall0 is None:
            self._wall0, self._pos0 = now, self.position
        limit = math.inf if self.speed is None else self._pos0 + (now + _EARLY_S - self._wall0) * self.speed
        n = self._deliver_until(limit, deliver)
        self.position = max(self.position, min(limit, self.t_end))
        return n

    def run(self, sink: Sink, progress: Callable[[float, float], None] | None = None) -> ReplayStats:
        """Deliver everything, paced by ``speed`` against the clock; return the statistics.

        ``progress(done_s, total_s)`` is called as the replay advances (about 200 times at
        most, and once at the end) with the recording seconds replayed and in total.
        """
        deliver = _deliverer(sink)
        started = self._clock()
        every = self.duration / 200
        reported = -math.inf
        while self._next is not None:
            if self.speed is None:  # as fast as possible, in slices for the progress reports
                self._deliver_until(self._next[0] + max(every, self.block_s), deliver)
            else:
                self.poll(deliver)
                if self._next is not None and self._wall0 is not None:  # poll set _wall0
                    due = self._wall0 + (self._next[0] - self._pos0) / self.speed
                    wait = due - self._clock()
                    if wait > _EARLY_S:
                        self._sleep(wait)
            if progress is not None and self.position - reported >= every:
                reported = self.position
                progress(self.position - self.t_start, self.duration)
        self.position = self.t_end
        self.stats.wall_s += self._clock() - started
        if progress is not None:
            progress(self.duration, self.duration)
        return self.stats

    # ------------------------------------------------------------ internals

    def _span(self) -> tuple[float, float]:
        first, last = [], []
        for v in self.views:
            n = v.n_samples
            if n:
                first.append(float(v.times(0, 1)[0]))
                last.append(float(v.times(n - 1, n)[0]))
            for g in v.gaps:
                last.append(g.t_end)
        if self._events:
            first.append(min(e.time for e in self._events))
            last.append(max(e.time for e in self._events))
        if not first:
            return 0.0, 0.0
        return min(first), max(max(last), min(first))

    def _merged(self) -> Iterator[tuple[float, Item]]:
        sources = [_stream_items(v, self.block_sizes[v.name]) for v in self.views]
        sources.append((e.time, e) for e in sorted(self._events, key=lambda e: e.time))
        # ties: streams in declared order, then events (an event refers to data up to its time)
        return heapq.merge(*sources, key=lambda pair: pair[0])

    def _deliver_until(self, limit: float, deliver: Callable[[Item], None]) -> int:
        n = 0
        while self._next is not None and self._next[0] <= limit:
            deliver(self._advance())
            n += 1
        return n

    def _advance(self) -> Item:
        key, item = self._next  # type: ignore[misc]
        self._next = next(self._items, None)
        s = self.stats
        if isinstance(item, Block):
            name = item.stream.name
            s.blocks[name] += 1
            s.samples[name] += len(item)
        elif isinstance(item, Gap):
            s.gaps[item.stream.name] += 1
            s.lost[item.stream.name] += item.n_missing or 0
        else:
            s.events += 1
        s.position_s = max(s.position_s, key - self.t_start)
        self.position = max(self.position, key)
        return item


def _stream_items(view: StreamView, block_size: int) -> Iterator[tuple[float, Item]]:
    """``(due time, item)`` of one stream: each gap just before the block that follows it."""
    gaps = view.gaps
    gap_rows = view.gap_table["row"].tolist()
    g, row, last = 0, 0, -math.inf
    for block in view.blocks(block_size):
        last = max(last, float(block.times[-1]))
        while g < len(gaps) and gap_rows[g] <= row:
            yield last, gaps[g]
            g += 1
        yield last, block
        row += len(block)
    for gap in gaps[g:]:  # losses after the last stored sample
        last = max(last, gap.t_end)
        yield last, gap


class _Router:
    """Calls the sink's method for each item; sinks without ``on_event`` get no events."""

    def __init__(self, sink: Sink) -> None:
        if not (callable(getattr(sink, "on_block", None)) and callable(getattr(sink, "on_gap", None))):
            raise ValueError(f"sink must have on_block(block) and on_gap(gap) methods, got {sink!r}")
        self.on_block, self.on_gap = sink.on_block, sink.on_gap
        on_event = getattr(sink, "on_event", None)
        self.on_event = on_event if callable(on_event) else None

    def __call__(self, item: Item) -> None:
        if isinstance(item, Block):
            self.on_block(item)
        elif isinstance(item, Gap):
            self.on_gap(item)
        elif self.on_event is not None:
            self.on_event(item)


def _deliverer(sink: Sink | _Router) -> _Router:
    """The router of ``sink`` (checked once per call of step, poll or run)."""
    return sink if isinstance(sink, _Router) else _Router(sink)
