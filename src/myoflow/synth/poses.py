"""Body postures and joint rotations as segment-to-world quaternions, for the movement families.

A physical model, built independently of the angle formulas in
:mod:`myoflow.analysis.movement`: the world is z-up; a **posture** says where the subject's
cranial (C), left (L) and anterior (A) directions point in the world; a segment at anatomical
neutral has its frame (``docs/conventions.md``) at x = -C (distal), y = L, z = A. Joint motion
is a chain of rotations about the segment's own axes, applied after the posture (intrinsic):

* hip flexion by ``f`` deg: about y by ``-f`` (the distal end swings anteriorly);
* hip abduction by ``a`` deg: about z by ``-a`` on the right, ``+a`` on the left (the distal
  end moves laterally); pelvic hike of the right side: about z by ``-h`` (left: ``+h``);
* femur external rotation by ``r`` deg: about x by ``+r`` on the right, ``-r`` on the left
  (the anterior surface turns laterally).

Quaternions are ``(w, x, y, z)`` rows, Hamilton product, ``v_world = q v q*``.
"""

from __future__ import annotations

import numpy as np

#: Posture -> (cranial, left) unit vectors in the z-up world; anterior = (-cranial) x left.
POSTURES: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "standing": ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0)),
    "supine": ((1.0, 0.0, 0.0), (0.0, -1.0, 0.0)),  # anterior = up
    "lying_left": ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0)),  # on the left side: the right side is up
    "lying_right": ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),  # on the right side: the left side is up
}


def quat_mul(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hamilton product of ``(n, 4)`` (or broadcastable ``(4,)``) quaternion rows."""
    p, q = np.atleast_2d(p), np.atleast_2d(q)
    pw, px, py, pz = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
    qw, qx, qy, qz = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    return np.stack(
        [
            pw * qw - px * qx - py * qy - pz * qz,
            pw * qx + px * qw + py * qz - pz * qy,
            pw * qy - px * qz + py * qw + pz * qx,
            pw * qz + px * qy - py * qx + pz * qw,
        ],
        axis=1,
    )


def axis_rotation(axis: str, angle_deg: np.ndarray | float) -> np.ndarray:
    """Quaternions ``(n, 4)`` of rotations by ``angle_deg`` about the axis ``"x"``, ``"y"`` or ``"z"``."""
    half = 0.5 * np.radians(np.atleast_1d(np.asarray(angle_deg, dtype=np.float64)))
    q = np.zeros((half.size, 4))
    q[:, 0] = np.cos(half)
    q[:, "xyz".index(axis) + 1] = np.sin(half)
    return q


def posture_quaternion(posture: str) -> np.ndarray:
    """``(1, 4)`` quaternion of a neutral segment in ``posture`` (frame x = -C, y = L, z = A)."""
    if posture not in POSTURES:
        raise ValueError(f"posture must be one of {sorted(POSTURES)}, got {posture!r}")
    c, left = (np.asarray(v, dtype=np.float64) for v in POSTURES[posture])
    m = np.column_stack([-c, left, np.cross(-c, left)])  # z = x cross y (right-handed)
    return matrix_to_quaternion(m)[np.newaxis, :]


def matrix_to_quaternion(m: np.ndarray) -> np.ndarray:
    """Unit quaternion ``(4,)`` of a proper rotation matrix ``(3, 3)``."""
    tr = float(np.trace(m))
    if tr > 0:
        s = 2.0 * np.sqrt(tr + 1.0)
        q = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    else:
        i = int(np.argmax(np.diag(m)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * np.sqrt(1.0 + m[i, i] - m[j, j] - m[k, k])
        q = [0.0, 0.0, 0.0, 0.0]
        q[0] = (m[k, j] - m[j, k]) / s
        q[i + 1] = 0.25 * s
        q[j + 1] = (m[j, i] + m[i, j]) / s
        q[k + 1] = (m[k, i] + m[i, k]) / s
    out = np.asarray(q, dtype=np.float64)
    return out / np.linalg.norm(out)


def side_sign(side: str) -> float:
    """+1 for the left side, -1 for the right (the sign of abduction/hike about z)."""
    if side not in ("l", "r"):
        raise ValueError(f"side must be 'l' or 'r', got {side!r}")
    return 1.0 if side == "l" else -1.0


def joint_chain(posture: str, rotations: list[tuple[str, np.ndarray | float]]) -> np.ndarray:
    """Posture quaternion followed by intrinsic rotations ``[(axis, deg), ...]``; ``(n, 4)``."""
    q = posture_quaternion(posture)
    for axis, deg in rotations:
        q = quat_mul(q, axis_rotation(axis, deg))
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def up_in_segment(q: np.ndarray) -> np.ndarray:
    """World up ``(0, 0, 1)`` seen in the segment frame, ``(n, 3)``: ``q* e_z q``."""
    w, x, y, z = np.atleast_2d(q).T
    return np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=1)


def body_rate(q: np.ndarray, fs: float) -> np.ndarray:
    """Angular velocity in the segment frame (deg/s), ``(n, 3)``, from ``q`` sampled at ``fs``:
    ``omega = 2 vec(q* dq/dt)`` with a central-difference derivative."""
    dq = np.gradient(q, axis=0) * fs
    conj = q * np.array([1.0, -1.0, -1.0, -1.0])
    return np.degrees(2.0 * quat_mul(conj, dq)[:, 1:])
