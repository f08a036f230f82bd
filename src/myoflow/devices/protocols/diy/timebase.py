"""myoflow DIY strap timebase: loss from the u16 block counter and the device microsecond clock."""

from __future__ import annotations

from myoflow.devices.codec import Packet
from myoflow.devices.protocols.diy.codec import DiyTracker
from myoflow.devices.timebase import Step, Timebase
from myoflow.stream import StreamInfo

__all__ = ["DiyTimebase"]


class DiyTimebase(Timebase):
    """myoflow DIY strap: loss from the u16 block counter and the device microsecond clock.

    Lost samples come from the device time (exact even past 65535 lost blocks). After a
    reconnect the firmware restarts its counter (restart flag) but its clock runs on, so the gap
    is exact when the device time elapsed agrees with the host clock within
    ``max(0.1 s, 1 %)``; otherwise (the strap rebooted) its size is estimated.
    """

    def __init__(self, stream: StreamInfo, **kwargs) -> None:
        super().__init__(stream, **kwargs)
        self.tracker = DiyTracker()

    def packet_scale(self, packet: Packet) -> float:
        return float(packet.meta["uv_per_count"])

    def _account(self, packet: Packet, h: float) -> Step | None:
        n = packet.n_samples
        fs = int(packet.meta["fs_hz"])
        prev_next = self.tracker.next_t_us
        if self.tracker.expected_block is None or not packet.meta["restart"]:
            loss = self.tracker.update(packet)
            return Step(
                int(loss.samples or 0), True, float(loss.packets or 0), "packet loss (DIY block counter)"
            )
        self.tracker.update(packet)
        est = self._estimate_missing(h, n)
        if prev_next is not None:
            dev = round(((int(packet.meta["t_first_us"]) - prev_next) % (1 << 32)) * fs / 1e6)
            if abs(dev - est) <= max(0.1 * fs, 0.01 * est) + n:
                return Step(dev, True, dev / n, "restart (DIY device time)")
        return Step(est, False, est / n, "restart (DIY device clock restarted)", True)
