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
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.signal import lfilter

from myoflow._checks import as_signal, check_positive, check_rate

_ArrayLike = np.ndarray | Sequence[float]
_BLOCK = 512  # samples per vectorised block of TiltFilter3D


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
    rolls about its long axis or moves out of the sagittal plane, use :class:`TiltFilter3D`.

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


# --- quaternions: (w, x, y, z), Hamilton product, q rotates v as q v q* -------------------


def _quat_mul(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hamilton product ``p q`` of ``(n, 4)`` arrays."""
    pw, px, py, pz = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
    qw, qx, qy, qz = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    out = np.empty(np.broadcast_shapes(p.shape, q.shape))
    out[:, 0] = pw * qw - px * qx - py * qy - pz * qz
    out[:, 1] = pw * qx + px * qw + py * qz - pz * qy
    out[:, 2] = pw * qy - px * qz + py * qw + pz * qx
    out[:, 3] = pw * qz + px * qy - py * qx + pz * qw
    return out


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of ``(n, 3)`` arrays (``np.cross`` costs ~20 us a call)."""
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[:, 0] = a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1]
    out[:, 1] = a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2]
    out[:, 2] = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    return out


def _rotate(q: np.ndarray, v: np.ndarray, inverse: bool = False) -> np.ndarray:
    """Rotate vectors ``v`` ``(n, 3)`` by unit quats ``q`` ``(n, 4)``, or by their inverse."""
    w = q[:, :1]
    u = -q[:, 1:] if inverse else q[:, 1:]
    t = 2.0 * _cross(u, v)
    return v + w * t + _cross(u, t)


def _prefix_product(r: np.ndarray) -> np.ndarray:
    """``Q[k] = r[k] r[k-1] ... r[0]`` for all k, in ``ceil(log2 n)`` vectorised steps."""
    q = r.copy()
    d = 1
    while d < q.shape[0]:
        q[d:] = _quat_mul(q[d:], q[:-d])
        d *= 2
    return q / np.linalg.norm(q, axis=1, keepdims=True)


class TiltFilter3D:
    """Gravity-direction complementary filter in 3-D, for movement that is not purely sagittal.

    It tracks ``u``, the world's up direction in the segment frame (what the accelerometer reads
    at rest). Each sample the previous estimate is carried along by the gyro (a world-fixed
    vector seen from the segment turns as ``du/dt = u x omega``, trapezoidal rate, exact
    rotation) and blended with the unit accelerometer direction:

        ``u[k] = alpha * R[k] u[k-1] + (1 - alpha) * a[k] / |a[k]|``, ``alpha = 1 / (1 + gain dt)``.

    For small errors this is the proportional (Mahony-style) gravity correction with gain
    ``gain`` (1/s), i.e. time constant ``1 / gain``, matching :class:`SagittalTiltFilter`.
    Because the blend is linear in ``u``, a chunk is solved without a sample loop: the gyro
    rotations are composed by a prefix product (log2(n) vectorised quaternion products), the
    accelerometer directions are rotated into the chunk-start frame, low-passed there with
    ``lfilter`` and rotated back. ``phi`` is then ``atan2(u_z, -u_x)``, unwrapped. A zero
    accelerometer vector (free fall) gives a gyro-only step. As in the sagittal filter, the
    output does not lag consistent inputs, and a constant gyro bias tilts the estimate by about
    ``bias * tau`` (``-b_y * tau`` in ``phi``).

    Parameters
    ----------
    fs
        Sample rate of both streams in Hz.
    gain
        Accelerometer correction gain in 1/s (time constant ``1 / gain`` s).
    gyro_bias_dps
        Known gyro bias ``(b_x, b_y, b_z)`` in deg/s, subtracted before use.
    """

    def __init__(
        self, fs: float, gain: float = 2.0, gyro_bias_dps: _ArrayLike = (0.0, 0.0, 0.0)
    ) -> None:
        self.fs = check_rate(fs)
        self.gain = check_positive(gain, "gain", "1/s")
        self.gyro_bias_dps = _bias(gyro_bias_dps)
        self._dt = 1.0 / self.fs
        self._alpha = 1.0 / (1.0 + self.gain * self._dt)
        self.reset()

    @property
    def time_constant_s(self) -> float:
        """Time constant of the accelerometer correction in seconds, ``1 / gain``."""
        return 1.0 / self.gain

    @property
    def delay_ms(self) -> float:
        """Lag of the estimate behind the motion for consistent inputs, in ms: 0."""
        return 0.0

    @property
    def up(self) -> np.ndarray | None:
        """Latest unit up direction in the segment frame, shape ``(3,)``; ``None`` before data."""
        return None if self._u is None else self._u / np.linalg.norm(self._u)

    def reset(self) -> None:
        """Forget the state; the next sample restarts from its accelerometer direction."""
        self._u: np.ndarray | None = None  # last up estimate (segment frame)
        self._omega = np.zeros(3)  # last angular rate, rad/s
        self._phi: float | None = None  # last unwrapped phi, deg

    def process(self, acc: np.ndarray, gyro: np.ndarray) -> np.ndarray:
        """Fuse one chunk and return ``phi``, shape ``(n_samples,)``, float64, degrees.

        Parameters
        ----------
        acc
            Shape ``(n_samples, 3)``, segment-frame acceleration in g.
        gyro
            Shape ``(n_samples, 3)``, segment-frame angular rate in deg/s.
        """
        return self._angle(self._advance(acc, gyro))

    def process_up(self, acc: np.ndarray, gyro: np.ndarray) -> np.ndarray:
        """Fuse one chunk and return the unit up direction, shape ``(n_samples, 3)``, float64.

        Same inputs as :meth:`process`, and advances the same state (the two can be mixed
        chunk by chunk on one stream).
        """
        up = self._advance(acc, gyro)
        self._angle(up)
        return up

    def _angle(self, up: np.ndarray) -> np.ndarray:
        """``phi`` of unit up vectors, unwrapped and continuous with the previous chunk."""
        raw = _phi_raw(up)
        if raw.size == 0:
            return raw
        first = raw[0] if self._phi is None else self._phi
        phi = np.unwrap(np.concatenate(([first], raw)), period=360.0)[1:]
        self._phi = float(phi[-1])
        return phi

    def _advance(self, acc: np.ndarray, gyro: np.ndarray) -> np.ndarray:
        a, g = _acc_gyro(acc, gyro)
        n = a.shape[0]
        up = np.empty((n, 3), dtype=np.float64)
        if n == 0:
            return up
        norm = np.linalg.norm(a, axis=1, keepdims=True)
        a = np.divide(a, norm, out=np.zeros_like(a), where=norm > 0)
        omega = np.radians(g - self.gyro_bias_dps)
        start = 0
        if self._u is None:  # start at the first accelerometer direction
            if norm[0, 0] == 0:
                raise ValueError(
                    "acc: the first sample is (0, 0, 0); the filter cannot start from it"
                )
            up[0] = self._u = a[0]
            self._omega = omega[0]
            start = 1
        # long chunks in blocks: the prefix product costs log2(block) passes per sample
        for i in range(start, n, _BLOCK):
            up[i : i + _BLOCK] = self._run(a[i : i + _BLOCK], omega[i : i + _BLOCK])
        return up

    def _run(self, a: np.ndarray, omega: np.ndarray) -> np.ndarray:
        """The recursion over samples whose predecessor is the carried state; unit up vectors."""
        mid = 0.5 * (np.vstack((self._omega, omega[:-1])) + omega)  # trapezoidal rate, rad/s
        angle = np.linalg.norm(mid, axis=1) * self._dt
        # rotation by |omega| dt about -omega: vector part -sin(angle/2) * mid / |mid|
        half = np.sinc(angle / (2.0 * np.pi)) * (0.5 * self._dt)
        r = np.column_stack((np.cos(0.5 * angle), -half[:, None] * mid))
        q = _prefix_product(r)  # chunk-start frame -> current segment frame
        v = _rotate(q, a, inverse=True)
        alpha = self._alpha
        w, _ = lfilter([1.0 - alpha], [1.0, -alpha], v, axis=0, zi=alpha * self._u[None, :])
        u = _rotate(q, w)
        self._u = u[-1].copy()  # carried unnormalised: the recursion is linear in u
        self._omega = omega[-1].copy()
        return u / np.linalg.norm(u, axis=1, keepdims=True)


# --- orientation quaternions, hip angle, aligning two straps ----------------------------------


def sagittal_angle_from_quaternion(
    q: np.ndarray, world_up: _ArrayLike = (0.0, 0.0, 1.0)
) -> np.ndarray:
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
    up = _rotate(arr / norm, np.broadcast_to(up_w, (arr.shape[0], 3)), inverse=True)
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
    return _quat_mul(yaw, pitch)


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
            raise ValueError(
                f"{name} must be a scalar or shape (n_samples,), got shape {arr.shape}"
            )
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
