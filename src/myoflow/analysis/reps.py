"""Reps and their phases from a hip flexion angle (or one segment's angle).

In glute bridges, hip thrusts and deadlifts the concentric phase is hip *extension*: the flexion
angle falls from the bottom position to lockout. A rep is found by hysteresis on the angle's
range (robust percentiles). Its phase boundaries are where the angular speed drops below
``still_frac`` of that phase's peak speed, searched only inside the bottom or top zone (the
``hysteresis`` fraction of the range nearest the bottom or top), so a stall halfway up does not
end the concentric phase:

``start``      movement onset: the angle leaves the bottom plateau (concentric begins)
``top``        lockout reached (concentric ends, top hold begins)
``eccentric``  lowering begins (top hold ends)
``bottom``     bottom reached (eccentric ends, bottom rest begins)
``end``        the next rep's start, or the end of the data
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from myoflow._checks import check_positive, check_rate


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
    still_frac: float = 0.05,
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
    still_frac
        Phase boundaries are where the angular speed is below this fraction of the phase's
        peak speed.

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
    velocity = np.gradient(a) * fs  # deg/s; negative while extending (concentric)
    near_bottom = a > hi - hysteresis * span
    near_top = a < lo + hysteresis * span
    reps: list[Rep] = []
    for k, up in enumerate(ups):
        prev_down = downs[downs < up]
        if prev_down.size == 0:
            continue  # the data starts mid-rep: no bottom before this concentric phase
        next_down = downs[downs > up]
        if next_down.size == 0:
            break
        p, q = int(prev_down[-1]), int(next_down[0])
        nxt_up = int(ups[k + 1]) if k + 1 < ups.size else a.size
        # concentric: fastest extension between leaving the bottom zone and reaching the top zone
        conc = p + int(np.argmin(velocity[p:up]))
        still = np.abs(velocity) <= still_frac * -velocity[conc]
        start = _last(still[p:conc] & near_bottom[p:conc], p)
        top = _first(still[conc:q] & near_top[conc:q], conc)
        ecc_peak = up + int(np.argmax(velocity[up:nxt_up]))
        still = np.abs(velocity) <= still_frac * velocity[ecc_peak]
        eccentric = _last(still[top:ecc_peak] & near_top[top:ecc_peak], top)
        bottom = _first(still[ecc_peak:nxt_up] & near_bottom[ecc_peak:nxt_up], ecc_peak)
        reps.append(Rep(start=start, top=top, eccentric=eccentric, bottom=bottom, end=nxt_up))
    # each rep ends where the next one starts
    return [
        Rep(r.start, r.top, r.eccentric, r.bottom, reps[i + 1].start if i + 1 < len(reps) else a.size)
        for i, r in enumerate(reps)
    ]


def _first(mask: np.ndarray, offset: int) -> int:
    """Index (plus ``offset``) of the first True in ``mask``; its end when there is none."""
    hits = np.flatnonzero(mask)
    return offset + int(hits[0] if hits.size else mask.size)


def _last(mask: np.ndarray, offset: int) -> int:
    """Index (plus ``offset``) of the last True in ``mask``; 0 when there is none."""
    hits = np.flatnonzero(mask)
    return offset + int(hits[-1] if hits.size else 0)


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
