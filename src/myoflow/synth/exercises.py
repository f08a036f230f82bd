"""Which exercise the generator synthesises: movement family, muscles by role, and the motion.

The exercise *facts* (movement family and segment, prime movers / synergists / antagonists,
the hold time of an isometric exercise) come from the exercise registry
(:func:`myoflow.exercises.get_exercise`) when it is installed, so the generator and the analysis
read one definition; :data:`FALLBACK` holds the same facts for the shipped exercises while it is
not. What only a generator needs is here: the posture and the size of the motion
(:class:`Motion`), and which muscles it can synthesise (:data:`SYNTH_MUSCLES`).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Muscle stems the generator has an MVC amplitude and a shape for.
SYNTH_MUSCLES = (
    "glute_max",
    "biceps_femoris",
    "semitendinosus",
    "glute_med",
    "tfl",
    "adductor_longus",
    "rectus_femoris",
)
#: Exercises whose motion is the sagittal kinematics of :data:`myoflow.synth.imu.KINEMATICS`.
HINGES = ("glute_bridge", "single_leg_glute_bridge", "hip_thrust", "rdl", "deadlift")


@dataclass(frozen=True)
class Motion:
    """How a non-hinge exercise moves (``docs/conventions.md`` frames, :mod:`myoflow.synth.poses`).

    ``posture``: ``"standing"`` or ``"lying"`` (on the side opposite the working leg);
    ``start_deg``/``amplitude_deg``: the family's anatomical angle at rest and its excursion at
    a full rep (abduction, external rotation (negative: internal), pelvic hike, knee-lift
    flexion, pelvis lift); ``flexion_deg``: fixed hip flexion of the thigh (clamshell 45,
    athletic stance 25); ``tremor_deg``: shaking amplitude reached at the end of a hold.
    """

    posture: str
    start_deg: float
    amplitude_deg: float
    flexion_deg: float = 0.0
    tremor_deg: float = 0.0


#: Non-hinge exercise -> its motion.
MOTIONS: dict[str, Motion] = {
    "clamshell": Motion("lying", 0.0, 35.0, 45.0),
    "reverse_clamshell": Motion("lying", 0.0, -25.0, 45.0),
    "side_lying_hip_abduction": Motion("lying", -3.0, 35.0, -5.0),
    "hip_hike": Motion("standing", -4.0, 12.0),
    "lateral_band_walk": Motion("standing", 3.0, 16.0, 25.0),
    "copenhagen_plank": Motion("lying", -20.0, 25.0, 0.0, 0.6),
    "single_leg_balance": Motion("standing", 3.0, 45.0, 0.0, 0.4),
}


def representative_motion(name: str, family: str, segment: str, direction: float = 1.0) -> str:
    """The synthetic motion an exercise is generated with: its own for the shipped ones, else the
    shipped exercise of the same movement family (a user's exercise file is synthesised as
    that); ``""`` when there is none."""
    if name in HINGES or name in MOTIONS:
        return name
    if family == "axial_rotation":
        return "reverse_clamshell" if direction < 0 else "clamshell"
    if family == "isometric_hold":
        return "single_leg_balance" if segment == "thigh" else "copenhagen_plank"
    return {
        "sagittal_hinge": "glute_bridge",
        "frontal_abduction": "side_lying_hip_abduction",
        "pelvic_hike": "hip_hike",
        "stepping": "lateral_band_walk",
    }.get(family, "")


@dataclass(frozen=True)
class ExerciseFacts:
    """What the generator reads from an exercise definition."""

    name: str
    family: str
    segment: str
    prime_movers: tuple[str, ...]
    synergists: tuple[str, ...]
    antagonists: tuple[str, ...]
    hold_s: float | None = None
    direction: float = 1.0
    motion: str = ""

    def __post_init__(self) -> None:
        if not self.motion:
            object.__setattr__(
                self, "motion", representative_motion(self.name, self.family, self.segment, self.direction)
            )


_GMED_WORK = (("glute_med",), ("glute_max", "tfl"), ("adductor_longus",))
_HIP_EXT = (("glute_max", "biceps_femoris", "semitendinosus"), (), ("rectus_femoris",))
#: The registry's facts for the shipped exercises (used only while it is not installed).
FALLBACK: dict[str, ExerciseFacts] = {
    "glute_bridge": ExerciseFacts(
        "glute_bridge",
        "sagittal_hinge",
        "thigh",
        ("glute_max",),
        ("biceps_femoris", "semitendinosus"),
        ("rectus_femoris",),
    ),
    "single_leg_glute_bridge": ExerciseFacts(
        "single_leg_glute_bridge",
        "sagittal_hinge",
        "thigh",
        ("glute_max",),
        ("biceps_femoris", "semitendinosus", "glute_med"),
        ("rectus_femoris",),
    ),
    "hip_thrust": ExerciseFacts(
        "hip_thrust",
        "sagittal_hinge",
        "thigh",
        ("glute_max",),
        ("biceps_femoris", "semitendinosus"),
        ("rectus_femoris",),
    ),
    "rdl": ExerciseFacts("rdl", "sagittal_hinge", "thigh", *_HIP_EXT),
    "deadlift": ExerciseFacts("deadlift", "sagittal_hinge", "thigh", *_HIP_EXT),
    "clamshell": ExerciseFacts(
        "clamshell", "axial_rotation", "thigh", ("glute_med",), ("glute_max",), ("adductor_longus",)
    ),
    "reverse_clamshell": ExerciseFacts(
        "reverse_clamshell",
        "axial_rotation",
        "thigh",
        ("glute_med",),
        ("tfl",),
        ("glute_max",),
        direction=-1.0,
    ),
    "side_lying_hip_abduction": ExerciseFacts(
        "side_lying_hip_abduction", "frontal_abduction", "thigh", *_GMED_WORK
    ),
    "hip_hike": ExerciseFacts("hip_hike", "pelvic_hike", "pelvis", *_GMED_WORK),
    "lateral_band_walk": ExerciseFacts("lateral_band_walk", "stepping", "thigh", *_GMED_WORK),
    "copenhagen_plank": ExerciseFacts(
        "copenhagen_plank", "isometric_hold", "pelvis", ("adductor_longus",), (), ("glute_med",), 20.0
    ),
    "single_leg_balance": ExerciseFacts(
        "single_leg_balance", "isometric_hold", "thigh", ("glute_med",), ("tfl",), ("adductor_longus",), 30.0
    ),
}


def _from_registry(name: str) -> ExerciseFacts | None:
    """The registry's facts for ``name`` (canonical name or alias), None when the registry is
    not installed or does not know it."""
    try:
        from myoflow.exercises import get_exercise  # deferred: optional until the registry lands
    except ImportError:
        return None
    try:
        ex = get_exercise(name)
    except ValueError:
        return None
    opts = dict(ex.movement.options)
    return ExerciseFacts(
        ex.name,
        ex.movement.family,
        ex.movement.segment,
        tuple(ex.muscles.prime_movers),
        tuple(ex.muscles.synergists),
        tuple(ex.muscles.antagonists),
        ex.phases.hold_s,
        float(opts.get("direction", 1.0)),
    )


def exercise_facts(name: str) -> ExerciseFacts:
    """The facts of exercise ``name`` (a name, alias or ``.toml`` path: registry first, then
    :data:`FALLBACK`); a ``ValueError`` naming the exercises the generator can synthesise when
    it has no motion for it."""
    facts = _from_registry(name) or FALLBACK.get(name)
    if facts is None or not facts.motion:
        known = ", ".join(HINGES + tuple(MOTIONS))
        raise ValueError(f"exercise must be one the generator can synthesise ({known}), got {name!r}")
    return facts


def synth_names() -> tuple[str, ...]:
    """Every shipped exercise the generator has a motion for (a registered exercise of the same
    family is synthesised with its family's motion)."""
    return HINGES + tuple(MOTIONS)


def muscle_role(facts: ExerciseFacts, muscle: str) -> str:
    """``"prime"``, ``"synergist"``, ``"antagonist"`` or ``"other"`` of a muscle stem."""
    for role, stems in (
        ("prime", facts.prime_movers),
        ("synergist", facts.synergists),
        ("antagonist", facts.antagonists),
    ):
        if muscle in stems:
            return role
    return "other"


def default_placements(facts: ExerciseFacts, side: str = "r") -> tuple[str, ...]:
    """Channels a session of this exercise wears by default: the hinges keep the classic four
    (glute max, biceps femoris, semitendinosus, glute med); the others wear every prime mover,
    synergist and antagonist the generator can synthesise (at most four)."""
    if facts.motion in HINGES:
        return tuple(f"{m}_{side}" for m in ("glute_max", "biceps_femoris", "semitendinosus", "glute_med"))
    stems = [m for m in (*facts.prime_movers, *facts.synergists, *facts.antagonists) if m in SYNTH_MUSCLES]
    return tuple(f"{m}_{side}" for m in dict.fromkeys(stems))[:4]
