"""Movement families: which angle of which IMU makes a rep, for every exercise (issue 16).

An exercise's ``[movement]`` block (:mod:`myoflow.exercises`) names a **family** and the
**segment** whose IMU measures it; this module turns that IMU's orientation into one angle
trace, and the one rep segmenter (:func:`myoflow.analysis.reps.segment_reps`, live
:class:`myoflow.analysis.live_reps.IncrementalReps`) finds the reps in it.

Every angle comes from the world's **up direction** ``u`` in the segment frame
(``docs/conventions.md``: x distal, y left, z anterior), so the heading never matters and the
same rule works on a strap's quaternions (:func:`up_from_orientation`) and on accelerometer +
gyroscope fused by :class:`myoflow.dsp.imu3d.TiltFilter3D` (``process_up``). For a left-side
segment ``u_y`` is mirrored first (``u_y -> -u_y``), so every angle below reads the same way on
both sides. Angles are unwrapped over time (degrees):

=====================  ========  ===============================  =============================
family                 segment   anatomical angle (positive)      reads as
=====================  ========  ===============================  =============================
``sagittal_hinge``     thigh     ``phi = atan2(u_z, -u_x)``       hip flexion (pelvis: ``-phi``)
``frontal_abduction``  thigh     ``atan2(-u_y, -u_x)``            hip abduction
``axial_rotation``     thigh     ``atan2(u_z, -u_y)``             femur external rotation
``pelvic_hike``        pelvis    ``atan2(-u_y, -u_x)``            pelvis raised on ``side``
``stepping``           thigh     as ``frontal_abduction``         one stride per excursion
``isometric_hold``     either    sagittal or frontal (``plane``)  the hold is the top plateau
=====================  ========  ===============================  =============================

Standing upright every anatomical angle is 0, except that side-lying adds 90 deg to the
frontal angle (the femur starts horizontal); only excursions count, so posture offsets do not
matter. Axial rotation needs the femur's long axis away from vertical (side-lying, as in the
clamshell): about a vertical axis gravity does not change and the rotation is invisible.

:func:`movement_angle` gives the **segmenter's sign**: the rest (bottom) position is high and
the concentric phase lowers it, as hip flexion does in a bridge. So it is ``-abduction``,
``-external rotation`` (``direction="external"``, clamshell) or ``+external rotation``
(``direction="internal"``, reverse clamshell), ``-hike``; for a hinge it is the flexion itself.
An isometric hold is ``-angle`` in its plane: the hold raises the anatomical angle (a knee
lifted for single-leg balance: thigh flexion; the pelvis lifted into a Copenhagen plank: its
frontal angle with ``side`` = the top leg, whose foot is on the bench).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from myoflow._checks import check_option, check_positive
from myoflow.analysis.live_reps import IncrementalReps
from myoflow.analysis.reps import Rep, segment_reps
from myoflow.exercises.schema import MOVEMENT_FAMILIES  # the one list: what a [movement] family may name

__all__ = [
    "FAMILY_DEFAULTS",
    "MOVEMENT_FAMILIES",
    "FamilyDefaults",
    "MovementRules",
    "MovementSpec",
    "anatomical_angle",
    "family_reps",
    "family_settings",
    "incremental_reps",
    "movement_angle",
    "movement_rules",
    "up_from_orientation",
]

SIDES = ("l", "r")
DIRECTIONS = ("external", "internal")
PLANES = ("sagittal", "frontal")


@dataclass(frozen=True)
class FamilyDefaults:
    """Per-family settings: ``segment`` (which IMU by default), ``plane`` (the angle an
    isometric hold is seen in), ``label`` (what the angle is, for reports and plots) and the
    segmenter's ``min_range_deg``, ``min_rep_frac``, ``still_frac`` and ``smooth_hz``
    (:func:`~myoflow.analysis.reps.segment_reps`). Small excursions (a hip hike's 10 deg)
    need a larger ``still_frac``: a resting segment's sway of a few tenths of a degree is
    otherwise not "still" against 1 % of a slow rep's peak speed; strides and hikes need a
    larger ``min_rep_frac`` so that sway is not an excursion; holds are smoothed at 2 Hz, so
    that 4-12 Hz tremor does not move their ends (hold time error: mean -0.01 s, max 0.07 s
    on 24 synthetic holds, against +0.08 / 0.15 s at 3 Hz and still_frac 0.03)."""

    segment: str
    plane: str
    label: str
    min_range_deg: float
    min_rep_frac: float = 0.12
    still_frac: float = 0.01
    smooth_hz: float = 5.0

    def segmenter(self) -> dict[str, float]:
        """Keyword arguments of ``segment_reps`` / ``IncrementalReps``."""
        return {
            "min_range_deg": self.min_range_deg,
            "min_rep_frac": self.min_rep_frac,
            "still_frac": self.still_frac,
            "smooth_hz": self.smooth_hz,
        }


#: Family -> its defaults; an exercise's ``min_excursion_deg`` overrides ``min_range_deg``.
FAMILY_DEFAULTS: dict[str, FamilyDefaults] = {
    "sagittal_hinge": FamilyDefaults("thigh", "sagittal", "hip flexion (segment angle)", 15.0),
    "frontal_abduction": FamilyDefaults(
        "thigh", "frontal", "hip abduction (thigh, frontal plane)", 10.0, 0.2, 0.03
    ),
    "axial_rotation": FamilyDefaults(
        "thigh", "axial", "femur rotation (thigh, about its long axis)", 10.0, 0.2, 0.06
    ),
    "pelvic_hike": FamilyDefaults(
        "pelvis", "frontal", "pelvic obliquity (pelvis, frontal plane)", 4.0, 0.25, 0.08
    ),
    "stepping": FamilyDefaults("thigh", "frontal", "hip abduction per stride (thigh)", 6.0, 0.3, 0.2),
    "isometric_hold": FamilyDefaults("pelvis", "frontal", "hold angle (segment tilt)", 8.0, 0.2, 0.01, 2.0),
}


def up_from_orientation(
    orientation: np.ndarray, world_up: tuple[float, float, float] = (0.0, 0.0, 1.0)
) -> np.ndarray:
    """The world's unit up direction in the segment frame, ``(n, 3)`` float64.

    Parameters
    ----------
    orientation
        ``(n, 4)`` segment-to-world unit quaternions ``(w, x, y, z)`` (the convention of
        :func:`myoflow.dsp.imu.sagittal_angle_from_quaternion`; normalised here), or ``(n, 3)``
        up vectors already in the segment frame (e.g. ``TiltFilter3D.process_up``), normalised.
    world_up
        The world's up direction in world coordinates (z-up by default).
    """
    arr = np.asarray(orientation, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] not in (3, 4):
        raise ValueError(
            f"orientation must have shape (n_samples, 4) quaternions (w, x, y, z) or (n_samples, 3) "
            f"up vectors, got shape {arr.shape}"
        )
    norm = np.linalg.norm(arr, axis=1, keepdims=True)
    bad = ~np.isfinite(norm[:, 0]) | (norm[:, 0] == 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"orientation must be finite and non-zero, got {arr[i]} at sample {i}")
    arr = arr / norm
    if arr.shape[1] == 3:
        return arr
    v = np.asarray(world_up, dtype=np.float64)
    if v.shape != (3,) or not np.all(np.isfinite(v)) or not np.any(v):
        raise ValueError(f"world_up must be a non-zero 3-vector, got {world_up!r}")
    v = v / np.linalg.norm(v)
    w, x, y, z = arr.T
    # rows of the rotation matrix R (segment -> world); the segment frame sees R^T v
    r = np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], axis=1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], axis=1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=1),
        ],
        axis=1,
    )  # (n, 3 rows, 3 cols)
    return np.einsum("nij,i->nj", r, v)


def _unwrap_deg(a: np.ndarray) -> np.ndarray:
    return np.unwrap(np.degrees(a), period=360.0)


def anatomical_angle(
    orientation: np.ndarray,
    family: str,
    *,
    side: str = "r",
    segment: str = "",
    plane: str = "",
) -> np.ndarray:
    """The family's anatomical angle ``(n,)`` in degrees (module docstring table).

    Parameters
    ----------
    orientation
        ``(n, 4)`` quaternions or ``(n, 3)`` up vectors (:func:`up_from_orientation`).
    family
        One of :data:`MOVEMENT_FAMILIES`.
    side
        ``"l"`` or ``"r"``: the side of the segment (for ``pelvic_hike``: the side that hikes).
    segment
        ``"thigh"`` or ``"pelvis"`` (default: the family's); only the sagittal angle depends
        on it (the pelvis angle is negated so that it reads as hip flexion).
    plane
        For ``isometric_hold``: ``"sagittal"`` or ``"frontal"`` (default :func:`hold_plane`).
    """
    check_option(family, "family", MOVEMENT_FAMILIES)
    check_option(side, "side", SIDES)
    defaults = FAMILY_DEFAULTS[family]
    segment = segment or defaults.segment
    check_option(segment, "segment", ("thigh", "pelvis"))
    u = up_from_orientation(orientation)
    ux, uy, uz = u[:, 0], (-u[:, 1] if side == "l" else u[:, 1]), u[:, 2]
    kind = defaults.plane
    if family == "isometric_hold":
        kind = check_option(plane or hold_plane(segment), "plane", PLANES)
    if kind == "sagittal":
        phi = _unwrap_deg(np.arctan2(uz, -ux))
        return -phi if segment == "pelvis" else phi
    if kind == "frontal":
        return _unwrap_deg(np.arctan2(-uy, -ux))
    return _unwrap_deg(np.arctan2(uz, -uy))  # axial


def hold_plane(segment: str) -> str:
    """The plane an isometric hold is seen in, from the IMU's segment: a thigh (the lifted leg of
    single-leg balance: its knee rises) -> ``"sagittal"``; the pelvis (lifted into a Copenhagen
    plank) -> ``"frontal"``."""
    return "sagittal" if segment == "thigh" else "frontal"


def _direction(direction: str | float) -> str:
    """``"external"``/``"internal"`` from a name or a number (+1 external, -1 internal: the
    exercise files' numeric ``direction`` option)."""
    if isinstance(direction, str):
        return check_option(direction or "external", "direction", DIRECTIONS)
    if direction in (1, -1):
        return "external" if direction > 0 else "internal"
    raise ValueError(f"direction must be 'external', 'internal', +1 or -1, got {direction!r}")


def movement_angle(
    orientation: np.ndarray,
    family: str,
    *,
    side: str = "r",
    segment: str = "",
    direction: str | float = "",
    plane: str = "",
) -> np.ndarray:
    """The angle reps are found in, in the segmenter's sign (rest high; module docstring).

    Same arguments as :func:`anatomical_angle`, plus ``direction`` for ``axial_rotation``:
    ``"external"`` or +1 (default; the clamshell) or ``"internal"`` or -1 (the reverse
    clamshell): which rotation is the concentric phase. Returns ``(n,)`` degrees.
    """
    a = anatomical_angle(orientation, family, side=side, segment=segment, plane=plane)
    internal = _direction(direction) == "internal"
    if family == "sagittal_hinge" or (family == "axial_rotation" and internal):
        return a
    return -a


def family_settings(
    family: str, min_excursion_deg: float | None = None, **overrides: float
) -> dict[str, float]:
    """The segmenter keyword arguments of ``family`` (:data:`FAMILY_DEFAULTS`), with an
    exercise's ``min_excursion_deg`` and any explicit ``overrides`` applied."""
    check_option(family, "family", MOVEMENT_FAMILIES)
    out = FAMILY_DEFAULTS[family].segmenter()
    if min_excursion_deg is not None:
        out["min_range_deg"] = check_positive(min_excursion_deg, "min_excursion_deg", "deg")
    out.update(overrides)
    return out


def family_reps(
    angle_deg: np.ndarray,
    fs: float,
    family: str,
    *,
    min_excursion_deg: float | None = None,
    **kwargs: float,
) -> list[Rep]:
    """Reps (or strides, or holds) in a :func:`movement_angle` trace: the one offline
    segmenter :func:`~myoflow.analysis.reps.segment_reps` with the family's settings
    (:func:`family_settings`); other keyword arguments go to it."""
    return segment_reps(angle_deg, fs, **family_settings(family, min_excursion_deg, **kwargs))


def live_settle_s(smooth_hz: float) -> float:
    """How long (s) the live zero-phase smoothing at ``smooth_hz`` needs to settle: 0.3 s at
    the usual 5 Hz (start-up transient ~exp(-7)), longer in proportion for slower smoothing."""
    return 0.3 * max(1.0, 5.0 / smooth_hz)


def incremental_reps(
    fs: float, family: str, *, min_excursion_deg: float | None = None, **kwargs: float
) -> IncrementalReps:
    """The live twin of :func:`family_reps`: an :class:`IncrementalReps` with the same settings."""
    settings = family_settings(family, min_excursion_deg, **kwargs)
    return IncrementalReps(fs, settle_s=live_settle_s(settings["smooth_hz"]), **settings)


class MovementSpec(Protocol):
    """What an exercise file's ``[movement]`` block gives (``myoflow.exercises.Movement``);
    read-only, so a frozen dataclass fits."""

    @property
    def family(self) -> str: ...

    @property
    def segment(self) -> str: ...

    @property
    def options(self) -> Mapping[str, float]: ...


#: Numeric options of a ``[movement]`` block this module reads (others are ignored here).
_EXCURSION_KEYS = ("min_excursion_deg", "min_step_deg")


@dataclass(frozen=True)
class MovementRules:
    """Every movement rule of one exercise on one side, for live and offline alike.

    Build it with :func:`movement_rules`; ``angle`` turns the segment's orientation into the
    segmenter's angle, ``reps`` finds reps offline and ``live`` makes the incremental twin.
    """

    family: str
    segment: str
    side: str
    direction: str
    plane: str
    segmenter: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """What the angle is, in words."""
        return FAMILY_DEFAULTS[self.family].label

    def angle(self, orientation: np.ndarray, pelvis: np.ndarray | None = None) -> np.ndarray:
        """:func:`movement_angle` of ``orientation`` ``(n, 4)`` or ``(n, 3)``: ``(n,)`` deg.

        For a ``sagittal_hinge`` with the thigh's ``orientation`` and a ``pelvis`` orientation
        on the same samples, the hip flexion ``phi_thigh - phi_pelvis`` instead (as
        :func:`myoflow.analysis.reps.movement_angle` with both IMUs: an RDL moves the thigh only
        ~10 deg, the hip ~80 deg).
        """
        if pelvis is not None and self.family == "sagittal_hinge":
            thigh = movement_angle(orientation, self.family, side=self.side, segment="thigh")
            tilt = movement_angle(pelvis, self.family, side=self.side, segment="pelvis")  # = -phi_pelvis
            if thigh.shape != tilt.shape:
                raise ValueError(
                    f"thigh and pelvis orientations must match, got {thigh.shape} and {tilt.shape}"
                )
            return thigh + tilt
        return movement_angle(
            orientation,
            self.family,
            side=self.side,
            segment=self.segment,
            direction=self.direction,
            plane=self.plane,
        )

    def reps(self, angle_deg: np.ndarray, fs: float) -> list[Rep]:
        """Offline reps (strides, holds) in an :meth:`angle` trace sampled at ``fs`` Hz."""
        return segment_reps(angle_deg, fs, **self.segmenter)

    def live(self, fs: float) -> IncrementalReps:
        """The live segmenter with the same settings (its smoothing settles in
        :func:`live_settle_s`)."""
        return IncrementalReps(fs, settle_s=live_settle_s(self.segmenter["smooth_hz"]), **self.segmenter)


def movement_rules(spec: MovementSpec, side: str = "r") -> MovementRules:
    """The :class:`MovementRules` of an exercise's ``[movement]`` block on ``side``.

    Options read: ``min_excursion_deg`` (any family; ``min_step_deg`` for ``stepping``) and
    ``direction`` (``axial_rotation``: +1 external, -1 internal).
    """
    family = check_option(spec.family, "movement.family", MOVEMENT_FAMILIES)
    segment = check_option(
        spec.segment or FAMILY_DEFAULTS[family].segment, "movement.segment", ("thigh", "pelvis")
    )
    check_option(side, "side", SIDES)
    opts = dict(spec.options or {})
    excursion = next((float(opts[k]) for k in _EXCURSION_KEYS if k in opts), None)
    direction = _direction(opts.get("direction", "external")) if family == "axial_rotation" else "external"
    plane = hold_plane(segment) if family == "isometric_hold" else ""
    return MovementRules(family, segment, side, direction, plane, family_settings(family, excursion))
