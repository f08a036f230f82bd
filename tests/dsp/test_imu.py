"""Tests for myoflow.dsp.imu and myoflow.dsp.imu3d against closed-form segment motions built here.

World frame W used to build the signals: the segment frame of a person standing upright
(x down, y left, z anterior). A segment at sagittal angle phi with a roll r about its own long
axis has the segment-to-world rotation ``Ry(-phi) Rx(r)``; the accelerometer sits on the
segment axis ``dist`` metres from a fixed joint and reads specific force in g, the gyro reads
the body angular rate in deg/s (conventions: ``a = (-cos phi, 0, sin phi)`` at rest,
``omega_y = -dphi/dt``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from myoflow.dsp.imu import (
    SagittalTiltFilter,
    align,
    hip_flexion,
    sagittal_angle_from_acc,
    sagittal_angle_from_quaternion,
    sagittal_quaternion,
)
from myoflow.dsp.imu3d import TiltFilter3D

G = 9.81
RATES = (50.0, 100.0, 200.0)


def _rx(r: np.ndarray) -> np.ndarray:
    c, s, o, z = np.cos(r), np.sin(r), np.ones_like(r), np.zeros_like(r)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def _ry(a: np.ndarray) -> np.ndarray:
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def _sine(fs, dur, mean=90.0, amp=30.0, freq=0.3):
    """phi(t) = mean + amp sin(2 pi f t): times, phi, dphi/dt, d2phi/dt2 (deg, deg/s, deg/s2)."""
    t = np.arange(int(round(dur * fs))) / fs
    w = 2 * np.pi * freq
    return t, mean + amp * np.sin(w * t), amp * w * np.cos(w * t), -amp * w * w * np.sin(w * t)


def _imu(
    phi,
    dphi,
    ddphi,
    fs,
    rng,
    dist=0.2,
    roll_deg=0.0,
    roll_amp=0.0,
    roll_freq=0.5,
    acc_noise=0.01,
    gyro_noise=0.3,
    bias=(0.0, 0.0, 0.0),
):
    """Accelerometer (g) and gyro (deg/s) of a sensor ``dist`` m from the joint, with noise."""
    t = np.arange(phi.shape[0]) / fs
    p, dp, ddp = np.radians(phi), np.radians(dphi), np.radians(ddphi)
    wr = 2 * np.pi * roll_freq
    roll = np.radians(roll_deg + roll_amp * np.sin(wr * t))
    droll = np.radians(roll_amp * wr * np.cos(wr * t))
    rot = _ry(-p) @ _rx(roll)
    zero = np.zeros_like(p)
    tangential = np.stack([-np.sin(p), zero, np.cos(p)], 1)
    radial = np.stack([np.cos(p), zero, np.sin(p)], 1)
    lin = dist * (ddp[:, None] * tangential - dp[:, None] ** 2 * radial) / G
    up_world = np.array([-1.0, 0.0, 0.0])
    acc = np.einsum("nji,nj->ni", rot, lin + up_world)
    omega = np.einsum("nji,nj->ni", _rx(roll), np.stack([zero, -dp, zero], 1))
    omega[:, 0] += droll
    gyro = np.degrees(omega) + np.asarray(bias)
    acc += acc_noise * rng.standard_normal(acc.shape)
    gyro += gyro_noise * rng.standard_normal(gyro.shape)
    return acc, gyro


def _rms(e):
    return float(np.sqrt(np.mean(np.square(e))))


# --- accuracy ----------------------------------------------------------------------------


@pytest.mark.parametrize("fs", RATES)
def test_fused_angle_tracks_slow_sagittal_motion(fs):
    t, phi, dphi, ddphi = _sine(fs, 20.0)
    acc, gyro = _imu(phi, dphi, ddphi, fs, np.random.default_rng(1), bias=(0.0, 0.3, 0.0))
    for est in (SagittalTiltFilter(fs).process(acc, gyro), TiltFilter3D(fs).process(acc, gyro)):
        err = est - phi
        assert est.dtype == np.float64 and est.shape == phi.shape
        assert _rms(err) < 0.8
        assert np.max(np.abs(err)) < 2.0


@pytest.mark.parametrize("fs", RATES)
def test_fused_angle_beats_accelerometer_in_fast_motion(fs):
    t, phi, dphi, ddphi = _sine(fs, 10.0, mean=60.0, amp=30.0, freq=0.8)
    acc, gyro = _imu(phi, dphi, ddphi, fs, np.random.default_rng(2))
    settled = t >= 1.0  # the first accelerometer angle is off by the start-up acceleration
    acc_only = _rms((sagittal_angle_from_acc(acc) - phi)[settled])
    assert acc_only > 5.0  # linear acceleration corrupts the gravity angle
    for est in (SagittalTiltFilter(fs).process(acc, gyro), TiltFilter3D(fs).process(acc, gyro)):
        err = (est - phi)[settled]
        assert _rms(err) < 2.5
        assert _rms(err) < acc_only / 3
        assert np.max(np.abs(err)) < 4.5


def test_accelerometer_angle_is_exact_at_rest_for_any_pose():
    phi = np.linspace(-179.0, 179.0, 200)
    acc = np.column_stack((-np.cos(np.radians(phi)), np.zeros(200), np.sin(np.radians(phi))))
    np.testing.assert_allclose(sagittal_angle_from_acc(acc * 9.81), phi, atol=1e-9)


@pytest.mark.parametrize("fs", RATES)
def test_no_lag_and_no_start_transient_with_consistent_inputs(fs):
    t, phi, dphi, ddphi = _sine(fs, 4.0, mean=20.0, amp=40.0, freq=1.5)
    acc, gyro = _imu(phi, dphi, ddphi, fs, np.random.default_rng(3), dist=0.0, acc_noise=0.0, gyro_noise=0.0)
    for filt in (SagittalTiltFilter(fs), TiltFilter3D(fs)):
        est = filt.process(acc, gyro)
        assert filt.delay_ms == 0.0
        assert est[0] == pytest.approx(phi[0], abs=1e-9)
        assert np.max(np.abs(est - phi)) < 0.2  # a 1.5 Hz swing of +-40 deg, no lag


@pytest.mark.parametrize("fs", RATES)
def test_time_constant_of_accelerometer_step(fs):
    tau = 0.5
    n = int(3 * fs)
    phi = np.where(np.arange(n) < fs, 0.0, 10.0)
    acc = np.column_stack((-np.cos(np.radians(phi)), np.zeros(n), np.sin(np.radians(phi))))
    gyro = np.zeros((n, 3))
    for filt in (SagittalTiltFilter(fs, time_constant_s=tau), TiltFilter3D(fs, gain=1 / tau)):
        est = filt.process(acc, gyro)
        assert filt.time_constant_s == pytest.approx(tau)
        step = int(fs)
        assert est[step - 1] == pytest.approx(0.0, abs=1e-9)
        assert est[step + int(tau * fs) - 1] == pytest.approx(10 * (1 - np.exp(-1)), abs=0.15)
        assert est[-1] == pytest.approx(10 * (1 - np.exp(-2 / tau)), abs=0.05)
    assert SagittalTiltFilter(fs, tau).crossover_hz == pytest.approx(1 / (2 * np.pi * tau))


@pytest.mark.parametrize("bias_y", [-2.0, 1.0, 3.0])
@pytest.mark.parametrize("tau", [0.25, 1.0])
def test_gyro_bias_error_is_bias_times_time_constant(bias_y, tau):
    fs = 100.0
    n = int(12 * tau * fs)
    phi = np.full(n, 35.0)
    acc, gyro = _imu(
        phi,
        0 * phi,
        0 * phi,
        fs,
        np.random.default_rng(4),
        acc_noise=0.0,
        gyro_noise=0.0,
        bias=(0.0, bias_y, 0.0),
    )
    expected = -bias_y * tau  # omega_y = -dphi/dt, so a +y bias reads as a posterior swing
    sag = SagittalTiltFilter(fs, time_constant_s=tau).process(acc, gyro)
    assert sag[-1] - 35.0 == pytest.approx(expected, rel=1e-3)
    tilt3d = TiltFilter3D(fs, gain=1 / tau).process(acc, gyro)
    assert tilt3d[-1] - 35.0 == pytest.approx(expected, rel=0.02, abs=0.01)
    # a known bias is removed
    fixed = SagittalTiltFilter(fs, tau, gyro_bias_dps=(0.0, bias_y, 0.0)).process(acc, gyro)
    np.testing.assert_allclose(fixed, 35.0, atol=1e-9)


@pytest.mark.parametrize("fs", RATES)
def test_out_of_plane_roll_barely_moves_3d_phi(fs):
    t, phi, dphi, ddphi = _sine(fs, 20.0, mean=60.0, amp=30.0, freq=0.3)
    rng = np.random.default_rng(5)
    settled = t >= 1.0
    for roll in ({"roll_deg": 15.0}, {"roll_amp": 15.0, "roll_freq": 0.5}):
        acc, gyro = _imu(phi, dphi, ddphi, fs, rng, **roll)
        err = (TiltFilter3D(fs).process(acc, gyro) - phi)[settled]
        assert _rms(err) < 1.2
        assert np.max(np.abs(err)) < 2.2


@pytest.mark.parametrize("fs", RATES)
@pytest.mark.parametrize("roll", [{"roll_deg": 40.0}, {"roll_amp": 40.0, "roll_freq": 0.7}])
def test_3d_filter_tracks_projected_angle_where_sagittal_filter_cannot(fs, roll):
    """With a large roll the gyro's y axis no longer carries the swing; the 3-D filter still
    follows phi = atan2(up_z, -up_x) of the true orientation, the sagittal filter does not."""
    t, phi, dphi, ddphi = _sine(fs, 20.0, mean=60.0, amp=30.0, freq=0.3)
    rng = np.random.default_rng(9)
    acc, gyro = _imu(phi, dphi, ddphi, fs, rng, **roll)
    still, _ = _imu(phi, dphi, ddphi, fs, rng, dist=0.0, acc_noise=0.0, gyro_noise=0.0, **roll)
    truth = sagittal_angle_from_acc(still)
    settled = t >= 1.0
    err_3d = (TiltFilter3D(fs).process(acc, gyro) - truth)[settled]
    err_sag = (SagittalTiltFilter(fs).process(acc, gyro) - truth)[settled]
    assert _rms(err_3d) < 0.9 and np.max(np.abs(err_3d)) < 1.6
    assert _rms(err_sag) > 3 * _rms(err_3d)


def test_frontal_tilt_reads_zero_sagittal_angle():
    abd = np.radians(np.linspace(0.0, 40.0, 50))  # sideways tilt: up = (-cos, sin, 0)
    acc = np.column_stack((-np.cos(abd), np.sin(abd), np.zeros(50)))
    np.testing.assert_allclose(sagittal_angle_from_acc(acc), 0.0, atol=1e-12)


@pytest.mark.parametrize("fs", [50.0, 200.0])
def test_full_turns_stay_continuous(fs):
    t = np.arange(int(6 * fs)) / fs
    rate = 150.0  # deg/s, two and a half turns, crossing +-180 several times
    phi = 100.0 + rate * t
    acc, gyro = _imu(phi, np.full_like(t, rate), 0 * t, fs, np.random.default_rng(6), dist=0.0)
    np.testing.assert_allclose(sagittal_angle_from_acc(acc), phi, atol=3.0)
    for filt in (SagittalTiltFilter(fs), TiltFilter3D(fs)):
        est = np.concatenate([filt.process(acc[i : i + 7], gyro[i : i + 7]) for i in range(0, t.size, 7)])
        assert np.max(np.abs(est - phi)) < 1.5


# --- streaming == batch --------------------------------------------------------------------


def _split(n, cuts):
    edges = sorted({0, n, *(c % (n + 1) for c in cuts)})
    return list(zip(edges[:-1], edges[1:], strict=True))


_T, _PHI, _DPHI, _DDPHI = _sine(100.0, 3.0, mean=170.0, amp=40.0, freq=0.7)  # crosses 180
_ACC, _GYRO = _imu(
    _PHI,
    _DPHI,
    _DDPHI,
    100.0,
    np.random.default_rng(7),
    acc_noise=0.03,
    gyro_noise=1.0,
    bias=(0.5, -1.0, 0.7),
    roll_amp=20.0,
)


@given(st.lists(st.integers(0, _T.size), max_size=12))
def test_streaming_equals_batch(cuts):
    for make in (lambda: SagittalTiltFilter(100.0, 0.3), lambda: TiltFilter3D(100.0, gain=4.0)):
        whole = make().process(_ACC, _GYRO)
        filt = make()
        parts = [filt.process(_ACC[a:b], _GYRO[a:b]) for a, b in _split(_T.size, cuts)]
        np.testing.assert_allclose(np.concatenate(parts), whole, rtol=0, atol=1e-9)
    assert np.any(whole > 180.0)  # continuity across the wrap, not a jump to -180


def test_3d_filter_equals_per_sample_reference():
    fs, gain = 100.0, 2.0
    dt, alpha = 1 / fs, 1 / (1 + gain / fs)
    acc = _ACC / np.linalg.norm(_ACC, axis=1, keepdims=True)
    omega = np.radians(_GYRO)
    u = acc[0].copy()
    ref = [u / np.linalg.norm(u)]
    for k in range(1, acc.shape[0]):
        w = -0.5 * (omega[k - 1] + omega[k]) * dt  # rotation vector for du/dt = u x omega
        rot = Rotation.from_rotvec(w).as_matrix()
        u = alpha * rot @ u + (1 - alpha) * acc[k]
        ref.append(u / np.linalg.norm(u))
    filt = TiltFilter3D(fs, gain)
    np.testing.assert_allclose(filt.process_up(_ACC, _GYRO), np.array(ref), atol=1e-9)
    np.testing.assert_allclose(filt.up, ref[-1], atol=1e-9)


def test_process_and_process_up_share_state_and_empty_chunks():
    a = TiltFilter3D(100.0)
    b = TiltFilter3D(100.0)
    assert a.up is None
    phi_a = np.concatenate([a.process(_ACC[:50], _GYRO[:50]), a.process(_ACC[50:], _GYRO[50:])])
    up_b = b.process_up(_ACC[:50], _GYRO[:50])
    assert b.process(_ACC[:0], _GYRO[:0]).shape == (0,)
    phi_b = b.process(_ACC[50:], _GYRO[50:])
    raw_b = np.degrees(np.arctan2(up_b[:, 2], -up_b[:, 0]))
    np.testing.assert_allclose((raw_b - phi_a[:50] + 180.0) % 360.0 - 180.0, 0.0, atol=1e-9)
    np.testing.assert_allclose(phi_b, phi_a[50:], atol=1e-9)
    s = SagittalTiltFilter(100.0)
    assert s.process(np.zeros((0, 3)), np.zeros((0, 3))).shape == (0,)
    first = s.process(_ACC[:1], _GYRO[:1])
    s.reset()
    np.testing.assert_allclose(s.process(_ACC[:1], _GYRO[:1]), first)


# --- quaternions -----------------------------------------------------------------------------


@pytest.mark.parametrize("heading", [0.0, 37.0, -120.0, 180.0])
def test_quaternion_round_trip_and_independent_rotation(heading):
    phi = np.linspace(-170.0, 170.0, 41)
    q = sagittal_quaternion(phi, heading_deg=heading)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(sagittal_angle_from_quaternion(q), phi, atol=1e-9)
    # the same pose built independently: Rz(heading) * standing * Ry(-phi), world z up
    standing = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])  # x->-Z, z->+X
    rot = (
        Rotation.from_euler("z", heading, degrees=True)
        * Rotation.from_matrix(standing)
        * Rotation.from_euler("y", -phi[:, None], degrees=True)
    )
    xyzw = rot.as_quat()
    wxyz = np.column_stack((xyzw[:, 3], xyzw[:, :3]))
    sign = np.sign(np.sum(wxyz * q, axis=1))[:, None]
    np.testing.assert_allclose(wxyz * sign, q, atol=1e-12)
    up_seg = rot.inv().apply([0.0, 0.0, 1.0])  # what the accelerometer reads at rest
    np.testing.assert_allclose(sagittal_angle_from_acc(up_seg), phi, atol=1e-9)


def test_quaternion_angle_ignores_roll_sign_convention_and_scale():
    phi = np.array([0.0, 30.0, 90.0, 120.0])
    q = sagittal_quaternion(phi)
    np.testing.assert_allclose(sagittal_angle_from_quaternion(-3.0 * q), phi, atol=1e-9)
    to_ned = Rotation.from_euler("x", 180.0, degrees=True).as_quat()  # (x, y, z, w)
    flip = np.broadcast_to([to_ned[3], *to_ned[:3]], q.shape)
    from myoflow.dsp._quaternion import quat_mul

    q_ned = quat_mul(np.ascontiguousarray(flip), q)
    np.testing.assert_allclose(sagittal_angle_from_quaternion(q_ned, world_up=(0, 0, -1)), phi, atol=1e-9)
    assert not np.allclose(sagittal_angle_from_quaternion(q_ned), phi, atol=1.0)


def test_quaternion_angle_is_continuous():
    phi = np.linspace(0.0, 500.0, 300)
    np.testing.assert_allclose(sagittal_angle_from_quaternion(sagittal_quaternion(phi)), phi, atol=1e-9)


# --- hip angle and alignment -------------------------------------------------------------------


def test_glute_bridge_hip_angle_from_two_straps_at_different_times():
    """Pelvis 90 -> 60 deg, thigh 135 -> 65 deg: hip 45 -> 5 deg, straps on their own clocks."""
    rng = np.random.default_rng(8)
    period, dur = 4.0, 16.0

    def bridge(t, start, end):
        s = 0.5 * (1 - np.cos(2 * np.pi * t / period))  # 0 at the bottom, 1 at lockout
        ds = 0.5 * (2 * np.pi / period) * np.sin(2 * np.pi * t / period)
        dds = 0.5 * (2 * np.pi / period) ** 2 * np.cos(2 * np.pi * t / period)
        span = end - start
        return start + span * s, span * ds, span * dds

    fs_p, fs_t = 50.0, 100.0
    t_p = np.arange(int(dur * fs_p)) / fs_p
    t_t = np.arange(int(dur * fs_t)) / fs_t + 0.004
    pel = bridge(t_p, 90.0, 60.0)
    thi = bridge(t_t, 135.0, 65.0)
    phi_p = SagittalTiltFilter(fs_p).process(*_imu(*pel, fs_p, rng, dist=0.1))
    phi_t = SagittalTiltFilter(fs_t).process(*_imu(*thi, fs_t, rng, dist=0.25))
    on_p = align(t_t, phi_t, t_p)
    ok = ~np.isnan(on_p)
    assert np.count_nonzero(~ok) == 1  # only the pelvis sample before the first thigh sample
    hip = hip_flexion(on_p[ok], phi_p[ok])
    truth = hip_flexion(bridge(t_p[ok], 135.0, 65.0)[0], pel[0][ok])
    assert truth.max() == pytest.approx(45.0, abs=0.01) and truth.min() == pytest.approx(5.0, abs=0.01)
    assert _rms(hip - truth) < 1.0
    assert np.max(np.abs(hip - truth)) < 2.5
    bottoms = np.abs(t_p[ok] % period) < 0.05
    assert np.all(np.abs(hip[bottoms] - 45.0) < 2.5)


def test_hip_flexion_shapes():
    assert hip_flexion(135.0, 90.0) == pytest.approx(45.0)
    np.testing.assert_allclose(hip_flexion([10.0, 20.0], [5.0, 30.0]), [5.0, -10.0])
    with pytest.raises(
        ValueError, match=r"phi_thigh and phi_pelvis must have the same shape.*\(3,\).*\(2,\)"
    ):
        hip_flexion(np.zeros(3), np.zeros(2))
    with pytest.raises(
        ValueError, match=r"phi_pelvis must be a scalar or shape \(n_samples,\), got shape \(2, 2\)"
    ):
        hip_flexion(np.zeros(2), np.zeros((2, 2)))


def test_align_interpolates_and_invents_nothing():
    ta = np.concatenate((np.arange(0.0, 1.0, 0.02), np.arange(1.5, 2.0, 0.02)))  # gap 0.98-1.5 s
    va = np.column_stack((np.sin(ta), 2 * ta))
    tb = np.array([-0.1, 0.0, 0.31, 0.5, 1.2, 1.61, 2.5])
    out = align(ta, va, tb, max_gap_s=0.1)
    assert out.shape == (7, 2)
    assert np.all(np.isnan(out[[0, 4, 6]]))
    np.testing.assert_allclose(out[[1, 2, 3, 5], 1], 2 * tb[[1, 2, 3, 5]], atol=1e-12)
    np.testing.assert_allclose(out[[1, 2, 3, 5], 0], np.sin(tb[[1, 2, 3, 5]]), atol=1e-4)
    bridged = align(ta, va[:, 0], tb)
    assert bridged.shape == (7,) and np.isfinite(bridged[4])


def test_align_rejects_bad_times():
    with pytest.raises(ValueError, match=r"times_a must be strictly increasing, got 0.2 then 0.1"):
        align([0.0, 0.2, 0.1], [1.0, 2.0, 3.0], [0.1])
    with pytest.raises(ValueError, match=r"values_a must have shape \(3,\) or \(3, n_channels\)"):
        align([0.0, 0.1, 0.2], [1.0, 2.0], [0.1])
    with pytest.raises(ValueError, match=r"times_b must be a finite 1-D array"):
        align([0.0, 0.1], [1.0, 2.0], [[0.1]])
    with pytest.raises(ValueError, match=r"max_gap_s must be a positive number \(in s\), got -1"):
        align([0.0, 0.1], [1.0, 2.0], [0.05], max_gap_s=-1)


# --- argument errors -------------------------------------------------------------------------


def test_filters_reject_bad_arguments():
    acc, gyro = np.zeros((10, 3)), np.zeros((10, 3))
    acc[:, 0] = -1.0
    with pytest.raises(ValueError, match=r"fs \(sample rate in Hz\) must be positive and finite, got 0.0"):
        SagittalTiltFilter(0.0)
    with pytest.raises(ValueError, match=r"fs \(sample rate in Hz\) must be a number, got '100'"):
        TiltFilter3D("100")
    with pytest.raises(ValueError, match=r"time_constant_s must be a positive number \(in s\), got -0.5"):
        SagittalTiltFilter(100.0, time_constant_s=-0.5)
    with pytest.raises(ValueError, match=r"gain must be a positive number \(in 1/s\), got 0"):
        TiltFilter3D(100.0, gain=0)
    with pytest.raises(ValueError, match=r"gyro_bias_dps must be 3 finite numbers"):
        SagittalTiltFilter(100.0, gyro_bias_dps=(1.0, 2.0))
    for filt in (SagittalTiltFilter(100.0), TiltFilter3D(100.0)):
        with pytest.raises(
            ValueError,
            match=r"acc must have shape \(n_samples, 3\) \(x, y, z\), got shape \(10, 2\)",
        ):
            filt.process(acc[:, :2], gyro)
        with pytest.raises(
            ValueError, match=r"acc and gyro must have the same number of samples, got 10 and 9"
        ):
            filt.process(acc, gyro[:9])
        bad = gyro.copy()
        bad[4, 1] = np.nan
        with pytest.raises(ValueError, match=r"gyro must be finite, got .* at sample 4"):
            filt.process(acc, bad)
    with pytest.raises(ValueError, match=r"first sample is \(0, 0, 0\)"):
        TiltFilter3D(100.0).process(np.zeros((3, 3)), gyro[:3])
    with pytest.raises(
        ValueError, match=r"acc must have shape \(n_samples, n_channels\), got shape \(2, 3, 1\)"
    ):
        sagittal_angle_from_acc(np.zeros((2, 3, 1)))


def test_quaternion_functions_reject_bad_arguments():
    with pytest.raises(
        ValueError, match=r"q must have shape \(n_samples, 4\) \(w, x, y, z\), got shape \(5, 3\)"
    ):
        sagittal_angle_from_quaternion(np.ones((5, 3)))
    with pytest.raises(ValueError, match=r"q must hold finite non-zero quaternions, got .* at sample 1"):
        sagittal_angle_from_quaternion(np.array([[1.0, 0, 0, 0], [0, 0, 0, 0]]))
    with pytest.raises(ValueError, match=r"world_up must be a non-zero 3-vector"):
        sagittal_angle_from_quaternion(np.array([[1.0, 0, 0, 0]]), world_up=(0, 0, 0))
    with pytest.raises(ValueError, match=r"phi must be a finite 1-D array of degrees"):
        sagittal_quaternion(np.zeros((2, 2)))
