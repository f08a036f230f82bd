"""Reps and their phases from a hip flexion angle (or one segment's angle).

In glute bridges, hip thrusts and deadlifts the concentric phase is hip *extension*: the flexion
angle falls from the bottom position to lockout. A rep is found by hysteresis on the angle's
range (robust percentiles), then its phase boundaries are placed where the angle leaves or
reaches a plateau (within ``plateau_frac`` of the range from that rep's own extreme):

``start``      movement onset: the angle leaves the bottom plateau (concentric begins)
``top``        lockout reached (concentric ends, top hold begins)
``eccentric``  lowering begins (top hold ends)
``bottom``     bottom reached (eccentric ends, bottom rest begins)
``end``        the next rep's start, or the end of the data
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from myoflow.dsp._checks import check_positive, check_rate


@dataclass(frozen=True)
class Rep:
    """Sample indices of one rep's phase boundaries (see the module docstring)."""

    start: int
    top: int
    eccentric: int
    bottom: int
    end: int

    def times(self, fs: float, t0: float = 0.0) -> dict[str, float]:
        """Phase boundaries in seconds, for data starting at ``t0`` and sampled at ``fs`` Hz."""
        return {k: t0 + getattr(self, k) / fs for k in ("start", "top", "eccentric", "bottom", "end")}


def segment_reps(
    angle_deg: np.ndarray,
    fs: float,
    min_range_deg: float = 15.0,
    hysteresis: float = 0.35,
    plateau_frac: float = 0.04,
) -> list[Rep]:
    """Find complete reps in a flexion angle trace.

    Parameters
    ----------
    angle_deg
        Shape ``(n_samples,)``: hip flexion (or segment) angle in degrees; larger = more flexed.
    fs
        Sample rate in Hz.
    min_range_deg
        Movements smaller than this (between the 5th and 95th percentiles) are not reps.
    hysteresis
        A rep must come within this fraction of the range of the top, then of the bottom.
    plateau_frac
        Phase boundaries are where the angle is within this fraction of the range of the rep's
        own bottom or top.

    Returns
    -------
    Complete reps in time order (a rep whose lowering has not finished is left out).
    """
    check_rate(fs)
    check_positive(min_range_deg, "min_range_deg", "deg")
    a = np.asarray(angle_deg, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"angle_deg must have shape (n_samples,), got {a.shape}")
    if a.size < 3 or not np.isfinite(a).any():
        return []
    a = _fill_nan(a)
    lo, hi = np.percentile(a, [5.0, 95.0])
    span = hi - lo
    if span < min_range_deg:
        return []
    marks = np.zeros(a.size, dtype=np.int8)
    marks[a < lo + hysteresis * span] = 1  # near the top (extended)
    marks[a > hi - hysteresis * span] = -1  # near the bottom (flexed)
    state = _forward_fill(marks)
    change = np.flatnonzero(np.diff(state) != 0) + 1
    ups = change[state[change] == 1]
    downs = change[state[change] == -1]
    if state[0] == -1:  # the data starts at the bottom: that counts as arriving there
        downs = np.concatenate([[0], downs])
    tol = plateau_frac * span
    reps: list[Rep] = []
    for k, up in enumerate(ups):
        prev_down = downs[downs < up]
        if prev_down.size == 0:
            continue  # the data starts mid-rep: no bottom before this concentric phase
        next_down = downs[downs > up]
        if next_down.size == 0:
            break
        p, q = prev_down[-1], next_down[0]
        nxt_up = ups[k + 1] if k + 1 < ups.size else a.size
        bottom_level = a[p:up].max()
        start = p + int(np.flatnonzero(a[p:up] >= bottom_level - tol)[-1])
        top_level = a[up:q].min()
        near_top = np.flatnonzero(a[up:q] <= top_level + tol)
        next_bottom_level = a[q:nxt_up].max()
        reached = np.flatnonzero(a[q:nxt_up] >= next_bottom_level - tol)
        rep = Rep(start=start, top=up + int(near_top[0]), eccentric=up + int(near_top[-1]),
                  bottom=q + int(reached[0]), end=int(nxt_up))
        reps.append(rep)
    # each rep ends where the next one starts
    return [
        Rep(r.start, r.top, r.eccentric, r.bottom, reps[i + 1].start if i + 1 < len(reps) else a.size)
        for i, r in enumerate(reps)
    ]


def _forward_fill(marks: np.ndarray) -> np.ndarray:
    """Carry the last non-zero mark forward (zeros before the first mark stay zero)."""
    idx = np.where(marks != 0, np.arange(marks.size), 0)
    np.maximum.accumulate(idx, out=idx)
    return np.where((idx == 0) & (marks[0] == 0), 0, marks[idx])


def _fill_nan(a: np.ndarray) -> np.ndarray:
    bad = ~np.isfinite(a)
    if not bad.any():
        return a
    good = np.flatnonzero(~bad)
    out = a.copy()
    out[bad] = np.interp(np.flatnonzero(bad), good, a[good])
    return out
