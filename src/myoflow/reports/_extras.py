"""Fatigue, symmetry and ensemble curves of an analysed recording (for :func:`~myoflow.reports.analyze`).

* **Fatigue** (:func:`~myoflow.analysis.fatigue.session_fatigue`) reads the *raw* EMG of each
  stream on its own sample grid (lost samples NaN), positioned on the session clock, with the
  recording's mains frequency cut out of the spectrum. Only the rep windows are read from the
  file (:class:`GridRows`), so an hour-long recording is not read a second time.
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
from myoflow.reports._inputs import SessionClock

__all__ = ["GridRows", "session_extras"]


class GridRows:
    """A stream's physical samples on its sample grid (lost samples NaN), read by row slices.

    Grid position ``p`` is sample index ``first + p`` (lost samples counted, as
    ``view.sample_indices``); ``rows[a:b]`` reads only the stored rows that fall in ``[a, b)``.
    """

    def __init__(self, view: Any) -> None:
        self.view = view
        n = int(view.n_samples)
        self._n = n
        self._first = int(view.sample_indices(0, 1)[0])
        last = int(view.sample_indices(n - 1, n)[0])
        self.shape = (last - self._first + 1, int(view.info.n_channels))

    def _row_at(self, index: int) -> int:
        """First stored row whose sample index is >= ``index`` (binary search, no file access)."""
        lo, hi = 0, self._n
        while lo < hi:
            mid = (lo + hi) // 2
            if int(self.view.sample_indices(mid, mid + 1)[0]) < index:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def __getitem__(self, rows: slice) -> np.ndarray:
        a, b, _ = rows.indices(self.shape[0])
        out = np.full((max(b - a, 0), self.shape[1]), np.nan)
        if b <= a:
            return out
        r0, r1 = self._row_at(self._first + a), self._row_at(self._first + b)
        if r1 > r0:
            pos = self.view.sample_indices(r0, r1) - self._first - a
            out[pos] = self.view.physical(r0, r1)
        return out


def session_extras(
    views: Sequence[Any],
    clock: SessionClock,
    names: Sequence[str],
    metrics: SessionMetrics,
    envelope: np.ndarray,
    fs: float,
    reference: np.ndarray,
    mains_hz: float | None,
    first_grid: np.ndarray | None = None,
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
    first_grid
        The first stream's samples on its grid (as :class:`GridRows` reads them), when already
        in memory: then that stream is not read from the file again.
    """
    results = metrics.results
    if not results:
        return None, None, {}
    fatigue = None
    params = FatigueParams(mains_hz=mains_hz)
    parts, c = [], 0
    try:
        for k, view in enumerate(views):
            data = first_grid if k == 0 and first_grid is not None else GridRows(view)
            n_ch = data.shape[1]
            t0 = float(clock(view.times(0, 1))[0])
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
