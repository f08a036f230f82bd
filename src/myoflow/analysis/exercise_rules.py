"""What an exercise file decides inside the analysis, besides its movement angle.

* :func:`exercise_antagonists`: the agonist -> antagonist channel pairs of the reciprocal-
  inhibition metrics (:class:`~myoflow.analysis.relaxation.AntagonistCue`,
  :mod:`~myoflow.analysis.antagonist_assist`). Every muscle keeps its role-based antagonist
  (:func:`~myoflow.analysis.session_metrics.default_antagonists`: hip extensors against the hip
  flexors, abductors against adductors); a muscle whose relaxation the exercise judges
  (``metrics.relax_targets``, by default its prime movers) is paired with a placed channel of
  the exercise's own ``muscles.antagonists`` instead, on its side when there is one (the reverse
  clamshell pairs the gluteus medius with the gluteus maximus, an external rotator).
* :func:`exercise_not_measured`: the rep metrics the exercise's file switches off
  (``metrics.handover``, ``metrics.eccentric_hold``; e.g. no hamstring -> glute handover in a
  clamshell, whose "angle" is a femur rotation), each with the reason the report gives.

Live (:class:`~myoflow.analysis.live.LiveAnalysis`) and offline (:func:`myoflow.reports.analyze`)
both call it.
"""

from __future__ import annotations

from collections.abc import Sequence

from myoflow.analysis.placement import parse_placement
from myoflow.analysis.session_metrics import default_antagonists
from myoflow.exercises import Exercise

__all__ = ["exercise_antagonists", "exercise_not_measured"]


def exercise_antagonists(ex: Exercise | None, placements: Sequence[str]) -> dict[str, str]:
    """Agonist placement -> antagonist placement for ``ex`` (module docstring); the role-based
    pairs alone when ``ex`` is None."""
    out = default_antagonists(placements)
    if ex is None:
        return out
    parsed = {p: parse_placement(p) for p in placements}
    wanted = set(ex.muscles.antagonists)
    for agonist, me in parsed.items():
        if me.muscle not in ex.relax_targets:
            continue
        hits = [p for p, q in parsed.items() if p != agonist and q.muscle in wanted]
        same = [p for p in hits if parsed[p].side == me.side]
        pick = next(iter(same or hits), None)
        if pick is not None:
            out[agonist] = pick
    return out


def exercise_not_measured(ex: Exercise | None) -> dict[str, str]:
    """Metric -> why ``ex`` does not measure it (``"handover"``, ``"eccentric_hold"``); empty
    when ``ex`` is None (no exercise known: every metric the channels allow)."""
    if ex is None:
        return {}
    out = {}
    if not ex.metrics.handover:
        out["handover"] = f"the hamstring -> glute handover is not measured for {ex.name} (its exercise file)"
    if not ex.metrics.eccentric_hold:
        out["eccentric_hold"] = f"eccentric hold is not measured for {ex.name} (its exercise file)"
    return out
