"""Per-sample host times, loss and gaps of one stream: the :class:`Timebase` all protocols share.

One :class:`Timebase` per stream. The ingest calls :meth:`Timebase.push` with every decoded
packet and the host monotonic time (s) at which its notification arrived, and
:meth:`Timebase.count_corrupt` when a decode failed. Each push returns ``[]``, ``[Block]`` or
``[Gap, Block]``: a block never spans a gap, and sample indices count lost samples, so after a
gap ``start_index`` has jumped by the gap's size.

A protocol subclass only says what one packet tells about loss and sample positions (its
:meth:`Timebase._account` returns a :class:`Step`) and, when the device reports its own
conversion, the scale of a packet (:meth:`Timebase.packet_scale`). Each protocol's subclass
lives in its folder, ``myoflow.devices.protocols.<name>.timebase``.
Everything else is the same for all protocols and lives here.

The drift fit (:class:`~myoflow.devices.clockfit.ClockFit`) follows the lower envelope of the
arrival delays over a sliding window, so bunched and late notifications do not drag the times;
:class:`~myoflow.devices.clockfit.MonotonicMap` slews fit changes in, so times never go back.
When a loss or a reconnect leaves the sample position unknown (Myo, a restarted Ganglion), its
size is estimated from the fitted clock, the :class:`Gap` says ``n_missing=None`` with the
estimate in its ``reason``, and the fit re-learns its offset (keeping the slope). Loss
statistics (:meth:`Timebase.loss_percent`) cover the last ``history_s`` host seconds.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from myoflow._checks import check_positive
from myoflow.devices.clockfit import ClockFit, MonotonicMap
from myoflow.devices.codec import Packet
from myoflow.stream import Block, Gap, StreamInfo

__all__ = ["Skip", "Step", "Timebase"]

#: The drift fit's min-filter bins span at least this many packets.
PACKETS_PER_BIN = 5
#: How early (host s) a packet may arrive before the fitted clock says its last sample was taken.
#: Earlier means its counter or device time claims samples that cannot have been taken yet. Wide
#: enough for a fit that still lags a drop in link latency (it re-fits every bin, ~0.5 s).
PLAUSIBLE_EARLY_S = 0.5
#: A protocol re-anchors on the host clock after this many packets in a row were rejected...
RESYNC_PACKETS = 8
#: ...over at least this much host time (s): its counter or device clock jumped for good.
RESYNC_S = 1.0
#: Longest gap reason a recording stores (bytes; storage.schema.REASON_BYTES). The earlier text
#: "...; size unknown, about N samples by the host clock" was longer: the recorder refused the
#: gap and the recording stopped at the first resync.
_REASON_MAX = 64
_DELAY_ALPHA = 0.02  # smoothing of the typical arrival delay used to size unknown gaps


@dataclass(frozen=True)
class Skip:
    """A packet the protocol rejects, and why (``"duplicate"``, ``"stale"``, ``"implausible ..."``).

    ``counted``: the protocol already counted it (as corrupt); it is not counted again.
    """

    reason: str
    counted: bool = False


@dataclass
class Step:
    """What a protocol subclass learnt from one packet: what :meth:`Timebase._account` returns.

    :meth:`Timebase.push` turns it into a :class:`Gap` (when samples are missing or their number
    is unknown) and a :class:`Block`.
    """

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
    scale
        Physical units per count, applied to every packet. ``None`` (the default): the device's
        own conversion, :meth:`packet_scale` (the DIY header's factor, Polar's FACTOR).
    window_s, bin_s, quantile, anchor_s
        Drift fit window, min-filter bins and intercept anchor (host s) and low quantile, see
        :class:`~myoflow.devices.clockfit.ClockFit`. ``bin_s`` is a minimum: bins are widened
        to span at least :data:`PACKETS_PER_BIN` packets (decided at the first packet), or a
        bin of long packets (Polar ECG: 0.56 s each) would hold one packet and leave the min
        filter nothing to choose from.
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
        scale: float | None = None,
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
        self._scale = None if scale is None else check_positive(scale, "scale")
        #: Physical units per count of the last packet converted (None before the first).
        self.last_scale: float | None = None
        self.history_s = check_positive(history_s, "history_s", "s")
        slope = 1.0 if self.device_time else 1.0 / stream.rate
        self._fit_args = {"window_s": window_s, "bin_s": bin_s, "quantile": quantile, "anchor_s": anchor_s}
        self._max_slew = max_slew
        self.fit = ClockFit(slope, **self._fit_args)
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
        #: Packets rejected by reason (duplicates, stale or reordered, implausible time/counter).
        self.discarded: dict[str, int] = {}
        #: Packets accepted after a repair, by kind (e.g. counter and device time disagreed).
        self.anomalies: dict[str, int] = {}
        self._rejected = 0  # packets rejected in a row
        self._first_reject_h = 0.0
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

        Returns ``[]`` for packets of other kinds (text messages, IMU packets on an EMG
        timebase) and for packets the protocol rejects (duplicates, stale or reordered packets,
        counters or device times the host clock rules out; counted in :attr:`discarded`),
        ``[Block]``, or ``[Gap, Block]`` after a loss.

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
        if self.received_packets == 0 and self.fit.n_fits == 0:
            self._size_bins(packet.n_samples)
        step = self._account(packet, h)
        if isinstance(step, Skip) and step.counted:
            return []
        if step is None or isinstance(step, Skip):
            reason = "duplicate" if step is None else step.reason
            self.skipped_packets += 1
            self.discarded[reason] = self.discarded.get(reason, 0) + 1
            return []
        self._restart_pending = False
        self._rejected = 0
        return self._emit(packet, h, step)

    def _size_bins(self, samples_per_packet: int) -> None:
        """Widen the fit's bins to hold :data:`PACKETS_PER_BIN` packets (before any observation)."""
        bin_s = PACKETS_PER_BIN * samples_per_packet / self.stream.rate
        if bin_s <= self._fit_args["bin_s"]:
            return
        args = {**self._fit_args, "bin_s": bin_s, "window_s": max(self._fit_args["window_s"], 4 * bin_s)}
        self.fit = ClockFit(self.fit.nominal_slope, **args)
        self._times = MonotonicMap(self.fit, max_slew=self._max_slew)

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

    def scale_of(self, packet: Packet) -> float:
        """Physical units per count for ``packet``: the fixed ``scale``, else :meth:`packet_scale`."""
        return self._scale if self._scale is not None else self.packet_scale(packet)

    def set_factor(self, factor: float) -> None:
        """Use a conversion factor the device announced; only protocols that announce one take it."""
        raise ValueError(f"stream {self.stream.name!r}: its protocol announces no conversion factor")

    # --------------------------------------------------------- for subclasses
    def packet_scale(self, packet: Packet) -> float:
        """Physical units per count as the packet or the device reports them (1.0: counts)."""
        return 1.0

    def _account(self, packet: Packet, h: float) -> Step | Skip | None:
        """Protocol part: loss before ``packet`` (and device positions); a :class:`Skip` (or
        ``None``, a duplicate) rejects it."""
        raise NotImplementedError

    def _max_missing(self, h: float, n: int) -> float:
        """Most samples that can be missing before an ``n``-sample packet arriving at ``h``.

        A sample cannot arrive before it is taken: with the fitted clock, the packet's last
        sample must fall before ``h`` plus :data:`PLAUSIBLE_EARLY_S`. Infinite before the first
        packet (nothing to measure from).

        The same fact judges the fit: a new packet holds at least the ``n`` samples after the
        last one, so arriving more than :data:`PLAUSIBLE_EARLY_S` before the fit says the
        ``n``-th of them was taken proves the fit late (anchored on packets the host stamped
        late, e.g. while a slow sink stalled the ingest). The fit is then lowered to this
        arrival (:meth:`ClockFit.lower_to`, counted in :attr:`anomalies`) before the cap is
        computed, so on-time packets are not rejected as "ahead of the host clock".
        """
        if self._last_x is None:
            return math.inf
        x_next = self._last_x + n * self._dx
        if self.fit.at(x_next) - h > PLAUSIBLE_EARLY_S and self.fit.lower_to(x_next, h):
            self._anomaly("clock fit lowered (a packet arrived before the fit allowed)")
        room = h + PLAUSIBLE_EARLY_S - self.fit.at(self._last_x)
        return room / (self.fit.slope * self._dx) - n

    def _reject(self, reason: str, h: float) -> Skip:
        """Reject the packet arriving at ``h`` (see :meth:`_stuck`)."""
        if self._rejected == 0:
            self._first_reject_h = h
        self._rejected += 1
        return Skip(reason)

    def _anomaly(self, kind: str) -> None:
        self.anomalies[kind] = self.anomalies.get(kind, 0) + 1

    def _stuck(self, h: float) -> bool:
        """True when :data:`RESYNC_PACKETS` packets in a row over :data:`RESYNC_S` host s were
        rejected: the device's counter or clock jumped for good, and the protocol should re-anchor
        on the host clock (a gap of estimated size) rather than reject everything after."""
        return self._rejected >= RESYNC_PACKETS and h - self._first_reject_h >= RESYNC_S

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
    def _emit(self, packet: Packet, h: float, step: Step) -> list[Block | Gap]:
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
                reason = f"{step.reason}; ~{missing} by host clock"
                if len(reason.encode("utf-8")) > _REASON_MAX:
                    reason = f"{step.reason}; size unknown"
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
        scale = self.scale_of(packet)
        self.last_scale = scale
        data = np.asarray(packet.samples if scale == 1.0 else packet.samples * scale, dtype=np.float32)
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
