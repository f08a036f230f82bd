"""The replay window's transport: the speed box shows the --speed given, and at the end of the
file the title says "(ended)" and the play button offers Restart, which plays it again."""

from __future__ import annotations

from myoflow.dashboard.app import teardown
from myoflow.dashboard.replay_source import ReplaySource


def test_replay_shows_its_speed_and_offers_restart_at_the_end(  # noqa: ANN001
    qapp, recording, open_window, wait_until
) -> None:
    # 6x (not one of the box's speeds): the 36 s file ends after ~6 s of wall time
    source = ReplaySource(recording, speed=6.0)
    window = open_window(source)
    controls = window.controls
    try:
        assert controls.speed_box.currentText() == "6x"
        assert source.clock.speed == 6.0  # showing it did not change it
        assert controls.play_button.text() == "Pause"
        wait_until(lambda: source.ended, timeout=90.0)
        wait_until(lambda: controls.play_button.text() == "Restart", timeout=10.0)
        assert window.windowTitle().endswith(" (ended)")
        assert not controls.play_button.isChecked() and not source.clock.playing
        assert any("replay has ended" in m for m in window.messages)
        window.refresh()  # idle frames keep it
        assert window.windowTitle().count("(ended)") == 1
        controls.play_button.click()  # Restart: from 0 s, playing
        wait_until(lambda: not source.ended and source.position_s < source.duration_s / 2, timeout=30.0)
        wait_until(lambda: not window.windowTitle().endswith("(ended)"), timeout=10.0)  # next frame
        assert controls.play_button.text() == "Pause"
        assert source.clock.playing and controls.play_button.isChecked()
        controls.speed_box.setCurrentIndex(controls.speed_box.findText("2x"))
        assert source.clock.speed == 2.0
    finally:
        teardown(window)
    assert source.error is None
