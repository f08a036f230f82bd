"""Live movement cycles: the offline cycle rule of :mod:`myoflow.analysis.rep_checks`, kept as state.

Offline, once the reps of a session are a cyclic movement (:func:`~myoflow.analysis.rep_checks.cycle_period`:
walking, running), :func:`~myoflow.analysis.rep_checks.angle_cycles` segments the angle again so
that only its main excursions count (``min_rep_frac`` >= :data:`~myoflow.analysis.rep_checks.CYCLE_REP_FRAC`)
and :func:`~myoflow.analysis.rep_checks.as_cycles` makes each cycle run from one main excursion's
start to the next's. :class:`LiveCycles` does the same on the live grid: an
:class:`~myoflow.analysis.live_reps.IncrementalReps` with those options, fed the angle from its first
kept cell, and ``as_cycles`` over the main excursions found so far. A cycle is finished once the
next main excursion is (its end is that excursion's start); its bottom window is capped, as
offline, at the median time from a cycle's bottom to the next start
(:func:`~myoflow.analysis.rep_summary.typical_bottom_rest_s`), here of the cycles so far.
"""

from __future__ import annotations

import numpy as np

from myoflow._checks import check_rate
from myoflow.analysis.live_reps import IncrementalReps, LiveRep
from myoflow.analysis.rep_checks import CYCLE_REP_FRAC, as_cycles
from myoflow.analysis.rep_summary import typical_bottom_rest_s
from myoflow.analysis.reps import Rep

__all__ = ["LiveCycles"]


class LiveCycles:
    """Cycles of a cyclic movement angle on the live grid (module docstring).

    Parameters
    ----------
    fs
        Grid rate in Hz.
    first
        Grid cell of ``history[0]``.
    history
        ``(n,)`` movement angle (deg, larger = more flexed) from cell ``first`` on: the angle seen
        so far (NaN where none).
    """

    def __init__(self, fs: float, first: int, history: np.ndarray) -> None:
        self.fs = check_rate(fs)
        self._reps = IncrementalReps(self.fs, min_rep_frac=CYCLE_REP_FRAC)
        self._mains: list[Rep] = []  # main excursions finished so far
        self._done = 0  # cycles handed out
        if len(history):
            self._reps.push(first, np.asarray(history, dtype=np.float64))

    def push(self, k0: int, angle: np.ndarray) -> None:
        """The movement angle of cells ``k0 ..`` (as :meth:`IncrementalReps.push`)."""
        self._reps.push(k0, angle)

    def finished(self, frontier: int) -> list[LiveRep]:
        """The cycles finished with the data before grid cell ``frontier``, each once, in order;
        ``LiveRep.ending_s`` is the cycle's end (the next main excursion's start)."""
        self._mains += [live.rep for live in self._reps.finished(frontier)]
        cycles = as_cycles(self._mains, 0)[:-1]  # the last one ends where the next starts: not yet
        full = [r for r in self._mains if not r.partial]
        cap_s = typical_bottom_rest_s(full, self.fs)
        out = [LiveRep(c, self.fs, c.end / self.fs, cap_s) for c in cycles[self._done :]]
        self._done = len(cycles)
        return out
