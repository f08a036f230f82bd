"""Polar PMD timebase: loss and per-sample times from the device time of each frame."""

from __future__ import annotations

import logging

import numpy as np

from myoflow._checks import check_positive
from myoflow.devices.codec import Packet
from myoflow.devices.protocols.polar_pmd import codec
from myoflow.devices.timebase import Skip, Step, Timebase
from myoflow.stream import StreamInfo

__all__ = ["PolarTimebase"]

logger = logging.getLogger(__name__)


class PolarTimebase(Timebase):
    """Polar PMD (H10, Verity Sense): loss and per-sample times from the device time.

    Frames carry the device time of their last sample (ns since 2000-01-01). Samples of a frame
    are spread evenly since the previous frame; a span longer than ``n + 0.5`` device periods
    means ``round(span / period) - n`` samples were lost, with the period measured from the
    frames themselves (the nominal one until then). Device time carries across a reconnect, so
    its gap is exact unless the time went backwards (the strap restarted).

    Frames that cannot be converted are refused (counted as corrupt, logged once with the frame
    type and what is supported), never scaled by a guess: compressed type 0 frames while no
    FACTOR is known, and float32 frames (compressed GYRO type 1), which decode
    (:func:`codec.to_physical`) but have no scale per count for a recording.

    The device time is held to the host clock: a repeated frame, a frame older than the last
    (reordered), one whose span is too short for its samples, and one that claims samples the
    host clock says cannot have been taken yet (a time ahead) are rejected and counted, and move
    nothing. If frames keep being rejected, the device time jumped for good: positions then
    continue from the host clock behind a gap of estimated size.

    Parameters
    ----------
    factor
        The FACTOR setting from the start response, passed to :func:`codec.physical_scale`;
        ``None`` until one arrives (real Verity Sense ACC starts carry none).
    """

    device_time = True

    def __init__(self, stream: StreamInfo, *, factor: float | None = None, **kwargs) -> None:
        super().__init__(stream, **kwargs)
        self.kinds = frozenset({stream.kind})
        self.factor = None if factor is None else check_positive(factor, "factor")
        self._refused: set[str] = set()
        self._dx = 1.0 / stream.rate
        self._origin_ns: int | None = None
        self._prev_ns: int | None = None
        self._shift = 0.0  # s added to device positions after a device clock restart
        self._n_sum = 0
        self._span_sum = 0

    def packet_scale(self, packet: Packet) -> float:
        return codec.physical_scale(packet, self.factor)

    def set_factor(self, factor: float) -> None:
        self.factor = check_positive(factor, "factor")

    @property
    def device_rate(self) -> float:
        """Samples per device second measured from the frame times, Hz."""
        return 1.0 / self._dx

    def _pos(self, ns: int) -> float:
        """Device position (s) of device time ``ns`` (exact integer arithmetic, any u64 value)."""
        assert self._origin_ns is not None
        return (ns - self._origin_ns) * 1e-9 + self._shift

    def _refuse(self, packet: Packet) -> str | None:
        """Why ``packet`` cannot become physical samples here, or None."""
        meta = packet.meta
        name = codec.frame_name(
            int(meta.get("measurement", -1)), int(meta.get("frame_type", 0)), bool(meta.get("compressed"))
        )
        if meta.get("encoding") == "float32":
            return f"{name} holds float32 values; streams take raw or integer compressed frames"
        if codec.needs_factor(packet) and self.factor is None and self._scale is None:
            return f"{name} counts need the FACTOR of the start response, and the device sent none"
        return None

    def _account(self, packet: Packet, h: float) -> Step | Skip | None:
        why = self._refuse(packet)
        if why is not None:
            if why not in self._refused:
                self._refused.add(why)
                logger.error("%s: %s: %s (frames refused)", self.stream.name, codec.PROTOCOL, why)
            self.count_corrupt()
            return Skip(why, counted=True)
        assert packet.device_time_ns is not None  # the PMD codec stamps every frame
        n, t = packet.n_samples, int(packet.device_time_ns)
        back = np.arange(n - 1, -1, -1, dtype=np.float64)
        if self._prev_ns is None:
            self._origin_ns = self._prev_ns = t
            return Step(0, True, 0.0, x=self._pos(t) - back * self._dx)
        span = t - self._prev_ns
        if span <= 0 and self._restart_pending:  # the device clock restarted
            return self._reanchor(t, h, n, back, "reconnect (Polar device time restarted)")
        if self._stuck(h):  # the device time jumped for good
            return self._reanchor(t, h, n, back, "resync (Polar device time jumped)")
        period_ns = self._dx * 1e9
        if span == 0:
            return self._reject("duplicate", h)
        if span < 0:
            return self._reject("stale (reordered)", h)
        if span < 0.5 * n * period_ns:  # a device twice as fast as its rate: a corrupted time
            return self._reject("implausible device time (too little time for the samples)", h)
        missing = round(span / period_ns) - n if span > (n + 0.5) * period_ns else 0
        if missing > self._max_missing(h, n):
            return self._reject("implausible device time (ahead of the host clock)", h)
        self._prev_ns = t
        if missing:
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

    def _reanchor(self, t: int, h: float, n: int, back: np.ndarray, reason: str) -> Step:
        """Continue the positions from the host clock: a gap of estimated size before ``t``."""
        est = self._estimate_missing(h, n)
        assert self._last_x is not None and self._origin_ns is not None
        self._shift = self._last_x + (est + n) * self._dx - (t - self._origin_ns) * 1e-9
        self._prev_ns = t
        return Step(est, False, est / n, reason, True, self._pos(t) - back * self._dx)

    @property
    def _frames(self) -> int:
        return max(1, self.received_packets - 1)
