"""The synthetic IMU against docs/conventions.md: frames, signs, gravity, gyro, hip angle."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from myoflow.synth.imu import (
    GLUTE_BRIDGE,
    RDL,
    STANDARD_GRAVITY,
    MovementTimeline,
    RepPlan,
    imu_signals,
    invert_min_jerk,
    min_jerk,
)
from myoflow.synth.session import glute_bridge_session, rdl_session

QUIET = {"acc_noise_g": 0.0, "gyro_noise_dps": 0.0, "gyro_bias_dps": 0.0, "imu_wobble_deg": 0.0}


def _rest_mask(session, margin=0.3):
    """IMU samples in the middle of each bottom rest (no movement)."""
    t = session.imu_times
    mask = np.zeros(t.size, dtype=bool)
    for r in session.truth:
        mask |= (t > r.bottom_s + margin) & (t < r.end_s - margin)
    return mask


@pytest.mark.parametrize("make", [glute_bridge_session, rdl_session])
def test_accelerometer_at_rest_reads_up_per_conventions(make):
    s = make(n_reps=4, seed=3)
    rest = _rest_mask(s)
    assert rest.sum() > 100
    for seg, (acc, _) in s.imu.items():
        phi = np.deg2rad(s.segment_angles[seg][rest])
        expected = np.stack([-np.cos(phi), np.zeros_like(phi), np.sin(phi)], axis=1)
        err = acc[rest] - expected
        # noise 0.004 g RMS; the 1 deg wobble puts <= 0.018 g on y
        assert np.abs(err[:, [0, 2]]).max() < 0.02
        assert np.abs(err[:, 1]).max() < 0.035
        phi_hat = np.rad2deg(np.arctan2(acc[rest, 2], -acc[rest, 0]))
        assert np.abs(phi_hat - s.segment_angles[seg][rest]).max() < 1.5


@pytest.mark.parametrize("make", [glute_bridge_session, rdl_session])
def test_gyro_integrates_back_to_phi(make):
    s = make(n_reps=3, seed=5, imu_rate=200)
    t = s.imu_times
    for seg, (_, gyro) in s.imu.items():
        omega_y = gyro[:, 1].astype(np.float64) - s.gyro_bias[seg][1]
        # trapezoidal integral of omega_y = -dphi/dt
        phi = s.segment_angles[seg][0] - np.concatenate(
            [[0.0], np.cumsum(0.5 * (omega_y[1:] + omega_y[:-1]) * np.diff(t))]
        )
        assert np.abs(phi - s.segment_angles[seg]).max() < 1.0
        # and it moves: a real range of motion is covered
        assert np.ptp(s.segment_angles[seg]) > 8.0


def test_gyro_sign_anterior_swing_is_negative():
    s = glute_bridge_session(n_reps=1, seed=1, **QUIET)
    r = s.truth[0]
    t = s.imu_times
    up = (t > r.onset_s + 0.2) & (t < r.top_s - 0.2)
    # bridge concentric: the thigh comes down (phi decreases), the pelvis tilts up (phi grows)
    assert np.all(s.imu["thigh"][1][up, 1] > 0)
    assert np.all(s.imu["pelvis"][1][up, 1] < 0)
    d_thigh = np.gradient(s.segment_angles["thigh"], t)
    assert np.allclose(s.imu["thigh"][1][:, 1], -d_thigh, atol=0.5)


def test_bridge_and_rdl_angles_are_plausible():
    b = glute_bridge_session(n_reps=2, seed=0)
    rest0 = b.imu_times < b.truth[0].onset_s
    assert b.segment_angles["pelvis"][rest0] == pytest.approx(90.0)
    assert 44 <= b.hip_angle[rest0][0] <= 50
    assert -1 <= b.hip_angle.min() <= 6
    assert np.allclose(b.hip_angle, b.segment_angles["thigh"] - b.segment_angles["pelvis"])
    r = rdl_session(n_reps=2, seed=0)
    assert 70 <= r.hip_angle.max() <= 90 and r.hip_angle.min() < 5
    assert 0 <= r.segment_angles["thigh"].min() and r.segment_angles["thigh"].max() <= 10
    assert r.segment_angles["pelvis"].min() < -60  # trunk pitched forward at the bottom


def test_linear_acceleration_of_a_lever_about_the_shoulders():
    """Bridge pelvis sensor: r * phi'' along z, -r * phi'^2 along x (plus gravity), in g."""
    s = glute_bridge_session(n_reps=1, seed=2, imu_rate=1000, **QUIET)
    ((lever_seg, r_m),) = GLUTE_BRIDGE.levers_m["pelvis"]
    assert lever_seg == "pelvis"
    t = s.imu_times
    phi = np.deg2rad(s.segment_angles["pelvis"])
    dphi = np.gradient(phi, t)
    ddphi = np.gradient(dphi, t)
    acc = s.imu["pelvis"][0].astype(np.float64)
    inner = slice(5, -5)
    lin_z = (acc[:, 2] - np.sin(phi)) * STANDARD_GRAVITY
    lin_x = (acc[:, 0] + np.cos(phi)) * STANDARD_GRAVITY
    # finite differences err by ~jerk * dt at the knots; the peaks are ~0.5 m/s^2
    assert np.allclose(lin_z[inner], r_m * ddphi[inner], atol=5e-3)
    assert np.allclose(lin_x[inner], -r_m * dphi[inner] ** 2, atol=5e-3)
    assert 0.02 < np.abs(lin_z).max() / STANDARD_GRAVITY < 0.5


@pytest.mark.parametrize("segments", [(), ("pelvis",), ("thigh",), ("pelvis", "thigh")])
def test_worn_segments_only(segments):
    s = rdl_session(n_reps=1, imu_segments=segments)
    assert tuple(s.imu) == segments
    assert s.hip_angle.shape == s.imu_times.shape
    for acc, gyro in s.imu.values():
        assert acc.shape == gyro.shape == (s.imu_times.size, 3)
        assert acc.dtype == gyro.dtype == np.float32 and acc.flags.c_contiguous


def test_wobble_and_bias_show_up():
    s = glute_bridge_session(n_reps=2, imu_wobble_deg=3.0, gyro_bias_dps=2.0, seed=4)
    rest = _rest_mask(s)
    for seg, (acc, gyro) in s.imu.items():
        phi = np.deg2rad(s.segment_angles[seg][rest])
        y_over_z = acc[rest, 1] / np.sin(phi)  # = tan(psi) ~ psi
        assert 0.005 < np.abs(y_over_z).max() < np.tan(np.deg2rad(3.2))
        assert np.all(np.abs(s.gyro_bias[seg]) <= 2.0)
        assert np.abs(gyro[rest].mean(axis=0)[1] - s.gyro_bias[seg][1]) < 0.3


@given(st.floats(0.0, 1.0))
def test_min_jerk_inverse(q):
    u = invert_min_jerk(q)
    assert min_jerk(u)[0] == pytest.approx(q, abs=1e-9)


def test_timeline_progress_is_smooth_and_bounded():
    reps = [RepPlan(0, 0, 1.0, 2.0, 2.5, 4.0, 5.0, 0.9, (1.4, 1.8), 0.3)]
    tl = MovementTimeline(reps)
    t = np.linspace(0, 6, 60001)
    s, ds, dds = tl.progress(t)
    assert s.min() == 0.0 and s.max() == pytest.approx(0.9)
    stall = (t > 1.4) & (t < 1.8)
    assert np.all(s[stall] == pytest.approx(0.3)) and np.all(ds[stall] == 0)
    # analytic derivatives agree with finite differences; no jumps anywhere
    assert np.allclose(np.gradient(s, t), ds, atol=1e-3)
    # (peaks of dds ~ 90 /s^2; the jerk jumps at knots cost finite differences ~0.1)
    assert np.allclose(np.gradient(ds, t), dds, atol=0.2)
    assert np.abs(np.diff(dds)).max() < 0.5
    assert tl.time_at_progress(reps[0], 0.6) == pytest.approx(t[np.argmax(s >= 0.6)], abs=1e-4)


def test_imu_signals_direct_call_shapes_and_units():
    tl = MovementTimeline([RepPlan(0, 0, 0.5, 1.5, 2.0, 3.5, 4.0)])
    t = np.arange(0, 4.0, 0.01)
    imu, bias = imu_signals(
        t,
        tl,
        RDL,
        ("pelvis",),
        np.random.default_rng(0),
        acc_noise_g=0,
        gyro_noise_dps=0,
        gyro_bias_dps=0,
        wobble_deg=0,
    )
    acc, gyro = imu["pelvis"]
    assert np.linalg.norm(acc[0]) == pytest.approx(1.0, abs=1e-6)  # at rest: 1 g
    assert np.all(bias["pelvis"] == 0)
    assert np.abs(gyro[:, 1]).max() > 50  # ~70 deg of pelvis pitch in ~1 s
