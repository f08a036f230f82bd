"""Relaxation between reps: whether the muscle returns to rest at the bottom of each rep.

Definitions (with references in ``docs/metrics.md``):

* **Bottom window**: from the bottom being reached until the next rep starts, capped at the
  session's typical bottom rest (:func:`myoflow.analysis.rep_summary.typical_bottom_rest_s`)
  so that a set pause or the end of the recording, where any muscle eventually relaxes, does
  not decide the verdict.
* **EMG gap**: a run of at least ``min_gap_s`` (0.2 s) with the analysis envelope below the rest
  threshold ``max(0.5 % MVC, baseline mean + 3 SD)``.
* **Relaxed**: at least one EMG gap in the bottom window.
* ``bottom_min_pct``: minimum envelope in the bottom window; ``bottom_min_x_rest``: the same as
  a multiple of the resting baseline mean.
* **Antagonist cue** (reciprocal inhibition): the antagonist's envelope rises above its onset
  threshold within ``cue_window_s`` before the agonist's first gap begins.
* **Sustained tension share** (per set): the share of the set's time spent in tension runs
  (stretches between EMG gaps) that hold through at least one bottom, i.e. contain two or
  more movement onsets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from myoflow._checks import as_signal, check_positive, check_rate
from myoflow.analysis._nan import nan_max


@dataclass(frozen=True)
class AntagonistCue:
    """The antagonist's activity before the agonist relaxed.

    ``antagonist``: its placement; ``cue``: it crossed its onset threshold within the cue
    window; ``lead_ms``: how long before the agonist's gap it did (None without a cue);
    ``peak_pct``: its peak in the cue window.
    """

    antagonist: str
    cue: bool
    lead_ms: float | None
    peak_pct: float


@dataclass(frozen=True)
class Relaxation:
    """One muscle at the bottom of one rep (module docstring); levels in the session unit."""

    bottom_min_pct: float
    bottom_min_x_rest: float
    threshold_pct: float
    gaps_s: tuple[tuple[float, float], ...]
    longest_gap_s: float
    relaxed: bool
    window_s: tuple[float, float]
    antagonist: AntagonistCue | None = None


def longest_run(mask: np.ndarray) -> int:
    """Length of the longest run of True in a 1-D boolean array."""
    runs = true_runs(mask)
    return int(np.max(runs[:, 1] - runs[:, 0])) if runs.size else 0


def true_runs(mask: np.ndarray) -> np.ndarray:
    """``(k, 2)`` int64 ``[begin, end)`` of every run of True in a 1-D boolean array."""
    m = np.asarray(mask, dtype=bool).ravel()
    if m.size == 0:
        return np.empty((0, 2), dtype=np.int64)
    # where the value changes, with both ends: runs of True and False alternate between them
    # (one comparison pass; a session-long mask of a set is ~1 M samples)
    bounds = np.concatenate(([0], np.flatnonzero(m[1:] != m[:-1]) + 1, [m.size]))
    first = 0 if m[0] else 1
    return np.stack([bounds[first:-1:2], bounds[first + 1 :: 2]], axis=1).astype(np.int64)


def relaxation(
    env: np.ndarray,
    fs: float,
    t0: float,
    window_s: tuple[float, float],
    rest_mean: np.ndarray,
    rest_threshold: np.ndarray,
    min_gap_s: float = 0.2,
) -> list[Relaxation]:
    """Relaxation of every channel in one rep's bottom window.

    Parameters
    ----------
    env
        ``(n, ch)`` analysis envelope (normalised) covering the window; sample 0 at ``t0`` (s).
    fs
        Sample rate in Hz.
    window_s
        ``(begin, end)`` of the bottom window in s (same clock as ``t0``).
    rest_mean, rest_threshold
        ``(ch,)`` resting baseline mean and rest threshold, in the envelope unit.
    min_gap_s
        Shortest EMG gap (s).
    """
    fs = check_rate(fs)
    x = as_signal(env, "env")
    n = x.shape[0]
    i0 = int(np.clip(round((window_s[0] - t0) * fs), 0, n))
    i1 = int(np.clip(round((window_s[1] - t0) * fs), i0, n))
    min_gap = max(1, int(round(check_positive(min_gap_s, "min_gap_s", "s") * fs)))
    bottom = x[i0:i1]
    out = []
    for c in range(x.shape[1]):
        col = bottom[:, c]
        runs = true_runs(col < rest_threshold[c])
        runs = runs[runs[:, 1] - runs[:, 0] >= min_gap]
        gaps = tuple((t0 + (i0 + a) / fs, t0 + (i0 + b) / fs) for a, b in runs)
        low = float(np.nanmin(col)) if np.isfinite(col).any() else float("nan")
        out.append(
            Relaxation(
                bottom_min_pct=low,
                bottom_min_x_rest=low / float(rest_mean[c]) if rest_mean[c] > 0 else float("inf"),
                threshold_pct=float(rest_threshold[c]),
                gaps_s=gaps,
                longest_gap_s=max((b - a for a, b in gaps), default=0.0),
                relaxed=bool(gaps),
                window_s=(float(window_s[0]), float(window_s[1])),
            )
        )
    return out


def antagonist_cue(
    antagonist_env: np.ndarray,
    fs: float,
    t0: float,
    relax_s: float,
    onset_threshold: float,
    name: str,
    cue_window_s: float = 0.5,
) -> AntagonistCue:
    """Whether the antagonist fired within ``cue_window_s`` before the agonist relaxed at
    ``relax_s`` (s): first crossing of ``onset_threshold`` in ``[relax_s - cue_window_s,
    relax_s]`` from below. ``antagonist_env`` is ``(n,)``, sample 0 at ``t0``."""
    fs = check_rate(fs)
    a = np.asarray(antagonist_env, dtype=np.float64).ravel()
    i0 = int(
        np.clip(round((relax_s - check_positive(cue_window_s, "cue_window_s", "s") - t0) * fs), 0, a.size)
    )
    i1 = int(np.clip(round((relax_s - t0) * fs) + 1, i0, a.size))
    seg = a[i0:i1]
    if seg.size < 2:
        return AntagonistCue(name, False, None, float("nan"))
    above = seg > onset_threshold
    rises = np.flatnonzero(above[1:] & ~above[:-1]) + 1
    peak = float(nan_max(seg))
    if rises.size == 0:
        return AntagonistCue(name, False, None, peak)
    lead = relax_s - (t0 + (i0 + rises[0]) / fs)
    return AntagonistCue(name, True, lead * 1000.0, peak)


def sustained_tension_share(
    env: np.ndarray,
    fs: float,
    t0: float,
    span_s: tuple[float, float],
    starts_s: Sequence[float],
    rest_threshold: float,
    min_gap_s: float = 0.2,
) -> float:
    """Share (0-1) of a set's time in tension that holds through a bottom (module docstring).

    Parameters
    ----------
    env
        ``(n,)`` analysis envelope of one channel; sample 0 at ``t0`` (s).
    span_s
        ``(begin, end)`` of the set: first movement onset to the end of the last bottom window.
    starts_s
        Movement onsets of the set's reps (s).
    rest_threshold
        The channel's rest threshold (envelope unit).
    """
    fs = check_rate(fs)
    x = np.asarray(env)
    x = x if x.ndim == 1 else x.ravel()  # a column of a session's envelope is not copied
    i0 = int(np.clip(round((span_s[0] - t0) * fs), 0, x.size))
    i1 = int(np.clip(round((span_s[1] - t0) * fs), i0, x.size))
    if i1 <= i0:
        return float("nan")
    seg = x[i0:i1]  # compared in float64 below (a float64 threshold), without a float64 copy
    size = seg.size
    min_gap = max(1, int(round(check_positive(min_gap_s, "min_gap_s", "s") * fs)))
    gaps = true_runs(seg < np.float64(rest_threshold))
    gaps = gaps[gaps[:, 1] - gaps[:, 0] >= min_gap]
    # tension: the runs between the gaps (which never touch: each is a whole run below)
    edges = np.concatenate(([0], gaps.ravel(), [size])).reshape(-1, 2)
    tension = edges[edges[:, 1] > edges[:, 0]]
    onsets = np.clip(
        np.round((np.asarray(starts_s, dtype=np.float64) - span_s[0]) * fs).astype(int), 0, size - 1
    )
    sustained = 0
    for a, b in tension.tolist():
        if np.count_nonzero((onsets >= a) & (onsets < b)) >= 2:
            sustained += b - a
    return sustained / size
