"""The MVC calibration wizard: one muscle at a time, with a countdown for each contraction.

A non-modal dialog over :class:`~myoflow.session.calibration.MvcCalibration`: Start counts the
contraction down (a QTimer, so the dashboard keeps drawing meanwhile), then takes the
contraction's EMG from the session (``source.contraction(muscle, seconds)``: the straps' raw
EMG, or the virtual straps' synthetic MVC trial), measures the reference and moves to the next
muscle. Apply hands every reference to the session, which restarts its analysis in % MVC.

Hands-free (on by default): after each contraction a rest countdown (``rest_s``) runs and the
next muscle's contraction starts by itself, so one Start (a click, Enter or Space) calibrates
every muscle; the person never has to reach for the mouse between contractions. The text wraps
in a dialog at least 560 px wide, so the final summary is never clipped.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from myoflow.dashboard.source import DashboardSource
from myoflow.session.calibration import MvcCalibration

__all__ = ["MvcWizard"]


class MvcWizard(QtWidgets.QDialog):
    """The wizard dialog (module docstring); ``applied`` carries the references (uV)."""

    applied = QtCore.Signal(dict)

    def __init__(
        self,
        source: DashboardSource,
        muscles: tuple[str, ...],
        contraction_s: float = 4.0,
        parent: QtWidgets.QWidget | None = None,
        rest_s: float = 5.0,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("MVC calibration")
        self.setMinimumWidth(560)
        self.rest_s = float(rest_s)
        self.source = source
        self.calibration = MvcCalibration(muscles, contraction_s, getattr(source, "mains_hz", 50.0))
        layout = QtWidgets.QVBoxLayout(self)
        self.instruction = QtWidgets.QLabel()
        self.instruction.setWordWrap(True)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.results = QtWidgets.QLabel("")
        self.results.setWordWrap(True)
        font = self.instruction.font()
        font.setPointSize(font.pointSize() + 3)
        self.instruction.setFont(font)
        self.hands_free = QtWidgets.QCheckBox(
            f"hands-free: the next muscle starts after a {self.rest_s:g} s rest"
        )
        self.hands_free.setChecked(True)
        row = QtWidgets.QHBoxLayout()
        self.start_button = QtWidgets.QPushButton("Start")
        self.start_button.setDefault(True)  # Enter starts; Space too while it has the focus
        self.apply_button = QtWidgets.QPushButton("Apply")
        self.apply_button.setEnabled(False)
        cancel = QtWidgets.QPushButton("Cancel")
        row.addWidget(self.start_button)
        row.addWidget(self.apply_button)
        row.addWidget(cancel)
        for w in (self.instruction, self.progress, self.results, self.hands_free):
            layout.addWidget(w)
        layout.addLayout(row)
        self.start_button.clicked.connect(self.start_step)
        self.apply_button.clicked.connect(self.apply)
        cancel.clicked.connect(self.reject)
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._tick)
        self._elapsed = QtCore.QElapsedTimer()
        self._rest = QtCore.QTimer(self)
        self._rest.setInterval(100)
        self._rest.timeout.connect(self._rest_tick)
        self._rest_clock = QtCore.QElapsedTimer()
        self._refresh()

    def _refresh(self) -> None:
        self.instruction.setText(self.calibration.instruction())
        self.results.setText("\n".join(f"{m}: {v:.0f} uV" for m, v in self.calibration.references().items()))
        self.start_button.setEnabled(not self.calibration.done and not self._timer.isActive())
        self.apply_button.setEnabled(self.calibration.done)
        if self.calibration.done:
            self.apply_button.setDefault(True)
            self.apply_button.setFocus()
        self.adjustSize()

    def start_step(self) -> None:
        """Begin the current muscle's contraction countdown."""
        if self.calibration.done:
            return
        self._rest.stop()
        self._elapsed.start()
        self.progress.setValue(0)
        self._timer.start()
        self.start_button.setEnabled(False)
        self.instruction.setText(
            f"contract {self.calibration.current.muscle.replace('_', ' ')} as hard as you can!"
        )

    def _tick(self) -> None:
        seconds = self.calibration.contraction_s
        fraction = self._elapsed.elapsed() / 1000.0 / seconds
        self.progress.setValue(int(min(fraction, 1.0) * 1000))
        if fraction < 1.0:
            return
        self._timer.stop()
        muscle = self.calibration.current.muscle
        try:
            emg, fs = self.source.contraction(muscle, seconds)
            self.calibration.measure(emg, fs)
        except ValueError as exc:
            self.results.setText(f"{muscle}: {exc}")
            self.start_button.setEnabled(True)
            return
        self._refresh()
        if self.hands_free.isChecked() and not self.calibration.done:
            self._rest_clock.start()
            self._rest.start()
            self._rest_tick()

    def _rest_tick(self) -> None:
        """The rest countdown between contractions (hands-free); then the next one starts."""
        left = self.rest_s - self._rest_clock.elapsed() / 1000.0
        if left <= 0.0:
            self._rest.stop()
            self.start_step()
            return
        muscle = self.calibration.current.muscle.replace("_", " ")
        step = f"step {self.calibration.index + 1} of {len(self.calibration.steps)}"
        self.instruction.setText(f"{step}: rest. Next: {muscle}, contract as hard as you can in {left:.0f} s")

    def apply(self) -> None:
        """Hand the references to the session and close."""
        refs = self.calibration.references()
        self.source.set_mvc(refs)
        self.applied.emit(refs)
        self.accept()

    def done(self, result: int) -> None:  # noqa: D102 - QDialog.done, stops the countdown too
        self._timer.stop()
        self._rest.stop()
        super().done(result)
