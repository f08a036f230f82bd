"""The four protocol timebases: what each protocol can tell about loss and sample positions.

Each class is a small :class:`~myoflow.devices.timebase.Timebase` whose ``_account`` turns one
decoded packet into a :class:`~myoflow.devices.timebase.Step`; the shared base does the drift
fit, monotonic times, gaps and loss statistics.

=========================  ===========================  ================================
class                      loss from                    sample times from
=========================  ===========================  ================================
:class:`GanglionTimebase`  packet ID, +1 mod 100        sample index -> host (drift fit)
:class:`DiyTimebase`       block counter + device us    sample index -> host (drift fit)
:class:`PolarTimebase`     device-time gaps             device time -> host (drift fit)
:class:`MyoTimebase`       arrival gaps (unknown size)  sample index -> host (drift fit)
=========================  ===========================  ================================
"""

from __future__ import annotations

import math

import numpy as np

from myoflow._checks import check_positive
from myoflow.devices import ganglion, polar_pmd
from myoflow.devices.codec import Packet
from myoflow.devices.diy import DiyTracker
from myoflow.devices.ganglion import GanglionTracker
from myoflow.devices.timebase import Step, Timebase
from myoflow.stream import StreamInfo

__all__ = ["DiyTimebase", "GanglionTimebase", "MyoTimebase", "PolarTimebase"]


class GanglionTimebase(Timebase):
    """OpenBCI Ganglion: loss from packet IDs (+1 mod 100, 2 samples per packet).

    A loss of 100 packets or more aliases in the ID; when the fitted clock says at least 80
    more packets went missing than the ID shows, whole cycles of 100 are added. An ID that the
    clock places in the past (a duplicate) is skipped. After :meth:`restart` the board has
    reset and its IDs restart, so the gap's size is estimated from the host clock.
    """

    kinds = frozenset({"emg"})

    def __init__(self, stream: StreamInfo, **kwargs) -> None:
        super().__init__(stream, **kwargs)
        self.tracker = GanglionTracker()

    def _default_convert(self, packet: Packet) -> np.ndarray:
        return packet.samples * ganglion.UV_PER_COUNT

    def _account(self, packet: Packet, h: float) -> Step | None:
        n = packet.n_samples
        if self._restart_pending:
            self.tracker = GanglionTracker()
            self.tracker.update(int(packet.counter))
            return Step(self._estimate_missing(h, n), False, 0.0, "reconnect (Ganglion IDs restart)", True)
        m = int(self.tracker.update(int(packet.counter)).packets or 0)
        if self.fit.n_fits:
            by_clock = self._lateness(h, n) / (self.fit.slope * n)
            if m == 99 and by_clock < 50:
                return None  # the ID just seen again: a duplicate
            m += 100 * max(0, math.floor((by_clock - m + 20) / 100))
        return Step(n * m, True, float(m), "packet loss (Ganglion packet ID)")


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

    def _default_convert(self, packet: Packet) -> np.ndarray:
        return packet.samples * float(packet.meta["uv_per_count"])

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


class PolarTimebase(Timebase):
    """Polar PMD (H10, Verity Sense): loss and per-sample times from the device time.

    Frames carry the device time of their last sample (ns since 2000-01-01). Samples of a frame
    are spread evenly since the previous frame; a span longer than ``n + 0.5`` device periods
    means ``round(span / period) - n`` samples were lost, with the period measured from the
    frames themselves (the nominal one until then). Device time carries across a reconnect, so
    its gap is exact unless the time went backwards (the strap restarted).

    Parameters
    ----------
    factor
        The FACTOR setting from the start response, passed to :func:`polar_pmd.to_physical`.
    """

    device_time = True

    def __init__(self, stream: StreamInfo, *, factor: float = 1.0, **kwargs) -> None:
        super().__init__(stream, **kwargs)
        self.kinds = frozenset({stream.kind})
        self.factor = check_positive(factor, "factor")
        self._dx = 1.0 / stream.rate
        self._origin_ns: int | None = None
        self._prev_ns: int | None = None
        self._shift = 0.0  # s added to device positions after a device clock restart
        self._n_sum = 0
        self._span_sum = 0

    def _default_convert(self, packet: Packet) -> np.ndarray:
        return polar_pmd.to_physical(packet, self.factor)

    @property
    def device_rate(self) -> float:
        """Samples per device second measured from the frame times, Hz."""
        return 1.0 / self._dx

    def _pos(self, ns: np.ndarray | int) -> np.ndarray:
        return (np.asarray(ns, dtype=np.int64) - self._origin_ns) * 1e-9 + self._shift

    def _account(self, packet: Packet, h: float) -> Step | None:
        n, t = packet.n_samples, int(packet.device_time_ns)
        back = np.arange(n - 1, -1, -1, dtype=np.float64)
        if self._prev_ns is None:
            self._origin_ns = self._prev_ns = t
            return Step(0, True, 0.0, x=self._pos(t) - back * self._dx)
        span = t - self._prev_ns
        if span <= 0 and not self._restart_pending:
            return None  # a repeated or reordered frame
        if span <= 0:  # the device clock restarted: continue the positions from the host clock
            est = self._estimate_missing(h, n)
            self._shift = self._last_x + (est + n) * self._dx - (t - self._origin_ns) * 1e-9
            self._prev_ns = t
            return Step(
                est,
                False,
                est / n,
                "reconnect (Polar device time restarted)",
                True,
                self._pos(t) - back * self._dx,
            )
        period_ns = self._dx * 1e9
        self._prev_ns = t
        if span > (n + 0.5) * period_ns:
            missing = round(span / period_ns) - n
            frame = self._n_sum / self._frames if self._n_sum else n
            reason = (
                "reconnect (Polar device time)" if self._restart_pending else "loss (Polar device time gap)"
            )
            return Step(missing, True, missing / frame, reason, x=self._pos(t) - back * self._dx)
        self._n_sum += n
        self._span_sum += span
        self._dx = self._span_sum / self._n_sum * 1e-9
        x = self._pos(t) - (back / n) * (span * 1e-9)
        return Step(0, True, 0.0, x=x)

    @property
    def _frames(self) -> int:
        return max(1, self.received_packets - 1)


class MyoTimebase(Timebase):
    """Myo EMG: no counter, two samples per notification, spread over four characteristics.

    Loss cannot be counted. A notification that arrives more than ``max_delay_s`` later than
    the fitted clock allows for its index is taken as the end of an unknown loss: a
    :class:`Gap` with ``n_missing=None``, the index jumps by the size the host clock suggests,
    and the fit re-learns its offset. The same happens after :meth:`restart`. Shorter delays
    are bunching or retransmissions that the following burst catches up.

    Parameters
    ----------
    scale
        Physical units per count (the Myo publishes no microvolt scale; 1.0 keeps counts).
    max_delay_s
        Lateness (host s) above which a notification marks an unknown loss.
    """

    def __init__(
        self, stream: StreamInfo, *, scale: float = 1.0, max_delay_s: float = 0.25, **kwargs
    ) -> None:
        super().__init__(stream, **kwargs)
        self.scale = check_positive(scale, "scale")
        self.max_delay_s = check_positive(max_delay_s, "max_delay_s", "s")

    def _default_convert(self, packet: Packet) -> np.ndarray:
        return packet.samples * self.scale

    def _account(self, packet: Packet, h: float) -> Step | None:
        n = packet.n_samples
        if self._restart_pending:
            est = self._estimate_missing(h, n)
            return Step(est, False, est / n, "reconnect (Myo has no counter)", True)
        if self.fit.n_fits and self._lateness(h, n) > self.max_delay_s:
            est = self._estimate_missing(h, n)
            return Step(est, False, est / n, "unknown loss (Myo arrival gap, no counter)", True)
        return Step(0, True, 0.0)
