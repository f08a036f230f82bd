"""The exercise schema: what one exercise file says, as frozen dataclasses (no I/O here).

An exercise file (``src/myoflow/exercises/data/<name>.toml``, or a user's file given with
``--exercise path.toml``) has these tables; ``docs/exercises.md`` shows a whole file:

==============  =============================================================================
table           fields
==============  =============================================================================
(top level)     ``name`` (snake_case), ``title``, ``aliases`` (list), ``description``
``movement``    ``family`` (one of :data:`MOVEMENT_FAMILIES`), ``segment`` (``thigh`` or
                ``pelvis``: the IMU whose motion makes the reps); any other key is a
                family-specific number passed on to the movement rules (``options``)
``phases``      ``kind`` ``"dynamic"`` with target seconds ``concentric_s``, ``top_s``,
                ``eccentric_s``, ``bottom_s``; or ``"isometric"`` with ``hold_s``
``muscles``     ``prime_movers``, ``synergists``, ``antagonists``: canonical muscle stems
                (``glute_max``, ``glute_med``, ``adductor_longus``; see
                :mod:`myoflow.analysis.placement`)
``metrics``     ``relaxation`` (``"per_rep"``: at the end of each eccentric phase, or
                ``"after_set"``: train, relax, train, relax), ``handover`` (hamstring -> glute,
                hinges), ``eccentric_hold`` (the "keep squeezing" check), ``antagonist_assist``
                (reciprocal-inhibition burst before letting go), ``relax_targets`` (the
                muscles whose relaxation is judged; default the prime movers)
``targets``     ``mvc_pct`` ``[low, high]`` (% MVC), ``reps`` ``[low, high]``, ``sets``,
                ``rest_between_sets_s``
``cues``        texts: ``setup`` and optional per-cue texts ``relax``, ``squeeze``, ``glutes``
``[[straps]]``  ``kind`` (``"emg"`` or ``"imu"``), ``placement`` (muscle stem or segment),
                ``side`` (``"working"``, ``"both"``, ``"stance"``, ``"free"``, ``"top"``,
                ``"bottom"``, ``"midline"``), ``where`` (how to place it), ``required`` (bool)
==============  =============================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MOVEMENT_FAMILIES",
    "MOVEMENT_SEGMENTS",
    "PHASE_KINDS",
    "RELAXATION_KINDS",
    "STRAP_KINDS",
    "STRAP_SIDES",
    "Exercise",
    "ExerciseError",
    "Metrics",
    "Movement",
    "Muscles",
    "Phases",
    "Strap",
    "Targets",
]

#: How a rep is found, one rule each in :mod:`myoflow.analysis.movement` (docs/exercises.md).
MOVEMENT_FAMILIES = (
    "sagittal_hinge",
    "frontal_abduction",
    "axial_rotation",
    "pelvic_hike",
    "stepping",
    "isometric_hold",
)
#: The IMU segment whose motion makes the reps.
MOVEMENT_SEGMENTS = ("thigh", "pelvis")
PHASE_KINDS = ("dynamic", "isometric")
#: ``per_rep``: relaxed at the end of each eccentric phase; ``after_set``: after the set.
RELAXATION_KINDS = ("per_rep", "after_set")
STRAP_KINDS = ("emg", "imu")
STRAP_SIDES = ("working", "both", "stance", "free", "top", "bottom", "midline")


class ExerciseError(ValueError):
    """A broken exercise file or an unknown exercise name; the message names file and field."""


@dataclass(frozen=True)
class Movement:
    """Which movement makes a rep: ``family`` (:data:`MOVEMENT_FAMILIES`), the IMU ``segment``
    and family-specific ``options`` (numbers, e.g. ``min_excursion_deg``)."""

    family: str
    segment: str
    options: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Phases:
    """Target seconds per phase: ``kind`` ``"dynamic"`` (``concentric_s``, ``top_s``,
    ``eccentric_s``, ``bottom_s``) or ``"isometric"`` (``hold_s``)."""

    kind: str
    concentric_s: float | None = None
    top_s: float | None = None
    eccentric_s: float | None = None
    bottom_s: float | None = None
    hold_s: float | None = None

    @property
    def tempo_s(self) -> tuple[float, float, float, float] | None:
        """``(concentric, top, eccentric, bottom)`` seconds of a dynamic exercise, else None."""
        if self.kind != "dynamic":
            return None
        return (self.concentric_s or 0.0, self.top_s or 0.0, self.eccentric_s or 0.0, self.bottom_s or 0.0)


@dataclass(frozen=True)
class Muscles:
    """Canonical muscle stems by role in the exercise."""

    prime_movers: tuple[str, ...]
    synergists: tuple[str, ...] = ()
    antagonists: tuple[str, ...] = ()


@dataclass(frozen=True)
class Metrics:
    """Which metrics apply (schema table in the module docstring)."""

    relaxation: str
    handover: bool = False
    eccentric_hold: bool = False
    antagonist_assist: bool = False
    relax_targets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Targets:
    """Targets: ``mvc_pct`` band (% MVC), ``reps`` range per set, ``sets``, and the rest between
    sets (s)."""

    mvc_pct: tuple[float, float]
    reps: tuple[int, int] | None = None
    sets: int | None = None
    rest_between_sets_s: float | None = None


@dataclass(frozen=True)
class Strap:
    """One strap the exercise needs: ``kind`` (emg/imu), ``placement`` (muscle stem or
    segment), ``side``, ``where`` (how to place it) and whether it is ``required``."""

    kind: str
    placement: str
    side: str
    where: str
    required: bool = True


@dataclass(frozen=True)
class Exercise:
    """One exercise, as its file defines it (module docstring); ``source`` is the file."""

    name: str
    title: str
    aliases: tuple[str, ...]
    description: str
    movement: Movement
    phases: Phases
    muscles: Muscles
    metrics: Metrics
    targets: Targets
    cues: dict[str, str]
    straps: tuple[Strap, ...]
    source: str = ""

    @property
    def family(self) -> str:
        """The movement family (:data:`MOVEMENT_FAMILIES`)."""
        return self.movement.family

    @property
    def isometric(self) -> bool:
        """True for a held position (reps are holds)."""
        return self.phases.kind == "isometric"

    @property
    def relax_targets(self) -> tuple[str, ...]:
        """Muscle stems whose relaxation is judged (``metrics.relax_targets`` or the prime movers)."""
        return self.metrics.relax_targets or self.muscles.prime_movers

    @property
    def target_band(self) -> tuple[float, float]:
        """The activation target band (% MVC)."""
        return self.targets.mvc_pct

    def cue_text(self, kind: str, default: str) -> str:
        """This exercise's text for cue ``kind`` (``default`` when the file gives none)."""
        return self.cues.get(kind, default)

    def summary(self) -> dict[str, Any]:
        """A plain dict for reports and JSON: name, title, family, relaxation kind, targets."""
        return {
            "name": self.name,
            "title": self.title,
            "family": self.family,
            "segment": self.movement.segment,
            "relaxation": self.metrics.relaxation,
            "target_mvc_pct": list(self.targets.mvc_pct),
            "prime_movers": list(self.muscles.prime_movers),
            "source": self.source,
        }
