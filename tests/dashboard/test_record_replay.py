"""Recording from the dashboard, and replaying a recording into it."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtTest

from myoflow.dashboard.app import teardown
from myoflow.dashboard.replay_source import ReplaySource
from myoflow.dashboard.virtual_source import virtual_source


def test_recording_start_and_stop_writes_a_valid_file(qapp, tmp_path: Path, open_window, wait_until) -> None:  # noqa: ANN001
    from myoflow.storage.reader import open_recording

    source = virtual_source(20.0, fast=False, seed=3)  # real time: the recording spans ~6 s
    source.mains_source = "given at dashboard"  # as `myoflow dashboard --mains 50` sets it
    window = open_window(source)
    try:
        wait_until(lambda: source.ingest is not None and source.analysis is not None)
        controls = window.controls
        controls.file_edit.setText(str(tmp_path / "bridges.h5"))
        controls.subject_edit.setText("s01")
        controls.record_button.click()
        assert source.recording == tmp_path / "bridges.h5"
        recorder = source._rec.target.recorder
        wait_until(lambda: recorder.packets > 100)
        controls.marker_button.click()
        wait_until(lambda: recorder.packets > 300)
        controls.record_button.click()
        wait_until(lambda: bool(source.saved), timeout=60.0)
        assert not controls.record_button.isChecked()
    finally:
        teardown(window)
    assert source.error is None and source.recording_error is None
    with open_recording(source.saved[0]) as rec:
        assert set(rec.streams) == {"diy/emg", "pelvis/acc", "pelvis/gyro", "thigh/acc", "thigh/gyro"}
        assert rec.streams["diy/emg"].n_samples > 1000
        assert rec.metadata.subject_id == "s01"
        assert rec.metadata.filter_settings == {"mains_hz": 50.0, "mains_source": "given at dashboard"}
        assert set(rec.metadata.mvc_references) == set(source.mvc)
        kinds = [e.kind for e in rec.events]
        assert "marker" in kinds and "calibration" in kinds


def test_replay_plays_a_recording_and_seeks(qapp, recording, open_window, wait_until) -> None:  # noqa: ANN001
    # 3x: 4 s of wall time to the pause, then 6 s of margin before the end; at 8x a loaded
    # machine (load average 10-13) reached the file's end before the click was handled.
    source = ReplaySource(recording, speed=3.0)
    assert source.mvc is not None  # the file's MVC references cover its muscles
    window = open_window(source)
    try:
        # pause at 12 s of the file's 36 (by position, not by frames: a loaded machine paints late)
        wait_until(lambda: source.position_s >= 12.0, timeout=60.0)
        window.controls.play_button.click()  # pause: a delivery under way finishes, then nothing
        wait_until(lambda: int(window.reps.counter.text()) >= 2, timeout=60.0)
        assert window.controls.seek_slider.value() > 0
        assert not source.clock.playing
        wait_until(lambda: source.holding, timeout=60.0)
        held = source.position_s
        QtTest.QTest.qWait(300)
        assert source.position_s == held < source.duration_s - 5.0
        generation = source.generation
        source.seek(3.0)
        wait_until(lambda: source.generation > generation, timeout=60.0)
        wait_until(lambda: abs(source.position_s - 3.0) < 0.1, timeout=60.0)
        window.refresh()
        assert window.reps.counter.text() == "0"
        assert "paused" in window.status.lines[0].text()
    finally:
        teardown(window)
    assert source.error is None and source.finished


def test_a_recording_without_mains_stores_the_detected_one(qapp, tmp_path: Path, open_window, wait_until) -> None:  # noqa: ANN001, E501
    from myoflow.session.mains_watch import MAINS_SOURCE
    from myoflow.storage.reader import open_recording

    source = virtual_source(40.0, fast=False, seed=3)  # its hum is at 50 Hz; not given
    window = open_window(source)
    try:
        wait_until(lambda: source.ingest is not None and source.analysis is not None)
        window.controls.file_edit.setText(str(tmp_path / "hum.h5"))
        window.controls.record_button.click()
        recorder = source._rec.target.recorder
        # the three straps notify ~53 times/s: ~26 s (26.5 s of EMG in 3 runs), whose quiet seconds
        # show the 50 Hz line at >= 51x its neighbourhood (8x needed) from any start in 0-10 s
        # (measured on the synthetic session's EMG)
        wait_until(lambda: recorder.packets > 1400, timeout=40.0)
        window.controls.record_button.click()
        wait_until(lambda: bool(source.saved), timeout=60.0)
    finally:
        teardown(window)
    assert source.error is None and source.recording_error is None
    with open_recording(source.saved[0]) as rec:
        assert rec.metadata.filter_settings == {"mains_hz": 50.0, "mains_source": MAINS_SOURCE}
