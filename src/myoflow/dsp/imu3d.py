"""3-D tilt estimation: :class:`TiltFilter3D`, for movement that is not purely sagittal.

The filter tracks the world's up direction in the segment frame from accelerometer and gyroscope
and reports the same sagittal segment angle ``phi`` (degrees) as :mod:`myoflow.dsp.imu`, with the
same frames, signs, input shapes and unwrapping (``docs/conventions.md``). Use it instead of
:class:`~myoflow.dsp.imu.SagittalTiltFilter` when the segment also rolls about its long axis or
moves out of the sagittal plane.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from myoflow._checks import check_positive, check_rate
from myoflow.dsp._quaternion import prefix_product, rotate
from myoflow.dsp.imu import _acc_gyro, _ArrayLike, _bias, _phi_raw

_BLOCK = 512  # samples per vectorised block of TiltFilter3D


class TiltFilter3D:
    """Gravity-direction complementary filter in 3-D, for movement that is not purely sagittal.

    It tracks ``u``, the world's up direction in the segment frame (what the accelerometer reads
    at rest). Each sample the previous estimate is carried along by the gyro (a world-fixed
    vector seen from the segment turns as ``du/dt = u x omega``, trapezoidal rate, exact
    rotation) and blended with the unit accelerometer direction:

        ``u[k] = alpha * R[k] u[k-1] + (1 - alpha) * a[k] / |a[k]|``, ``alpha = 1 / (1 + gain dt)``.

    For small errors this is the proportional (Mahony-style) gravity correction with gain
    ``gain`` (1/s), i.e. time constant ``1 / gain``, matching
    :class:`~myoflow.dsp.imu.SagittalTiltFilter`. Because the blend is linear in ``u``, a chunk
    is solved without a sample loop: the gyro rotations are composed by a prefix product
    (log2(n) vectorised quaternion products), the accelerometer directions are rotated into the
    chunk-start frame, low-passed there with ``lfilter`` and rotated back. ``phi`` is then
    ``atan2(u_z, -u_x)``, unwrapped. A zero accelerometer vector (free fall) gives a gyro-only
    step. As in the sagittal filter, the output does not lag consistent inputs, and a constant
    gyro bias tilts the estimate by about ``bias * tau`` (``-b_y * tau`` in ``phi``).

    Parameters
    ----------
    fs
        Sample rate of both streams in Hz.
    gain
        Accelerometer correction gain in 1/s (time constant ``1 / gain`` s).
    gyro_bias_dps
        Known gyro bias ``(b_x, b_y, b_z)`` in deg/s, subtracted before use.
    """

    def __init__(self, fs: float, gain: float = 2.0, gyro_bias_dps: _ArrayLike = (0.0, 0.0, 0.0)) -> None:
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
                raise ValueError("acc: the first sample is (0, 0, 0); the filter cannot start from it")
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
        q = prefix_product(r)  # chunk-start frame -> current segment frame
        v = rotate(q, a, inverse=True)
        alpha = self._alpha
        assert self._u is not None  # set by the first sample
        w, _ = lfilter([1.0 - alpha], [1.0, -alpha], v, axis=0, zi=alpha * self._u[None, :])
        u = rotate(q, w)
        self._u = u[-1].copy()  # carried unnormalised: the recursion is linear in u
        self._omega = omega[-1].copy()
        return u / np.linalg.norm(u, axis=1, keepdims=True)
