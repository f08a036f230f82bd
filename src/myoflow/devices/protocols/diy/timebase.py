"""myoflow DIY strap timebase: loss from the u16 block counter and the device microsecond clock."""

from __future__ import annotations

from myoflow.devices.codec import Packet
from myoflow.devices.protocols.diy.codec import DiyTracker
from myoflow.devices.timebase import Skip, Step, Timebase
from myoflow.stream import StreamInfo

__all__ = ["DiyTimebase"]

#: Plausible uV per count of a DIY strap: a 24-bit ADC at high gain to a 10-bit one at gain 1.
_MIN_UV, _MAX_UV = 1e-6, 1e4


class DiyTimebase(Timebase):
    """myoflow DIY strap: loss from the u16 block counter and the device microsecond clock.

    Lost samples come from the device time when it agrees with the counter. Both are held to
    the host clock: a duplicate (same block, same time) or a stale packet is rejected; when the
    two disagree (one was corrupted), the smaller loss the host clock allows is taken and the
    state carried on from the previous packet, so one bad field moves no later time. After a
    reconnect the firmware restarts its counter (restart flag) but its clock runs on, so the gap
    is exact when the device time elapsed agrees with the host clock within
    ``max(0.1 s, 1 %)``; otherwise (the strap rebooted) its size is estimated.
    """

    def __init__(self, stream: StreamInfo, **kwargs) -> None:
        super().__init__(stream, **kwargs)
        self.tracker = DiyTracker()
        self._uv: float | None = None  # the strap's uV per count (fixed by its firmware)
        #: (block counter, raw t_first_us, samples, fs) of the last packet accepted, as sent
        self._prev: tuple[int, int, int, int] | None = None

    def packet_scale(self, packet: Packet) -> float:
        return float(packet.meta["uv_per_count"])

    def _account(self, packet: Packet, h: float) -> Step | Skip | None:
        step = self._step(packet, h)
        if isinstance(step, Step):
            meta = packet.meta
            self._prev = (
                int(packet.counter or 0),
                int(meta["t_first_us"]),
                packet.n_samples,
                int(meta["fs_hz"]),
            )
        return step

    def _step(self, packet: Packet, h: float) -> Step | Skip | None:
        n = packet.n_samples
        fs = int(packet.meta["fs_hz"])
        tr = self.tracker
        uv = float(packet.meta["uv_per_count"])
        if not _MIN_UV <= uv <= _MAX_UV:
            return self._reject("implausible uV-per-count factor", h)
        if self._uv is not None and uv != self._uv and not (packet.meta["restart"] or self._stuck(h)):
            return self._reject("uV-per-count factor changed without a restart", h)
        self._uv = uv
        prev_next = tr.next_t_us
        if tr.expected_block is None or tr.next_t_us is None:
            tr.update(packet)
            return Step(0, True, 0.0, "packet loss (DIY block counter)")
        if packet.meta["restart"] or self._stuck(h):
            if packet.meta["restart"]:
                tr.update(packet)
            else:
                self._restart_tracker(packet)
            est = self._estimate_missing(h, n)
            assert prev_next is not None  # a restart or a stuck clock comes after a first packet
            dev = round(((int(packet.meta["t_first_us"]) - prev_next) % (1 << 32)) * fs / 1e6)
            if packet.meta["restart"] and abs(dev - est) <= max(0.1 * fs, 0.01 * est) + n:
                return Step(dev, True, dev / n, "restart (DIY device time)")
            why = "restart (DIY device clock restarted)"
            if not packet.meta["restart"]:
                why = "resync (DIY counter and clock jumped)"
            return Step(est, False, est / n, why, True)
        return self._cross_checked(packet, h, n, fs)

    def _restart_tracker(self, packet: Packet) -> None:
        self.tracker = DiyTracker()
        self.tracker.update(packet)

    def _cross_checked(self, packet: Packet, h: float, n: int, fs: int) -> Step | Skip:
        """Loss from the block counter and the device time, each held to the host clock."""
        tr = self.tracker
        assert tr.expected_block is not None and tr.next_t_us is not None
        m = (int(packet.counter or 0) - tr.expected_block) % 0x10000
        raw_t = int(packet.meta["t_first_us"])
        wraps = tr._wraps + (raw_t < tr._last_raw_t - (1 << 31))
        gap_us = raw_t + (wraps << 32) - tr.next_t_us
        packet_us = n * 1e6 / fs
        if m >= 0x8000 and gap_us <= -packet_us / 2:  # counter and time both behind
            dup = m == 0xFFFF and abs(gap_us + packet_us) < 1e6 / fs
            return self._reject("duplicate" if dup else "stale (reordered)", h)
        by_time = max(0, round(gap_us * fs / 1e6))
        by_counter = m * n if m < 0x8000 else None
        cap = self._max_missing(h, n)
        if by_counter is not None and abs(by_time - by_counter) <= n // 2 and by_time <= cap:
            loss = tr.update(packet)  # the two agree, and the host clock allows it
            lost = int(loss.samples or 0)
            return Step(lost, True, float(loss.packets or 0), "packet loss (DIY block counter)")
        rel = self._after_previous(packet, n, fs)
        if rel is not None and rel[1] <= cap:
            # counter and time both agree with the packet before, not with the state carried
            # on: that state was set by a corrupted field (a first packet with a wrong time,
            # say) - re-anchor on this packet, or every later loss would be booked short
            lost_packets, lost_samples = tr.lost_packets + rel[0], tr.lost_samples + rel[1]
            tr.update(packet)
            tr.lost_packets, tr.lost_samples = lost_packets, lost_samples
            self._anomaly("DIY counter and device time re-anchored")
            return Step(rel[1], True, float(rel[0]), "packet loss (DIY block counter)")
        fits = [c for c in (by_time, by_counter) if c is not None and c <= cap]
        if not fits:
            return self._reject("implausible counter and device time", h)
        missing = min(fits)  # one of the two was corrupted: the smaller loss the host clock allows
        before = (tr.lost_packets, tr.lost_samples, tr.next_t_us, tr.expected_block)
        tr.update(packet)
        t_first = before[2] + round(missing * 1e6 / fs)  # carry the state on, not the bad field
        tr.t_first_us, tr.next_t_us = t_first, t_first + round(packet_us)
        tr._last_raw_t, tr._wraps = t_first & 0xFFFFFFFF, t_first >> 32
        tr.expected_block = (before[3] + round(missing / n) + 1) % 0x10000
        tr.lost_packets, tr.lost_samples = before[0] + round(missing / n), before[1] + missing
        self._anomaly("DIY counter and device time disagree")
        return Step(missing, True, missing / n, "packet loss (DIY counter and device time disagree)")

    def _after_previous(self, packet: Packet, n: int, fs: int) -> tuple[int, int] | None:
        """(packets, samples) lost since the last accepted packet when its counter and device
        time, as sent, both agree with this packet's; None when they do not (or no packet yet)."""
        if self._prev is None:
            return None
        counter, t_us, n_prev, fs_prev = self._prev
        if fs_prev != fs:
            return None
        m = (int(packet.counter or 0) - counter - 1) % 0x10000
        dt = (int(packet.meta["t_first_us"]) - t_us - round(n_prev * 1e6 / fs)) % (1 << 32)
        if m >= 0x8000 or dt >= 1 << 31:  # behind the packet before
            return None
        by_time = round(dt * fs / 1e6)
        return (m, by_time) if abs(by_time - m * n) <= n // 2 else None
