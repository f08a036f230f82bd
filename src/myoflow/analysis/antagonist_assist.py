"""Antagonist-assisted relaxation: a brief antagonist burst at the end of the eccentric phase,
and whether the target muscle let go after it (reciprocal inhibition), per rep.

The idea a physio teaches: at the bottom of a glute bridge, a short squeeze of the hip flexors
(or, for a gluteus medius exercise, of the adductors) helps the glute switch off. Per rep and
per agonist -> antagonist pair (:func:`myoflow.analysis.session_metrics.default_antagonists`,
e.g. ``glute_max_r -> rectus_femoris_r``, ``glute_med_r -> adductor_longus_r``):

* **Burst**: the antagonist's analysis envelope rises above its onset threshold (from below)
  inside ``[bottom - before_s, bottom + after_s]`` (the end of the eccentric phase is the
  rep's ``bottom``), stays above it at least ``min_on_s`` and falls back under it within
  ``max_burst_s`` (a brief burst, not the antagonist co-contracting all along), and its peak
  rises above the antagonist's resting mean by at least ``min_rise_x`` times as much as the
  onset threshold does (a resting envelope's noise grazing its threshold is no burst). The
  first such burst counts.
* **Relaxation followed**: the agonist has an EMG gap (below its rest threshold for at least
  ``min_gap_s``, as in :func:`~myoflow.analysis.relaxation.relaxation`) that begins within
  ``follow_s`` after the burst began. ``relax_delay_ms``: from the burst's onset to that gap.

This is a different question from :class:`~myoflow.analysis.relaxation.AntagonistCue`, which
looks back from a relaxation that happened for an antagonist rise before it; here the burst
is found first, and a burst that was *not* followed by relaxation is reported as such.
Live and offline call :func:`antagonist_assist` from
:func:`~myoflow.analysis.rep_summary.analyse_rep` on the same rep window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from myoflow._checks import check_positive, check_rate
from myoflow.analysis.relaxation import relaxation, true_runs

__all__ = ["AntagonistAssist", "AssistParams", "antagonist_assist"]


@dataclass(frozen=True)
class AssistParams:
    """Windows of the antagonist-assist rule (s; module docstring)."""

    before_s: float = 0.5
    after_s: float = 0.3
    min_on_s: float = 0.05
    max_burst_s: float = 0.6
    min_rise_x: float = 2.0
    follow_s: float = 0.8


@dataclass(frozen=True)
class AntagonistAssist:
    """One agonist/antagonist pair in one rep (module docstring).

    ``burst``: a brief antagonist burst near the end of the eccentric phase; ``burst_s``
    its onset (s, session clock), ``burst_ms`` the onset relative to the rep's bottom (negative:
    before), ``burst_peak_pct`` its peak in the session unit; ``relaxed_after`` whether the
    agonist relaxed within ``follow_s`` of the burst (None without a burst) and
    ``relax_delay_ms`` how long after the burst onset (None when it did not).
    """

    agonist: str
    antagonist: str
    burst: bool
    burst_s: float | None
    burst_ms: float | None
    burst_peak_pct: float
    relaxed_after: bool | None
    relax_delay_ms: float | None


def antagonist_assist(
    agonist_env: np.ndarray,
    antagonist_env: np.ndarray,
    fs: float,
    t0: float,
    bottom_s: float,
    agonist_rest: tuple[float, float],
    antagonist_levels: tuple[float, float],
    names: tuple[str, str],
    min_gap_s: float = 0.2,
    params: AssistParams | None = None,
) -> AntagonistAssist:
    """The antagonist-assist record of one rep (module docstring).

    Parameters
    ----------
    agonist_env, antagonist_env
        ``(n,)`` analysis envelopes (session unit) of the rep window; sample 0 at ``t0`` (s).
    fs
        Their rate in Hz.
    bottom_s
        End of the eccentric phase (s).
    agonist_rest
        ``(rest mean, rest threshold)`` of the agonist.
    antagonist_levels
        ``(rest mean, onset threshold)`` of the antagonist.
    names
        ``(agonist, antagonist)`` placements.
    min_gap_s
        Shortest EMG gap of the agonist (s).
    """
    fs = check_rate(fs)
    p = params or AssistParams()
    a = np.asarray(antagonist_env, dtype=np.float64).ravel()
    g = np.asarray(agonist_env, dtype=np.float64).ravel()
    i0 = int(np.clip(round((bottom_s - check_positive(p.before_s, "before_s", "s") - t0) * fs), 0, a.size))
    i1 = int(np.clip(round((bottom_s + p.after_s - t0) * fs) + 1, i0, a.size))
    none = AntagonistAssist(names[0], names[1], False, None, None, float("nan"), None, None)
    if i1 - i0 < 2:
        return none
    rest, onset_thr = antagonist_levels
    above = np.nan_to_num(a, nan=-np.inf) > onset_thr
    max_burst = int(round(check_positive(p.max_burst_s, "max_burst_s", "s") * fs))
    min_on = max(1, int(round(check_positive(p.min_on_s, "min_on_s", "s") * fs)))
    for begin, end in true_runs(above):
        if begin <= i0 or begin >= i1:  # must rise from below inside the window
            continue
        if end >= a.size or not min_on <= end - begin <= max_burst:  # brief, but not a flicker
            continue
        peak = float(np.nanmax(a[begin:end]))
        if peak - rest < p.min_rise_x * (onset_thr - rest):
            continue
        onset = t0 + begin / fs
        follow_end = onset + check_positive(p.follow_s, "follow_s", "s") + min_gap_s
        rel = relaxation(
            g[:, np.newaxis],
            fs,
            t0,
            (onset, follow_end),
            np.array([agonist_rest[0]]),
            np.array([agonist_rest[1]]),
            min_gap_s,
        )[0]
        starts = [s for s, _ in rel.gaps_s if s - onset <= p.follow_s]
        delay = (starts[0] - onset) * 1000.0 if starts else None
        return AntagonistAssist(
            names[0], names[1], True, onset, (onset - bottom_s) * 1000.0, peak, bool(starts), delay
        )
    return none
