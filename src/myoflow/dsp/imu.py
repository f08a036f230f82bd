"""IMU basics: the sagittal segment angle from accelerometer, gyroscope and quaternions.

Frames and signs follow ``docs/conventions.md``. Each IMU is described in its segment frame
(x along the segment distally, y to the subject's left, z anterior). The sagittal segment angle
``phi`` (degrees) is the angle of the segment's x axis from straight down, positive anteriorly.
At rest the accelerometer reads the "up" direction ``(-cos phi, 0, sin phi)`` in g and the
gyroscope reads ``omega_y = -dphi/dt`` in deg/s.

When the segment is not purely sagittal, ``phi`` is taken in the segment's own x-z (sagittal)
plane: the world's up direction ``g`` expressed in the segment frame is projected on that plane
and ``phi = atan2(g_z, -g_x)``. A sideways (frontal) tilt then leaves ``phi`` at 0, and a roll
``r`` about the segment's long axis changes it by at most about ``(1 - cos r) / 2`` rad
(1 deg for 15 deg of roll).

Every angle returned here is continuous over time (unwrapped), so a full turn reads 360 deg
rather than jumping back to 0; stateful filters keep that continuity across chunks.

This module holds the sagittal (one-axis) estimates, the quaternion conversions, the hip angle
and the alignment of two straps; the 3-D gravity filter for movement that is not purely
sagittal is :class:`myoflow.dsp.imu3d.TiltFilter3D`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.signal import lfilter

from myoflow._checks import as_signal, check_positive, check_rate
from myoflow.dsp._quaternion import quat_mul, rotate

_ArrayLike = np.ndarray | Sequence[float]


def _xyz(x: np.ndarray, name: str) -> np.ndarray:
    """``x`` as a float64 ``(n, 3)`` array of finite numbers, or a ``ValueError`` naming it."""
    arr = as_signal(x, name, dtype=np.float64)
    if arr.shape[1] != 3:
        raise ValueError(f"{name} must have shape (n_samples, 3) (x, y, z), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.all(np.isfinite(arr), axis=1))[0])
        raise ValueError(f"{name} must be finite, got {arr[bad]} at sample {bad}")
    return arr


def _acc_gyro(acc: np.ndarray, gyro: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, g = _xyz(acc, "acc"), _xyz(gyro, "gyro")
    if a.shape[0] != g.shape[0]:
        raise ValueError(
            f"acc and gyro must have the same number of samples, got {a.shape[0]} and {g.shape[0]}"
        )
    return a, g


def _bias(gyro_bias_dps: _ArrayLike) -> np.ndarray:
    b = np.asarray(gyro_bias_dps, dtype=np.float64)
    if b.shape != (3,) or not np.all(np.isfinite(b)):
        raise ValueError(f"gyro_bias_dps must be 3 finite numbers in deg/s, got {gyro_bias_dps!r}")
    return b


def _phi_raw(up: np.ndarray) -> np.ndarray:
    """Wrapped ``atan2(up_z, -up_x)`` in degrees, ``(-180, 180]``."""
    return np.degrees(np.arctan2(up[:, 2], -up[:, 0]))


def sagittal_angle_from_acc(acc: np.ndarray) -> np.ndarray:
    """Sagittal segment angle from the accelerometer alone (gravity direction).

    Parameters
    ----------
    acc
        Shape ``(n_samples, 3)``, segment-frame acceleration in g (any consistent unit works:
        only the direction is used).

    Returns
    -------
    Shape ``(n_samples,)``, float64, degrees: ``atan2(a_z, -a_x)``, unwrapped over time.
    Linear acceleration of the segment passes straight into this angle; see
    :class:`SagittalTiltFilter` for the gyro-fused estimate.
    """
    a = _xyz(acc, "acc")
    return np.unwrap(_phi_raw(a), period=360.0)


class SagittalTiltFilter:
    """Complementary filter for the sagittal angle: accelerometer low-passed, gyro high-passed.

    Each sample, ``phi[k] = alpha * (phi[k-1] + dt * (r[k-1] + r[k]) / 2) + (1 - alpha) *
    phi_acc[k]`` with ``r = -omega_y`` (deg/s), ``dt = 1 / fs`` and ``alpha = tau / (tau + dt)``.
    That is a first-order linear recursion, run over a whole chunk by ``scipy.signal.lfilter``
    with its state carried between chunks.

    Response: the accelerometer path is a first-order low-pass with time constant ``tau``
    (-3 dB at :attr:`crossover_hz`), the gyro path its exact complement, so for consistent
    inputs the fused angle follows the motion with no lag (:attr:`delay_ms` is 0). ``tau``
    trades two errors: accelerometer disturbances (linear acceleration of the segment) slower
    than the crossover pass through, and a constant gyro bias ``b_y`` (deg/s) leaves a
    steady-state error of ``-b_y * tau`` degrees (``phi`` reads low for a positive y bias);
    a step of accelerometer angle with no gyro rate is reached to 63 % after ``tau``.

    Only ``omega_y`` is used: the segment is assumed to turn about its own y axis. When it also
    rolls about its long axis or moves out of the sagittal plane, use
    :class:`~myoflow.dsp.imu3d.TiltFilter3D`.

    The accelerometer angle is unwrapped sample to sample, choosing each 360 deg branch nearest
    to the gyro-predicted change, with the branch carried across chunks; the output is
    continuous. The filter starts at the first accelerometer angle (no start-up transient).

    Parameters
    ----------
    fs
        Sample rate of both streams in Hz (accelerometer and gyro sampled together).
    time_constant_s
        ``tau`` in seconds.
    gyro_bias_dps
        Known gyro bias ``(b_x, b_y, b_z)`` in deg/s, subtracted before use.
    """

    def __init__(
        self, fs: float, time_constant_s: float = 0.5, gyro_bias_dps: _ArrayLike = (0.0, 0.0, 0.0)
    ) -> None:
        self.fs = check_rate(fs)
        self.time_constant_s = check_positive(time_constant_s, "time_constant_s", "s")
        self.gyro_bias_dps = _bias(gyro_bias_dps)
        self._dt = 1.0 / self.fs
        self._alpha = self.time_constant_s / (self.time_constant_s + self._dt)
        self.reset()

    @property
    def delay_ms(self) -> float:
        """Lag of the fused angle behind the motion for consistent inputs, in ms: 0."""
        return 0.0

    @property
    def crossover_hz(self) -> float:
        """Frequency (Hz) where accelerometer and gyro contribute equally: ``1 / (2 pi tau)``."""
        return 1.0 / (2.0 * math.pi * self.time_constant_s)

    def reset(self) -> None:
        """Forget the state; the next sample restarts from its accelerometer angle."""
        self._phi: float | None = None  # last fused angle, deg
        self._rate = 0.0  # last angular rate dphi/dt, deg/s
        self._raw = 0.0  # last wrapped accelerometer angle, deg
        self._turns = 0  # 360-deg branch of the last accelerometer angle

    def process(self, acc: np.ndarray, gyro: np.ndarray) -> np.ndarray:
        """Fuse one chunk.

        Parameters
        ----------
        acc
            Shape ``(n_samples, 3)``, segment-frame acceleration in g.
        gyro
            Shape ``(n_samples, 3)``, segment-frame angular rate in deg/s.

        Returns
        -------
        Shape ``(n_samples,)``, float64, the fused sagittal angle ``phi`` in degrees.
        """
        a, g = _acc_gyro(acc, gyro)
        n = a.shape[0]
        if n == 0:
            return np.empty(0, dtype=np.float64)
        raw = _phi_raw(a)
        rate = -(g[:, 1] - self.gyro_bias_dps[1])
        start = 0
        out = np.empty(n, dtype=np.float64)
        if self._phi is None:  # start at the first accelerometer angle
            out[0] = self._phi = self._raw = float(raw[0])
            self._rate = float(rate[0])
            start = 1
            if n == 1:
                return out
        raw, rate = raw[start:], rate[start:]
        prev_rate = np.concatenate(([self._rate], rate[:-1]))
        increment = 0.5 * self._dt * (prev_rate + rate)  # trapezoidal gyro integration
        step = np.diff(raw, prepend=self._raw)
        turns = self._turns - np.cumsum(np.rint((step - increment) / 360.0).astype(np.int64))
        phi_acc = raw + 360.0 * turns
        alpha = self._alpha
        drive = alpha * increment + (1.0 - alpha) * phi_acc
        out[start:], _ = lfilter([1.0], [1.0, -alpha], drive, zi=[alpha * self._phi])
        self._phi, self._rate, self._raw = float(out[-1]), float(rate[-1]), float(raw[-1])
        self._turns = int(turns[-1])
        return out


# --- orientation quaternions, hip angle, aligning two straps ----------------------------------


def sagittal_angle_from_quaternion(q: np.ndarray, world_up: _ArrayLike = (0.0, 0.0, 1.0)) -> np.ndarray:
    """Sagittal segment angle from orientation quaternions (straps such as the Myo).

    Convention: ``q = (w, x, y, z)`` is the Hamilton unit quaternion of the **segment-to-world**
    rotation, ``v_world = q v_segment q*``, for the segment frame of ``docs/conventions.md``
    (apply the strap profile's mounting rotation first). The world frame only needs a known
    vertical: by default its z axis points up (gravity along -z), the usual choice of on-chip
    fusion (which axis a given strap's world frame uses is a fact of its profile: pass
    ``world_up`` when it differs); the heading is arbitrary and does not matter. The world's
    up direction is rotated into the segment frame and ``phi = atan2(up_z, -up_x)``, the same
    definition as :func:`sagittal_angle_from_acc`.

    Parameters
    ----------
    q
        Shape ``(n_samples, 4)``, ``(w, x, y, z)``; normalised here (only the direction counts).
    world_up
        The world's up direction in world coordinates, e.g. ``(0, 0, -1)`` for a north-east-down
        world.

    Returns
    -------
    Shape ``(n_samples,)``, float64, degrees, unwrapped over time.
    """
    arr = as_signal(q, "q", dtype=np.float64)
    if arr.shape[1] != 4:
        raise ValueError(f"q must have shape (n_samples, 4) (w, x, y, z), got shape {arr.shape}")
    norm = np.linalg.norm(arr, axis=1, keepdims=True)
    bad = ~np.isfinite(norm[:, 0]) | (norm[:, 0] == 0)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"q must hold finite non-zero quaternions, got {arr[i]} at sample {i}")
    up_w = np.asarray(world_up, dtype=np.float64)
    if up_w.shape != (3,) or not np.all(np.isfinite(up_w)) or not np.any(up_w):
        raise ValueError(f"world_up must be a non-zero 3-vector, got {world_up!r}")
    up = rotate(arr / norm, np.broadcast_to(up_w, (arr.shape[0], 3)), inverse=True)
    return np.unwrap(_phi_raw(up), period=360.0)


def sagittal_quaternion(phi: _ArrayLike, heading_deg: float = 0.0) -> np.ndarray:
    """Segment-to-world quaternions of a purely sagittal pose (inverse of the function above).

    The world is z-up; the subject faces ``heading_deg`` (0: the segment's anterior z axis along
    world +x when ``phi`` is 0), counter-clockwise seen from above.

    Parameters
    ----------
    phi
        Shape ``(n,)``, sagittal segment angle in degrees.
    heading_deg
        Heading of the subject in degrees.

    Returns
    -------
    Shape ``(n, 4)``, float64 unit quaternions ``(w, x, y, z)``.
    """
    ang = np.atleast_1d(np.asarray(phi, dtype=np.float64))
    if ang.ndim != 1 or not np.all(np.isfinite(ang)):
        raise ValueError(f"phi must be a finite 1-D array of degrees, got shape {ang.shape}")
    h = 0.5 * math.radians(float(heading_deg))
    half = 0.5 * np.radians(90.0 - ang)  # standing pose is a +90 deg turn about world y
    zeros = np.zeros_like(half)
    pitch = np.column_stack((np.cos(half), zeros, np.sin(half), zeros))
    yaw = np.broadcast_to([math.cos(h), 0.0, 0.0, math.sin(h)], pitch.shape)
    return quat_mul(yaw, pitch)


def hip_flexion(phi_thigh: _ArrayLike, phi_pelvis: _ArrayLike) -> np.ndarray:
    """Hip flexion angle ``phi_thigh - phi_pelvis`` in degrees (0 neutral, positive in flexion).

    Parameters
    ----------
    phi_thigh, phi_pelvis
        Sagittal segment angles in degrees at the same times, same shape: scalars or ``(n,)``
        (use :func:`align` first when the straps sample at different times).

    Returns
    -------
    Float64 array of the inputs' shape, degrees.
    """
    thigh = np.asarray(phi_thigh, dtype=np.float64)
    pelvis = np.asarray(phi_pelvis, dtype=np.float64)
    for name, arr in (("phi_thigh", thigh), ("phi_pelvis", pelvis)):
        if arr.ndim > 1:
            raise ValueError(f"{name} must be a scalar or shape (n_samples,), got shape {arr.shape}")
    if thigh.shape != pelvis.shape:
        raise ValueError(
            f"phi_thigh and phi_pelvis must have the same shape, got {thigh.shape} and "
            f"{pelvis.shape} (align the streams first)"
        )
    return thigh - pelvis


def align(
    times_a: np.ndarray,
    values_a: np.ndarray,
    times_b: np.ndarray,
    max_gap_s: float | None = None,
) -> np.ndarray:
    """Linearly interpolate a stream sampled at ``times_a`` onto the times ``times_b``.

    Use it to put the pelvis and thigh angles of two straps on common times. Nothing is
    invented: times outside ``[times_a[0], times_a[-1]]`` and, when ``max_gap_s`` is given,
    times inside a gap between two samples of ``times_a`` longer than ``max_gap_s``, get NaN.
    Interpolate continuous (unwrapped) angles, as returned by this module.

    Parameters
    ----------
    times_a
        Shape ``(n_a,)``, float64 seconds, strictly increasing.
    values_a
        Shape ``(n_a,)`` or ``(n_a, n_channels)``.
    times_b
        Shape ``(n_b,)``, float64 seconds (any order).
    max_gap_s
        Longest interval of ``times_a`` (seconds) to interpolate across.

    Returns
    -------
    Shape ``(n_b,)`` or ``(n_b, n_channels)``, float64.
    """
    ta = np.asarray(times_a, dtype=np.float64)
    tb = np.asarray(times_b, dtype=np.float64)
    va = np.asarray(values_a, dtype=np.float64)
    for name, t in (("times_a", ta), ("times_b", tb)):
        if t.ndim != 1 or not np.all(np.isfinite(t)):
            raise ValueError(f"{name} must be a finite 1-D array of seconds, got shape {t.shape}")
    if va.ndim not in (1, 2) or va.shape[0] != ta.shape[0]:
        raise ValueError(
            f"values_a must have shape ({ta.shape[0]},) or ({ta.shape[0]}, n_channels) to match "
            f"times_a, got shape {va.shape}"
        )
    if ta.shape[0] == 0:
        raise ValueError("times_a must hold at least one sample, got 0")
    steps = np.diff(ta)
    if np.any(steps <= 0):
        i = int(np.flatnonzero(steps <= 0)[0])
        raise ValueError(
            f"times_a must be strictly increasing, got {ta[i]} then {ta[i + 1]} at sample {i + 1}"
        )
    cols = va.reshape(va.shape[0], -1)
    out = np.column_stack([np.interp(tb, ta, cols[:, j]) for j in range(cols.shape[1])])
    invalid = (tb < ta[0]) | (tb > ta[-1])
    if max_gap_s is not None:
        max_gap = check_positive(max_gap_s, "max_gap_s", "s")
        right = np.clip(np.searchsorted(ta, tb, side="left"), 1, max(ta.shape[0] - 1, 1))
        on_sample = np.isin(tb, ta)
        if ta.shape[0] > 1:
            invalid |= ~on_sample & (ta[right] - ta[right - 1] > max_gap)
    out[invalid] = np.nan
    return out[:, 0] if va.ndim == 1 else out
