"""The control panel: connect (scan list), recording, MVC calibration, exercise, marker, raw
lane, replay transport, and the settings that say what the display shows (envelope delay).

The panel only emits signals; :class:`~myoflow.dashboard.window.DashboardWindow` turns them
into commands for the session. A BLE scan runs in a worker thread; its result comes back to
the GUI thread through a queued signal.

Two rules keep a session from being changed by accident: buttons never take keyboard focus
(a Space press after clicking Stop must not start a new recording; the window's shortcuts act
instead), and combo boxes and sliders ignore the mouse wheel unless they have focus (a scroll
over the panel must not change the exercise), see :class:`WheelGuard`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

from PySide6 import QtCore, QtWidgets

from myoflow.exercises import exercise_names

__all__ = ["SPEEDS", "Controls", "WheelGuard"]

#: Replay speeds offered (x real time).
SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0)


class WheelGuard(QtCore.QObject):
    """Event filter: a wheel event on a widget without keyboard focus is dropped instead of
    changing the widget's value (click the widget first, then the wheel works)."""

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QtCore.QEvent.Wheel and isinstance(watched, QtWidgets.QWidget):
            if not watched.hasFocus():
                event.ignore()
                return True
        return False


def guard_inputs(root: QtWidgets.QWidget, guard: WheelGuard) -> None:
    """Under ``root``: buttons take no keyboard focus; value widgets get focus only by click or
    Tab (not by wheel) and ignore the wheel while unfocused."""
    for button in root.findChildren(QtWidgets.QAbstractButton):
        button.setFocusPolicy(QtCore.Qt.NoFocus)
    for widget in (
        *root.findChildren(QtWidgets.QComboBox),
        *root.findChildren(QtWidgets.QAbstractSlider),
        *root.findChildren(QtWidgets.QAbstractSpinBox),
    ):
        widget.setFocusPolicy(QtCore.Qt.StrongFocus)
        widget.installEventFilter(guard)


class Controls(QtWidgets.QWidget):
    """Buttons and fields (module docstring). ``kind`` is ``"live"`` or ``"replay"``."""

    connect_requested = QtCore.Signal(list)  # SeenDevice objects
    record_toggled = QtCore.Signal(bool, str, str, str)  # start?, folder, file name ("" auto), subject
    calibrate_requested = QtCore.Signal()
    exercise_changed = QtCore.Signal(str)
    marker_requested = QtCore.Signal()
    raw_changed = QtCore.Signal(str)  # "" for off
    play_toggled = QtCore.Signal(bool)
    seek_requested = QtCore.Signal(float)  # fraction 0..1
    speed_changed = QtCore.Signal(float)
    restart_requested = QtCore.Signal()  # the replay's button after the end: play from 0 s
    _scanned = QtCore.Signal(object)

    def __init__(
        self, kind: str, exercise: str, parent: QtWidgets.QWidget | None = None, folder: str = "."
    ) -> None:
        super().__init__(parent)
        self.kind = kind
        self._folder = folder
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self._seen: list[Any] = []
        if kind == "live":
            layout.addWidget(self._connect_box())
            layout.addWidget(self._record_box())
        else:
            layout.addWidget(self._replay_box())
        layout.addWidget(self._session_box(exercise))
        self.settings = QtWidgets.QLabel("envelope display delay: -")
        self.settings.setWordWrap(True)
        self.settings.setToolTip(
            "The live envelope lags the muscle by the filters' group delay; the lanes are drawn "
            "delay-corrected, so their newest point is this much older than the newest sample."
        )
        box = QtWidgets.QGroupBox("settings")
        QtWidgets.QVBoxLayout(box).addWidget(self.settings)
        layout.addWidget(box)
        layout.addStretch(1)
        self._scanned.connect(self._show_scan)
        self._guard = WheelGuard(self)
        guard_inputs(self, self._guard)

    # --- groups ----------------------------------------------------------------------------
    def _connect_box(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("straps")
        lay = QtWidgets.QVBoxLayout(box)
        self.scan_button = QtWidgets.QPushButton("Scan")
        self.scan_list = QtWidgets.QListWidget()
        self.scan_list.setSelectionMode(QtWidgets.QAbstractItemView.MultiSelection)
        self.scan_list.setMaximumHeight(80)
        self.connect_button = QtWidgets.QPushButton("Connect selected")
        self.scan_button.clicked.connect(self._scan)
        self.connect_button.clicked.connect(self._connect_selected)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.scan_button)
        row.addWidget(self.connect_button)
        lay.addLayout(row)
        lay.addWidget(self.scan_list)
        return box

    def _record_box(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("recording")
        form = QtWidgets.QFormLayout(box)
        self.folder_edit = QtWidgets.QLineEdit(self._folder)
        self.file_edit = QtWidgets.QLineEdit("")
        self.file_edit.setPlaceholderText("automatic: subject_exercise_time.h5")
        self.file_edit.setToolTip(
            "Empty: a new name from subject, exercise and time (never an existing file). "
            "A typed name that exists is overwritten only after you confirm."
        )
        self.subject_edit = QtWidgets.QLineEdit("")
        self.subject_edit.setPlaceholderText("pseudonymous id")
        self.record_button = QtWidgets.QPushButton("Start recording")
        self.record_button.setCheckable(True)
        self.record_button.toggled.connect(self._record)
        form.addRow("folder", self.folder_edit)
        form.addRow("file", self.file_edit)
        form.addRow("subject", self.subject_edit)
        form.addRow(self.record_button)
        return box

    def _replay_box(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("replay")
        lay = QtWidgets.QVBoxLayout(box)
        row = QtWidgets.QHBoxLayout()
        self.play_button = QtWidgets.QPushButton("Pause")
        self.play_button.setCheckable(True)
        self.play_button.setChecked(True)
        self.play_button.toggled.connect(self._play)
        self.speed_box = QtWidgets.QComboBox()
        for s in SPEEDS:
            self.speed_box.addItem(f"{s:g}x", s)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_box.currentIndexChanged.connect(
            lambda i: self.speed_changed.emit(float(self.speed_box.itemData(i)))
        )
        self._at_end = False
        row.addWidget(self.play_button)
        row.addWidget(self.speed_box)
        self.seek_slider = QtWidgets.QSlider(QtCore.Qt.Horizontal)
        self.seek_slider.setRange(0, 1000)
        self.seek_slider.sliderReleased.connect(
            lambda: self.seek_requested.emit(self.seek_slider.value() / 1000.0)
        )
        lay.addLayout(row)
        lay.addWidget(self.seek_slider)
        return box

    def _session_box(self, exercise: str) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("session")
        form = QtWidgets.QFormLayout(box)
        self.exercise_box = QtWidgets.QComboBox()
        self.exercise_box.addItems(list(exercise_names()))
        self.exercise_box.setCurrentText(exercise)
        self.exercise_box.currentTextChanged.connect(self.exercise_changed.emit)
        self.raw_box = QtWidgets.QComboBox()
        self.raw_box.addItem("off", "")
        self.raw_box.currentIndexChanged.connect(lambda _i: self.raw_changed.emit(self.raw_box.currentData()))
        self.calibrate_button = QtWidgets.QPushButton("MVC calibration...")
        self.calibrate_button.clicked.connect(self.calibrate_requested.emit)
        self.marker_button = QtWidgets.QPushButton("Marker")
        self.marker_button.clicked.connect(self.marker_requested.emit)
        form.addRow("exercise", self.exercise_box)
        form.addRow("raw EMG", self.raw_box)
        if self.kind == "live":
            form.addRow(self.calibrate_button)
            form.addRow(self.marker_button)
        return box

    # --- behaviour -------------------------------------------------------------------------
    def set_muscles(self, muscles: Sequence[str]) -> None:
        """Offer ``muscles`` for the raw lane."""
        current = self.raw_box.currentData()
        self.raw_box.blockSignals(True)
        self.raw_box.clear()
        self.raw_box.addItem("off", "")
        for m in muscles:
            self.raw_box.addItem(m, m)
        index = max(0, self.raw_box.findData(current))
        self.raw_box.setCurrentIndex(index)
        self.raw_box.blockSignals(False)

    def show_settings(self, delay_ms: float, window_s: float, fps: float, unit: str) -> None:
        text = (
            f"envelope display delay: {delay_ms:.0f} ms (filter group delay; target < 60 ms)\n"
            f"window {window_s:g} s · levels in {unit} · refresh {fps:.0f} fps"
        )
        if self.settings.text() != text:
            self.settings.setText(text)

    def show_recording(self, recording: bool, force: bool = False) -> None:
        if self.kind != "live" or (self.record_button.isChecked() == recording and not force):
            return
        self.record_button.blockSignals(True)
        self.record_button.setChecked(recording)
        self.record_button.setText("Stop recording" if recording else "Start recording")
        self.record_button.blockSignals(False)

    def _record(self, on: bool) -> None:
        self.record_button.setText("Stop recording" if on else "Start recording")
        self.record_toggled.emit(
            on,
            self.folder_edit.text().strip(),
            self.file_edit.text().strip(),
            self.subject_edit.text().strip(),
        )

    def _play(self, on: bool) -> None:
        if on and self._at_end:  # "Restart"
            self._at_end = False
            self.restart_requested.emit()
        self.play_button.setText("Pause" if on else "Play")
        self.play_toggled.emit(on)

    def show_speed(self, speed: float) -> None:
        """Show the replay ``speed`` (x real time) in the speed box, adding it when it is not
        one of :data:`SPEEDS` (``--speed 3``); the box's signal is not sent."""
        index = self.speed_box.findData(float(speed))
        if index < 0:
            index = sum(s < speed for s in SPEEDS)
            self.speed_box.insertItem(index, f"{speed:g}x", float(speed))
        self.speed_box.blockSignals(True)
        self.speed_box.setCurrentIndex(index)
        self.speed_box.blockSignals(False)

    def show_ended(self, ended: bool, playing: bool = False) -> None:
        """The replay button at the end of the file: "Restart" (play again from 0 s); when
        the replay is no longer at its end (a seek), "Pause"/"Play" as ``playing`` says."""
        self._at_end = ended
        self.play_button.blockSignals(True)
        self.play_button.setChecked(not ended and playing)
        self.play_button.blockSignals(False)
        self.play_button.setText("Restart" if ended else ("Pause" if playing else "Play"))

    def show_position(self, fraction: float) -> None:
        if self.kind == "replay" and not self.seek_slider.isSliderDown():
            self.seek_slider.blockSignals(True)
            self.seek_slider.setValue(int(round(1000 * min(max(fraction, 0.0), 1.0))))
            self.seek_slider.blockSignals(False)

    def _scan(self) -> None:
        self.scan_button.setEnabled(False)
        self.scan_list.clear()
        self.scan_list.addItem("scanning (5 s)...")

        def work() -> None:
            from myoflow.devices.ble import scan

            try:
                found: Any = asyncio.run(scan(5.0))
            except Exception as exc:  # no adapter, permissions...: shown in the list
                found = exc
            self._scanned.emit(found)

        threading.Thread(target=work, name="myoflow-dashboard-scan", daemon=True).start()

    def _show_scan(self, found: Any) -> None:
        self.scan_button.setEnabled(True)
        self.scan_list.clear()
        if isinstance(found, Exception):
            self.scan_list.addItem(f"scan failed: {found}")
            self._seen = []
            return
        self._seen = [d for d in found if d.profiles]
        for d in self._seen:
            self.scan_list.addItem(d.describe())
        if not self._seen:
            self.scan_list.addItem("no known strap found")

    def _connect_selected(self) -> None:
        rows = sorted(i.row() for i in self.scan_list.selectedIndexes())
        chosen = [self._seen[r] for r in rows if r < len(self._seen)]
        if chosen:
            self.connect_requested.emit(chosen)
