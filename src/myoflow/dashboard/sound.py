"""What the dashboard says out loud: frames in, sound cues out.

:class:`FrameSounds` watches the frames the window draws and plays, through a
:class:`~myoflow.feedback.player.SoundPlayer` (or anything with ``cue(name)`` and a ``mixer``):

* **tone** (optional): during the concentric phase a tone whose pitch follows the target
  muscle's live level (:func:`~myoflow.feedback.sounds.tone_hz`), silent otherwise;
* **chime** when the banner's "relaxed now" appears and when a finished rep was relaxed at the
  bottom (once per 2 s at most); **warning** when a finished rep was not;
* **spoken cues** when a banner cue appears: "relax", "squeeze as you lower", "drive with the
  glutes"; "set done" when a set ends (:meth:`set_done`).

The same frame rules decide the banner and the sound, so they never disagree.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from myoflow.analysis.placement import parse_placement
from myoflow.dashboard.model import Frame, feedback_level
from myoflow.feedback.sounds import tone_hz

__all__ = ["FrameSounds"]

_SPOKEN = {"relax": "relax", "squeeze": "squeeze", "glutes": "glutes"}


class FrameSounds:
    """Turns frames into sound cues (module docstring). ``tone``: play the activation tone."""

    def __init__(self, player: Any, tone: bool = True) -> None:
        self.player = player
        self.tone = bool(tone)
        self.played: list[tuple[float | None, str]] = []  # (frame's newest_s, cue name)
        self._kinds: tuple[str, ...] = ()
        self._badges = 0
        self._last_chime = -np.inf

    @property
    def muted(self) -> bool:
        return bool(self.player.mixer.muted)

    def set_muted(self, muted: bool) -> None:
        self.player.mixer.muted = bool(muted)
        if muted:
            self.player.mixer.set_tone(None)

    def set_volume(self, volume: float) -> None:
        self.player.mixer.set_volume(volume)

    def reset(self) -> None:
        """A new analysis: forget which badges and cues were already sounded."""
        self._kinds, self._badges = (), 0
        self.player.mixer.set_tone(None)

    def _cue(self, name: str, when: float | None) -> None:
        if self.player.cue(name) is not None:
            self.played.append((when, name))

    def on_frame(self, frame: Frame) -> None:
        """Sound what changed since the previous frame."""
        when = frame.newest_s
        if len(frame.badges) < self._badges:
            self._badges = 0  # the model kept fewer (a new analysis)
        for b in frame.badges[self._badges :]:
            if b.relaxed is True and (when is None or when - self._last_chime > 2.0):
                self._cue("chime", when)
                self._last_chime = when if when is not None else self._last_chime
            elif b.relaxed is False:
                self._cue("warning", when)
        self._badges = len(frame.badges)
        for kind in frame.cue_kinds:
            if kind in self._kinds:
                continue
            if kind == "relaxed":
                self._cue("chime", when)
                self._last_chime = when if when is not None else self._last_chime
            elif kind in _SPOKEN:
                self._cue(_SPOKEN[kind], when)
        self._kinds = tuple(frame.cue_kinds)
        level = _target_level(frame)
        on = self.tone and not self.muted and frame.phase == "concentric" and np.isfinite(level)
        self.player.mixer.set_tone(tone_hz(level) if on else None)

    def set_done(self, when: float | None = None) -> None:
        """Say "set done"."""
        self._cue("set_done", when)


def _target_level(frame: Frame) -> float:
    """The newest level of the first target lane (a glute first), NaN when none."""
    targets = [lane for lane in frame.lanes if lane.band is not None]
    glutes = [lane for lane in targets if parse_placement(lane.muscle).role == "glute"]
    lanes = glutes or targets
    return feedback_level(lanes[0]) if lanes else float("nan")
