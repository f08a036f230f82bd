"""Quaternion and 3-vector algebra on rows of float64 arrays, for the IMU modules.

Quaternions are ``(w, x, y, z)`` rows of an ``(n, 4)`` array, multiplied with the Hamilton
product; a unit quaternion ``q`` rotates a vector ``v`` as ``q v q*``. Vectors are rows of an
``(n, 3)`` array. Every function works on all rows at once and does no argument checking: the
public functions of :mod:`myoflow.dsp.imu` and :mod:`myoflow.dsp.imu3d` validate their inputs
before calling these.
"""

from __future__ import annotations

import numpy as np


def quat_mul(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hamilton product ``p q`` of ``(n, 4)`` arrays."""
    pw, px, py, pz = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
    qw, qx, qy, qz = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    out = np.empty(np.broadcast_shapes(p.shape, q.shape))
    out[:, 0] = pw * qw - px * qx - py * qy - pz * qz
    out[:, 1] = pw * qx + px * qw + py * qz - pz * qy
    out[:, 2] = pw * qy - px * qz + py * qw + pz * qx
    out[:, 3] = pw * qz + px * qy - py * qx + pz * qw
    return out


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of ``(n, 3)`` arrays (``np.cross`` costs ~20 us a call)."""
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[:, 0] = a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1]
    out[:, 1] = a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2]
    out[:, 2] = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    return out


def rotate(q: np.ndarray, v: np.ndarray, inverse: bool = False) -> np.ndarray:
    """Rotate vectors ``v`` ``(n, 3)`` by unit quats ``q`` ``(n, 4)``, or by their inverse."""
    w = q[:, :1]
    u = -q[:, 1:] if inverse else q[:, 1:]
    t = 2.0 * cross(u, v)
    return v + w * t + cross(u, t)


def prefix_product(r: np.ndarray) -> np.ndarray:
    """``Q[k] = r[k] r[k-1] ... r[0]`` for all k, in ``ceil(log2 n)`` vectorised steps."""
    q = r.copy()
    d = 1
    while d < q.shape[0]:
        q[d:] = quat_mul(q[d:], q[:-d])
        d *= 2
    return q / np.linalg.norm(q, axis=1, keepdims=True)
