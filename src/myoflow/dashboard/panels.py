"""Text panels: the cue banner, the rep counter with its badge rows, the strap status lines.

Each takes the matching part of a :class:`~myoflow.dashboard.model.Frame` and touches its
labels only when the text changed (setting a label's text re-lays it out).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6 import QtCore, QtGui, QtWidgets

from myoflow.dashboard.model import Badge, StatusLine

__all__ = ["CueBanner", "RepPanel", "StatusPanel"]

_OK, _BAD, _NEUTRAL = "#2e7d32", "#c62828", "#555555"
_CUE_COLOURS = {"relax": "#c62828", "squeeze": "#ef6c00", "glutes": "#6a1b9a", "relaxed": "#2e7d32"}


def _font(point_size: int, bold: bool = False) -> QtGui.QFont:
    font = QtGui.QFont()
    font.setPointSize(point_size)
    font.setBold(bold)
    return font


class CueBanner(QtWidgets.QLabel):
    """The cue, in letters big enough to read from a mat; empty (but keeping its height) when
    there is nothing to say."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlignment(QtCore.Qt.AlignCenter)
        self.setFont(_font(30, bold=True))
        self.setMinimumHeight(70)
        self.setWordWrap(True)
        self.kinds: tuple[str, ...] = ()
        self.history: list[str] = []  # every cue text shown, in order (the last 100)
        self._shown = None
        self.show_cue("", ())

    def show_cue(self, text: str, kinds: Sequence[str]) -> None:
        key = (text, tuple(kinds))
        if key == self._shown:
            return
        self._shown = key
        self.kinds = tuple(kinds)
        if text:
            self.history = [*self.history[-99:], text]
        colour = _CUE_COLOURS.get(kinds[0], _NEUTRAL) if kinds else None
        self.setText(text)
        if colour is None:
            self.setStyleSheet("QLabel { background: transparent; color: #999; }")
        else:
            self.setStyleSheet(f"QLabel {{ background: {colour}; color: white; border-radius: 8px; }}")


class RepPanel(QtWidgets.QWidget):
    """A large rep counter, the current phase, and one badge per finished rep (newest on top):
    relaxed at the bottom (with the minimum), then handover and eccentric hold."""

    def __init__(self, max_rows: int = 8, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        self.counter = QtWidgets.QLabel("0")
        self.counter.setFont(_font(56, bold=True))
        self.counter.setAlignment(QtCore.Qt.AlignCenter)
        caption = QtWidgets.QLabel("reps")
        caption.setAlignment(QtCore.Qt.AlignCenter)
        self.phase = QtWidgets.QLabel("phase: -")
        self.phase.setAlignment(QtCore.Qt.AlignCenter)
        self.phase.setFont(_font(14))
        layout.addWidget(self.counter)
        layout.addWidget(caption)
        layout.addWidget(self.phase)
        grid = QtWidgets.QGridLayout()
        self.rows: list[list[QtWidgets.QLabel]] = []
        for i in range(max_rows):  # per rep: "#n" + relaxed badge, then handover and hold below
            cells = [QtWidgets.QLabel("") for _ in range(3)]
            cells[0].setFont(_font(12, bold=True))
            cells[1].setFont(_font(12, bold=True))
            cells[2].setFont(_font(10))
            grid.addWidget(cells[0], 2 * i, 0)
            grid.addWidget(cells[1], 2 * i, 1)
            grid.addWidget(cells[2], 2 * i + 1, 1)
            self.rows.append(cells)
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)
        self._count = None
        self._badges: tuple[Badge, ...] | None = None
        self._phase = None

    def show_reps(self, count: int, phase: str | None, badges: Sequence[Badge]) -> None:
        if count != self._count:
            self._count = count
            self.counter.setText(str(count))
        if phase != self._phase:
            self._phase = phase
            self.phase.setText(f"phase: {phase or '-'}")
        badges = tuple(badges)
        if badges == self._badges:
            return
        self._badges = badges
        newest_first = list(reversed(badges))[: len(self.rows)]
        for cells, b in zip(self.rows, newest_first, strict=False):
            colour = _NEUTRAL if b.relaxed is None else (_OK if b.relaxed else _BAD)
            cells[0].setText(f"#{b.rep_index}{' (partial)' if b.partial else ''}")
            cells[1].setText(b.relaxed_text)
            cells[1].setStyleSheet(
                f"QLabel {{ color: white; background: {colour}; border-radius: 4px; padding: 2px; }}"
            )
            cells[2].setText(f"{b.handover_text} · {b.hold_text}")
            none = b.handover_text.endswith("none")
            cells[2].setStyleSheet(f"QLabel {{ color: {_BAD if none else _NEUTRAL}; }}")
        for cells in self.rows[len(newest_first) :]:
            for cell in cells:
                cell.setText("")
                cell.setStyleSheet("")


class StatusPanel(QtWidgets.QWidget):
    """One line per strap (red when it needs attention) and a line of display figures."""

    def __init__(self, max_lines: int = 8, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.lines = [QtWidgets.QLabel("") for _ in range(max_lines)]
        for label in self.lines:
            label.setWordWrap(True)
            layout.addWidget(label)
        self.display = QtWidgets.QLabel("")
        self.display.setStyleSheet("QLabel { color: #666; }")
        layout.addWidget(self.display)
        self._shown: tuple[StatusLine, ...] | None = None

    def show_status(self, lines: Sequence[StatusLine], display: str) -> None:
        lines = tuple(lines)
        if lines != self._shown:
            self._shown = lines
            for label, line in zip(self.lines, lines, strict=False):
                label.setText(("⚠ " if line.warning else "") + line.text)
                label.setStyleSheet(f"QLabel {{ color: {_BAD if line.warning else '#222'}; }}")
            for label in self.lines[len(lines) :]:
                label.setText("")
        if self.display.text() != display:
            self.display.setText(display)
