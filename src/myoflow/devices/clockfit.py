"""Online fit of a device's sample clock to the host clock, robust to bunched BLE arrivals.

A strap stamps nothing with the host clock: the host only knows when each notification
*arrived*. Arrival = send time + a delay that is never negative and is mostly *not* small:
BLE sends queued notifications at the next connection event (every 7.5-30 ms), several per
event, so arrivals come late and bunched; a retransmission delays everything behind it.
The send time of a packet's last sample is therefore best seen in the **lower envelope** of
``arrival - clock(x)``, where ``x`` is the sample index (or the device time) of that sample.

How :class:`ClockFit` finds the lower envelope, and why
-------------------------------------------------------
1. **Min filter.** Observations are put in bins of ``bin_s`` host seconds; each bin keeps the
   one observation with the smallest residual against the current line (the earliest arrival
   for its position). This is O(1) per packet and throws away the bunching: a bin of
   0.5 s holds 25-100 notifications, and at least one of them usually rode a connection event
   that came right after it was queued.
2. **Low-quantile re-fit.** When a bin closes, the bin minima of the last ``window_s`` seconds
   (at most ``window_s / bin_s`` points, 60 by default) are fitted by least squares; the fit is
   repeated on the minima whose residual is at or below the ``quantile`` of the residuals.
   A bin whose best packet still waited (a retransmission burst, a connection event that fell
   late for all of its packets) lies above the line and drops out in the re-fit.
   Cost: a few numpy calls on 60 points per closed bin, i.e. well under 1 us per packet.

Why not the alternatives: a plain least-squares fit of arrival times follows the *mean* delay,
which moves with the connection interval and with every burst; a lower convex hull (the
linear-programming clock estimator) is exact for a clean lower envelope but a single
early-stamped point (a device-time glitch) tilts it; a min filter alone (muse-lsl's fix) still
needs a line through the minima, and the quantile step is that line without the outliers.

Limit worth knowing: when the packet period and the connection interval are commensurate
(10 ms packets on a 30 ms interval), every packet of a bin can wait the same part of an interval
and only the slow phase sweep caused by the device's clock skew reveals the true send time; the
error is then bounded by the minimum delay seen within the window, not by the fit.

:class:`MonotonicMap` turns the fit into emitted times that never go backwards: a change of the
fit is not applied as a step but slewed in at no more than ``max_slew`` seconds per second.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from myoflow._checks import check_positive

__all__ = ["ClockFit", "MonotonicMap"]


def _check_fraction(value: float, name: str, hi: float = 1.0) -> float:
    v = check_positive(value, name)
    if v >= hi:
        raise ValueError(f"{name} must be in (0, {hi}), got {value!r}")
    return v


class ClockFit:
    """Online lower-envelope fit of ``host = intercept + slope * x``.

    Parameters
    ----------
    nominal_slope
        Host seconds per unit of ``x`` expected from the protocol: ``1 / rate`` when ``x`` is a
        sample index, 1.0 when ``x`` is device time in seconds.
    window_s
        Sliding window of the fit, host seconds.
    bin_s
        Width of the min-filter bins, host seconds.
    quantile
        Bin minima at or below this quantile of the first fit's residuals enter the re-fit.
    min_span_s
        Until the window spans this many host seconds the slope stays at its last value (the
        nominal one at the start) and only the intercept is fitted.
    max_deviation
        A fitted slope further than this fraction from ``nominal_slope`` is rejected (the slope
        is then kept and only the intercept fitted).
    """

    def __init__(
        self,
        nominal_slope: float,
        *,
        window_s: float = 30.0,
        bin_s: float = 0.5,
        quantile: float = 0.25,
        min_span_s: float = 4.0,
        max_deviation: float = 0.05,
        anchor_s: float = 10.0,
    ) -> None:
        self.nominal_slope = check_positive(nominal_slope, "nominal_slope", "host s per x unit")
        self.window_s = check_positive(window_s, "window_s", "s")
        self.bin_s = check_positive(bin_s, "bin_s", "s")
        if self.bin_s * 4 > self.window_s:
            raise ValueError(f"bin_s ({bin_s} s) must be at most a quarter of window_s ({window_s} s)")
        self.quantile = _check_fraction(quantile, "quantile")
        self.min_span_s = check_positive(min_span_s, "min_span_s", "s")
        self.max_deviation = _check_fraction(max_deviation, "max_deviation", 0.5)
        self.anchor_s = check_positive(anchor_s, "anchor_s", "s")
        self.slope = self.nominal_slope
        self.n_fits = 0
        self._x0: float | None = None
        self._h0 = 0.0
        self._a = 0.0  # host - h0 at x = x0
        self._bins: deque[tuple[float, float]] = deque(maxlen=math.ceil(self.window_s / self.bin_s) + 1)
        self._fresh = True
        self._bin = -1
        self._best: tuple[float, float, float] | None = None  # (x, h, residual) of the open bin

    @property
    def ready(self) -> bool:
        """True once at least one observation was seen."""
        return self._x0 is not None

    def observe(self, x: float, h: float) -> None:
        """Add one observation: position ``x`` of a packet's last sample, arrival ``h`` (host s)."""
        if self._x0 is None:
            self._x0, self._h0 = float(x), float(h)
        xr, hr = x - self._x0, h - self._h0
        r = hr - (self._a + self.slope * xr)
        if self._fresh:
            self._a += r  # the first point after a start or a re-base sets the line
            r, self._fresh = 0.0, False
        elif self.n_fits == 0 and r < 0:
            self._a += r  # before the first fit: follow the running lower envelope
            r = 0.0
        b = math.floor(hr / self.bin_s)
        if b != self._bin:
            if self._best is not None:
                self._bins.append(self._best[:2])
                self._refit(hr)
            self._bin, self._best = b, (xr, hr, r)
        elif self._best is None or r < self._best[2]:
            self._best = (xr, hr, r)

    def rebase(self) -> None:
        """Forget the intercept (the x axis jumped by an unknown amount); keep the slope.

        Used after a reconnect or a loss whose size is only estimated: the next observation
        sets a new line with the slope learnt so far, and the fit starts again from there.
        """
        self._bins.clear()
        self._best = None
        self._bin = -1
        self._fresh = True
        self.n_fits = 0

    def lower_to(self, x: float, h: float) -> bool:
        """Move the line down to pass through ``(x, h)`` if it lies above it; keep the slope.

        An arrival at ``h`` proves that position ``x`` was taken by ``h``: a line later than
        that was anchored on late arrivals (a stalled host), so the observations that held it
        up are forgotten and the fit follows the lower envelope again from this point.
        Returns True when the line moved.
        """
        if self._x0 is None or h >= self.at(x):
            return False
        self._a += h - self.at(x)
        self._bins.clear()
        self._best = None
        self._bin = -1
        self._fresh = False
        self.n_fits = 0
        return True

    def _refit(self, h_now: float) -> None:
        every = np.array(self._bins, dtype=np.float64)
        pts = every[every[:, 1] >= h_now - self.window_s]
        if not pts.size:  # a stream silent for longer than the window: keep its last point
            pts = every[-1:]
        x, h = pts[:, 0], pts[:, 1]
        slope = self.slope
        if x.size >= 4 and h[-1] - h[0] >= self.min_span_s:
            s, a = _lstsq(x, h)
            res = h - (a + s * x)
            keep = res <= _low(res, self.quantile)
            if np.count_nonzero(keep) >= 3:
                s, a = _lstsq(x[keep], h[keep])
            if abs(s / self.nominal_slope - 1.0) <= self.max_deviation:
                slope = s
        res = h - slope * x
        recent = res[h >= h_now - self.anchor_s]
        if recent.size:  # none when the stream was silent for longer than anchor_s: keep them all
            res = recent
        self._a = float(np.mean(res[res <= _low(res, self.quantile)]))
        self.slope = float(slope)
        self.n_fits += 1

    def map(self, x: np.ndarray | float) -> np.ndarray:
        """Host times (s, float64) of positions ``x`` under the current fit."""
        if self._x0 is None:
            raise RuntimeError("ClockFit.map called before any observation")
        return self._h0 + self._a + self.slope * (np.asarray(x, dtype=np.float64) - self._x0)

    def at(self, x: float) -> float:
        """Host time (s) of one position ``x`` (scalar fast path of :meth:`map`)."""
        if self._x0 is None:
            raise RuntimeError("ClockFit.at called before any observation")
        return self._h0 + self._a + self.slope * (x - self._x0)

    def inverse(self, h: float) -> float:
        """Position ``x`` whose fitted host time is ``h``."""
        if self._x0 is None:
            raise RuntimeError("ClockFit.inverse called before any observation")
        return self._x0 + (h - self._h0 - self._a) / self.slope


def _low(values: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``values`` (lower order statistic; cheaper than ``np.quantile``)."""
    k = int(q * (values.size - 1))
    return float(np.partition(values, k)[k])


def _lstsq(x: np.ndarray, h: np.ndarray) -> tuple[float, float]:
    """Least-squares slope and intercept of ``h`` on ``x`` (centred for conditioning)."""
    xm, hm = x.mean(), h.mean()
    dx = x - xm
    sxx = float(dx @ dx)
    if sxx == 0.0:
        return math.nan, math.nan
    s = float(dx @ (h - hm)) / sxx
    return s, float(hm - s * xm)


class MonotonicMap:
    """Emitted sample times from a :class:`ClockFit`, strictly increasing across fit changes.

    Each call continues from the last emitted time: the difference ``delta`` between that time
    and the current fit at the same position is carried and shrunk towards zero by at most
    ``max_slew`` seconds per second of fitted time (and by up to half of a gap's span when
    positions jump over a gap). Consecutive times are thus at least ``(1 - max_slew)`` fitted
    periods apart.

    Parameters
    ----------
    fit
        The clock fit to follow.
    max_slew
        Largest rate of correction, seconds per second, in (0, 0.5).
    """

    def __init__(self, fit: ClockFit, max_slew: float = 0.02) -> None:
        self.fit = fit
        self.max_slew = _check_fraction(max_slew, "max_slew", 0.5)
        self._last_x: float | None = None
        self._last_t = -math.inf

    @property
    def last_time(self) -> float:
        """The last emitted time (``-inf`` before the first)."""
        return self._last_t

    def times(self, x: np.ndarray, gap: bool = False) -> np.ndarray:
        """Host times (float64, same shape as ``x``) of increasing positions ``x``.

        ``gap`` says that ``x[0]`` follows the last emitted position across a gap, so up to
        half the gap's span may be used to absorb a correction.
        """
        x = np.asarray(x, dtype=np.float64)
        base = self.fit.map(x)
        if self._last_x is None or x.size == 0:
            if x.size:
                self._last_x, self._last_t = float(x[-1]), float(base[-1])
            return base
        delta0 = self._last_t - self.fit.at(self._last_x)
        if delta0 != 0.0:
            span = self.fit.slope * (x - self._last_x)
            allow = self.max_slew * span
            if gap:
                allow = allow + (0.5 - self.max_slew) * span[0]
            base = base + math.copysign(1.0, delta0) * np.maximum(abs(delta0) - allow, 0.0)
        self._last_x, self._last_t = float(x[-1]), float(base[-1])
        return base
