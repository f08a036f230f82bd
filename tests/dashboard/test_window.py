"""The dashboard window against virtual straps (virtual time) and a replayed recording.

One virtual session (22 s of glute bridges, the 3rd rep stays tense at the bottom) is streamed
through the real BLE path into the window for the whole module; the tests then check what the
window drew: curves with data, the rep counter, the cue of the tense rep, lane pixels.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtGui

from myoflow.analysis.live_types import LiveSnapshot
from myoflow.dashboard.app import teardown
from myoflow.dashboard.live_source import LiveSource
from myoflow.dashboard.model import DashboardModel
from myoflow.dashboard.plots import BACKGROUND, LANE_COLOURS, PlotsView
from myoflow.dashboard.virtual_source import virtual_source
from myoflow.dashboard.window import DashboardWindow


@pytest.fixture(scope="module")
def live(qapp, open_window, wait_until) -> Iterator[tuple[DashboardWindow, LiveSource, int]]:  # noqa: ANN001
    source = virtual_source(22.0, fast=True, seed=7)
    window = open_window(source, fps=30.0)
    seen_counts: list[int] = []
    wait_until(lambda: source.analysis is not None)
    first_generation = source.generation

    def done() -> bool:
        seen_counts.append(int(window.reps.counter.text()))
        return source.finished

    wait_until(done, timeout=60.0)
    window.refresh()
    assert source.error is None, source.error
    yield window, source, first_generation
    teardown(window)


def test_window_opens_and_curves_receive_data(live) -> None:  # noqa: ANN001
    window, source, _ = live
    assert window.plots.muscles == source.analysis.muscles
    assert len(window.plots.curves) == 4
    for curve in window.plots.curves:
        x, y = curve.getData()
        assert x is not None and np.isfinite(y).sum() > 200
        assert x[-1] <= 0.0 and x[0] >= -10.0
    _, angle = window.plots.angle_curve.getData()
    assert np.nanmax(angle) - np.nanmin(angle) > 20.0  # the bridges move the hip
    assert window.frames > 10
    assert "fps" in window.status.display.text()
    assert "envelope display delay: " in window.controls.settings.text()
    assert window.frame.delay_ms < 60.0


def test_rep_counter_advances_with_the_synthetic_reps(live) -> None:  # noqa: ANN001
    window, source, _ = live
    reps = len(source.analysis.results)
    assert reps >= 3
    # a rep counts when its eccentric phase ends; the session may end before its result is out
    assert window.reps.counter.text() == str(window.frame.rep_count)
    assert reps <= window.frame.rep_count <= reps + 1
    assert [b.rep_index for b in window.frame.badges] == list(range(1, reps + 1))
    assert any(s.phase == "bottom" for s in window.frame.phase_spans)


def test_a_rep_that_stays_tense_shows_its_cue(live) -> None:  # noqa: ANN001
    window, source, _ = live
    verdicts = {r.index: r.relaxation["glute_max_r"].relaxed for r in source.analysis.results}
    assert verdicts[1] and verdicts[2] and not verdicts[3]
    assert any("relax fully at the bottom" in text for text in window.cue.history)
    row = next(cells for cells in window.reps.rows if cells[0].text() == "#3")
    assert row[1].text().startswith("relaxed NO")
    ok_row = next(cells for cells in window.reps.rows if cells[0].text() == "#1")
    assert ok_row[1].text().startswith("relaxed yes")


def _pixels(image: QtGui.QImage) -> np.ndarray:
    image = image.convertToFormat(QtGui.QImage.Format_RGB888)
    w, h, stride = image.width(), image.height(), image.bytesPerLine()
    buf = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * h).reshape(h, stride)
    return buf[:, : 3 * w].reshape(h, w, 3).copy()


def test_screenshot_shows_every_lane_drawn(live, tmp_path: Path) -> None:  # noqa: ANN001
    window, _, _ = live
    path = tmp_path / "dashboard.png"
    assert window.grab().save(str(path))
    image = QtGui.QImage(str(path))
    assert image.width() >= 1000 and image.height() >= 700
    px = _pixels(image).astype(int)
    origin = window.plots.mapTo(window, window.plots.rect().topLeft())
    for j, rect in enumerate(window.plots.lane_rects()):
        x0, y0 = rect.left() + origin.x(), rect.top() + origin.y()
        area = px[y0 : y0 + rect.height(), x0 : x0 + rect.width()]
        assert area.shape[0] > 40 and area.shape[1] > 400
        colour = np.array(LANE_COLOURS[j])
        curve = np.all(np.abs(area - colour) <= 12, axis=-1)
        background = np.all(area == np.array(BACKGROUND), axis=-1)
        assert curve.sum() > 100, f"lane {j}: curve colour found in {curve.sum()} pixels"
        if window.frame.lanes[j].band is not None:  # the targets' lanes also hold the band
            assert 0.05 < 1 - background.mean(), f"lane {j}: almost nothing drawn"
        # the curve spans the lane's width: found in both halves
        half = area.shape[1] // 2
        assert curve[:, :half].any() and curve[:, half:].any()


def test_mvc_wizard_calibrates_each_muscle_step_by_step(live, wait_until) -> None:  # noqa: ANN001
    from myoflow.rigs.demo import DemoSettings
    from myoflow.rigs.virtual_glute import synthetic_mvc

    window, source, first_generation = live
    window.contraction_s = 0.05
    wizard = window.open_wizard()
    muscles = [s.muscle for s in wizard.calibration.steps]
    assert muscles == list(source.analysis.muscles)
    for k, muscle in enumerate(muscles):
        assert f"step {k + 1} of 4" in wizard.instruction.text()
        assert wizard.calibration.current.muscle == muscle
        wizard.start_step()
        wait_until(lambda k=k: wizard.calibration.index == k + 1, timeout=60.0)
    assert wizard.apply_button.isEnabled()
    wizard.apply_button.click()
    expected = synthetic_mvc(DemoSettings(seconds=28.0, seed=7).session_config())
    assert set(source.mvc) == set(expected)
    for m, v in source.mvc.items():
        assert v == pytest.approx(expected[m], rel=0.05)
    assert source.generation == first_generation + 1  # a fresh analysis in % MVC
    window.refresh()
    assert window.reps.counter.text() == "0"


def test_mvc_wizard_hands_free_calibrates_every_muscle_from_one_key_press(live, wait_until) -> None:  # noqa: ANN001
    from PySide6 import QtCore, QtTest

    window, _, _ = live
    window.contraction_s = 0.05
    wizard = window.open_wizard()
    wizard.rest_s = 0.2
    assert wizard.hands_free.isChecked()
    QtTest.QTest.keyClick(wizard, QtCore.Qt.Key_Return)  # Enter: the default button, Start
    wait_until(lambda: wizard.calibration.done, timeout=60.0)
    assert wizard.calibration.index == len(wizard.calibration.steps) == 4
    assert wizard.apply_button.isEnabled()
    QtTest.QTest.qWait(50)
    for label in (wizard.instruction, wizard.results):  # the final summary is not clipped
        assert label.height() >= label.heightForWidth(label.width()), label.text()
    assert wizard.instruction.text().startswith("calibration complete: ")
    wizard.reject()


def test_a_finished_set_is_kept_and_shown_on_its_summary_screen(live, wait_until) -> None:  # noqa: ANN001
    window, source, _ = live  # runs after the MVC wizard applied new references
    window.refresh()
    done = window.sets[-1]  # the set before the calibration was kept, not cleared
    assert done.ended_by == "MVC calibration" and done.reps >= 3
    box = window.summary_box
    assert box.isVisible() and box.text().startswith(f"set {done.index} (glute_bridge): {done.reps} reps")
    lines = box.informativeText().splitlines()
    assert lines[-1] == done.after_set  # relaxation after the set, live (the offline rule)
    assert done.after_set.startswith("after the set: ")
    lines = lines[:-1]
    assert len(lines) == done.reps and lines[0].startswith("#1: relaxed yes")
    assert any(line.startswith("#3: relaxed NO") for line in lines)
    box.close()
    count, generation = len(window.sets), source.generation
    window.next_set()  # the new analysis has no reps yet: nothing to keep, no empty set
    wait_until(lambda: source.generation > generation)
    window.refresh()
    assert len(window.sets) == count


def test_angle_lane_widens_for_a_movement_outside_the_hinge_range(qapp) -> None:  # noqa: ANN001
    """A clamshell's femur rotation reaches -35 deg, outside the hinge's -20..90: the lane widens
    to show it (it was drawn off the top) and its axis no longer says "flexion"."""
    times = np.arange(1001) / 100.0 + 10.0
    base = LiveSnapshot(
        times=times,
        envelope_pct=np.full((times.size, 1), 20.0, np.float32),
        muscles=("glute_med_r",),
        unit="% MVC",
        angle_deg=np.linspace(50.0, 0.0, times.size),
        angle_label="hip flexion angle (thigh - pelvis IMU)",
        angle_mode="hip",
        phase="concentric",
        rep_count=0,
        rest_threshold_pct={},
        delay_ms=50.0,
        last_results=(),
    )
    rotation = np.concatenate([np.zeros(500), np.linspace(0.0, -35.0, times.size - 500)])
    label = "femur rotation (thigh, about its long axis)"
    snap = dataclasses.replace(base, angle_deg=rotation, angle_label=label)
    view = PlotsView()
    view.build(snap.muscles, snap.unit, (40.0, 80.0), snap.angle_label)
    assert view.angle_plot is not None
    assert view.angle_plot.getAxis("left").labelText == "deg (up = the rep)"
    view.show_frame(DashboardModel(width_px=300).frame(base))
    assert view.angle_plot.viewRange()[1][0] > -25.0  # a hinge keeps the -20..90 range
    view.show_frame(DashboardModel(width_px=300).frame(snap))
    low, high = view.angle_plot.viewRange()[1]
    assert low <= -40.0 and high >= 90.0
    view.deleteLater()


def test_the_cached_plot_chrome_stays_what_a_fresh_drawing_shows(qapp) -> None:  # noqa: ANN001
    """The plots' still parts (axes, titles) are kept as a picture and redrawn where the scene
    changed: after many partial redraws (new title texts) the picture equals one drawn afresh
    (an axis drawn again over itself would thicken its labels)."""
    view = PlotsView()
    view.resize(900, 600)
    view.build(("glute_max_r", "biceps_femoris_r"), "%", (40.0, 80.0), "hip flexion angle")
    view.show()
    for k in range(12):  # titles change: their rectangles (and the axes they touch) are redrawn
        view.lanes[k % 2].setTitle(f"lane {k}: {k * 7} %", size="13px", color="#333")
        qapp.processEvents()
        view.viewport().repaint()
    assert view._chrome is not None
    kept = view._chrome.toImage()
    view._chrome_dirty = QtGui.QRegion(view.viewport().rect())
    view.viewport().repaint()
    fresh = view._chrome.toImage()
    assert _pixels(kept).tolist() == _pixels(fresh).tolist()
    view.deleteLater()
