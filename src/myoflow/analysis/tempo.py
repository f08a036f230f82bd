"""Tempo against the exercise's targets: each rep's phase durations next to the seconds its
exercise file prescribes (``[phases]`` of :mod:`myoflow.exercises`, e.g. a glute bridge's
1.5 s lift, 1 s hold at the top, 2 s lowering, 1.5 s rest at the bottom).

A phase is *on target* when it lasts within :data:`TOLERANCE` of its target (relative) or
within :data:`MIN_DIFF_S` (absolute), whichever is wider, else *short* or *long*. The phases are
the rep segmenter's boundaries (:mod:`myoflow.analysis.reps`): ``concentric`` start -> top,
``top`` top -> eccentric, ``eccentric`` eccentric -> bottom, ``bottom`` bottom -> the next
rep's start (not judged for a set's last rep, whose rest has no end). A phase whose target is 0
or missing is not judged. The 30 % / 0.3 s band is a convention of this module, not a
published norm: prescribed tempos (e.g. "2-1-2") are counted by the athlete and vary by about
that much from rep to rep.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from myoflow.analysis.rep_like import TimedRep
from myoflow.exercises.schema import Phases

__all__ = [
    "MIN_DIFF_S",
    "PHASE_SPANS",
    "TOLERANCE",
    "PhaseTempo",
    "session_tempo",
    "tempo_verdict",
]

#: Relative band around a target within which a phase is on target.
TOLERANCE = 0.3
#: Absolute band (s): a phase this close to its target is on target, however short the target.
MIN_DIFF_S = 0.3
#: Phase -> (first boundary, second boundary) of the rep's ``phases``.
PHASE_SPANS = {
    "concentric": ("start", "top"),
    "top": ("top", "eccentric"),
    "eccentric": ("eccentric", "bottom"),
    "bottom": ("bottom", "end"),
}


@dataclass(frozen=True)
class PhaseTempo:
    """One phase of a session against its target.

    Attributes
    ----------
    phase
        Key of :data:`PHASE_SPANS`.
    target_s
        The exercise's target duration, s.
    median_s
        Median duration over the judged reps, s.
    seconds
        Rep number -> duration, s (the judged reps).
    short_reps, long_reps
        Rep numbers below / above the band around the target.
    """

    phase: str
    target_s: float
    median_s: float
    seconds: Mapping[int, float]
    short_reps: tuple[int, ...]
    long_reps: tuple[int, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON form: the fields, ``seconds`` keyed by rep number as text."""
        return {
            "phase": self.phase,
            "target_s": self.target_s,
            "median_s": self.median_s,
            "seconds": {str(k): v for k, v in self.seconds.items()},
            "short_reps": list(self.short_reps),
            "long_reps": list(self.long_reps),
        }


def tempo_verdict(seconds: float, target_s: float) -> str:
    """``"short"``, ``"on target"`` or ``"long"``: ``seconds`` against ``target_s`` (both s)."""
    band = max(TOLERANCE * target_s, MIN_DIFF_S)
    if seconds < target_s - band:
        return "short"
    if seconds > target_s + band:
        return "long"
    return "on target"


def _targets(phases: Phases) -> dict[str, float]:
    values = {
        "concentric": phases.concentric_s,
        "top": phases.top_s,
        "eccentric": phases.eccentric_s,
        "bottom": phases.bottom_s,
    }
    return {k: float(v) for k, v in values.items() if v is not None and v > 0}


def session_tempo(reps: Sequence[TimedRep], phases: Phases) -> list[PhaseTempo]:
    """Each targeted phase of a dynamic exercise over ``reps`` (empty for an isometric one or
    without reps). The bottom rest of a set's last rep is not judged (it has no end)."""
    if phases.kind != "dynamic" or not reps:
        return []
    last_of_set = {max(r.index for r in reps if r.set_index == s) for s in {r.set_index for r in reps}}
    out = []
    for phase, target in _targets(phases).items():
        a, b = PHASE_SPANS[phase]
        seconds = {
            r.index: float(r.phases[b]) - float(r.phases[a])
            for r in reps
            if not (phase == "bottom" and r.index in last_of_set)
        }
        seconds = {k: v for k, v in seconds.items() if math.isfinite(v)}
        if not seconds:
            continue
        verdicts = {k: tempo_verdict(v, target) for k, v in seconds.items()}
        out.append(
            PhaseTempo(
                phase,
                target,
                statistics.median(seconds.values()),
                seconds,
                tuple(k for k, v in verdicts.items() if v == "short"),
                tuple(k for k, v in verdicts.items() if v == "long"),
            )
        )
    return out
