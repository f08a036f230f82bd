"""An exercise's movement angle from the straps on its segment, one rule live and offline.

:mod:`myoflow.analysis.movement` turns a segment's orientation (quaternions, or the world's up
direction in the segment frame) into the angle whose excursions are the reps of a movement
family. This module supplies that orientation from what a strap sends and picks the side:

* :class:`SegmentOrientation`: a quaternion stream as is; an accelerometer + gyroscope pair
  fused by :class:`~myoflow.dsp.imu3d.TiltFilter3D` (``process_up``, state carried across
  chunks, so feeding a run in pieces gives the same up vectors as one call); an accelerometer
  alone as its unit direction (gravity, no fusion).
* :func:`exercise_rules`: the exercise's :class:`~myoflow.analysis.movement.MovementRules` on
  the right side (:func:`movement_side`).
* :func:`uses_hip_angle`: sagittal hinges keep the hip angle (pelvis and thigh together,
  :func:`myoflow.analysis.reps.movement_angle`); every other family reads one segment.

Offline (:mod:`myoflow.reports`) calls :meth:`SegmentOrientation.run` once per gap-free run;
live (:mod:`myoflow.analysis.live_family`) calls :meth:`SegmentOrientation.chunk` per block and
:meth:`SegmentOrientation.reset` at every break.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from myoflow._checks import check_option, check_rate
from myoflow.analysis.movement import MovementRules, movement_rules
from myoflow.analysis.placement import dominant_side, segment_of
from myoflow.dsp.imu3d import TiltFilter3D
from myoflow.exercises import Exercise

__all__ = ["ORIENTATION_METHODS", "SegmentOrientation", "exercise_rules", "movement_side", "uses_hip_angle"]

#: What a segment's orientation can come from, best first.
ORIENTATION_METHODS = ("acc+gyro", "quat", "acc")


def uses_hip_angle(ex: Exercise | None) -> bool:
    """True when the reps come from the hip (or one segment's sagittal) angle, as before
    exercise files existed: no exercise, or a ``sagittal_hinge`` one."""
    return ex is None or ex.family == "sagittal_hinge"


def movement_side(ex: Exercise, imu_placement: str | None, emg_placements: Sequence[str | None]) -> str:
    """The side the exercise's angle is read on (``"l"``/``"r"``).

    The IMU's own side when its placement has one (``thigh_l``); for a midline segment (the
    pelvis) the side most EMG channels are on, except for ``pelvic_hike``, where it is the
    other side: the stance hip's abductors lift the free side of the pelvis. ``"r"`` when
    nothing says.
    """
    seg = segment_of(imu_placement)
    if seg is not None and seg[1]:
        return seg[1]
    emg = dominant_side(emg_placements) or "r"
    if ex.family == "pelvic_hike":
        return "l" if emg == "r" else "r"
    return emg


def exercise_rules(
    ex: Exercise, imu_placement: str | None, emg_placements: Sequence[str | None]
) -> MovementRules:
    """The exercise's movement rules on :func:`movement_side`."""
    return movement_rules(ex.movement, movement_side(ex, imu_placement, emg_placements))


def preferred_imu_side(ex: Exercise, emg_placements: Sequence[str | None]) -> str:
    """Which side's IMU on the exercise's segment to prefer: the EMG's side, or the other one
    when the exercise's IMU strap on that segment is on the ``free`` leg (single-leg balance:
    the lifted leg's thigh)."""
    side = dominant_side(emg_placements)
    free = any(s.kind == "imu" and s.placement == ex.movement.segment and s.side == "free" for s in ex.straps)
    if free and side:
        return "l" if side == "r" else "r"
    return side


class SegmentOrientation:
    """A segment's orientation from one strap's streams (module docstring).

    Parameters
    ----------
    method
        ``"acc+gyro"``, ``"quat"`` or ``"acc"``.
    rate
        Sample rate (Hz) of the streams (the pair shares one).
    """

    def __init__(self, method: str, rate: float) -> None:
        self.method = check_option(method, "method", ORIENTATION_METHODS)
        self.rate = check_rate(rate)
        self._tilt = TiltFilter3D(self.rate) if method == "acc+gyro" else None

    def reset(self) -> None:
        """Restart after a break (gap, dropped sample): the filter starts from the next
        accelerometer direction."""
        if self._tilt is not None:
            self._tilt.reset()

    def chunk(self, data: np.ndarray, gyro: np.ndarray | None = None) -> np.ndarray:
        """Orientation of one chunk: ``(n, 4)`` quaternions as given, or ``(n, 3)`` up vectors.

        ``data`` is the quaternion stream ``(n, 4)`` or the accelerometer ``(n, 3)`` (g);
        ``gyro`` ``(n, 3)`` deg/s at the same times for ``"acc+gyro"``.
        """
        x = np.asarray(data, dtype=np.float64)
        if self._tilt is not None:
            if gyro is None:
                raise ValueError("acc+gyro orientation needs the gyroscope samples")
            return self._tilt.process_up(x, np.asarray(gyro, dtype=np.float64))
        return x

    def run(self, data: np.ndarray, gyro: np.ndarray | None = None) -> np.ndarray:
        """Orientation of one whole gap-free run (the filter restarts first)."""
        self.reset()
        return self.chunk(data, gyro)
