"""The exercise library: each exercise defined once, as a TOML file, read by everything.

``get_exercise("clamshell")`` returns the :class:`Exercise` (movement family, phases, muscles
by role, which metrics apply, targets, cues, straps) that the offline analysis, the live
analysis, the dashboard, the command line and the synthetic generator all use;
``exercise_names()`` lists them. A user's own file works the same way:
``get_exercise("my_lunge.toml")``. The schema is in :mod:`myoflow.exercises.schema` and
``docs/exercises.md``.

This package sits just above the signal core: it imports only the standard library and, when a
file is checked, :mod:`myoflow.analysis.placement` for the muscle names.
"""

from __future__ import annotations

from myoflow.exercises.loader import load_exercise, parse_exercise
from myoflow.exercises.registry import (
    DEFAULT_EXERCISE,
    exercise_names,
    find_exercise,
    get_exercise,
    register_exercise,
    shipped_names,
)
from myoflow.exercises.schema import (
    MOVEMENT_FAMILIES,
    Exercise,
    ExerciseError,
    Metrics,
    Movement,
    Muscles,
    Phases,
    Strap,
    Targets,
)

__all__ = [
    "DEFAULT_EXERCISE",
    "MOVEMENT_FAMILIES",
    "Exercise",
    "ExerciseError",
    "Metrics",
    "Movement",
    "Muscles",
    "Phases",
    "Strap",
    "Targets",
    "exercise_names",
    "find_exercise",
    "get_exercise",
    "load_exercise",
    "parse_exercise",
    "register_exercise",
    "shipped_names",
]
