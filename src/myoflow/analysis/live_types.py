"""What the live analysis hands out: cues, per-rep timings and display snapshots.

:func:`rep_cues` turns one rep's :class:`~myoflow.analysis.rep_summary.RepResult` into the
coaching cues it triggers; :class:`LiveSnapshot` is the copy of the live state a display reads
(:meth:`myoflow.analysis.live.LiveAnalysis.snapshot`); :class:`RepTiming` records how long
after a rep ended its result came out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from myoflow.analysis.placement import parse_placement
from myoflow.analysis.rep_summary import RepResult
from myoflow.exercises import DEFAULT_EXERCISE, Exercise, get_exercise

__all__ = ["CUES", "ECCENTRIC_CUE_PCT", "Cue", "LiveSnapshot", "RepTiming", "rep_cues", "target_channels"]

#: Cue kind -> what the user is told (an exercise file may word it its own way: ``[cues]``).
CUES = {
    "relax": "relax fully at the bottom",
    "squeeze": "keep squeezing as you lower",
    "glutes": "drive with the glutes",
}
#: "keep squeezing as you lower" when a glute's eccentric hold is below this (% of its
#: concentric peak); exercises whose file sets ``metrics.eccentric_hold`` (bridges, hip thrust).
ECCENTRIC_CUE_PCT = 50.0


@dataclass(frozen=True)
class Cue:
    """A coaching cue from one rep: ``time`` (s, host clock) the rep ended, ``kind`` (a key
    of :data:`CUES`), the ``text`` shown, and the 1-based ``rep_index``."""

    time: float
    kind: str
    text: str
    rep_index: int


@dataclass(frozen=True)
class RepTiming:
    """When a rep's result came out: ``ending_s`` (:mod:`myoflow.analysis.live_reps`: the end
    of its bottom window, or the moment the next rep was seen under way), ``data_s`` the newest sample
    time fed when it came out, and ``processing_ms`` the wall time of the call that produced it."""

    index: int
    ending_s: float
    data_s: float
    processing_ms: float

    @property
    def latency_ms(self) -> float:
        """Data waited for after the rep ended plus processing, ms."""
        return (self.data_s - self.ending_s) * 1000.0 + self.processing_ms


@dataclass(frozen=True)
class LiveSnapshot:
    """A copy of the live state for a display; arrays cover the last ``history_s`` on the grid.

    ``times`` ``(n,)`` s; ``envelope_pct`` ``(n, len(muscles))`` float32 in ``unit`` (NaN where
    no data; the EMG ends ``delay_ms`` before the newest sample, as it is delay-corrected);
    ``angle_deg`` ``(n,)`` the movement angle, ``angle_label`` says which (hip flexion or one
    segment, ``angle_mode`` ``"hip"``/``"segment"``, None without IMU); ``phase`` of the current
    rep; ``rest_threshold_pct`` per muscle (empty before the baseline); ``last_results`` the most
    recent rep results (oldest first) and ``cues`` the most recent cues; ``warnings`` the
    analysis' warnings so far (:attr:`~myoflow.analysis.live.LiveAnalysis.warnings`: mains,
    cyclic movement, cycles without an onset), oldest first.
    """

    times: np.ndarray
    envelope_pct: np.ndarray
    muscles: tuple[str, ...]
    unit: str
    angle_deg: np.ndarray
    angle_label: str | None
    angle_mode: str | None
    phase: str | None
    rep_count: int
    rest_threshold_pct: dict[str, float]
    delay_ms: float
    last_results: tuple[RepResult, ...]
    cues: tuple[Cue, ...] = field(default=())
    warnings: tuple[str, ...] = field(default=())


def target_channels(muscles: Sequence[str], stems: Sequence[str]) -> list[str]:
    """The placements among ``muscles`` whose canonical muscle stem is one of ``stems``
    (``glute_max_r`` for ``("glute_max",)``): the channels an exercise's rule is about."""
    wanted = set(stems)
    return [m for m in muscles if parse_placement(m).muscle in wanted]


def rep_cues(result: RepResult, time_s: float, exercise: str | Exercise = DEFAULT_EXERCISE) -> list[Cue]:
    """The cues one rep's result triggers, as the exercise's file says which apply
    (:mod:`myoflow.exercises`): ``relax`` when a relax target (``metrics.relax_targets``, by
    default the prime movers) did not relax in the bottom window (``relaxation = "per_rep"``
    only); ``squeeze`` when a glute's eccentric hold is below :data:`ECCENTRIC_CUE_PCT`
    (``metrics.eccentric_hold``); ``glutes`` when the handover found no crossover
    (``metrics.handover``). Texts: the exercise's ``[cues]``, else :data:`CUES`."""
    ex = get_exercise(exercise)
    targets = target_channels(list(result.relaxation), ex.relax_targets)
    kinds = []
    if ex.metrics.relaxation == "per_rep" and any(not result.relaxation[g].relaxed for g in targets):
        kinds.append("relax")
    holds = list(result.eccentric_hold_pct.values())
    if ex.metrics.eccentric_hold and any(np.isfinite(h) and h < ECCENTRIC_CUE_PCT for h in holds):
        kinds.append("squeeze")
    if ex.metrics.handover and result.handover is not None and result.handover.crossover_s is None:
        kinds.append("glutes")
    return [Cue(time_s, k, ex.cue_text(k, CUES[k]), result.index) for k in kinds]
