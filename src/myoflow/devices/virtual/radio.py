"""Time and radio impairments for the virtual straps: clocks, :class:`LinkConditions`, :class:`RadioModel`.

Bumble's LocalLink delivers every notification on the next loop iteration, in order, and never
loses one. A real strap is paced by its sample clock and by the BLE connection interval, its
clock drifts, packets get lost and links drop. This module models that, in one small place
shared by every strap simulator.

Time
----
Every strap and its ledger speak one **clock**: ``clock.now()`` in seconds, the "true" time of
the simulated world (what a perfect host monotonic clock would read). Two kinds exist:

* :class:`RealTimeClock`: ``time.monotonic()``; the straps sleep for real (demo, benchmarks).
* :class:`VirtualClock` (**fast mode**, for tests): nothing sleeps. Time is a number that jumps
  to the next instant anybody waits for (:meth:`VirtualClock.timer`), but only when the asyncio
  loop has nothing else ready to run: every notification sent at virtual time ``t`` has gone
  through Bumble and reached the bleak callback before time moves on. An ingest that stamps
  arrivals with ``clock.now`` (pass the clock as its host clock) therefore sees each connection
  event's burst arrive at exactly the virtual instant it was sent; 60 s of data take a second
  or two of wall time. Waiters are woken one at a time, each only once the loop is idle again,
  so two things due at the same instant (a burst and a test's disconnect) never interleave, and
  a notification the ledger calls "sent" has arrived before the next wake-up.

  Caveats of fast mode: idleness is read from CPython's event loop internals (``_ready`` and
  ``_scheduled``; another loop falls back to a fixed number of yields); anything that waits in
  *real* time (Bumble's advertising interval while a central reconnects, ``asyncio.sleep``)
  lets virtual time run ahead meanwhile. Two holds guard against that: ``with clock.hold():``
  freezes virtual time for a block of set-up code, and a strap dropped by the simulator (forced
  disconnect, Myo sleep) holds the clock until a central reconnects or
  :attr:`LinkConditions.reconnect_hold_s` of real time passed. So a reconnecting ingest must do
  its back-off in real time (``asyncio.sleep``), not on the virtual clock, or it waits out the
  hold.

Radio
-----
:class:`RadioModel` (one per strap, seeded from :attr:`LinkConditions.seed` and the strap's
``radio_id``) gives:

* **connection events** every ``connection_interval_s`` from the moment a central connects;
  a packet completed by the device at time ``r`` leaves at the first event ``>= r`` (at most
  ``max_per_event`` per event, the rest wait), so notifications arrive in bursts;
* **jitter**: each event's burst reaches the host ``U(0, jitter_s)`` later (never out of order),
  a fixed function of the event number, so replanning does not change it;
* **loss**: each notification is lost with probability ``drop_prob`` (drawn in send order);
* **forced disconnects** at ``disconnect_at_s`` and every ``disconnect_every_s`` seconds of clock
  time (relative to the clock's origin), whenever connected then.

Device clock skew is a property of the strap's sample clock (``clock_ppm``): see
:class:`~myoflow.devices.virtual.straps.StreamSource`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from myoflow._checks import check_positive

__all__ = ["ClockHold", "LinkConditions", "RadioModel", "RealTimeClock", "VirtualClock"]

#: Ticks of the virtual clock that count as "idle" on an event loop without CPython internals.
_FALLBACK_TICKS = 32
_CHUNK = 1024


class ClockHold:
    """A token that keeps a :class:`VirtualClock` from advancing until :meth:`release`.

    Also a context manager (``with clock.hold(): ...``). Releasing twice is harmless.
    """

    def __init__(self, clock: VirtualClock | None) -> None:
        self._clock = clock
        self.active = clock is not None
        if clock is not None:
            clock._holds += 1

    def release(self) -> None:
        """Let the clock advance again (once every hold is released)."""
        if self.active and self._clock is not None:
            self.active = False
            self._clock._holds -= 1
            self._clock._schedule()

    def __enter__(self) -> ClockHold:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class _ClockBase:
    """What both clocks share: calling, sleeping, holding."""

    realtime: bool
    origin: float

    def now(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def timer(self, t: float) -> asyncio.Future[None]:  # pragma: no cover - overridden
        raise NotImplementedError

    def __call__(self) -> float:
        """``clock()`` is ``clock.now()``: pass the clock itself where a time source is wanted."""
        return self.now()

    async def sleep_until(self, t: float) -> None:
        """Wait until the clock reads ``t`` seconds (returns at once if it already does)."""
        fut = self.timer(t)
        try:
            await fut
        finally:
            fut.cancel()

    async def sleep(self, dt: float) -> None:
        """Wait ``dt`` seconds of this clock's time."""
        await self.sleep_until(self.now() + float(dt))

    def hold(self) -> ClockHold:
        """Freeze time until the returned token is released (a no-op for real time)."""
        return ClockHold(None)


class RealTimeClock(_ClockBase):
    """Wall time: ``time.monotonic()`` seconds (the asyncio loop's own clock)."""

    realtime = True

    def __init__(self) -> None:
        self.origin = time.monotonic()

    def now(self) -> float:
        """Seconds of ``time.monotonic()``."""
        return time.monotonic()

    def timer(self, t: float) -> asyncio.Future[None]:
        """A future resolved when ``now() >= t`` (cancel it to withdraw)."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        handle = loop.call_later(max(0.0, t - self.now()), _resolve, fut)
        fut.add_done_callback(lambda _f: handle.cancel())
        return fut


class VirtualClock(_ClockBase):
    """Virtual time for fast tests: jumps to the next wake-up once the event loop is idle.

    Parameters
    ----------
    start : float
        The clock's reading (and origin) at creation, in seconds.

    Attributes
    ----------
    advances : int
        How many times time moved forward (a cheap progress counter for tests).
    """

    realtime = False

    def __init__(self, start: float = 0.0) -> None:
        self.origin = float(start)
        self._now = float(start)
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._holds = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.Handle | None = None
        self._idle_ticks = 0
        self.advances = 0

    def now(self) -> float:
        """The virtual time in seconds."""
        return self._now

    @property
    def held(self) -> bool:
        """True while some :class:`ClockHold` keeps time from advancing."""
        return self._holds > 0

    def hold(self) -> ClockHold:
        """Freeze virtual time until the token is released (``with clock.hold(): ...``)."""
        return ClockHold(self)

    def timer(self, t: float) -> asyncio.Future[None]:
        """A future resolved when virtual time reaches ``t`` (cancel it to withdraw)."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # first use, or a new asyncio.run: forget the old loop
            self._loop, self._handle = loop, None
            self._heap = [e for e in self._heap if e[2].get_loop() is loop]
            heapq.heapify(self._heap)
        fut: asyncio.Future[None] = loop.create_future()
        t = float(t)
        if not math.isfinite(t):
            raise ValueError(f"t (wake-up time in s) must be finite, got {t!r}")
        if t <= self._now:
            fut.set_result(None)
            return fut
        heapq.heappush(self._heap, (t, next(self._seq), fut))
        self._schedule()
        return fut

    def _schedule(self) -> None:
        loop = self._loop
        if self._handle is None and self._holds == 0 and loop is not None and not loop.is_closed():
            self._handle = loop.call_soon(self._tick)

    def _busy(self, loop: Any) -> bool:
        ready = getattr(loop, "_ready", None)
        scheduled = getattr(loop, "_scheduled", None)
        if ready is None or scheduled is None:
            self._idle_ticks += 1
            return self._idle_ticks < _FALLBACK_TICKS
        if ready:
            return True
        return bool(scheduled) and scheduled[0].when() <= loop.time()

    def _tick(self) -> None:
        self._handle = None
        heap, loop = self._heap, self._loop
        while heap and heap[0][2].done():
            heapq.heappop(heap)
        if not heap or self._holds or loop is None:
            return
        if self._busy(loop):
            self._handle = loop.call_soon(self._tick)
            return
        self._idle_ticks = 0
        t, _, fut = heapq.heappop(heap)
        if t > self._now:
            self._now = t
            self.advances += 1
        _resolve(fut)  # one waiter per idle moment: equal-time wake-ups never race
        self._schedule()


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


@dataclass(frozen=True)
class LinkConditions:
    """How the simulated radio link behaves; times in s, on the clock's timebase.

    Parameters
    ----------
    connection_interval_s : float
        BLE connection interval, 0.0075 to 4 s: notifications leave in bursts this far apart.
    jitter_s : float
        Extra host-side delay of each burst, uniform in ``[0, jitter_s]`` s (order is kept).
    clock_ppm : float
        Device clock error in parts per million, -1000..1000: +250 makes a nominal 200 Hz
        strap sample at 200.05 Hz of true time and its device timestamps run fast by 250 ppm.
    drop_prob : float
        Probability that a notification is lost, in ``[0, 1)``.
    disconnect_every_s : float or None
        Force a disconnect every this many seconds of clock time (``k * every`` from the
        clock's origin), when connected.
    disconnect_at_s : tuple of float
        Further forced-disconnect times (s from the clock's origin).
    max_per_event : int or None
        Most notifications per connection event (None: no limit); the rest wait.
    seed : int
        Seeds jitter and loss (with each strap's ``radio_id``).
    reconnect_hold_s : float
        After a drop caused by the simulator, a :class:`VirtualClock` stays frozen until a
        central reconnects or this many *real* seconds passed (0: do not hold).
    """

    connection_interval_s: float = 0.015
    jitter_s: float = 0.0
    clock_ppm: float = 0.0
    drop_prob: float = 0.0
    disconnect_every_s: float | None = None
    disconnect_at_s: tuple[float, ...] = ()
    max_per_event: int | None = None
    seed: int = 0
    reconnect_hold_s: float = 2.0

    def __post_init__(self) -> None:
        ci = check_positive(self.connection_interval_s, "connection_interval_s", "s")
        if not 0.0075 <= ci <= 4.0:
            raise ValueError(f"connection_interval_s must be within 0.0075..4 s (BLE), got {ci!r}")
        for name, lo, hi in (
            ("jitter_s", 0.0, 10.0),
            ("clock_ppm", -1000.0, 1000.0),
            ("reconnect_hold_s", 0.0, 60.0),
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
                raise ValueError(f"{name} must be a number in [{lo}, {hi}], got {v!r}")
        p = self.drop_prob
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
            raise ValueError(f"drop_prob must be a probability in [0, 1), got {p!r}")
        if self.disconnect_every_s is not None:
            every = check_positive(self.disconnect_every_s, "disconnect_every_s", "s")
            if every < 0.1:
                raise ValueError(f"disconnect_every_s must be >= 0.1 s, got {every!r}")
        at = tuple(float(t) for t in self.disconnect_at_s)
        if any(not math.isfinite(t) or t < 0 for t in at):
            raise ValueError(f"disconnect_at_s must hold times >= 0 s, got {self.disconnect_at_s!r}")
        object.__setattr__(self, "disconnect_at_s", tuple(sorted(at)))
        m = self.max_per_event
        if m is not None and (isinstance(m, bool) or not isinstance(m, int) or m < 1):
            raise ValueError(f"max_per_event must be None or an integer >= 1, got {m!r}")
        s = self.seed
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"seed must be a non-negative integer, got {s!r}")

    @property
    def skew(self) -> float:
        """Device clock rate relative to true time, ``1 + clock_ppm * 1e-6``."""
        return 1.0 + self.clock_ppm * 1e-6


class RadioModel:
    """Connection events, jitter, loss and forced disconnects of one strap's link.

    Parameters
    ----------
    conditions : LinkConditions
        The impairments.
    radio_id : int
        Distinguishes the random streams of straps sharing ``conditions.seed``.

    Notes
    -----
    Event ``k`` of a connection is at ``anchor + k * connection_interval_s``; its burst is
    delivered at ``max(event + jitter(k), previous delivery)``. ``jitter(k)`` is drawn from a
    generator seeded by ``(seed, radio_id, connection number)``, loss draws from one seeded by
    ``(seed, radio_id)`` in send order: the same scenario gives the same outcome.
    """

    def __init__(self, conditions: LinkConditions, radio_id: int = 0) -> None:
        if isinstance(radio_id, bool) or not isinstance(radio_id, int) or radio_id < 0:
            raise ValueError(f"radio_id must be a non-negative integer, got {radio_id!r}")
        self.conditions = conditions
        self.radio_id = radio_id
        self.connections = 0
        self._anchor = 0.0
        self._last_k = -1
        self._last_send = -math.inf
        self._jitter = np.zeros(0)
        self._jitter_rng = np.random.default_rng([conditions.seed, radio_id, 0, 0])
        self._drop_rng = np.random.default_rng([conditions.seed, radio_id, 1])
        self._drops = np.zeros(0)
        self._drop_pos = 0

    def connect(self, t: float) -> None:
        """A central connected at clock time ``t``: connection events restart from ``t``."""
        self.connections += 1
        self._anchor, self._last_k, self._last_send = float(t), -1, -math.inf
        self._jitter = np.zeros(0)
        self._jitter_rng = np.random.default_rng([self.conditions.seed, self.radio_id, 0, self.connections])

    def _jitter_at(self, k: int) -> float:
        j = self.conditions.jitter_s
        if j == 0:
            return 0.0
        while k >= self._jitter.size:
            self._jitter = np.concatenate([self._jitter, self._jitter_rng.uniform(0, j, _CHUNK)])
        return float(self._jitter[k])

    def plan(self, t_min: float) -> tuple[int, float, float]:
        """The next connection event at or after ``t_min``: ``(k, event time, delivery time)``."""
        ci = self.conditions.connection_interval_s
        k = max(self._last_k + 1, math.ceil((t_min - self._anchor) / ci - 1e-9))
        t_event = self._anchor + k * ci
        return k, t_event, max(t_event + self._jitter_at(k), self._last_send)

    def commit(self, k: int, t_send: float) -> None:
        """Event ``k`` happened (delivered at ``t_send``): later plans start after it."""
        self._last_k, self._last_send = k, t_send

    def drop(self) -> bool:
        """Draw whether the next notification is lost."""
        p = self.conditions.drop_prob
        if p == 0:
            return False
        if self._drop_pos >= self._drops.size:
            self._drops, self._drop_pos = self._drop_rng.random(_CHUNK), 0
        self._drop_pos += 1
        return bool(self._drops[self._drop_pos - 1] < p)

    def next_disconnect(self, after: float, origin: float = 0.0) -> float | None:
        """The first forced-disconnect time strictly after clock time ``after``, or None."""
        c = self.conditions
        rel = after - origin
        times = [t for t in c.disconnect_at_s if t > rel + 1e-12]
        if c.disconnect_every_s is not None:
            times.append((math.floor(rel / c.disconnect_every_s + 1e-9) + 1) * c.disconnect_every_s)
        return origin + min(times) if times else None
