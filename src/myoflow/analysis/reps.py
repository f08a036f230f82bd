"""Reps and their phases from a hip flexion angle, one segment's angle, or (no IMU) the EMG.

In glute bridges, hip thrusts and deadlifts the concentric phase is hip *extension*: the flexion
angle falls from the bottom position to lockout. :func:`segment_reps` works on any angle where
larger means more flexed (:func:`movement_angle` builds one from the worn IMUs and says which):

1. the angle is smoothed (zero-phase Butterworth low-pass, ``smooth_hz``);
2. an *excursion* starts when the extension (the session's flexed level minus the angle)
   exceeds ``min_rep_frac`` of the session's range and ends when it falls below half of that
   (hysteresis); an excursion that does not come back down is not a rep. Partial reps are
   excursions too: only their own range decides where their phases lie;
3. inside each excursion the phase boundaries are where the angular speed is "still": within
   ``still_frac`` of that phase's peak speed of the slowest speed nearby (a fused angle drifts,
   so it is never exactly still), searched only while the angle is within 10 % of the rep's own
   range from the bottom or the top, so a stall halfway up does not end the concentric phase:

``start``      movement onset: the angle leaves the bottom plateau (concentric begins)
``top``        lockout reached (concentric ends, top hold begins)
``eccentric``  lowering begins (top hold ends)
``bottom``     bottom reached (eccentric ends, bottom rest begins)
``end``        the next rep's start, or the end of the data

A rep is **partial** when its range is below ``partial_frac`` of the median range of its set;
a new **set** starts after a bottom rest longer than ``set_gap_s``.

Without an IMU, :func:`segment_reps_emg` finds reps as bursts of the prime movers' envelope
(mode ``"emg"``): ``start`` is the foot of the burst's rise, ``top`` = ``eccentric`` its peak,
``bottom`` the end of its fall; these are activation phases, not movement phases, and ``partial`` is never set
(no range of motion is known).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
from scipy.signal import find_peaks

from myoflow._checks import as_signal, check_positive, check_range, check_rate
from myoflow.analysis._lowpass import butter_lowpass, zero_phase
from myoflow.analysis._nan import interpolate_nan, mean_over_columns

#: How the reps were found: both IMUs (hip angle), one IMU (its segment angle), or the EMG.
REP_SOURCES = ("hip", "segment", "emg")


@dataclass(frozen=True)
class Rep:
    """Sample indices of one rep's phase boundaries (see the module docstring).

    ``rom`` is the rep's range of motion in degrees (NaN for EMG-found reps); ``partial`` and
    ``set_index`` (0-based) as defined above.
    """

    start: int
    top: int
    eccentric: int
    bottom: int
    end: int
    rom: float = float("nan")
    partial: bool = False
    set_index: int = 0

    def times(self, fs: float, t0: float = 0.0) -> dict[str, float]:
        """Phase boundaries in seconds, for data starting at ``t0`` and sampled at ``fs`` Hz."""
        return {k: t0 + getattr(self, k) / fs for k in ("start", "top", "eccentric", "bottom", "end")}


@dataclass(frozen=True)
class MovementAngle:
    """The angle reps are found from: ``angle_deg`` ``(n,)``, larger = more flexed.

    ``source`` is ``"hip"`` (thigh minus pelvis) or ``"segment"`` (one IMU), ``description``
    says which in words for reports.
    """

    angle_deg: np.ndarray
    source: str
    description: str


def movement_angle(
    phi_pelvis: np.ndarray | None = None, phi_thigh: np.ndarray | None = None
) -> MovementAngle:
    """Hip flexion from both segment angles, or one segment's angle when only one IMU is worn.

    Parameters
    ----------
    phi_pelvis, phi_thigh
        Sagittal segment angles ``(n,)`` in degrees (``docs/conventions.md``), on common times.
        The pelvis angle grows as the hip extends, so alone it is negated (larger = more
        flexed); the thigh angle is used as it is.
    """
    if phi_pelvis is not None and phi_thigh is not None:
        pelvis, thigh = _angle(phi_pelvis, "phi_pelvis"), _angle(phi_thigh, "phi_thigh")
        if pelvis.shape != thigh.shape:
            raise ValueError(f"phi_pelvis and phi_thigh must match, got {pelvis.shape} and {thigh.shape}")
        return MovementAngle(thigh - pelvis, "hip", "hip flexion angle (thigh - pelvis IMU)")
    if phi_pelvis is not None:
        return MovementAngle(
            -_angle(phi_pelvis, "phi_pelvis"), "segment", "pelvis segment angle, negated (one IMU)"
        )
    if phi_thigh is not None:
        return MovementAngle(_angle(phi_thigh, "phi_thigh"), "segment", "thigh segment angle (one IMU)")
    raise ValueError("movement_angle needs phi_pelvis, phi_thigh or both; got neither (no IMU: use EMG)")


def segment_reps(
    angle_deg: np.ndarray,
    fs: float,
    min_range_deg: float = 15.0,
    min_rep_frac: float = 0.12,
    still_frac: float = 0.01,
    partial_frac: float = 0.75,
    set_gap_s: float | None = None,
    smooth_hz: float = 5.0,
) -> list[Rep]:
    """Find complete reps in a flexion angle trace.

    Parameters
    ----------
    angle_deg
        Shape ``(n_samples,)``: hip flexion (or segment) angle in degrees; larger = more flexed.
        NaNs (dropped samples) are interpolated.
    fs
        Sample rate in Hz.
    min_range_deg
        No reps when the session's range (2nd to 98th percentile) is smaller than this.
    min_rep_frac
        An excursion must extend the hip by this fraction of the session's range to be a rep.
    still_frac
        Phase boundaries are where the angular speed is below this fraction of the phase's
        peak speed.
    partial_frac
        A rep whose range is below this fraction of its set's median range is partial.
    set_gap_s
        A bottom rest longer than this (s) starts a new set; default: 3 x the median rest,
        at least 5 s.
    smooth_hz
        Cut-off (Hz) of the zero-phase low-pass applied before differentiating.

    Returns
    -------
    Complete reps in time order (a rep whose lowering has not finished is left out).
    """
    fs = check_rate(fs)
    check_positive(min_range_deg, "min_range_deg", "deg")
    check_range(min_rep_frac, "min_rep_frac", 0.01, 0.9)
    check_range(still_frac, "still_frac", 0.001, 0.5)
    check_range(partial_frac, "partial_frac", 0.0, 1.0)
    a = _angle(angle_deg, "angle_deg")
    if a.size < 3 or not np.isfinite(a).any():
        return []
    a = smooth_trace(interpolate_nan(a), fs, smooth_hz)
    lo, hi = np.percentile(a, [2.0, 98.0])
    span = hi - lo
    if span < min_range_deg:
        return []
    ext = hi - a
    enter = min_rep_frac * span
    runs = hysteresis_runs(ext, enter, 0.5 * enter)
    velocity = np.gradient(a) * fs  # deg/s; negative while extending (concentric)
    # A last excursion the data ends in (never back at the bottom) is no rep, but it bounds the
    # rep before it: that rep's lowering and bottom must not be searched inside it.
    tail = runs[-1][1] if runs else 0
    unfinished = np.flatnonzero(ext[tail:] > enter)
    end = a.size
    if runs and unfinished.size:  # its movement onset, found as every rep's start is
        rise = tail + int(unfinished[0])
        level = float(np.max(a[tail : rise + 1]))
        zone = 0.1 * (level - float(np.min(a[rise:])))
        leave = last_index(a[tail:rise] >= level - zone, tail) + 1
        speed = -float(np.min(velocity[leave : rise + 1]))
        end = still_boundary(velocity, tail, leave, speed, still_frac, last=True)
    reps: list[Rep] = []
    for k, (p, q) in enumerate(runs):
        left = runs[k - 1][1] if k else 0
        right = runs[k + 1][0] if k + 1 < len(runs) else end
        ph = rep_phases(a, ext, velocity, left, (p, q), right, still_frac)
        reps.append(Rep(ph.start, ph.top, ph.eccentric, ph.bottom, right, ph.rom))
    return _finish(reps, end, fs, set_gap_s, partial_frac)


class Phases(NamedTuple):
    """One excursion's phase boundaries (indices into the angle) and what found them:
    ``peak`` (largest extension), ``rom`` (deg), ``zone`` (10 % of ``rom``, deg) and
    ``conc_speed`` (peak concentric speed, deg/s)."""

    start: int
    top: int
    eccentric: int
    bottom: int
    peak: int
    rom: float
    zone: float
    conc_speed: float


def rep_phases(
    a: np.ndarray,
    ext: np.ndarray,
    velocity: np.ndarray,
    left: int,
    run: tuple[int, int],
    right: int,
    still_frac: float,
) -> Phases:
    """Phase boundaries of the excursion ``run`` = ``(p, q)`` of the smoothed angle ``a``
    (module docstring, step 3): the one rule offline :func:`segment_reps` and live
    :class:`~myoflow.analysis.live_reps.IncrementalReps` share.

    ``ext`` is the extension (flexed level minus ``a``), ``velocity`` the angular speed
    (deg/s), ``left`` where the search may start (the previous excursion's end) and ``right``
    where it must stop (the next excursion's start, or the end of the usable data).
    """
    p, q = run
    peak = p + int(np.argmax(ext[p:q]))
    level_bottom, level_top = float(np.max(a[left : p + 1])), float(a[peak])
    level_after = float(np.max(a[peak:right]))
    rom = level_bottom - level_top
    zone = 0.1 * rom
    # where the angle leaves the bottom zone / reaches the top zone / leaves it / is back
    leave = last_index(a[left:peak] >= level_bottom - zone, left) + 1
    arrive = first_index(a[leave:q] <= level_top + zone, leave)
    depart = last_index(a[peak:right] <= level_top + zone, peak) + 1
    back = first_index(a[depart:right] >= level_after - zone, depart)
    conc_speed = -float(np.min(velocity[leave : max(arrive, leave + 1)]))
    ecc_speed = float(np.max(velocity[min(depart, back - 1) : back]))
    start = still_boundary(velocity, left, leave, conc_speed, still_frac, last=True)
    top = still_boundary(velocity, arrive, q, conc_speed, still_frac, last=False)
    eccentric = still_boundary(velocity, top, depart, ecc_speed, still_frac, last=True)
    bottom = still_boundary(velocity, back, right, ecc_speed, still_frac, last=False)
    return Phases(start, top, max(top, eccentric), bottom, peak, rom, zone, conc_speed)


def segment_reps_emg(
    envelope: np.ndarray,
    fs: float,
    channels: list[int] | None = None,
    min_prominence_frac: float = 0.25,
    min_rep_s: float = 1.5,
    flat_frac: float = 0.05,
    set_gap_s: float | None = None,
    smooth_hz: float = 2.0,
) -> list[Rep]:
    """EMG-only fallback: reps as bursts of the prime movers' mean envelope.

    Parameters
    ----------
    envelope
        ``(n_samples, n_channels)`` envelopes in a common normalised unit (% MVC or % peak).
    fs
        Sample rate in Hz.
    channels
        Channels to average (:func:`myoflow.analysis.placement.prime_movers`); default all.
    min_prominence_frac
        A burst's prominence must reach this fraction of the driver's range (1st-99th pct).
    min_rep_s
        Bursts closer than this (s) are one rep.
    flat_frac
        ``start``/``bottom``: the last (first) sample before the steepest rise (after the
        steepest fall) where the driver's slope is within this fraction of that steepest
        slope of the flattest slope there: the foot of the rise, the end of the fall.
    set_gap_s, smooth_hz
        As in :func:`segment_reps` (``smooth_hz`` smooths the driver).

    Returns
    -------
    Reps with indices into ``envelope``; ``rom`` NaN, ``partial`` False.
    """
    fs = check_rate(fs)
    env = as_signal(envelope, "envelope", dtype=np.float64)
    check_range(min_prominence_frac, "min_prominence_frac", 0.01, 1.0)
    check_positive(min_rep_s, "min_rep_s", "s")
    check_range(flat_frac, "flat_frac", 0.001, 0.9)
    cols = list(range(env.shape[1])) if channels is None else list(channels)
    if not cols or env.shape[0] < 3:
        return []
    drv = emg_driver(env, fs, cols, smooth_hz)
    lo, hi = np.percentile(drv, [1.0, 99.0])
    if not hi > lo:
        return []
    peaks, _ = find_peaks(
        drv, prominence=min_prominence_frac * (hi - lo), distance=max(1, int(min_rep_s * fs))
    )
    reps: list[Rep] = []
    slope = np.gradient(drv) * fs
    bounds = np.concatenate([[0], peaks, [drv.size - 1]])
    for j, pk in enumerate(peaks):
        lv = bounds[j] + int(np.argmin(drv[bounds[j] : pk + 1]))
        rv = pk + int(np.argmin(drv[pk : bounds[j + 2] + 1]))
        if drv[pk] - drv[rv] < 0.5 * min_prominence_frac * (hi - lo):
            continue  # the burst has not come back down: not finished
        steep_up = lv + int(np.argmax(slope[lv : pk + 1]))
        steep_down = pk + int(np.argmin(slope[pk : rv + 1]))
        start = still_boundary(slope, lv, steep_up, slope[steep_up], flat_frac, last=True)
        bottom = still_boundary(slope, steep_down, rv + 1, slope[steep_down], flat_frac, last=False)
        reps.append(Rep(start, int(pk), int(pk), bottom, drv.size))
    return _finish(reps, drv.size, fs, set_gap_s, None)


def emg_driver(envelope: np.ndarray, fs: float, channels: list[int], smooth_hz: float = 2.0) -> np.ndarray:
    """The trace EMG-only reps are found in: the mean of ``channels`` of ``envelope`` ``(n, ch)``
    (NaN bridged), zero-phase low-passed at ``smooth_hz``; ``(n,)``."""
    env = as_signal(envelope, "envelope", dtype=np.float64)
    return smooth_trace(interpolate_nan(mean_over_columns(env[:, channels])), fs, smooth_hz)


def _finish(
    reps: list[Rep], n: int, fs: float, set_gap_s: float | None, partial_frac: float | None
) -> list[Rep]:
    """Set each rep's end (next start), its set and its partial flag."""
    if not reps:
        return []
    ends = [r.start for r in reps[1:]] + [n]
    reps = [replace(r, end=e) for r, e in zip(reps, ends, strict=True)]
    rests = np.array([(b.start - a.bottom) / fs for a, b in zip(reps[:-1], reps[1:], strict=False)])
    gap = (
        set_gap_s if set_gap_s is not None else max(5.0, 3.0 * float(np.median(rests)) if rests.size else 5.0)
    )
    sets = np.concatenate([[0], np.cumsum(rests > gap)]).astype(int)
    out = []
    for r, s in zip(reps, sets, strict=True):
        partial = False
        if partial_frac is not None:
            typical = np.median([x.rom for x, sx in zip(reps, sets, strict=True) if sx == s])
            partial = bool(r.rom < partial_frac * typical)
        out.append(replace(r, set_index=int(s), partial=partial))
    return out


def hysteresis_runs(x: np.ndarray, enter: float, leave: float) -> list[tuple[int, int]]:
    """``[(p, q), ...]``: runs where ``x`` rose above ``enter`` after being below ``leave``,
    ending (``q``) where it falls below ``leave`` again; open or unprefixed runs are dropped."""
    marks = np.zeros(x.size, dtype=np.int8)
    marks[x > enter] = 1
    marks[x < leave] = -1
    state = _forward_fill(marks)
    change = np.flatnonzero(np.diff(state) != 0) + 1
    ups = change[(state[change] == 1) & (state[change - 1] == -1)]
    downs = change[state[change] == -1]
    runs = []
    for p in ups:
        after = downs[downs > p]
        if after.size:
            runs.append((int(p), int(after[0])))
    return runs


def smooth_trace(a: np.ndarray, fs: float, cutoff_hz: float) -> np.ndarray:
    """Zero-phase 2nd-order Butterworth low-pass of a 1-D trace ``(n,)`` at ``cutoff_hz``
    (capped at 0.4 ``fs``); traces too short to filter come back unchanged."""
    cutoff = min(check_positive(cutoff_hz, "smooth_hz", "Hz"), 0.4 * fs)
    sos = butter_lowpass(2, cutoff, fs)
    return zero_phase(sos, a) if a.size > 15 else a  # sosfiltfilt's numbers, cheaper


def _angle(x: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must have shape (n_samples,), got {a.shape}")
    return a


def still_boundary(velocity: np.ndarray, lo: int, hi: int, speed: float, frac: float, last: bool) -> int:
    """Last (or first) index in ``[lo, hi)`` where the speed is "still": at most ``frac *
    speed`` above the slowest speed in that stretch (a drifting angle is never exactly
    still). ``lo`` (``hi``) for an empty stretch."""
    if hi <= lo:
        return lo if last else hi
    speed_here = np.abs(velocity[lo:hi])
    mask = speed_here <= float(np.min(speed_here)) + frac * abs(speed)
    return last_index(mask, lo) if last else first_index(mask, lo)


def first_index(mask: np.ndarray, offset: int) -> int:
    """Index (plus ``offset``) of the first True in ``mask``; its end when there is none."""
    hits = np.flatnonzero(mask)
    return offset + int(hits[0] if hits.size else mask.size)


def last_index(mask: np.ndarray, offset: int) -> int:
    """Index (plus ``offset``) of the last True in ``mask``; 0 when there is none."""
    hits = np.flatnonzero(mask)
    return offset + int(hits[-1] if hits.size else 0)


def _forward_fill(marks: np.ndarray) -> np.ndarray:
    """Carry the last non-zero mark forward (zeros before the first mark stay zero)."""
    idx = np.where(marks != 0, np.arange(marks.size), 0)
    np.maximum.accumulate(idx, out=idx)
    return np.where((idx == 0) & (marks[0] == 0), 0, marks[idx])
