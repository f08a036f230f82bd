"""Single-leg balance test on sway built from closed-form signals with known metric values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from myoflow.analysis.balance import (
    CHI2_95,
    BalanceParams,
    asymmetry_pct,
    balance_test,
    balance_trial,
    sway_metrics,
)

FS = 100.0


def imu_from_tilt(ap_deg, ml_deg, t: np.ndarray, dt: float = 1e-5) -> tuple[np.ndarray, np.ndarray]:
    """Accelerometer (g) and gyro (deg/s) of a pelvis IMU whose tilts are the given functions.

    The up direction in the segment frame is ``(-1, tan ML, tan AP)`` normalised (so that
    ``AP = atan2(u_z, -u_x)``, ``ML = atan2(u_y, -u_x)``); no linear acceleration. The gyro is
    ``omega = du/dt x u`` (then ``u x omega = du/dt``, a world-fixed vector seen from the
    segment), with ``du/dt`` by a central difference of the closed form.
    """

    def up(tt: np.ndarray) -> np.ndarray:
        v = np.column_stack(
            [-np.ones_like(tt), np.tan(np.radians(ml_deg(tt))), np.tan(np.radians(ap_deg(tt)))]
        )
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    u = up(t)
    du = (up(t + dt) - up(t - dt)) / (2 * dt)
    return u, np.degrees(np.cross(du, u))


def sines(a_ap: float, f_ap: float, a_ml: float, f_ml: float):
    return (
        lambda t: a_ap * np.sin(2 * np.pi * f_ap * t),
        lambda t: a_ml * np.sin(2 * np.pi * f_ml * t + 0.3),
    )


def expected(a_ap: float, f_ap: float, a_ml: float, f_ml: float, held: float) -> dict[str, float]:
    """Closed-form values over whole periods (the sines are orthogonal)."""
    w1, w2 = 2 * np.pi * f_ap, 2 * np.pi * f_ml

    def speed(t: float) -> float:
        return float(np.hypot(a_ap * w1 * np.cos(w1 * t), a_ml * w2 * np.cos(w2 * t + 0.3)))

    path = quad(speed, 0.0, held, limit=400)[0]
    return {
        "sway_rms_ap_deg": a_ap / np.sqrt(2),
        "sway_rms_ml_deg": a_ml / np.sqrt(2),
        "path_length_deg": path,
        "mean_velocity_deg_s": path / held,
        "jerk_rms_deg_s3": np.sqrt((a_ap**2 * w1**6 + a_ml**2 * w2**6) / 2),
        "ellipse_area_deg2": np.pi * CHI2_95 * (a_ap / np.sqrt(2)) * (a_ml / np.sqrt(2)),
    }


def test_sway_metrics_of_closed_form_tilts() -> None:
    t = np.arange(int(20 * FS)) / FS
    ap, ml = sines(1.5, 0.5, 1.0, 0.25)
    got = sway_metrics(ap(t), ml(t), FS)
    want = expected(1.5, 0.5, 1.0, 0.25, 20.0)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=0.02), key


def test_trial_from_imu_with_foot_down_at_known_time() -> None:
    """Left leg: sways, then the foot lands at 21.3 s (impact) and the pelvis shifts sideways."""
    t = np.arange(int(30 * FS)) / FS
    ap, ml = sines(1.2, 0.5, 2.0, 0.25)
    acc, gyro = imu_from_tilt(ap, ml, t)
    land = 21.3
    bump = (t >= land) & (t < land + 0.06)
    acc[bump, 0] -= 0.6 * np.sin(np.pi * (t[bump] - land) / 0.06)  # upward jolt along the segment
    trial = balance_trial(acc, gyro, FS, "left")
    assert trial.foot_down_reason == "impact"
    assert trial.foot_down_s == pytest.approx(land, abs=0.03)
    assert trial.held_s == pytest.approx(land, abs=0.03)
    # metrics over the held time only; 21.3 s is not a whole number of periods (4 s): 2 %
    want = expected(1.2, 0.5, 2.0, 0.25, 20.0)
    for key in ("sway_rms_ap_deg", "mean_velocity_deg_s", "jerk_rms_deg_s3"):
        assert getattr(trial, key) == pytest.approx(want[key], rel=0.03), key
    assert trial.sway_rms_ml_deg == pytest.approx(want["sway_rms_ml_deg"], rel=0.06)


def test_tilt_beyond_limit_is_a_foot_down_and_a_quiet_trial_is_held_whole() -> None:
    t = np.arange(int(30 * FS)) / FS
    fall = lambda tt: np.where(tt > 12.0, 15.0 * (tt - 12.0), 0.0) + 0.5 * np.sin(2 * np.pi * 0.5 * tt)  # noqa: E731
    acc, gyro = imu_from_tilt(lambda tt: 0.0 * tt, fall, t)
    trial = balance_trial(acc, gyro, FS, "right")
    assert trial.foot_down_reason == "tilt"
    assert 12.0 < trial.foot_down_s < 12.0 + 10.0 / 15.0 + 0.2  # 10 deg reached at 12.67 s
    ap, ml = sines(0.8, 0.5, 0.6, 0.25)
    acc, gyro = imu_from_tilt(ap, ml, t)
    quiet = balance_trial(acc, gyro, FS, "right")
    assert quiet.foot_down_s is None and quiet.held_s == pytest.approx(30.0)


def test_left_right_asymmetry() -> None:
    t = np.arange(int(30 * FS)) / FS
    trials = {}
    for leg, amp in (("left", 2.0), ("right", 1.0)):
        ap, ml = sines(amp, 0.5, amp, 0.25)
        trials[leg] = balance_trial(*imu_from_tilt(ap, ml, t), FS, leg, BalanceParams())
    test = balance_test(trials["left"], trials["right"])
    # RMS doubles: 100 * (2 - 1) / 1.5 = 66.7 %; ellipse area quadruples: 100 * 3 / 2.5 = 120 %
    assert test.asymmetry_pct["sway_rms_ap_deg"] == pytest.approx(66.7, abs=1.5)
    assert test.asymmetry_pct["ellipse_area_deg2"] == pytest.approx(120.0, abs=3.0)
    assert test.asymmetry_pct["held_s"] == 0.0
    assert asymmetry_pct(1.0, 3.0) == pytest.approx(-100.0)
    assert set(test.summary()) >= {"left.sway_rms_ap_deg", "asymmetry.jerk_rms_deg_s3_pct"}
    with pytest.raises(ValueError, match="left then the right"):
        balance_test(trials["right"], trials["left"])
    with pytest.raises(ValueError, match="leg"):
        balance_trial(np.zeros((10, 3)), np.zeros((10, 3)), FS, "middle")
