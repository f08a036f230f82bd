"""When a cue is on the screen (and sounds): each cue lives only while its condition holds.

Rules (each tested against scripted sessions in ``tests/dashboard/test_cues.py``):

* **relax** ("relax fully at the bottom"): on while the movement is in its bottom phase and a
  target glute has stayed above its rest threshold for the last ``bottom_cue_s``. It goes off
  the moment that stops holding. When it goes off because the glute dropped under its
  threshold (not because the next rep started), **relaxed** ("relaxed now") follows for
  ``relaxed_show_s``: the feedback that the correction worked. A rep's result saying it did
  not relax shows as its red badge and the warning sound; it does not put the banner up again
  during the next rep, when the glute is meant to be working.
* **squeeze** ("keep squeezing as you lower", from the last rep's result): on until the next
  rep's eccentric phase has ended (the phase it is about), at most ``hold_s``.
* **glutes** ("drive with the glutes", from the last rep's result): on until the next rep's
  concentric phase has ended, at most ``hold_s``.
* The **rep counter** counts a rep when its eccentric phase ends (the bottom is reached), as
  the person feels it; the badge follows when the analysis closes the rep's bottom window.

Times are on the analysis' grid clock (s); phases are ``[t0, t1, phase]`` runs as the model
tracks them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from myoflow.analysis.live_types import CUES, Cue, LiveSnapshot
from myoflow.analysis.placement import Placement, parse_placement
from myoflow.exercises import Exercise, get_exercise

__all__ = ["CUE_TEXT", "CueRules", "is_target"]

#: Cue kind -> banner text (the analysis' cues plus the dashboard's "relaxed now").
CUE_TEXT: dict[str, str] = {**CUES, "relaxed": "relaxed now"}
_ENDS_AFTER = {"squeeze": "eccentric", "glutes": "concentric"}


@lru_cache(maxsize=512)
def _placement(muscle: str) -> Placement:
    """The parsed placement (cached: the display asks for every lane in every frame)."""
    return parse_placement(muscle)


def is_target(muscle: str, exercise: str | Exercise) -> bool:
    """True when ``muscle`` (a placement) is a prime mover of the ``exercise``
    (:mod:`myoflow.exercises`): only those lanes get the target band."""
    return _placement(muscle).muscle in get_exercise(exercise).muscles.prime_movers


class CueRules:
    """The cue rules of the module docstring, with the little state they need.

    Parameters
    ----------
    bottom_cue_s
        A glute above its rest threshold this long in the bottom phase puts up "relax" (s).
    relaxed_show_s
        "relaxed now" stays this long (s).
    hold_s
        A result's cue stays at most this long (s of data).
    relax_targets
        Muscle stems the live "relax" rule watches: the exercise's ``relax_targets`` when it
        judges relaxation per rep, none when it judges it after the set (:mod:`myoflow.exercises`).
    """

    def __init__(
        self,
        bottom_cue_s: float = 1.0,
        relaxed_show_s: float = 1.5,
        hold_s: float = 8.0,
        relax_targets: tuple[str, ...] = ("glute_max",),
    ) -> None:
        self.relax_targets = tuple(relax_targets)
        self.bottom_cue_s = float(bottom_cue_s)
        self.relaxed_show_s = float(relaxed_show_s)
        self.hold_s = float(hold_s)
        self.reset()

    def reset(self) -> None:
        """Forget the state (a new analysis started)."""
        self._relax_on = False
        self._relaxed_until = -np.inf

    def kinds(
        self,
        snap: LiveSnapshot,
        newest: float,
        phase: str | None,
        cues: Sequence[Cue],
        latest_result: int | None,
        phases: Sequence[Sequence[Any]],
    ) -> tuple[str, ...]:
        """The cue kinds on screen now, most urgent first."""
        kinds: list[str] = []
        tense = self._glute_tense(snap, newest)
        relax_now = phase == "bottom" and tense and self._phase_since(phases, newest) >= self.bottom_cue_s
        if self._relax_on and not relax_now and phase == "bottom" and not tense:
            self._relaxed_until = newest + self.relaxed_show_s
        self._relax_on = relax_now
        if relax_now:
            kinds.append("relax")
        elif newest < self._relaxed_until and phase in ("bottom", None):
            kinds.append("relaxed")
        if cues:
            last_rep = cues[-1].rep_index
            if latest_result is None or last_rep == latest_result:
                for cue in cues:
                    if cue.rep_index != last_rep or cue.kind not in _ENDS_AFTER:
                        continue
                    if newest - cue.time <= self.hold_s and not _phase_ended(
                        phases, _ENDS_AFTER[cue.kind], cue.time
                    ):
                        kinds.append(cue.kind)
        return tuple(dict.fromkeys(kinds))

    def _glute_tense(self, snap: LiveSnapshot, newest: float) -> bool:
        """A glute above its rest threshold over the whole last ``bottom_cue_s`` (a few cells at
        least), or over the last 0.3 s once the cue is on (so it goes off promptly)."""
        span = 0.3 if self._relax_on else self.bottom_cue_s
        recent = snap.times >= newest - span
        for j, muscle in enumerate(snap.muscles):
            thr = snap.rest_threshold_pct.get(muscle)
            if thr is None or _placement(muscle).muscle not in self.relax_targets:
                continue
            col = snap.envelope_pct[recent, j]
            col = col[np.isfinite(col)]
            if self._relax_on:
                col = col[-3:]  # the newest cells decide when the cue is already up
            if col.size >= 3 and bool(np.all(col > thr)):
                return True
        return False

    @staticmethod
    def _phase_since(phases: Sequence[Sequence[Any]], newest: float) -> float:
        return newest - float(phases[-1][0]) if phases else 0.0


def _phase_ended(phases: Sequence[Sequence[Any]], phase: str, after: float) -> bool:
    """True when a run of ``phase`` that ended after ``after`` is followed by another phase."""
    for k in range(len(phases) - 1):
        if phases[k][2] == phase and float(phases[k][1]) > after:
            return True
    return False


def pending_rep(phases: Sequence[Sequence[Any]], done: float) -> bool:
    """True when, after ``done`` (the end of the last finished rep), an eccentric phase has
    ended in the bottom phase: that rep counts already, its result is still being measured."""
    for k in range(len(phases) - 1):
        if phases[k][2] == "eccentric" and phases[k + 1][2] == "bottom" and float(phases[k + 1][0]) > done:
            return True
    return False
