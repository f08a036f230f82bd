"""Relaxation after the set, live: the offline rule on the live envelope.

:func:`live_set_relaxation` runs :func:`~myoflow.analysis.set_relaxation.set_relaxation` (the
function ``analyze`` uses, same windows and verdict) on a :class:`~myoflow.analysis.live.LiveAnalysis`:
the set end is its last rep's ``bottom``, the envelope is the live grid in the analysis unit
turned into the analysis envelope (:func:`~myoflow.analysis.activation.analysis_envelope`) from
``_LEAD_S`` before the set's last rep, and the rest levels are the ones its last rep was judged
with. :class:`AfterSetWatch` calls it once the live data cover the rule's search window after
the last rep (``search_s``, 10 s), or, via :meth:`AfterSetWatch.finish`, with what has arrived
when the set is ended early (the dashboard's next set). Live, the next set's start is not known
when the verdict is given, so ``rest_after_s`` is None.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from myoflow.analysis.activation import analysis_envelope
from myoflow.analysis.set_relaxation import SetRelaxation, SetRelaxParams, set_relaxation

if TYPE_CHECKING:
    from myoflow.analysis.live import LiveAnalysis

__all__ = ["AfterSetWatch", "after_set_text", "live_set_relaxation"]

_LEAD_S = 3.0  # envelope read before the last rep's start (zero-phase filter settling)
_MARGIN_S = 1.0  # data waited for past the search window (the zero-phase filter's right edge)


def live_set_relaxation(
    live: LiveAnalysis, params: SetRelaxParams | None = None
) -> dict[str, SetRelaxation] | None:
    """After-set relaxation of ``live``'s last rep's set, on the live data so far (None before
    the first rep or without rest levels)."""
    p = params or SetRelaxParams()
    newest = live.newest_cell
    if not live.results or newest is None:
        return None
    last = live.results[-1]
    fs = live.grid_hz
    end_s = float(last.phases["bottom"])
    i0 = int(np.floor((float(last.phases["start"]) - _LEAD_S) * fs))
    i1 = min(newest + 1, int(np.ceil((end_s + p.search_s + _MARGIN_S) * fs)))
    if i1 <= int(np.ceil(end_s * fs)):
        return None
    rows, levels = live.muscle_window(i0, i1, int(round(float(last.phases["end"]) * fs)))
    if levels is None:
        return None
    env = analysis_envelope(rows, fs, live.params)
    return set_relaxation(
        env,
        fs,
        i0 / fs,
        live.muscles,
        end_s,
        None,
        levels.mean,
        levels.rest_threshold,
        live.params.min_gap_s,
        p,
    )


class AfterSetWatch:
    """Gives the after-set relaxation of a live analysis's set once its rest is long enough.

    Call :meth:`update` with the current analysis every frame: it computes once per last rep,
    when the data reach ``search_s`` (+1 s) past its bottom, and returns the newest result (None
    until then). A later rep starts over. :meth:`finish` computes now with what the analysis
    last seen has delivered (a set ended early)."""

    def __init__(self, params: SetRelaxParams | None = None) -> None:
        self.params = params or SetRelaxParams()
        self.result: dict[str, SetRelaxation] | None = None
        self._live: LiveAnalysis | None = None
        self._done_for: tuple[int, int] | None = None

    def update(self, live: LiveAnalysis) -> dict[str, SetRelaxation] | None:
        if live is not self._live:
            self._live, self.result, self._done_for = live, None, None
        if not live.results:
            return self.result
        key = (id(live), len(live.results))
        if key == self._done_for:
            return self.result
        if self._done_for is not None and self._done_for[1] != key[1]:
            self.result = None  # a later rep: the set went on
        newest = live.newest_cell
        wait_s = float(live.results[-1].phases["bottom"]) + self.params.search_s + _MARGIN_S
        if newest is not None and (newest + 1) / live.grid_hz >= wait_s:
            self.result = live_set_relaxation(live, self.params)
            self._done_for = key
        return self.result

    def finish(self) -> dict[str, SetRelaxation] | None:
        """The result for the analysis last seen: the one already computed, else computed now
        (the search then stops where the data end)."""
        if self._live is None:
            return None
        if self._done_for is None or self._done_for[1] != len(self._live.results):
            self.result = live_set_relaxation(self._live, self.params)
        return self.result


def after_set_text(result: dict[str, SetRelaxation] | None, unit: str = "") -> str:
    """One line per set, e.g. ``after the set: glute_med_r relaxed in 1.2 s (residual 1.3x rest)``."""
    if not result:
        return "after the set: waiting for the rest after the last rep"
    parts = []
    for muscle, r in result.items():
        took = "not relaxed" if r.time_to_relax_s is None else f"relaxed in {r.time_to_relax_s:.1f} s"
        if r.time_to_relax_s is not None and not r.relaxed:
            took = f"slow to relax ({r.time_to_relax_s:.1f} s)"
        parts.append(f"{muscle} {took} (residual {r.residual_x_rest:.1f}x rest)")
    return "after the set: " + "; ".join(parts)
