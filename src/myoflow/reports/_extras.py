"""Fatigue, symmetry and ensemble curves of an analysed recording (for :func:`~myoflow.reports.analyze`).

* **Fatigue** (:func:`~myoflow.analysis.fatigue.session_fatigue`) reads the *raw* EMG of each
  stream on its own sample grid (lost samples NaN), positioned on the session clock, with the
  recording's mains frequency cut out of the spectrum.
* **Symmetry** (:func:`~myoflow.analysis.symmetry.session_symmetry`) compares the per-rep
  results of left/right pairs.
* **Ensembles** (:func:`~myoflow.analysis.ensemble.session_ensembles`) time-normalise the
  analysis envelope in the session's level unit: concentric and eccentric phases for exercise
  reps, the whole cycle for movement cycles (walking).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from myoflow.analysis.ensemble import Ensemble, session_ensembles
from myoflow.analysis.fatigue import FatigueParams, SessionFatigue, session_fatigue
from myoflow.analysis.session_metrics import SessionMetrics
from myoflow.analysis.symmetry import SessionSymmetry, session_symmetry
from myoflow.reports._inputs import SessionClock, raw_grid

__all__ = ["session_extras"]


def session_extras(
    views: Sequence[Any],
    clock: SessionClock,
    names: Sequence[str],
    metrics: SessionMetrics,
    envelope: np.ndarray,
    fs: float,
    reference: np.ndarray,
    mains_hz: float | None,
) -> tuple[SessionFatigue | None, SessionSymmetry | None, dict[str, Ensemble]]:
    """Fatigue, symmetry and ensembles of an analysed session (None/empty without reps).

    Parameters
    ----------
    views
        The EMG stream views, in the channel order of ``names``.
    clock
        Host seconds -> session seconds.
    names
        Channel names (placements), all streams.
    metrics
        The metric core's results.
    envelope, fs, reference
        ``(n, ch)`` analysis envelope (uV) at ``fs`` Hz and the per-channel reference it is
        normalised by (the level unit is ``100 * envelope / reference``).
    mains_hz
        Mains frequency removed from the spectra (None: none).
    """
    results = metrics.results
    if not results:
        return None, None, {}
    fatigue = None
    params = FatigueParams(mains_hz=mains_hz)
    parts, c = [], 0
    try:
        for view in views:
            data, host = raw_grid(view)
            n_ch = data.shape[1]
            t0 = float(clock(np.array([host[0]]))[0])
            part = session_fatigue(
                data, float(view.rate), list(names[c : c + n_ch]), results, params, t0_s=t0
            )
            parts.append(part)
            c += n_ch
    except ValueError:  # a stream too slow for any spectral band: no fatigue
        parts = []
    if parts:
        first = parts[0]
        limits = [p.limit for p in parts if p.limit]
        fatigue = SessionFatigue(
            [r for p in parts for r in p.reps],
            [s for p in parts for s in p.sets],
            first.band_hz,
            first.params,
            "; ".join(limits) or None,
        )
    symmetry = session_symmetry(results, metrics.context.placements, metrics.context.unit)
    phases = ("cycle",) if metrics.rep_kind == "cycle" else ("concentric", "eccentric")
    scale = 100.0 / np.asarray(reference, dtype=np.float64)
    ensembles = session_ensembles(envelope, fs, names, results, metrics.context.unit, phases, scale=scale)
    return fatigue, symmetry if symmetry.pairs else None, ensembles
