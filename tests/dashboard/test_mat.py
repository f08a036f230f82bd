"""Mat mode: what it shows, that it scales with the window, and that it repaints only on change."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtGui

from myoflow.analysis.live_types import LiveSnapshot
from myoflow.dashboard.mat import OKABE_ITO, MatView, mat_state
from myoflow.dashboard.model import DashboardModel

MUSCLES = ("biceps_femoris_r", "glute_max_r")  # the glute second: mat mode must still pick it


def _frame(rep_result, phase: str = "concentric", glute: float = 55.0, relaxed: bool = False, feedback=None):  # noqa: ANN001, ANN202
    times = np.arange(1001) / 100.0
    env = np.column_stack((np.full(times.size, 20.0), np.full(times.size, glute))).astype(np.float32)
    snap = LiveSnapshot(
        times=times,
        envelope_pct=env,
        muscles=MUSCLES,
        unit="% MVC",
        angle_deg=np.full(times.size, 30.0),
        angle_label="hip flexion angle",
        angle_mode="hip",
        phase=phase,
        rep_count=1,
        rest_threshold_pct={"glute_max_r": 8.0, "biceps_femoris_r": 6.0},
        delay_ms=50.0,
        last_results=(),
    )
    return DashboardModel().frame(snap, polled=[rep_result(1, 2.0, relaxed=relaxed)], feedback=feedback)


def test_mat_state_shows_the_target_glute_and_the_last_verdict(rep_result) -> None:  # noqa: ANN001
    state = mat_state(_frame(rep_result))
    assert state.muscle == "glute_max_r" and state.level == 55 and state.band == (40.0, 80.0)
    assert state.phase == "concentric" and state.reps == 1
    assert state.verdict == "rep 1: NOT relaxed" and state.verdict_ok is False


def test_mat_bar_and_tone_follow_the_feedback_level_the_lanes_the_analysis(rep_result) -> None:  # noqa: ANN001
    from myoflow.dashboard.sound import _target_level

    frame = _frame(rep_result, feedback={"glute_max_r": 71.4, "biceps_femoris_r": 30.0})
    assert mat_state(frame).level == 71 and _target_level(frame) == pytest.approx(71.4)
    assert frame.lanes[1].latest == pytest.approx(55.0)  # the lane keeps the analysis envelope
    nan = _frame(rep_result, feedback={"glute_max_r": float("nan")})
    assert mat_state(nan).level == 55  # no feedback level yet: the analysis' newest value


def _share(image: QtGui.QImage, colour: str) -> float:
    image = image.convertToFormat(QtGui.QImage.Format_RGB888)
    w, h, stride = image.width(), image.height(), image.bytesPerLine()
    px = (
        np.frombuffer(image.constBits(), np.uint8, stride * h).reshape(h, stride)[:, : 3 * w].reshape(h, w, 3)
    )
    target = np.array(QtGui.QColor(colour).getRgb()[:3])
    return float(np.all(np.abs(px.astype(int) - target) <= 3, axis=-1).mean())


@pytest.mark.parametrize("size", [(1366, 768), (3840, 2160)])
def test_mat_view_scales_with_the_window(qapp, rep_result, size: tuple[int, int]) -> None:  # noqa: ANN001
    view = MatView()
    view.resize(*size)
    view.show_frame(_frame(rep_result))
    image = view.grab().toImage()
    assert (image.width(), image.height()) == size
    # the phase box (orange, "PUSH UP"), the verdict (vermillion) and the in-band bar (sky)
    # cover the same share of the window at either size
    assert _share(image, OKABE_ITO["orange"]) == pytest.approx(0.12, abs=0.03)
    assert _share(image, OKABE_ITO["vermillion"]) == pytest.approx(0.09, abs=0.03)
    assert _share(image, OKABE_ITO["sky"]) == pytest.approx(0.055, abs=0.02)
    view.close()


def test_mat_view_repaints_only_when_what_it_shows_changes(qapp, rep_result) -> None:  # noqa: ANN001
    view = MatView()
    view.resize(800, 450)
    view.show()
    frame = _frame(rep_result)
    view.show_frame(frame)
    qapp.processEvents()
    painted = view.paints
    for _ in range(5):
        view.show_frame(frame)
        qapp.processEvents()
    assert view.paints == painted
    view.show_frame(_frame(rep_result, glute=70.0))
    qapp.processEvents()
    assert view.paints == painted + 1
    view.close()
