"""Sets: a finished set's reps are kept and summarised, never cleared.

A set ends when the user starts the next one (shortcut N), changes the exercise or applies a
new MVC calibration: the analysis restarts (rep numbers from 1), and the set's rep results are
kept as a :class:`SetSummary` (reps, relaxed share, handover per rep, eccentric hold) shown in
the window's set list and printed by the console view. The recording is never touched by this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from myoflow.analysis.placement import parse_placement
from myoflow.analysis.rep_summary import RepResult
from myoflow.dashboard.model import badge

__all__ = ["SetSummary", "summarize_set"]


@dataclass(frozen=True)
class SetSummary:
    """One finished set: ``reps`` full reps (partial ones not counted), how many were relaxed
    at the bottom (of those with a verdict), each rep's handover text, the glute's median
    eccentric hold (%, NaN when none), why the set ended, and one line per rep (relaxed,
    handover, eccentric hold) for the summary screen."""

    index: int
    exercise: str
    reps: int
    relaxed: int
    judged: int
    handovers: tuple[str, ...]
    hold_pct: float
    ended_by: str
    rep_lines: tuple[str, ...] = ()
    after_set: str = ""

    @property
    def text(self) -> str:
        """One line, e.g. ``set 1 (glute_bridge): 5 reps, relaxed 4/5, ecc. hold 38 %``."""
        relaxed = f"relaxed {self.relaxed}/{self.judged}" if self.judged else "relaxed n/a"
        hold = f"ecc. hold {self.hold_pct:.0f} %" if np.isfinite(self.hold_pct) else "ecc. hold n/a"
        head = f"set {self.index} ({self.exercise}): {self.reps} reps"
        return f"{head}, {relaxed}, {hold}; ended by {self.ended_by}"


def summarize_set(
    results: Sequence[RepResult],
    exercise: str,
    index: int,
    ended_by: str = "next set",
    after_set: str = "",
) -> SetSummary:
    """The :class:`SetSummary` of one set's rep ``results`` (in order)."""
    full = [r for r in results if not r.partial]
    badges = [badge(r) for r in full]
    judged = [b for b in badges if b.relaxed is not None]
    holds = []
    for r in full:
        for muscle, value in r.eccentric_hold_pct.items():
            if parse_placement(muscle).role == "glute" and np.isfinite(value):
                holds.append(float(value))
                break
    return SetSummary(
        index=int(index),
        exercise=str(exercise),
        reps=len(full),
        relaxed=sum(1 for b in judged if b.relaxed),
        judged=len(judged),
        handovers=tuple(b.handover_text for b in badges),
        hold_pct=float(np.median(holds)) if holds else float("nan"),
        ended_by=str(ended_by),
        rep_lines=tuple(
            f"#{b.rep_index}: {b.relaxed_text} · {b.handover_text} · {b.hold_text}" for b in badges
        ),
        after_set=str(after_set),
    )
