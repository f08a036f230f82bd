"""One strap in a session: its connection, its reconnect loop and its consumer task.

A :class:`Strap` owns a queue of ``(host_time, char_uuid, bytes)`` items that its
:class:`~myoflow.devices.ble.StrapLink` fills from the notification callback, and two tasks:

* the **consumer** takes items in order (draining whatever is queued at once), feeds them to the
  strap's :class:`~myoflow.devices.decoding.StrapDecoder` and hands each Block and Gap to the
  sinks; it also measures its own CPU time and the notification-to-Block latency;
* the **supervisor** waits for the link to drop, then reconnects with exponential back-off
  (:class:`ReconnectPolicy`, in real time: ``asyncio`` sleeps, never the host clock), which
  re-subscribes and re-sends every start write; a restart marker queued when the link comes back
  makes the timebases turn the span missed into one Gap per stream.

When the clock has a ``hold()`` (the virtual straps' clock), connecting and stopping run inside
it, so fast-mode time stands still while the radio is being set up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from myoflow._checks import check_positive
from myoflow.devices.ble import TRANSIENT, StrapLink
from myoflow.devices.decoding import Placements, StrapDecoder
from myoflow.devices.errors import CommandRefused, ConnectionLost, IngestError, MtuTooSmall
from myoflow.devices.profiles import DeviceProfile
from myoflow.devices.sinks import Sink, StrapStatus
from myoflow.stream import Block

logger = logging.getLogger(__name__)

__all__ = ["ReconnectPolicy", "Strap"]

RESTART = ""  # the char_uuid of a restart marker in the queue
Clock = Callable[[], float]


@dataclass(frozen=True)
class ReconnectPolicy:
    """Exponential back-off after a strap dropped; times in real seconds.

    Attempt ``k`` (1, 2, ...) waits ``min(max_s, initial_s * factor ** (k - 1))`` first. After
    ``max_attempts`` failed attempts (None: never give up) the strap fails with
    :class:`~myoflow.devices.errors.ConnectionLost`.
    """

    initial_s: float = 0.2
    factor: float = 2.0
    max_s: float = 5.0
    max_attempts: int | None = 30

    def __post_init__(self) -> None:
        check_positive(self.initial_s, "initial_s", "s")
        check_positive(self.max_s, "max_s", "s")
        if check_positive(self.factor, "factor") < 1.0:
            raise ValueError(f"factor must be >= 1, got {self.factor!r}")
        m = self.max_attempts
        if m is not None and (isinstance(m, bool) or not isinstance(m, int) or m < 1):
            raise ValueError(f"max_attempts must be None or an integer >= 1, got {m!r}")

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt`` (1-based)."""
        return min(self.max_s, self.initial_s * self.factor ** max(0, attempt - 1))


class Strap:
    """One strap of a session (built by :class:`~myoflow.devices.ingest.Ingest`).

    Parameters
    ----------
    profile, device, name, placements, stream_options
        What the strap is, the ``BLEDevice`` (or address) to connect to, its name in the session
        (prefix of its stream names), optional placements and timebase options per stream.
    clock
        The session's host clock, s.
    sinks
        Where blocks, gaps and status changes go.
    backend, client_kwargs, connect_timeout
        Passed to :class:`~myoflow.devices.ble.StrapLink`.
    reconnect
        Back-off after a drop.
    queue_size
        Bound of the notification queue (items dropped beyond it are counted as overflow).
    timebase_options
        Passed to each timebase.
    """

    def __init__(
        self,
        profile: DeviceProfile,
        device: Any,
        name: str,
        *,
        clock: Clock,
        sinks: Sequence[Sink] = (),
        placements: Placements | None = None,
        stream_options: Mapping[str, Mapping[str, Any]] | None = None,
        backend: type | None = None,
        client_kwargs: dict[str, Any] | None = None,
        connect_timeout: float = 20.0,
        reconnect: ReconnectPolicy | None = None,
        queue_size: int = 10_000,
        timebase_options: dict[str, Any] | None = None,
        latency_history: int = 10_000,
    ) -> None:
        self.profile, self.device, self.name = profile, device, name
        self.decoder = StrapDecoder(profile, name, placements, stream_options, **(timebase_options or {}))
        self._clock = clock
        self._hold = getattr(clock, "hold", None)
        self._sinks = tuple(sinks)
        self._link_args = dict(backend=backend, timeout=connect_timeout, client_kwargs=client_kwargs)
        self.reconnect = reconnect or ReconnectPolicy()
        self._queue: asyncio.Queue[tuple[float, str, bytes] | None] = asyncio.Queue(queue_size)
        self._stop = asyncio.Event()
        self._consumer: asyncio.Task[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self.link: StrapLink | None = None
        self.state = "connecting"
        self.error: BaseException | None = None
        self.connections = self.reconnects = self.overflow = 0
        self.cpu_s = 0.0
        # the last notification-to-Block latencies (s): 10,000 is 3.3 min of a DIY strap's 50
        # notifications/s; 200,000 held 6 MB per strap and grew RSS by 0.1 MB/min for an hour
        self.latencies: deque[float] = deque(maxlen=latency_history)
        self.on_failed: Callable[[Strap], None] | None = None
        self._closing: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ status
    def status(self) -> StrapStatus:
        """A snapshot of this strap."""
        link = self.link
        return StrapStatus(
            name=self.name,
            device=str(getattr(self.device, "name", None) or getattr(self.device, "address", self.device)),
            address=str(getattr(self.device, "address", self.device)),
            profile=self.profile.name,
            state=self.state,
            connections=self.connections,
            reconnects=self.reconnects,
            battery=link.battery if link is not None else None,
            mtu=link.mtu if link is not None else None,
            error=None if self.error is None else str(self.error),
            streams=self.decoder.stats(),
            corrupt=self.decoder.corrupt,
            overflow=self.overflow,
            discards=self.decoder.discarded(),
            cpu_s=self.cpu_s,
        )

    def _set_state(self, state: str, error: BaseException | None = None) -> None:
        self.state = state
        if error is not None:
            self.error = error
        status = self.status()
        for sink in self._sinks:
            sink.on_status(status)

    def _holding(self) -> contextlib.AbstractContextManager[Any]:
        return self._hold() if self._hold is not None else contextlib.nullcontext()

    # ------------------------------------------------------------------ connection
    def _enqueue(self, item: tuple[float, str, bytes]) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflow += 1

    async def connect(self, restart: bool = False, by_address: bool = False) -> None:
        """Open a new link (connect, subscribe, start). ``restart``: after a drop.

        ``by_address``: connect by address rather than with the ``BLEDevice`` of the scan (the
        platform then looks the strap up again, e.g. after it changed adapters or was forgotten).
        """
        device = getattr(self.device, "address", self.device) if by_address else self.device
        link = StrapLink(device, self.profile, self._enqueue, self._clock, **self._link_args)
        self.link = link

        def mark() -> None:
            if restart:
                self._enqueue((self._clock(), RESTART, b""))

        with self._holding():
            await link.open(on_connected=mark)
        self.connections += 1
        self.reconnects += int(restart)

    def start(self) -> None:
        """Start the consumer and the supervisor (after the first :meth:`connect`)."""
        loop = asyncio.get_running_loop()
        self._consumer = loop.create_task(self._consume(), name=f"myoflow-consume-{self.name}")
        self._supervisor = loop.create_task(self._supervise(), name=f"myoflow-supervise-{self.name}")
        self._set_state("streaming")

    async def stop(self) -> None:
        """Stop reconnecting, send the stop writes, unsubscribe, disconnect, drain the queue."""
        self._stop.set()
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
        failed = self.state == "failed"
        if not failed:
            self._set_state("stopping")
        try:
            if self._closing is not None:
                await asyncio.gather(self._closing, return_exceptions=True)
            if self.link is not None:
                with self._holding():
                    await self.link.close(send_stop=True)
        finally:
            if self._consumer is not None and not self._consumer.done():
                await self._queue.put(None)
                await self._consumer
            if not failed:
                self._set_state("stopped")

    async def abort(self) -> None:
        """Cancel both tasks and drop the link without stop writes (used when cancelled)."""
        self._stop.set()
        tasks = [t for t in (self._supervisor, self._consumer, self._closing) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.link is not None:
            await self.link.close(send_stop=False)

    # ------------------------------------------------------------------ tasks
    async def _supervise(self) -> None:
        while True:
            link = self.link
            assert link is not None
            await link.disconnected.wait()
            if self._stop.is_set():
                return
            logger.info("%s: link dropped, reconnecting", self.name)
            self._set_state("reconnecting")
            try:
                await self._reconnect()
            except IngestError as exc:
                self._set_state("failed", exc)
                if self.on_failed is not None:
                    self.on_failed(self)
                return
            self._set_state("streaming")

    async def _reconnect(self) -> None:
        last: BaseException | None = None
        attempt = 0
        while self.reconnect.max_attempts is None or attempt < self.reconnect.max_attempts:
            attempt += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.reconnect.delay(attempt))
            try:
                await self.connect(restart=True, by_address=attempt > 1)
                return
            except (MtuTooSmall, CommandRefused):
                raise
            except IngestError as exc:
                if exc.reason == "profile_mismatch":
                    raise
                logger.info("%s: reconnect attempt %d failed: %s", self.name, attempt, exc)
                last = exc
            except TRANSIENT as exc:
                logger.info("%s: reconnect attempt %d failed: %s", self.name, attempt, exc)
                last = exc
        raise ConnectionLost(self.name, attempt, last)

    def _mismatched(self) -> None:
        """The profile does not fit the strap: fail this strap (others go on) and let it go."""
        self._stop.set()
        self._set_state("failed", self.decoder.mismatch)
        if self.on_failed is not None:
            self.on_failed(self)
        if self.link is not None:
            self._closing = asyncio.get_running_loop().create_task(self.link.close(send_stop=True))

    async def _consume(self) -> None:
        queue, feed, clock = self._queue, self.decoder.feed, self._clock
        on_block = [s.on_block for s in self._sinks]
        on_gap = [s.on_gap for s in self._sinks]
        on_packet = [s.on_packet for s in self._sinks if callable(getattr(s, "on_packet", None))]
        on_raw = [s.on_raw for s in self._sinks if callable(getattr(s, "on_raw", None))]  # captures
        latencies = self.latencies
        while True:
            item = await queue.get()
            started = time.thread_time()
            try:
                while item is not None:
                    host_time, uuid, data = item
                    for deliver in on_raw:
                        deliver(self.name, host_time, uuid, data)
                    if uuid == RESTART:
                        self.decoder.restart(host_time)
                    else:
                        out = feed(host_time, uuid, data)
                        if not out and self.decoder.mismatch is not None and self.state != "failed":
                            self._mismatched()
                        if out:
                            for deliver in on_packet:
                                deliver(self.name, self.decoder.last_packet, host_time, out)
                        for x in out:
                            for deliver in on_block if type(x) is Block else on_gap:
                                deliver(x)
                        if out:
                            latencies.append(clock() - host_time)
                    try:
                        item = queue.get_nowait()
                    except asyncio.QueueEmpty:
                        break
            finally:
                self.cpu_s += time.thread_time() - started
            if item is None:
                return
