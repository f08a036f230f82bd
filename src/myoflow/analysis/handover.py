"""Hip-extension handover: hamstrings lead, gluteus maximus takes over towards lockout.

Definitions (with references in ``docs/metrics.md``), per concentric phase:

* ``G`` and ``H``: mean normalised analysis envelope of the glute (gluteus maximus) and of the
  hamstring channels; the **glute share** is ``G / (G + H)``.
* **Crossover**: the first sample from ``search_s`` before movement onset up to the top where
  the share rises through 0.5 (previous sample below, this one at or above, linearly
  interpolated between them), while at least one group is above its onset threshold, and stays
  >= 0.5 for ``hold_s`` (100 ms). Reported as a time (s), relative to movement onset (ms), as a
  hip angle (deg, interpolated) and as % of the concentric phase. ``None`` when there is none.
* **Stall**: in the concentric phase, the longest run of at least ``min_stall_s`` where the hip
  extension speed is below ``stall_frac`` of its concentric peak while the hip is between 10 %
  and 90 % of the rep's range; reported with its times, hip angle, minimum speed (% of peak),
  the drop of the combined activation ``G + H`` during it (% of its maximum before the stall)
  and its distance from the crossover. Needs an angle: none in EMG-only mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from myoflow._checks import check_positive, check_range, check_rate
from myoflow.analysis._nan import nan_max, nan_min
from myoflow.analysis.relaxation import true_runs
from myoflow.analysis.reps import smooth_trace

#: Half-width (s) of the straight-line fit that refines the crossing time.
REFINE_S = 0.1


@dataclass(frozen=True)
class Stall:
    """A pause in hip extension (module docstring). Times in s on the session clock."""

    start_s: float
    end_s: float
    hip_deg: float
    min_speed_pct: float
    activation_drop_pct: float
    from_crossover_s: float | None

    @property
    def duration_s(self) -> float:
        """Length of the stall, s."""
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Handover:
    """The handover in one concentric phase (module docstring).

    ``hamstring_onset_ms`` / ``glute_onset_ms``: earliest onset of each group relative to
    movement onset (None: no onset, e.g. already active); ``crossover_*``: None when no
    crossover; ``stall``: None when none (or no angle).
    """

    hamstring_onset_ms: float | None
    glute_onset_ms: float | None
    crossover_s: float | None
    crossover_ms: float | None
    crossover_hip_deg: float | None
    crossover_pct: float | None
    stall: Stall | None


def glute_share(glute: np.ndarray, hamstring: np.ndarray) -> np.ndarray:
    """``G / (G + H)`` sample by sample (NaN where both are 0)."""
    g = np.asarray(glute, dtype=np.float64)
    h = np.asarray(hamstring, dtype=np.float64)
    total = g + h
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, g / np.where(total > 0, total, 1.0), np.nan)


def find_crossover(
    glute: np.ndarray,
    hamstring: np.ndarray,
    fs: float,
    t0: float,
    from_s: float,
    to_s: float,
    active: np.ndarray,
    hold_s: float = 0.1,
) -> float | None:
    """Time (s) of the crossover in ``[from_s, to_s]`` (module docstring), or None.

    Parameters
    ----------
    glute, hamstring
        ``(n,)`` group envelopes ``G`` and ``H``; sample 0 at ``t0`` (s).
    fs
        Sample rate in Hz.
    active
        ``(n,)`` bool: at least one group above its onset threshold.
    hold_s
        The share must stay >= 0.5 this long after the crossing (s).
    """
    fs = check_rate(fs)
    share = glute_share(glute, hamstring)
    n = share.size
    i0 = int(np.clip(np.ceil((from_s - t0) * fs), 1, n))
    i1 = int(np.clip(np.floor((to_s - t0) * fs) + 1, i0, n))
    hold = max(1, int(round(check_positive(hold_s, "hold_s", "s") * fs)))
    above = share >= 0.5
    # a crossing needs a real sample below 0.5 before it: a step out of lost samples (NaN) is not one
    cand = np.flatnonzero((share[i0 - 1 : i1 - 1] < 0.5) & above[i0:i1] & active[i0:i1]) + i0
    if cand.size == 0:
        return None
    # a crossing holds when the next below-0.5 sample is at least `hold` samples away
    below = np.flatnonzero(~above)
    nxt = np.searchsorted(below, cand)
    next_below = np.where(nxt < below.size, below[np.minimum(nxt, below.size - 1)], n)
    ok = cand[(next_below - cand >= hold) & (cand + hold <= n)]
    if ok.size == 0:
        return None
    i = int(ok[0])
    a, b = share[i - 1], share[i]
    frac = (0.5 - a) / (b - a) if b != a else 0.0
    t_x = (i - 1 + frac) / fs
    w = int(round(REFINE_S * fs))
    if w >= 2:
        lo, hi = max(0, i - w), min(n, i + w + 1)
        seg = share[lo:hi]
        ok_seg = np.isfinite(seg)
        if ok_seg.sum() >= 3:
            tt = (np.arange(lo, hi) / fs)[ok_seg]
            slope, icpt = np.polyfit(tt - t_x, seg[ok_seg], 1)
            if slope > 0:
                shift = (0.5 - icpt) / slope
                if abs(shift) <= REFINE_S:
                    t_x += shift
    return t0 + t_x


def find_stall(
    angle_deg: np.ndarray,
    angle_fs: float,
    angle_t0: float,
    start_s: float,
    top_s: float,
    combined: np.ndarray,
    emg_fs: float,
    emg_t0: float,
    crossover_s: float | None,
    stall_frac: float = 0.2,
    min_stall_s: float = 0.15,
    smooth_hz: float = 5.0,
) -> Stall | None:
    """The longest stall in the concentric phase ``[start_s, top_s]`` (module docstring).

    Parameters
    ----------
    angle_deg
        ``(m,)`` flexion angle (larger = more flexed) at ``angle_fs`` Hz from ``angle_t0``.
    combined
        ``(n,)`` combined activation ``G + H`` at ``emg_fs`` Hz from ``emg_t0``.
    crossover_s
        The rep's crossover time (s), or None.
    """
    angle_fs, emg_fs = check_rate(angle_fs, "angle_fs"), check_rate(emg_fs, "emg_fs")
    check_range(stall_frac, "stall_frac", 0.01, 0.9)
    a = smooth_trace(np.asarray(angle_deg, dtype=np.float64), angle_fs, smooth_hz)
    j0 = int(np.clip(round((start_s - angle_t0) * angle_fs), 0, a.size))
    j1 = int(np.clip(round((top_s - angle_t0) * angle_fs) + 1, j0, a.size))
    if j1 - j0 < 3:
        return None
    seg = a[j0:j1]
    speed = -np.gradient(seg) * angle_fs  # deg/s of extension
    peak = float(np.max(speed))
    rom = float(seg[0] - seg.min())
    if peak <= 0 or rom <= 0:
        return None
    progress = (seg[0] - seg) / rom
    slow = (speed < stall_frac * peak) & (progress > 0.1) & (progress < 0.9)
    runs = true_runs(slow)
    runs = runs[
        runs[:, 1] - runs[:, 0] >= max(1, round(check_positive(min_stall_s, "min_stall_s", "s") * angle_fs))
    ]
    if runs.size == 0:
        return None
    p, q = runs[int(np.argmax(runs[:, 1] - runs[:, 0]))]
    t_a, t_b = angle_t0 + (j0 + p) / angle_fs, angle_t0 + (j0 + q) / angle_fs
    c = np.asarray(combined, dtype=np.float64)
    k0 = int(np.clip(round((start_s - emg_t0) * emg_fs), 0, c.size))
    ka = int(np.clip(round((t_a - emg_t0) * emg_fs), k0, c.size))
    kb = int(np.clip(round((t_b - emg_t0) * emg_fs), ka, c.size))
    before = nan_max(c[k0 : ka + 1])
    during = nan_min(c[ka:kb])
    drop = 100.0 * (1.0 - during / before) if before > 0 else float("nan")
    return Stall(
        start_s=float(t_a),
        end_s=float(t_b),
        hip_deg=float(np.mean(seg[p:q])),
        min_speed_pct=100.0 * float(np.min(speed[p:q])) / peak,
        activation_drop_pct=float(drop),
        from_crossover_s=None if crossover_s is None else float(crossover_s - t_b),
    )
