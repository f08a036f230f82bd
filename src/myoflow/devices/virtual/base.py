"""The base of every strap simulator: :class:`VirtualStrap`.

A strap (:class:`VirtualStrap`, a :class:`~myoflow.devices.virtual.peripheral.VirtualPeripheral`)
owns one or more :class:`~myoflow.devices.virtual.samples.StreamSource` (EMG, IMU, ACC, ...).
Its radio task wakes at the connection events planned by
:class:`~myoflow.devices.virtual.radio.RadioModel`, encodes every packet that became ready with
the strap's codec (lazily, vectorised per wake-up; the bytes depend only on the samples) and
sends the burst. Every packet produced goes to the strap's
:class:`~myoflow.devices.virtual.samples.Ledger` with its fate. Samples taken while a stream is
stopped or disconnected are never produced; a partial packet at a stop is discarded, as
firmware does. Sample indices run on across restarts.
"""

from __future__ import annotations

import asyncio
import zlib
from collections import deque
from collections.abc import Iterable
from typing import Any

import numpy as np

from myoflow.devices.virtual.peripheral import CONNECTION_TIMEOUT, ServiceSpec, VirtualPeripheral
from myoflow.devices.virtual.radio import (
    ClockHold,
    LinkConditions,
    RadioModel,
    RealTimeClock,
    VirtualClock,
)
from myoflow.devices.virtual.samples import (
    FATES,
    Ledger,
    LedgerSamples,
    PacketRecord,
    SessionSignal,
    StreamSource,
)

__all__ = [
    "FATES",
    "Ledger",
    "LedgerSamples",
    "PacketRecord",
    "SessionSignal",
    "StreamSource",
    "Clock",
    "VirtualStrap",
]

Clock = VirtualClock | RealTimeClock


class VirtualStrap(VirtualPeripheral):
    """Base of the strap simulators: streams, radio pacing, impairments and the ledger.

    Subclasses declare their GATT table and streams, implement :meth:`encode` and drive
    :meth:`start_stream` / :meth:`stop_stream` from their command handlers.

    Parameters
    ----------
    name, services, address, max_mtu
        As for :class:`VirtualPeripheral`.
    clock : VirtualClock or RealTimeClock, optional
        Shared time of the simulated world (default: a new :class:`VirtualClock`).
    conditions : LinkConditions, optional
        Radio impairments (default: a clean link, 15 ms connection interval).
    radio_id : int, optional
        Distinguishes this strap's random streams (default: CRC-32 of ``name``).
    """

    def __init__(
        self,
        name: str,
        services: Iterable[ServiceSpec],
        *,
        clock: Clock | None = None,
        conditions: LinkConditions | None = None,
        radio_id: int | None = None,
        address: str | None = None,
        max_mtu: int = 247,
    ) -> None:
        super().__init__(name, services, address=address, max_mtu=max_mtu)
        self.clock: Clock = clock if clock is not None else VirtualClock()
        self.conditions = conditions if conditions is not None else LinkConditions()
        rid = zlib.crc32(name.encode()) & 0x7FFFFFFF if radio_id is None else radio_id
        self.radio = RadioModel(self.conditions, rid)
        self.ledger = Ledger()
        self.streams: dict[str, StreamSource] = {}
        self._queue: deque[PacketRecord] = deque()
        self._wake: asyncio.Future[None] | None = None
        self._hold: ClockHold | None = None
        self._hold_timer: asyncio.TimerHandle | None = None
        #: Device clock reading (ns) at the clock's origin; ledger and encoders see it added.
        self.device_epoch_ns = 0

    # ------------------------------------------------------------------ for subclasses
    def add_stream(self, name: str, fs: float, per_packet: int) -> StreamSource:
        """Declare a stream sampled at ``fs`` Hz of device time."""
        src = StreamSource(name, fs, per_packet, self.conditions.skew, self.clock.origin)
        self.streams[name] = src
        return src

    def encode(
        self, stream: StreamSource, first: int, true_time: np.ndarray, device_ns: np.ndarray
    ) -> list[tuple[str, bytes, np.ndarray, dict[str, Any]]]:
        """Encode ``k * per_packet`` new samples as ``k`` packets.

        Returns one ``(characteristic, payload, values as decoded, meta)`` per packet.
        """
        raise NotImplementedError

    def reset_state(self) -> None:
        """Device state on a new connection (override; streams are already stopped)."""

    def start_stream(
        self, name: str, per_packet: int | None = None, align_ns: int = 1, fs: float | None = None
    ) -> None:
        """Start ``name`` now (packets complete so far are queued first); see
        :meth:`StreamSource.start`."""
        now = self.clock.now()
        self._catch_up(now)
        self.streams[name].start(now, per_packet, align_ns, fs)
        self.ledger.event(now, "start", name)
        self._kick()

    def stop_stream(self, name: str) -> None:
        """Stop ``name`` now (packets complete so far are still sent)."""
        now = self.clock.now()
        self._catch_up(now)
        if self.streams[name].active:
            self.streams[name].stop()
            self.ledger.event(now, "stop", name)
        self._kick()

    def session_time(self, t: np.ndarray) -> np.ndarray:
        """Clock times to times in the driving session (s since the clock's origin)."""
        return np.asarray(t, dtype=np.float64) - self.clock.origin

    async def drop_link(self, why: str, reason: int = CONNECTION_TIMEOUT) -> None:
        """Drop the link from the device side (and hold a virtual clock until a reconnect)."""
        if not self.is_connected:
            return
        now = self.clock.now()
        self._catch_up(now)
        self.ledger.event(now, "drop", why)
        hold_s = self.conditions.reconnect_hold_s
        if hold_s > 0 and not self.clock.realtime and self._hold is None:
            self._hold = self.clock.hold()
            self._hold_timer = asyncio.get_running_loop().call_later(hold_s, self._release_hold)
        await self.force_disconnect(reason)

    # ------------------------------------------------------------------ link hooks
    def on_connect(self) -> None:
        now = self.clock.now()
        self._release_hold()
        self.ledger.event(now, "connect")
        self.radio.connect(now)
        for src in self.streams.values():
            src.stop()
        self.reset_state()
        self.spawn(self._radio_loop())
        if self.radio.next_disconnect(now, self.clock.origin) is not None:
            self.spawn(self._scheduled_drops())

    def on_disconnect(self, reason: int) -> None:
        self.ledger.event(self.clock.now(), "disconnect", int(reason))
        for src in self.streams.values():
            src.stop()
        while self._queue:
            rec = self._queue.popleft()
            rec.fate = "flushed"
            self.ledger.add(rec)

    # ------------------------------------------------------------------ machinery
    def _release_hold(self) -> None:
        if self._hold_timer is not None:
            self._hold_timer.cancel()
        if self._hold is not None:
            self._hold.release()
        self._hold, self._hold_timer = None, None

    def _kick(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    def _catch_up(self, until: float) -> None:
        """Encode every packet complete by ``until`` and queue them in order of readiness."""
        new: list[PacketRecord] = []
        for src in self.streams.values():
            got = src.take(until)
            if got is None:
                continue
            first, _i, tt, dev = got
            dev = dev + self.device_epoch_ns
            per = src.per_packet
            for j, (char, payload, values, meta) in enumerate(self.encode(src, first, tt, dev)):
                sl = slice(j * per, (j + 1) * per)
                new.append(
                    PacketRecord(
                        src.name,
                        src.next_seq,
                        char,
                        payload,
                        first + j * per,
                        values,
                        tt[sl],
                        dev[sl],
                        float(tt[sl][-1]),
                        meta,
                    )
                )
                src.next_seq += 1
        new.sort(key=lambda r: r.ready_at)
        self._queue.extend(new)

    def _next_need(self) -> float | None:
        if self._queue:
            return self._queue[0].ready_at
        t = min((s.next_ready() for s in self.streams.values()), default=float("inf"))
        return None if t == float("inf") else t

    async def _radio_loop(self) -> None:
        loop = asyncio.get_running_loop()
        cap = self.conditions.max_per_event
        while True:
            self._wake = wake = loop.create_future()
            need = self._next_need()
            if need is None:
                await wake
                continue
            k, t_event, t_send = self.radio.plan(max(need, self.clock.now()))
            timer = self.clock.timer(t_send)
            try:
                done, _ = await asyncio.wait((timer, wake), return_when=asyncio.FIRST_COMPLETED)
            finally:
                timer.cancel()
            if timer not in done:
                continue
            self.radio.commit(k, t_send)
            self._catch_up(t_event)
            sent = 0
            while self._queue and self._queue[0].ready_at <= t_event and (cap is None or sent < cap):
                await self._send(self._queue.popleft(), t_send)
                sent += 1

    async def _send(self, rec: PacketRecord, t_send: float) -> None:
        rec.sent_at = t_send
        self.ledger.add(rec)
        if not self.is_subscribed(rec.char):
            rec.fate = "unsubscribed"
            return
        if self.radio.drop():
            rec.fate = "dropped"
            return
        rec.fate = "interrupted"
        rec.sent_at = self.clock.now()
        if await self.notify(rec.char, rec.payload):
            rec.fate = "sent"

    async def _scheduled_drops(self) -> None:
        t = self.radio.next_disconnect(self.clock.now(), self.clock.origin)
        if t is not None:
            await self.clock.sleep_until(t)
            await self.drop_link("forced disconnect")
