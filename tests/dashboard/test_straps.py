"""Real straps without flags: the window opens with none, asks where each EMG channel is when
connecting scanned straps, and remembers it per strap."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6 import QtCore, QtWidgets

from myoflow.dashboard.app import teardown
from myoflow.dashboard.placement_dialog import NOT_USED, PlacementDialog
from myoflow.dashboard.straps import PLACEMENT_CHOICES, IdleSource, emg_channels, remembered
from myoflow.devices.seen import SeenDevice


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    return tmp_path


def _seen() -> list[SeenDevice]:
    return [
        SeenDevice("DIYemg-0", "C0:00:00:00:00:01", -50, (), ("diy_emg_4ch_2khz",)),
        SeenDevice("Polar H10 1A", "C0:00:00:00:00:02", -60, (), ("polar_h10_acc_ecg",)),
    ]


def test_placement_dialog_places_each_emg_channel_and_remembers_it(qapp, config_home: Path) -> None:  # noqa: ANN001
    assert "glute_max_r" in PLACEMENT_CHOICES and "biceps_femoris_l" in PLACEMENT_CHOICES
    assert emg_channels("diy_emg_4ch_2khz") == {"emg": ("ch1", "ch2", "ch3", "ch4")}
    dialog = PlacementDialog(_seen())
    assert len(dialog.boxes) == 4  # the H10 has no EMG stream
    assert all(box.currentText() == NOT_USED for box in dialog.boxes.values())
    dialog.boxes[("C0:00:00:00:00:01", "emg", "ch1")].setCurrentText("glute_max_r")
    dialog.boxes[("C0:00:00:00:00:01", "emg", "ch3")].setCurrentText("semitendinosus_r")
    dialog.accept()
    placed = {"emg": {"ch1": "glute_max_r", "ch3": "semitendinosus_r"}}
    assert dialog.placements() == {"C0:00:00:00:00:01": placed, "C0:00:00:00:00:02": {}}
    assert remembered("C0:00:00:00:00:01") == placed
    again = PlacementDialog(_seen())  # next time: the last set-up is offered
    assert again.boxes[("C0:00:00:00:00:01", "emg", "ch3")].currentText() == "semitendinosus_r"
    again.reject()


def test_window_opens_without_straps_and_says_what_to_do(qapp, open_window, config_home: Path) -> None:  # noqa: ANN001
    window = open_window(IdleSource())
    try:
        window.refresh()
        assert "press Scan" in window.status.lines[0].text()
        window.controls.record_button.click()  # nothing to record yet: said, not crashed
        assert not window.controls.record_button.isChecked()
        assert "connect straps first" in window.messages[-1]

        def cancel() -> None:
            box = QtWidgets.QApplication.activeModalWidget()
            if isinstance(box, PlacementDialog):
                box.reject()
            else:
                QtCore.QTimer.singleShot(50, cancel)

        QtCore.QTimer.singleShot(50, cancel)
        window._connect_devices(_seen())  # Cancel in the placement dialog: nothing changes
        assert isinstance(window.source, IdleSource)
    finally:
        teardown(window)
