"""The machinery every virtual strap shares: sample clocks, a send queue paced by the radio
model, and a ledger of everything sent or lost; plus :func:`virtual_straps`.

A strap (:class:`VirtualStrap`, a :class:`~myoflow.devices.virtual.peripheral.VirtualPeripheral`)
owns one or more :class:`StreamSource` (EMG, IMU, ACC, ...). While a stream runs, its device
samples on a grid of nominal period ``1 / fs`` in *device* time; the device clock runs at
``skew = 1 + clock_ppm * 1e-6`` times true time, so sample ``i`` after a start at device time
``d0`` is taken at true time ``origin + (d0 + i * 1e9 / fs) / (1e9 * skew)``. Packets are
filled in order; a packet is *ready* when its last sample is taken. The radio task wakes at the
connection events planned by :class:`~myoflow.devices.virtual.radio.RadioModel`, encodes every
ready packet with the strap's codec (generation is lazy and vectorised per wake-up, but the
bytes depend only on the samples) and sends the burst.

The :class:`Ledger` keeps one :class:`PacketRecord` per packet the device produced, with its
fate: ``"sent"`` (handed to the link), ``"dropped"`` (lost by the radio model),
``"unsubscribed"`` (the central had not enabled that characteristic: firmware sends nothing),
``"flushed"`` (still queued when the link dropped) or ``"interrupted"`` (the link dropped while
it was being sent: it may or may not have arrived). Samples taken while a stream is stopped or
disconnected are never produced and never in the ledger; a partial packet at a stop is
discarded, as firmware does. Sample indices run on per stream across restarts.
"""

from __future__ import annotations

import asyncio
import zlib
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from myoflow._checks import check_option, check_rate
from myoflow.devices.virtual.peripheral import CONNECTION_TIMEOUT, ServiceSpec, VirtualPeripheral
from myoflow.devices.virtual.radio import (
    ClockHold, LinkConditions, RadioModel, RealTimeClock, VirtualClock,
)

__all__ = [
    "FATES", "KINDS", "Ledger", "LedgerSamples", "PacketRecord", "SessionSignal", "StreamSource",
    "VirtualStrap", "virtual_straps",
]

FATES = ("sent", "dropped", "unsubscribed", "flushed", "interrupted")
#: Strap kinds :func:`virtual_straps` builds.
KINDS = ("myo", "ganglion", "polar_h10", "polar_verity", "diy")
Clock = VirtualClock | RealTimeClock


@dataclass(eq=False)
class PacketRecord:
    """One packet a strap produced. Times in s on the clock; device times in ns.

    ``values`` ``(n, channels)`` int64 are the counts exactly as a perfect decoder reads them
    from ``payload``; ``true_time`` the true instants the ``n`` samples were taken and
    ``device_time_ns`` the device clock then (ns since the device epoch); ``index`` the stream's
    sample index of the first sample; ``ready_at`` when the packet was complete; ``sent_at``
    when it left (for ``"dropped"``: when it would have).
    """

    stream: str
    seq: int
    char: str
    payload: bytes
    index: int
    values: np.ndarray
    true_time: np.ndarray
    device_time_ns: np.ndarray
    ready_at: float
    meta: Mapping[str, Any] = field(default_factory=dict)
    fate: str = "queued"
    sent_at: float | None = None

    @property
    def n(self) -> int:
        """Samples in the packet."""
        return int(self.values.shape[0])


class LedgerSamples(NamedTuple):
    """Samples of one stream, concatenated in send order; arrays of length ``n``."""

    index: np.ndarray  # int64 sample index in the stream
    values: np.ndarray  # (n, channels) int64 counts
    true_time: np.ndarray  # float64 s, when each sample was taken
    device_time_ns: np.ndarray  # int64 device clock
    sent_at: np.ndarray  # float64 s, when its packet left
    packet: np.ndarray  # int64 packet seq


class Ledger:
    """Everything a strap produced: packets with their fate, and link events.

    Attributes
    ----------
    records : list of PacketRecord
        In the order their fate was decided (for sent packets: the send order).
    events : list of (time s, kind, detail)
        ``"connect"``, ``"disconnect"`` (detail: HCI reason), ``"drop"`` (detail: why the
        simulator dropped the link), ``"start"``/``"stop"`` (stream name), ``"command"``
        (bytes written), ``"refused"`` (why a command was refused).
    """

    def __init__(self) -> None:
        self.records: list[PacketRecord] = []
        self.events: list[tuple[float, str, Any]] = []

    def event(self, t: float, kind: str, detail: Any = None) -> None:
        """Note a link or command event at clock time ``t``."""
        self.events.append((float(t), kind, detail))

    def packets(self, stream: str | None = None, fate: str | Iterable[str] | None = None
                ) -> list[PacketRecord]:
        """Records of ``stream`` (all if None) whose fate is ``fate`` (any if None)."""
        fates = {fate} if isinstance(fate, str) else None if fate is None else set(fate)
        return [r for r in self.records if (stream is None or r.stream == stream)
                and (fates is None or r.fate in fates)]

    def samples(self, stream: str, fate: str | Iterable[str] = "sent") -> LedgerSamples:
        """The samples of ``stream`` in packets of ``fate``, concatenated."""
        recs = self.packets(stream, fate)
        if not recs:
            empty_i = np.zeros(0, np.int64)
            return LedgerSamples(empty_i, np.zeros((0, 0), np.int64), np.zeros(0), empty_i,
                                 np.zeros(0), empty_i)
        counts = [r.n for r in recs]
        return LedgerSamples(
            np.concatenate([r.index + np.arange(r.n) for r in recs]),
            np.concatenate([r.values for r in recs]),
            np.concatenate([r.true_time for r in recs]),
            np.concatenate([r.device_time_ns for r in recs]),
            np.repeat([r.sent_at if r.sent_at is not None else np.nan for r in recs], counts),
            np.repeat([r.seq for r in recs], counts),
        )

    def count(self, stream: str, fate: str) -> int:
        """Samples of ``stream`` in packets of ``fate``."""
        return sum(r.n for r in self.packets(stream, fate))

    def event_times(self, kind: str) -> list[float]:
        """Clock times of every event of ``kind``."""
        return [t for t, k, _ in self.events if k == kind]


class SessionSignal:
    """A sampled signal read at any time by linear interpolation, repeating cyclically.

    Parameters
    ----------
    data : array, shape (n, channels)
        Samples at ``fs`` Hz, the first at t = 0.
    fs : float
        Sample rate in Hz.
    """

    def __init__(self, data: np.ndarray, fs: float) -> None:
        arr = np.asarray(data, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[0] < 2:
            raise ValueError(f"data must have shape (n >= 2, channels), got {arr.shape}")
        self.data, self.fs = arr, check_rate(fs)
        self.duration = arr.shape[0] / self.fs

    def __call__(self, t: np.ndarray) -> np.ndarray:
        """Values at times ``t`` (s, any shape ``(m,)``), shape ``(m, channels)`` float64."""
        x = np.mod(np.asarray(t, dtype=np.float64), self.duration) * self.fs
        i0 = np.floor(x).astype(np.int64)
        frac = (x - i0)[:, None]
        n = self.data.shape[0]
        return self.data[i0 % n] * (1.0 - frac) + self.data[(i0 + 1) % n] * frac


class StreamSource:
    """The sample clock and packetisation of one stream of a strap.

    Parameters
    ----------
    name : str
        Stream name in the ledger (``"emg"``, ``"imu"``, ``"acc"``, ...).
    fs : float
        Nominal sample rate in Hz (device time).
    per_packet : int
        Samples per packet (may be changed at each start).
    skew : float
        Device clock rate relative to true time.
    origin : float
        Clock time where the device clock reads 0 ns.
    """

    def __init__(self, name: str, fs: float, per_packet: int, skew: float, origin: float) -> None:
        self.name, self.fs = name, check_rate(fs)
        self.per_packet, self.skew, self.origin = int(per_packet), float(skew), float(origin)
        self.period_ns = 1e9 / self.fs
        self.active = False
        self.next_index = 0  # stream sample index of the next sample to take
        self.next_seq = 0  # packet seq of the next packet
        self._d0 = 0  # device ns of sample 0 of the current run
        self._i = 0  # samples taken (and packetised) in the current run

    def device_ns(self, t: float) -> int:
        """Device clock at clock time ``t``, ns since the device epoch."""
        return int(round((t - self.origin) * self.skew * 1e9))

    def true_time(self, i: np.ndarray | int) -> np.ndarray:
        """Clock time of sample ``i`` of the current run."""
        return self.origin + (self._d0 + np.asarray(i) * self.period_ns) / (1e9 * self.skew)

    def start(self, t: float, per_packet: int | None = None, align_ns: int = 1) -> None:
        """Start sampling at clock time ``t`` (first sample at the next ``align_ns`` tick)."""
        if per_packet is not None:
            self.per_packet = int(per_packet)
        d = self.device_ns(t)
        self._d0 = -(-d // align_ns) * align_ns
        self._i, self.active = 0, True

    def stop(self) -> None:
        """Stop sampling; a partly filled packet is discarded."""
        self.active = False

    def next_ready(self) -> float:
        """Clock time the next packet is complete (inf when stopped)."""
        if not self.active:
            return float("inf")
        return float(self.true_time(self._i + self.per_packet - 1))

    def take(self, until: float) -> tuple[int, np.ndarray, np.ndarray, np.ndarray] | None:
        """Every whole packet complete by clock time ``until``.

        Returns ``(first stream index, sample indices in run, true times, device ns)`` for
        ``k * per_packet`` samples, or None when no packet is complete.
        """
        if not self.active:
            return None
        taken = np.floor(((until - self.origin) * 1e9 * self.skew - self._d0) / self.period_ns
                         + 1e-6) + 1
        k = (int(taken) - self._i) // self.per_packet
        if k <= 0:
            return None
        i = self._i + np.arange(k * self.per_packet)
        first = self.next_index
        self._i += i.size
        self.next_index += i.size
        dev = self._d0 + np.rint(i * self.period_ns).astype(np.int64)
        return first, i, self.true_time(i), dev


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

    def __init__(self, name: str, services: Iterable[ServiceSpec], *,
                 clock: Clock | None = None, conditions: LinkConditions | None = None,
                 radio_id: int | None = None, address: str | None = None,
                 max_mtu: int = 247) -> None:
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

    def encode(self, stream: StreamSource, first: int, true_time: np.ndarray,
               device_ns: np.ndarray) -> list[tuple[str, bytes, np.ndarray, dict[str, Any]]]:
        """Encode ``k * per_packet`` new samples as ``k`` packets.

        Returns one ``(characteristic, payload, values as decoded, meta)`` per packet.
        """
        raise NotImplementedError

    def reset_state(self) -> None:
        """Device state on a new connection (override; streams are already stopped)."""

    def start_stream(self, name: str, per_packet: int | None = None, align_ns: int = 1) -> None:
        """Start ``name`` now (packets complete so far are queued first)."""
        now = self.clock.now()
        self._catch_up(now)
        self.streams[name].start(now, per_packet, align_ns)
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
            self.ledger.records.append(rec)

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
                new.append(PacketRecord(src.name, src.next_seq, char, payload, first + j * per,
                                        values, tt[sl], dev[sl], float(tt[sl][-1]), meta))
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
        self.ledger.records.append(rec)
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


def virtual_straps(
    session: Any,
    kinds: Sequence[str] = ("ganglion", "polar_h10", "myo"),
    conditions: LinkConditions | Mapping[str, LinkConditions] | None = None,
    clock: Clock | None = None,
) -> list[VirtualStrap]:
    """Build one virtual strap per entry of ``kinds``, driven by one synthetic session.

    Parameters
    ----------
    session : SyntheticSession
        Signal content (EMG in uV, IMU in g and deg/s).
    kinds : sequence of str
        Any of :data:`KINDS`; repeats get distinct names.
    conditions : LinkConditions or mapping kind -> LinkConditions, optional
        Radio impairments (one for all, or per kind; missing kinds get a clean link).
        Each strap draws its own random streams (``radio_id`` = its position in ``kinds``).
    clock : VirtualClock or RealTimeClock, optional
        Shared by every strap (default: one new :class:`VirtualClock`, fast mode).

    Returns
    -------
    list of VirtualStrap
        Ready for ``await link.add_peripheral(strap)``; the link gives each an address.
    """
    from myoflow.devices.virtual.diy import VirtualDiyStrap
    from myoflow.devices.virtual.ganglion import VirtualGanglion
    from myoflow.devices.virtual.myo import VirtualMyo
    from myoflow.devices.virtual.polar import VirtualPolar

    clock = clock if clock is not None else VirtualClock()
    out: list[VirtualStrap] = []
    for i, kind in enumerate(kinds):
        check_option(kind, "kinds", KINDS)
        cond = conditions.get(kind) if isinstance(conditions, Mapping) else conditions
        common: dict[str, Any] = dict(clock=clock, conditions=cond, radio_id=i)
        serial = 0x1A2B3C00 + i
        if kind == "myo":
            out.append(VirtualMyo(session, name=f"Myo {i}", **common))
        elif kind == "ganglion":
            out.append(VirtualGanglion(session, name=f"Ganglion-{serial & 0xFFFF:04X}", **common))
        elif kind == "diy":
            out.append(VirtualDiyStrap(session, name=f"DIYemg-{i}", **common))
        else:
            model = "H10" if kind == "polar_h10" else "Sense"
            out.append(VirtualPolar(session, model=model, name=f"Polar {model} {serial:08X}",
                                    **common))
    return out
