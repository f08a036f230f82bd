"""Mat mode: the view for a person on the mat, 2-3 m from the screen.

One widget, painted with QPainter and sized from its own height (so it reads the same on a
1366x768 laptop and a 4K TV, full screen with F11): the target muscle's live level (the
lower-lag feedback level, :mod:`myoflow.feedback.level`) as a tall bar with its target band
and rest line, the phase as a word on its colour, the rep count,
the last rep's verdict, and the cue. Colours are the Okabe-Ito palette (distinguishable with
the common colour-vision deficiencies) and every colour is paired with a word, never alone.
It repaints only when something it shows changed (the level in whole percent).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from myoflow.analysis.placement import parse_placement
from myoflow.dashboard.model import Frame, feedback_level

__all__ = ["OKABE_ITO", "PHASE_STYLE", "MatState", "MatView", "mat_state"]

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#999999",
}
#: Phase -> (word shown, background colour).
PHASE_STYLE = {
    "concentric": ("PUSH UP", OKABE_ITO["orange"]),
    "top": ("HOLD", OKABE_ITO["green"]),
    "eccentric": ("LOWER", OKABE_ITO["blue"]),
    "bottom": ("REST", OKABE_ITO["grey"]),
    None: ("-", "#555555"),
}
_SCALE = 120.0  # the bar's full height (% of the unit)


@dataclass(frozen=True)
class MatState:
    """What mat mode shows (all already rounded as drawn)."""

    muscle: str
    level: int | None
    band: tuple[float, float] | None
    threshold: float | None
    unit: str
    phase: str | None
    reps: int
    verdict: str
    verdict_ok: bool | None
    cue: str


def mat_state(frame: Frame) -> MatState:
    """The :class:`MatState` of a frame: the first target glute lane (else the first target,
    else the first lane), the newest badge's relaxed verdict."""
    lanes = list(frame.lanes)
    targets = [lane for lane in lanes if lane.band is not None]
    glutes = [lane for lane in targets if parse_placement(lane.muscle).role == "glute"]
    lane = (glutes or targets or lanes or [None])[0]
    level = None
    if lane is not None and np.isfinite(feedback_level(lane)):
        level = int(round(feedback_level(lane)))
    verdict, ok = "no rep yet", None
    if frame.badges:
        b = frame.badges[-1]
        ok = b.relaxed
        word = "relaxed" if b.relaxed else ("NOT relaxed" if b.relaxed is False else "no verdict")
        verdict = f"rep {b.rep_index}: {word}"
    return MatState(
        muscle=lane.muscle if lane is not None else "no EMG",
        level=level,
        band=lane.band if lane is not None else None,
        threshold=lane.threshold if lane is not None else None,
        unit=frame.unit,
        phase=frame.phase,
        reps=frame.rep_count,
        verdict=verdict,
        verdict_ok=ok,
        cue=frame.cue_text,
    )


class MatView(QtWidgets.QWidget):
    """The mat-mode widget (module docstring)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.state: MatState | None = None
        self.paints = 0
        self.setAutoFillBackground(False)
        self.setMinimumSize(320, 240)

    def show_frame(self, frame: Frame) -> None:
        """Take a frame; repaint only if what is shown changed."""
        state = mat_state(frame)
        if state != self.state:
            self.state = state
            self.update()

    def paintEvent(self, _event: QtGui.QPaintEvent) -> None:  # noqa: N802 - Qt's name
        self.paints += 1
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.Antialiasing)
        w, h = self.width(), self.height()
        p.fillRect(self.rect(), QtGui.QColor("#111111"))
        s = self.state
        if s is None:
            p.setPen(QtGui.QColor("white"))
            p.setFont(_font(h * 0.05))
            p.drawText(self.rect(), QtCore.Qt.AlignCenter, "waiting for data")
            p.end()
            return
        margin = int(h * 0.03)
        bar = QtCore.QRect(margin, margin, int(w * 0.22), h - 2 * margin)
        self._bar(p, bar, s)
        right = QtCore.QRect(bar.right() + 2 * margin, margin, w - bar.right() - 3 * margin, h - 2 * margin)
        self._panel(p, right, s)
        p.end()

    def _bar(self, p: QtGui.QPainter, r: QtCore.QRect, s: MatState) -> None:
        p.fillRect(r, QtGui.QColor("#2a2a2a"))

        def y_of(value: float) -> int:
            return int(r.bottom() - min(max(value, 0.0), _SCALE) / _SCALE * r.height())

        if s.band is not None:
            band = QtCore.QRect(r.left(), y_of(s.band[1]), r.width(), y_of(s.band[0]) - y_of(s.band[1]))
            colour = QtGui.QColor(OKABE_ITO["green"])
            colour.setAlpha(90)
            p.fillRect(band, colour)
            p.setPen(QtGui.QPen(QtGui.QColor(OKABE_ITO["green"]), max(2, r.width() // 40)))
            p.drawRect(band)
        if s.level is not None:
            in_band = s.band is not None and s.band[0] <= s.level <= s.band[1]
            colour = (
                OKABE_ITO["sky"]
                if in_band
                else (OKABE_ITO["orange"] if s.band and s.level > s.band[1] else "#dddddd")
            )
            fill = QtCore.QRect(
                r.left() + r.width() // 5, y_of(s.level), r.width() * 3 // 5, r.bottom() - y_of(s.level)
            )
            p.fillRect(fill, QtGui.QColor(colour))
        if s.threshold is not None and np.isfinite(s.threshold):
            pen = QtGui.QPen(QtGui.QColor("white"), max(2, r.height() // 200), QtCore.Qt.DashLine)
            p.setPen(pen)
            y = y_of(s.threshold)
            p.drawLine(r.left(), y, r.right(), y)
        p.setPen(QtGui.QColor("white"))
        p.setFont(_font(r.width() * 0.16, bold=True))
        label = "-" if s.level is None else f"{s.level}%"
        p.drawText(
            QtCore.QRect(r.left(), r.top(), r.width(), int(r.width() * 0.3)), QtCore.Qt.AlignCenter, label
        )
        caption = f"{s.muscle} · {s.unit}"
        caption_rect = QtCore.QRect(
            r.left(), r.top() + int(r.width() * 0.3), r.width(), int(r.width() * 0.12)
        )
        p.setFont(_fit(p, caption, caption_rect, 0.8))
        p.drawText(caption_rect, QtCore.Qt.AlignCenter, caption)

    def _panel(self, p: QtGui.QPainter, r: QtCore.QRect, s: MatState) -> None:
        h = r.height()
        word, colour = PHASE_STYLE.get(s.phase, PHASE_STYLE[None])
        rows = [int(h * f) for f in (0.0, 0.2, 0.62, 0.8, 1.0)]
        phase_rect = QtCore.QRect(r.left(), r.top(), r.width(), rows[1] - rows[0] - h // 40)
        p.fillRect(phase_rect, QtGui.QColor(colour))
        p.setPen(QtGui.QColor("black"))
        p.setFont(_font(phase_rect.height() * 0.55, bold=True))
        p.drawText(phase_rect, QtCore.Qt.AlignCenter, word)
        reps_rect = QtCore.QRect(r.left(), r.top() + rows[1], r.width(), rows[2] - rows[1])
        p.setPen(QtGui.QColor("white"))
        p.setFont(_font(reps_rect.height() * 0.75, bold=True))
        p.drawText(reps_rect.adjusted(0, 0, -r.width() // 3, 0), QtCore.Qt.AlignCenter, str(s.reps))
        p.setFont(_font(reps_rect.height() * 0.14))
        p.drawText(reps_rect.adjusted(r.width() * 2 // 3, 0, 0, 0), QtCore.Qt.AlignCenter, "reps")
        verdict_rect = QtCore.QRect(r.left(), r.top() + rows[2], r.width(), rows[3] - rows[2] - h // 40)
        vcolour = {True: OKABE_ITO["green"], False: OKABE_ITO["vermillion"]}.get(s.verdict_ok, "#444444")
        p.fillRect(verdict_rect, QtGui.QColor(vcolour))
        p.setPen(QtGui.QColor("white"))
        p.setFont(_fit(p, s.verdict, verdict_rect, 0.6))
        p.drawText(verdict_rect, QtCore.Qt.AlignCenter, s.verdict)
        cue_rect = QtCore.QRect(r.left(), r.top() + rows[3], r.width(), rows[4] - rows[3])
        if s.cue:
            p.fillRect(cue_rect, QtGui.QColor(OKABE_ITO["yellow"]))
            p.setPen(QtGui.QColor("black"))
            p.setFont(_fit(p, s.cue, cue_rect, 0.55))
            p.drawText(cue_rect, QtCore.Qt.AlignCenter, s.cue)


def _font(pixels: float, bold: bool = False) -> QtGui.QFont:
    font = QtGui.QFont()
    font.setPixelSize(max(8, int(pixels)))
    font.setBold(bold)
    return font


def _fit(p: QtGui.QPainter, text: str, rect: QtCore.QRect, height_frac: float) -> QtGui.QFont:
    """A bold font ``height_frac`` of ``rect``'s height, smaller if ``text`` would not fit."""
    font = _font(rect.height() * height_frac, bold=True)
    width = QtGui.QFontMetrics(font).horizontalAdvance(text)
    if width > rect.width() * 0.95:
        font = _font(rect.height() * height_frac * rect.width() * 0.95 / width, bold=True)
    return font
