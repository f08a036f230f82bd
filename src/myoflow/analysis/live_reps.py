"""Incremental rep segmentation: the offline rules of :mod:`myoflow.analysis.reps`, kept as state.

:class:`IncrementalReps` takes the movement angle (larger = more flexed) cell by cell on the live
grid and finds the same reps and phase boundaries as :func:`~myoflow.analysis.reps.segment_reps`,
without re-running over the history:

* **Smoothing.** The offline zero-phase 5 Hz low-pass, split in two: the forward pass runs
  causally with its state carried; the backward pass runs over fixed 20 ms steps, each started
  ``settle_s`` later (its start-up transient decays by ``exp(-settle/tau)``, ``tau`` ~ 45 ms),
  so the smoothed angle is final ``settle_s`` behind the newest cell and does not depend on
  how the data were chunked. NaN cells (gaps) are filled linearly once the next value arrives.
* **Session range.** The 2nd and 98th percentiles of every final angle so far, from a running
  histogram (0.05 deg bins): the offline session range, as seen so far.
* **Excursions and phases** are searched only from the end of the previous rep's excursion
  (offline ``left``), with the offline hysteresis and "still" rules, on the angle so far.
* **When a rep is finished.** Its bottom window must have passed: the rep ends at ``bottom +
  cap``, with ``cap`` the median bottom rest (bottom to next movement onset) of the reps so far
  (``default_rest_s`` before any), or earlier when the next rep is under way (the hip has left
  the bottom zone, 10 % of this rep's range, again). In that case the window is cut at the next
  movement onset, estimated with this rep's concentric speed. That end time is
  :attr:`LiveRep.ending_s`, the moment the live latency is measured from.
* **Sets and partial reps**: a bottom rest longer than ``max(5 s, 3 x median rest so far)``
  starts a new set; a rep is partial when its range is below ``partial_frac`` of the median
  range of its set so far (with the last reps of the previous set while the set has fewer
  than three).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfilt, sosfilt_zi

from myoflow._checks import check_positive, check_range, check_rate
from myoflow.analysis.reps import Rep, hysteresis_runs, rep_phases, still_boundary

_BIN_DEG = 0.05
_EDGE = 2  # cells at the end of the final angle where a bottom is not decided yet
_HIST_LO = -720.0
_N_BINS = int(1440.0 / _BIN_DEG)


@dataclass(frozen=True)
class LiveRep:
    """A finished rep: phase boundaries as absolute grid cells (``rep``; its analysis window
    ends at ``rep.end``), the grid rate ``fs`` (Hz), ``ending_s`` (module docstring) and the
    bottom window cap used (s)."""

    rep: Rep
    fs: float
    ending_s: float
    bottom_cap_s: float


class IncrementalReps:
    """Reps from a movement angle pushed cell by cell (module docstring).

    Parameters
    ----------
    fs
        Grid rate in Hz.
    min_range_deg, min_rep_frac, still_frac, partial_frac, smooth_hz
        As in :func:`~myoflow.analysis.reps.segment_reps`.
    default_rest_s
        Bottom window before any rest has been seen (s).
    settle_s
        Lag (s) after which the smoothed angle is final.
    keep_s
        Angle history kept (s); a rep longer than this is not found.
    """

    def __init__(
        self,
        fs: float,
        *,
        min_range_deg: float = 15.0,
        min_rep_frac: float = 0.12,
        still_frac: float = 0.01,
        partial_frac: float = 0.75,
        smooth_hz: float = 5.0,
        default_rest_s: float = 2.0,
        settle_s: float = 0.3,
        keep_s: float = 120.0,
    ) -> None:
        self.fs = check_rate(fs)
        self.min_range_deg = check_positive(min_range_deg, "min_range_deg", "deg")
        self.min_rep_frac = check_range(min_rep_frac, "min_rep_frac", 0.01, 0.9)
        self.still_frac = check_range(still_frac, "still_frac", 0.001, 0.5)
        self.partial_frac = check_range(partial_frac, "partial_frac", 0.0, 1.0)
        self.default_rest_s = check_positive(default_rest_s, "default_rest_s", "s")
        self._sos = butter(
            2, min(check_positive(smooth_hz, "smooth_hz", "Hz"), 0.4 * self.fs), fs=self.fs, output="sos"
        )
        self._zi0 = sosfilt_zi(self._sos)
        self._settle = max(1, int(np.ceil(check_positive(settle_s, "settle_s", "s") * self.fs)))
        self._step_n = max(1, int(round(0.02 * self.fs)))
        self._keep = max(int(check_positive(keep_s, "keep_s", "s") * self.fs), 4 * self._settle)
        self._base: int | None = None  # absolute cell of array index 0
        self._raw = np.empty(0)  # filled angle
        self._fwd = np.empty(0)  # forward-filtered
        self._a = np.empty(0)  # final smoothed angle (shorter than _fwd by up to settle + step)
        self._tail = np.empty(0)  # provisional smoothed angle after _a, from the last step
        self._decided: list[LiveRep] = []
        self._zi: np.ndarray | None = None
        self._next: int | None = None  # next absolute cell expected
        self._nan_run = 0  # NaN cells waiting for the next finite value
        self._hist = np.zeros(_N_BINS, dtype=np.int64)
        self._left = 0  # array index where the search for the next rep starts
        self._cand: dict[str, float] | None = None
        self._conc_speed: float | None = None
        self.reps: list[Rep] = []
        self._rests: list[float] = []

    # --- feeding -------------------------------------------------------------------------
    def push(self, k0: int, angle: np.ndarray) -> None:
        """Append complete cells ``k0, k0 + 1, ...`` of the angle (deg; NaN where missing)."""
        x = np.asarray(angle, dtype=np.float64).ravel()
        if self._next is not None and k0 > self._next:  # cells skipped: missing
            x = np.concatenate((np.full(k0 - self._next, np.nan), x))
            k0 = self._next
        elif self._next is not None and k0 < self._next:
            x = x[self._next - k0 :]
            k0 = self._next
        if x.size == 0:
            return
        self._next = k0 + x.size
        finite = np.flatnonzero(np.isfinite(x))
        if self._base is None:
            if finite.size == 0:
                return
            x = x[finite[0] :]
            self._base = k0 + int(finite[0])
            finite = finite - finite[0]
        if finite.size == 0:
            self._nan_run += x.size
            return
        last = int(finite[-1])
        vals = x[: last + 1].copy()
        vals = np.concatenate((np.full(self._nan_run, np.nan), vals))
        bad = ~np.isfinite(vals)
        if bad.any():
            good = np.flatnonzero(~bad)
            xp = good.astype(np.float64)
            fp = vals[good]
            if self._raw.size:  # interpolate from the last value before the gap
                xp, fp = np.concatenate(([-1.0], xp)), np.concatenate(([self._raw[-1]], fp))
            vals[bad] = np.interp(np.flatnonzero(bad), xp, fp)
        self._nan_run = x.size - 1 - last
        self._append(vals)

    def _append(self, vals: np.ndarray) -> None:
        if self._zi is None:
            self._zi = self._zi0 * vals[0]
        fwd, self._zi = sosfilt(self._sos, vals, zi=self._zi)
        self._raw = np.concatenate((self._raw, vals))
        self._fwd = np.concatenate((self._fwd, fwd))
        while self._fwd.size - self._a.size >= self._step_n + self._settle:
            n0 = self._a.size
            nb = n0 + self._step_n + self._settle
            back = self._backward(n0, nb)
            self._a = np.concatenate((self._a, back[: self._step_n]))
            self._tail = back[self._step_n :]
            idx = np.clip(((back[: self._step_n] - _HIST_LO) / _BIN_DEG).astype(np.int64), 0, _N_BINS - 1)
            self._hist += np.bincount(idx, minlength=_N_BINS)
            self._trim()
            self._segment()
            self._decide()

    def _backward(self, n0: int, nb: int) -> np.ndarray:
        """Backward pass over ``_fwd[n0:nb]`` started at its end's steady state."""
        rev = self._fwd[n0:nb][::-1]
        out, _ = sosfilt(self._sos, rev, zi=self._zi0 * rev[0])
        return out[::-1]

    def _trim(self) -> None:
        drop = min(self._left, self._a.size - self._keep)
        if drop >= self._keep // 4 and self._base is not None:
            self._raw, self._fwd, self._a = self._raw[drop:], self._fwd[drop:], self._a[drop:]
            self._base += drop
            self._left -= drop

    # --- segmentation --------------------------------------------------------------------
    def _range(self) -> tuple[float, float] | None:
        total = int(self._hist.sum())
        if total < 3:
            return None
        c = np.cumsum(self._hist)
        lo, hi = (_HIST_LO + (np.searchsorted(c, q * total) + 0.5) * _BIN_DEG for q in (0.02, 0.98))
        return (lo, hi) if hi - lo >= self.min_range_deg else None

    def _segment(self) -> None:
        """Find the first complete excursion after ``_left`` and its phases (array indices)."""
        self._cand = None
        rng = self._range()
        a = self._a[self._left :]
        if rng is None or a.size < 3:
            return
        lo, hi = rng
        span = hi - lo
        ext = hi - a
        runs = hysteresis_runs(ext, self.min_rep_frac * span, 0.5 * self.min_rep_frac * span)
        if not runs:
            return
        right = runs[1][0] if len(runs) > 1 else a.size
        v = np.gradient(a) * self.fs
        ph = rep_phases(a, ext, v, 0, runs[0], right, self.still_frac)
        # with no next excursion in sight the data's end is the search's end, where the speed
        # (np.gradient) is one-sided: a "still" found in the last 2 cells is not final yet (on
        # gait it came 70-100 ms before the offline bottom)
        if ph.bottom >= right - (_EDGE if len(runs) == 1 else 0):
            return
        L = self._left
        self._cand = {
            "start": L + ph.start,
            "top": L + ph.top,
            "eccentric": L + ph.eccentric,
            "bottom": L + ph.bottom,
            "q": L + runs[0][1],
            "peak": L + ph.peak,
            "rom": ph.rom,
            "zone": ph.zone,
            "conc_speed": ph.conc_speed,
        }

    def bottom_cap_s(self) -> float:
        """The live bottom window (s): median rest so far, ``default_rest_s`` before any."""
        return float(np.median(self._rests)) if self._rests else self.default_rest_s

    def _decide(self) -> None:
        """Freeze the reps whose bottom window the angle so far covers (module docstring).

        Runs once per smoothing step, on the final angle plus the provisional tail of that
        step only, so the decisions do not depend on how the data were chunked."""
        extent = self._a.size + self._tail.size
        while self._cand is not None and self._base is not None:
            c = self._cand
            cap_s = self.bottom_cap_s()
            cap = int(round(cap_s * self.fs))
            end = int(c["bottom"]) + cap
            ending = end
            nxt = self._next_start(c)
            if nxt is not None:
                ending = min(end, nxt[1])
                end = max(int(c["bottom"]), min(end, nxt[0]))
            if max(end, ending, int(c["bottom"]) + self._settle) >= extent:
                break
            self._decided.append(self._finish(c, end, ending, cap_s))

    def finished(self, frontier: int) -> list[LiveRep]:
        """Decided reps whose analysis window ends before absolute cell ``frontier`` (all the
        other data their metrics need is complete), in order; each is delivered once."""
        out = []
        while self._decided and self._decided[0].rep.end < frontier:
            out.append(self._decided.pop(0))
        return out

    def _next_start(self, c: dict[str, float]) -> tuple[int, int] | None:
        """``(estimated next movement onset, cell where the hip left the bottom zone)`` (array
        indices) if the next rep is under way, from the provisional angle."""
        lo = int(c["bottom"])
        a = self._provisional()
        if a.size <= lo + 1:
            return None
        level = float(np.max(a[int(c["peak"]) :]))
        inside = a[lo:] >= level - c["zone"]
        arrived = int(np.argmax(inside)) if inside.any() else inside.size
        below = np.flatnonzero(~inside[arrived:])
        if below.size == 0:
            return None
        below = below + arrived
        leave = lo + int(below[0])
        v = np.gradient(a[int(c["q"]) :]) * self.fs
        start = int(c["q"]) + still_boundary(
            v, 0, leave - int(c["q"]), c["conc_speed"], self.still_frac, last=True
        )
        return start, leave

    def _recent_speed(self, window_s: float = 0.2) -> float:
        """Angular speed (deg/s) now: the least-squares slope of the raw angle over the last
        ``window_s`` (it lags by about half of it). The smoothed trace cannot say: its zero-phase
        filter flattens the newest samples, where the speed would read ~0."""
        recent = self._raw[-max(3, int(round(window_s * self.fs))) :]
        if recent.size < 3:
            return 0.0
        t = np.arange(recent.size) / self.fs
        return float(np.polyfit(t, recent, 1)[0])

    def _provisional(self) -> np.ndarray:
        """Final smoothed angle plus the last step's provisional (unsettled) tail."""
        return np.concatenate((self._a, self._tail))

    def _finish(self, c: dict[str, float], end: int, ending: int, cap_s: float) -> LiveRep:
        base = self._base or 0
        start = int(c["start"])
        if self.reps:
            rest = (base + start - self.reps[-1].bottom) / self.fs
            self._rests.append(rest)
            gap = max(5.0, 3.0 * float(np.median(self._rests)))
            set_index = self.reps[-1].set_index + int(rest > gap)
        else:
            set_index = 0
        same = [r.rom for r in self.reps if r.set_index == set_index]
        if len(same) < 2:
            same = [r.rom for r in self.reps[-(3 - len(same)) :] if r.set_index != set_index] + same
        typical = float(np.median([*same, c["rom"]]))
        rep = Rep(
            start=base + start,
            top=base + int(c["top"]),
            eccentric=base + int(c["eccentric"]),
            bottom=base + int(c["bottom"]),
            end=base + end,
            rom=float(c["rom"]),
            partial=bool(c["rom"] < self.partial_frac * typical),
            set_index=set_index,
        )
        self.reps.append(rep)
        self._conc_speed = c["conc_speed"]
        self._left = int(c["q"])
        self._cand = None
        self._segment()
        return LiveRep(rep, self.fs, (base + ending) / self.fs, cap_s)

    # --- display -------------------------------------------------------------------------
    def phase(self) -> str | None:
        """Current phase: ``"concentric"``, ``"top"``, ``"eccentric"``, ``"bottom"``, or None
        before the session's range is known (from the provisional angle's speed)."""
        if self._range() is None or self._base is None:
            return None
        a = self._provisional()
        if self._cand is not None:
            return "bottom" if a.size - 1 >= self._cand["bottom"] else "eccentric"
        lo, hi = self._range() or (0.0, 0.0)
        tail = a[self._left :]
        if tail.size < 3 or hi - tail[-1] < self.min_rep_frac * (hi - lo):
            return "bottom"
        v = self._recent_speed()
        still = 0.1 * (self._conc_speed or 20.0)
        if v < -still:
            return "concentric"
        return "eccentric" if v > still else "top"
