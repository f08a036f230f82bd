"""Per-sample host times, loss and gaps: decoded packets in, :class:`Block` and :class:`Gap` out.

One :class:`Timebase` per stream. The ingest calls :meth:`Timebase.push` with every decoded
packet and the host monotonic time (s) at which its notification arrived, and
:meth:`Timebase.count_corrupt` when a decode failed. Each push returns ``[]``, ``[Block]`` or
``[Gap, Block]``: a block never spans a gap, and sample indices count lost samples, so after a
gap ``start_index`` has jumped by the gap's size.

What each protocol can know (one small class each, sharing :class:`Timebase`):

=========================  ==========================  =====================================
class                      loss from                   sample times from
=========================  ==========================  =====================================
:class:`GanglionTimebase`  packet ID, +1 mod 100       sample index -> host (drift fit)
:class:`DiyTimebase`       block counter + device us   sample index -> host (drift fit)
:class:`PolarTimebase`     device-time gaps            device time -> host (drift fit)
:class:`MyoTimebase`       arrival gaps (unknown size)  sample index -> host (drift fit)
=========================  ==========================  =====================================

The drift fit (:class:`~myoflow.devices.clockfit.ClockFit`) follows the lower envelope of the
arrival delays over a sliding window, so bunched and late notifications do not drag the times;
:class:`~myoflow.devices.clockfit.MonotonicMap` slews fit changes in, so times never go back.
When a loss or a reconnect leaves the sample position unknown (Myo, a restarted Ganglion), its
size is estimated from the fitted clock, the :class:`Gap` says ``n_missing=None`` with the
estimate in its ``reason``, and the fit re-learns its offset (keeping the slope).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from myoflow._checks import check_positive
from myoflow.devices import ganglion, polar_pmd
from myoflow.devices.clockfit import ClockFit, MonotonicMap
from myoflow.devices.codec import Packet
from myoflow.devices.diy import DiyTracker
from myoflow.devices.ganglion import GanglionTracker
from myoflow.stream import Block, Gap, StreamInfo

__all__ = ["DiyTimebase", "GanglionTimebase", "MyoTimebase", "PolarTimebase", "Timebase"]

Converter = Callable[[Packet], np.ndarray]
_DELAY_ALPHA = 0.02  # smoothing of the typical arrival delay used to size unknown gaps


@dataclass
class _Step:
    """What a protocol learnt from one packet (see :meth:`Timebase._account`)."""

    missing: int  # samples lost just before the packet (exact, or an estimate)
    exact: bool  # False: the size is an estimate (Gap.n_missing is None)
    lost_packets: float  # packets lost (estimated when the protocol has no counter)
    reason: str = "loss"
    rebase: bool = False  # the x axis jumped by an unknown amount: re-learn the fit offset
    x: np.ndarray | None = None  # device-time positions (s); None: positions are indices


class Timebase:
    """Shared machinery: drift fit, monotonic times, gaps and loss statistics for one stream.

    Parameters
    ----------
    stream
        The stream the blocks belong to; ``stream.rate`` is the nominal rate in Hz.
    convert
        Counts to physical units: ``convert(packet) -> (n, n_channels)`` float array. Each
        protocol class has a default.
    window_s, bin_s, quantile, anchor_s
        Drift fit window, min-filter bins and intercept anchor (host s) and low quantile, see
        :class:`~myoflow.devices.clockfit.ClockFit`.
    max_slew
        Largest correction rate of emitted times, s per s (see
        :class:`~myoflow.devices.clockfit.MonotonicMap`).
    history_s
        How far back (host s) :meth:`loss_percent` can look.
    """

    #: Packet kinds this timebase turns into samples; other packets are ignored.
    kinds: frozenset[str] = frozenset({"emg"})
    device_time = False

    def __init__(
        self,
        stream: StreamInfo,
        *,
        convert: Converter | None = None,
        window_s: float = 30.0,
        bin_s: float = 0.5,
        quantile: float = 0.25,
        anchor_s: float = 10.0,
        max_slew: float = 0.02,
        history_s: float = 60.0,
    ) -> None:
        if not isinstance(stream, StreamInfo):
            raise ValueError(f"stream must be a StreamInfo, got {type(stream).__name__}")
        self.stream = stream
        self._convert = convert or self._default_convert
        self.history_s = check_positive(history_s, "history_s", "s")
        slope = 1.0 if self.device_time else 1.0 / stream.rate
        self.fit = ClockFit(slope, window_s=window_s, bin_s=bin_s, quantile=quantile, anchor_s=anchor_s)
        self._times = MonotonicMap(self.fit, max_slew=max_slew)
        self._dx = 1.0  # position step per sample: 1 (an index), or a device period in s
        self.next_index = 0
        self._last_x: float | None = None
        self._last_h = -math.inf
        self._prev_t = -math.inf
        self._delay = 0.0  # smoothed arrival delay behind the fit, s
        self._restart_pending = False
        self._history: deque[tuple[float, float]] = deque()  # (host s, lost packets)
        self.received_packets = 0
        self.received_samples = 0
        self.lost_packets = 0.0
        self.lost_samples = 0
        self.unknown_gaps = 0
        self.corrupt_packets = 0
        self.skipped_packets = 0
        self.restarts = 0

    # ------------------------------------------------------------------ public
    @property
    def nominal_rate(self) -> float:
        """The stream's nominal sample rate, Hz."""
        return self.stream.rate

    @property
    def effective_rate(self) -> float:
        """Sample rate measured on the host clock, Hz (the nominal rate until the first fit)."""
        return 1.0 / (self._dx * self.fit.slope) if self.device_time else 1.0 / self.fit.slope

    def push(self, packet: Packet, host_time_s: float) -> list[Block | Gap]:
        """Turn one decoded packet, received at ``host_time_s`` (host monotonic s), into output.

        Returns ``[]`` for packets of other kinds (Ganglion messages, Myo IMU on an EMG
        timebase) and for duplicates, ``[Block]``, or ``[Gap, Block]`` after a loss.

        Raises ``ValueError`` when ``host_time_s`` goes back in time or the packet's channel
        count differs from the stream's.
        """
        h = float(host_time_s)
        if not math.isfinite(h) or h < self._last_h:
            raise ValueError(
                f"host_time_s must be finite and non-decreasing, got {host_time_s!r} after "
                f"{self._last_h!r} (stream {self.stream.name!r})"
            )
        if packet.kind not in self.kinds or packet.n_samples == 0:
            return []
        if packet.n_channels != self.stream.n_channels:
            raise ValueError(
                f"stream {self.stream.name!r} has {self.stream.n_channels} channels, got a "
                f"{packet.kind!r} packet of shape {packet.samples.shape}"
            )
        self._last_h = h
        step = self._account(packet, h)
        self._restart_pending = False
        if step is None:
            self.skipped_packets += 1
            return []
        return self._emit(packet, h, step)

    def restart(self, host_time_s: float) -> None:
        """The connection dropped and came back at ``host_time_s``: the next packet starts anew.

        Samples not sent meanwhile become one :class:`Gap` on the next :meth:`push`: exact when
        the device time or counter carries across (Polar, DIY), estimated otherwise.
        """
        h = float(host_time_s)
        if not math.isfinite(h) or h < self._last_h:
            raise ValueError(
                f"host_time_s must be finite and not before the last packet "
                f"({self._last_h!r}), got {host_time_s!r}"
            )
        self._last_h = h
        self._restart_pending = True
        self.restarts += 1

    def count_corrupt(self, n: int = 1) -> None:
        """Count ``n`` notifications of this stream that failed to decode."""
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n (corrupt packets) must be a non-negative integer, got {n!r}")
        self.corrupt_packets += int(n)

    def loss_percent(self, window_s: float = 5.0) -> float:
        """Packets lost as % of packets sent over the last ``window_s`` host seconds.

        Lost packets are counted from counters where the protocol has them and estimated from
        lost samples otherwise (Polar: samples / frame size; Myo: the estimated gap size).
        """
        w = check_positive(window_s, "window_s", "s")
        if w > self.history_s:
            raise ValueError(f"window_s must be at most history_s ({self.history_s} s), got {w}")
        since = self._last_h - w
        received = lost = 0.0
        for h, n_lost in reversed(self._history):
            if h <= since:
                break
            received += 1
            lost += n_lost
        return 100.0 * lost / (lost + received) if received else 0.0

    # --------------------------------------------------------- for subclasses
    def _default_convert(self, packet: Packet) -> np.ndarray:
        return packet.samples

    def _account(self, packet: Packet, h: float) -> _Step | None:
        """Protocol part: loss before ``packet`` (and device positions); ``None`` skips it."""
        raise NotImplementedError

    def _estimate_missing(self, h: float, n: int) -> int:
        """Samples missing before an ``n``-sample packet arriving at ``h``, from the fit.

        Rounded to whole packets of ``n`` samples; 0 before the first packet.
        """
        if self._last_x is None:
            return 0
        late = h - self.fit.at(self._last_x + n * self._dx) - self._delay
        per_sample = self.fit.slope * self._dx
        return max(0, round(late / per_sample / n)) * n

    def _lateness(self, h: float, n: int) -> float:
        """How late (s) an ``n``-sample packet arrives if nothing was lost before it."""
        if self._last_x is None:
            return 0.0
        return h - self.fit.at(self._last_x + n * self._dx)

    # ----------------------------------------------------------------- internal
    def _emit(self, packet: Packet, h: float, step: _Step) -> list[Block | Gap]:
        n = packet.n_samples
        missing = max(0, int(step.missing))
        gap = missing > 0 or not step.exact
        start = self.next_index + missing
        if step.x is not None:
            x = step.x
        else:
            x = np.arange(start, start + n, dtype=np.float64)
        if step.rebase:
            self.fit.rebase()
        elif self.fit.ready and not gap:
            d = h - self.fit.at(float(x[-1]))
            self._delay += _DELAY_ALPHA * (max(d, 0.0) - self._delay)
        self.fit.observe(float(x[-1]), h)
        times = self._times.times(x, gap=gap and self._last_x is not None)
        out: list[Block | Gap] = []
        if gap and self._last_x is not None:
            period = self.fit.slope * self._dx
            t_start = min(self._prev_t + period, float(times[0]))
            if step.exact:
                reason = step.reason
                self.lost_samples += missing
            else:
                reason = f"{step.reason}; size unknown, about {missing} samples by the host clock"
                self.unknown_gaps += 1
            out.append(
                Gap(
                    self.stream,
                    self.next_index,
                    missing if step.exact else None,
                    t_start,
                    float(times[0]),
                    reason,
                )
            )
        data = np.asarray(self._convert(packet), dtype=np.float32)
        out.append(Block(self.stream, data, times, start))
        self._prev_t = float(times[-1])
        self._last_x = float(x[-1])
        self.next_index = start + n
        self.received_packets += 1
        self.received_samples += n
        self.lost_packets += step.lost_packets
        self._history.append((h, step.lost_packets))
        while self._history and self._history[0][0] < h - self.history_s:
            self._history.popleft()
        return out


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

    def _account(self, packet: Packet, h: float) -> _Step | None:
        n = packet.n_samples
        if self._restart_pending:
            self.tracker = GanglionTracker()
            self.tracker.update(int(packet.counter))
            return _Step(self._estimate_missing(h, n), False, 0.0, "reconnect (Ganglion IDs restart)", True)
        m = int(self.tracker.update(int(packet.counter)).packets or 0)
        if self.fit.n_fits:
            by_clock = self._lateness(h, n) / (self.fit.slope * n)
            if m == 99 and by_clock < 50:
                return None  # the ID just seen again: a duplicate
            m += 100 * max(0, math.floor((by_clock - m + 20) / 100))
        return _Step(n * m, True, float(m), "packet loss (Ganglion packet ID)")


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

    def _account(self, packet: Packet, h: float) -> _Step | None:
        n = packet.n_samples
        fs = int(packet.meta["fs_hz"])
        prev_next = self.tracker.next_t_us
        if self.tracker.expected_block is None or not packet.meta["restart"]:
            loss = self.tracker.update(packet)
            return _Step(
                int(loss.samples or 0), True, float(loss.packets or 0), "packet loss (DIY block counter)"
            )
        self.tracker.update(packet)
        est = self._estimate_missing(h, n)
        if prev_next is not None:
            dev = round(((int(packet.meta["t_first_us"]) - prev_next) % (1 << 32)) * fs / 1e6)
            if abs(dev - est) <= max(0.1 * fs, 0.01 * est) + n:
                return _Step(dev, True, dev / n, "restart (DIY device time)")
        return _Step(est, False, est / n, "restart (DIY device clock restarted)", True)


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

    def _account(self, packet: Packet, h: float) -> _Step | None:
        n, t = packet.n_samples, int(packet.device_time_ns)
        back = np.arange(n - 1, -1, -1, dtype=np.float64)
        if self._prev_ns is None:
            self._origin_ns = self._prev_ns = t
            return _Step(0, True, 0.0, x=self._pos(t) - back * self._dx)
        span = t - self._prev_ns
        if span <= 0 and not self._restart_pending:
            return None  # a repeated or reordered frame
        if span <= 0:  # the device clock restarted: continue the positions from the host clock
            est = self._estimate_missing(h, n)
            self._shift = self._last_x + (est + n) * self._dx - (t - self._origin_ns) * 1e-9
            self._prev_ns = t
            return _Step(
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
            return _Step(missing, True, missing / frame, reason, x=self._pos(t) - back * self._dx)
        self._n_sum += n
        self._span_sum += span
        self._dx = self._span_sum / self._n_sum * 1e-9
        x = self._pos(t) - (back / n) * (span * 1e-9)
        return _Step(0, True, 0.0, x=x)

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

    def _account(self, packet: Packet, h: float) -> _Step | None:
        n = packet.n_samples
        if self._restart_pending:
            est = self._estimate_missing(h, n)
            return _Step(est, False, est / n, "reconnect (Myo has no counter)", True)
        if self.fit.n_fits and self._lateness(h, n) > self.max_delay_s:
            est = self._estimate_missing(h, n)
            return _Step(est, False, est / n, "unknown loss (Myo arrival gap, no counter)", True)
        return _Step(0, True, 0.0)
