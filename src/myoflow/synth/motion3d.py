"""Orientation, accelerometer and gyroscope of the movement families that leave the sagittal plane.

Each worn segment's orientation is a physical pose (:mod:`myoflow.synth.poses`): the posture of
the exercise, then the joint rotations of its family driven by the rep progress ``s(t)``
(:class:`myoflow.synth.imu.MovementTimeline`), with nuisance the detector does not assume:

* **wobble** about the axes that do not make the rep (three slow sinusoids, ``wobble_deg``,
  tripled off-plane) and a little in-plane sway;
* **coupling**: the other segment follows part of the motion (the pelvis rolls back with a
  clamshell, hikes a little with an abduction, the hanging thigh follows a hip hike);
* **tremor** in isometric holds: 5-9 Hz shaking that grows from 20 % to 100 % of the
  exercise's ``tremor_deg`` over the hold (fatigue), on the moving segment and the other one;
* **heading drift** of a strap's own fusion: the quaternion's heading turns at
  ``heading_drift_dps`` about the world's vertical (the tilt is unaffected);
* sensor noise and a constant gyro bias per axis; the accelerometer reads gravity only (these
  movements are slow: the linear acceleration of a 1 s, 30 deg rep at 0.3 m is about 0.02 g).

The gyroscope is the body rate of the noiseless pose plus wobble (``omega = 2 vec(q* dq/dt)``),
the accelerometer the world's up direction in the sensor frame, so the two agree as a real
strap's do.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from myoflow.synth.exercises import Motion
from myoflow.synth.poses import body_rate, joint_chain, quat_mul, side_sign, up_in_segment

Rotations = list[tuple[str, np.ndarray]]


def _wobble(t: np.ndarray, amplitude_deg: float, rng: np.random.Generator) -> np.ndarray:
    """A slow (0.15-0.8 Hz) sum of three sinusoids of total amplitude ``amplitude_deg``."""
    f = rng.uniform(0.15, 0.8, 3)
    ph = rng.uniform(0.0, 2.0 * np.pi, 3)
    w = rng.uniform(0.5, 1.0, 3)
    w *= amplitude_deg / w.sum()
    return np.sum(w * np.sin(2.0 * np.pi * f * t[:, np.newaxis] + ph), axis=1)


def tremor_trace(
    t: np.ndarray,
    s: np.ndarray,
    hold_windows: Sequence[tuple[float, float]],
    deg: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Shaking (deg) inside each hold window ``(start, end)`` s: a 5-9 Hz sinusoid with a
    slowly wandering frequency, growing from 20 % to 100 % of ``deg`` over the hold and faded
    in and out with the progress ``s``."""
    out = np.zeros_like(t)
    if deg <= 0:
        return out
    f0 = rng.uniform(5.0, 9.0)
    phase = 2.0 * np.pi * np.cumsum(f0 + 0.5 * np.sin(2.0 * np.pi * 0.2 * t)) * np.gradient(t)
    gate = np.clip((s - 0.9) / 0.1, 0.0, 1.0) ** 2
    for a, b in hold_windows:
        inside = (t >= a) & (t <= b)
        grow = 0.2 + 0.8 * np.clip((t - a) / max(b - a, 1e-9), 0.0, 1.0)
        out += np.where(inside, deg * grow * np.sin(phase), 0.0)
    return out * gate


def pose_rotations(
    exercise: str,
    motion: Motion,
    segment: str,
    side: str,
    angle: np.ndarray,
    nuisance: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[str, Rotations]:
    """Posture and intrinsic rotations of ``segment`` for ``exercise`` at the family angle
    ``angle`` (deg, ``(n,)``, anatomical, tremor included) with wobbles ``(w1, w2, sway)``."""
    k = side_sign(side)
    w1, w2, sway = nuisance
    posture = "standing" if motion.posture == "standing" else ("lying_left" if side == "r" else "lying_right")
    thigh = segment == "thigh"
    if exercise in ("clamshell", "reverse_clamshell"):
        if thigh:
            return posture, [
                ("y", -motion.flexion_deg + w1),
                ("z", k * (3.0 + sway)),
                ("x", -k * angle + 0.3 * w2),
            ]
        return posture, [("y", -0.5 * w1), ("x", -k * 0.12 * angle + 0.5 * w2), ("z", 0.3 * sway)]
    if exercise == "side_lying_hip_abduction":
        if thigh:
            return posture, [("y", -motion.flexion_deg + w1), ("z", k * angle), ("x", w2)]
        return posture, [("z", k * 0.1 * angle + 0.3 * sway), ("y", 0.5 * w1), ("x", 0.5 * w2)]
    if exercise == "hip_hike":  # the stance side's glute med (the EMG's side) lifts the FREE side
        if thigh:  # the stance thigh: near vertical while the pelvis tilts over it
            return posture, [("z", 0.1 * k * angle + w2), ("y", -3.0 + w1), ("x", w1)]
        return posture, [("y", 8.0 + w1), ("z", -k * angle + 0.2 * sway), ("x", w2)]
    if exercise == "lateral_band_walk":
        if thigh:  # abduct about the body AP axis, flex into the athletic stance; roll +-1 deg
            return posture, [("z", k * angle + 0.5 * sway), ("y", -motion.flexion_deg + w2), ("x", w1 / 3.0)]
        return posture, [("y", 20.0 + w1), ("z", k * 0.15 * angle + 0.5 * sway), ("x", w2)]
    if exercise == "copenhagen_plank":
        if thigh:  # the top leg on the bench follows the pelvis
            return posture, [("z", k * 0.7 * angle), ("y", -10.0 + w1), ("x", w2)]
        return posture, [("z", k * angle + 0.2 * sway), ("y", 0.5 * w1), ("x", 0.5 * w2)]
    if exercise == "single_leg_balance":
        if thigh:  # the lifted leg: its knee rises
            return posture, [("y", -angle), ("z", w2 + sway), ("x", w1)]
        return posture, [("z", k * 0.04 * angle + 0.5 * sway), ("y", 0.3 * w1), ("x", 0.5 * w2)]
    raise ValueError(f"no 3-D motion for exercise {exercise!r}")


def orientation_signals(
    exercise: str,
    motion: Motion,
    times: np.ndarray,
    s: np.ndarray,
    hold_windows: Sequence[tuple[float, float]],
    segments: Sequence[str],
    side: str,
    rng: np.random.Generator,
    *,
    wobble_deg: float = 1.0,
    acc_noise_g: float = 0.004,
    gyro_noise_dps: float = 0.15,
    gyro_bias_dps: float = 0.8,
    heading_drift_dps: float = 0.05,
) -> tuple[
    dict[str, tuple[np.ndarray, np.ndarray]], dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray
]:
    """IMU signals of a non-hinge exercise (module docstring).

    Parameters
    ----------
    exercise, motion
        The exercise and its :class:`~myoflow.synth.exercises.Motion`.
    times, s
        ``(n,)`` IMU sample times (s) and the rep progress there.
    hold_windows
        ``(start, end)`` of each hold (s), where the tremor is.
    segments, side
        Worn segments (``"pelvis"``, ``"thigh"``) and the working side: the EMG's side; the
        thigh IMU is on that side except in single-leg balance (the lifted leg, the other
        side); in a hip hike the pelvis rises on the other (free) side, lifted by the stance
        side's glute med; in a Copenhagen plank the working side is the top leg.
    rng
        Seeded generator.

    Returns
    -------
    imu
        segment -> ``(acc (n, 3) g, gyro (n, 3) deg/s)`` float32.
    quat
        segment -> ``(n, 4)`` float64 segment-to-world quaternions as a strap's fusion reports
        them (heading drift included).
    bias
        segment -> ``(3,)`` gyro bias, deg/s.
    angle
        ``(n,)`` the noiseless family angle (deg, anatomical): ``start + amplitude * s``.
    """
    t = np.asarray(times, dtype=np.float64)
    fs = 1.0 / float(np.median(np.diff(t))) if t.size > 1 else 1.0
    angle = motion.start_deg + motion.amplitude_deg * s
    shake = tremor_trace(t, s, hold_windows, motion.tremor_deg, rng)
    imu: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    quats: dict[str, np.ndarray] = {}
    biases: dict[str, np.ndarray] = {}
    for seg in segments:
        nuisance = (
            _wobble(t, 3.0 * wobble_deg, rng),
            _wobble(t, 3.0 * wobble_deg, rng),
            _wobble(t, 0.3 * wobble_deg, rng),
        )
        posture, rotations = pose_rotations(exercise, motion, seg, side, angle + shake, nuisance)
        q = joint_chain(posture, rotations)
        acc = up_in_segment(q) + rng.standard_normal((t.size, 3)) * acc_noise_g
        bias = rng.uniform(-gyro_bias_dps, gyro_bias_dps, 3)
        gyro = body_rate(q, fs) + bias + rng.standard_normal((t.size, 3)) * gyro_noise_dps
        heading = np.zeros((t.size, 4))
        half = 0.5 * np.radians(heading_drift_dps * t)
        heading[:, 0], heading[:, 3] = np.cos(half), np.sin(half)
        quats[seg] = quat_mul(heading, q)
        imu[seg] = (np.ascontiguousarray(acc, np.float32), np.ascontiguousarray(gyro, np.float32))
        biases[seg] = bias
    return imu, quats, biases, angle
