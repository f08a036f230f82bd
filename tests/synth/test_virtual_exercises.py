"""Virtual straps for every exercise: the demo/dashboard settings synthesise each one."""

from __future__ import annotations

import pytest

from myoflow.rigs.virtual_glute import VIRTUAL_EXERCISES, DemoSettings
from myoflow.synth.exercises import exercise_facts, synth_names


@pytest.mark.parametrize("name", synth_names())
def test_every_exercise_has_a_virtual_session(name: str) -> None:
    assert name in VIRTUAL_EXERCISES
    cfg = DemoSettings(seconds=45.0, exercise=name).session_config()
    assert cfg.exercise == name
    assert len(set(cfg.placements)) == len(cfg.placements) == 4  # one muscle per DIY channel
    if exercise_facts(name).family == "isometric_hold":
        assert cfg.n_reps == 1 and 5.0 <= (cfg.hold_seconds() or 0.0) <= 34.0
    else:
        assert cfg.n_reps == 7 and cfg.tense_reps == (2, 6)


def test_aliases_resolve_and_unknown_exercises_are_one_line() -> None:
    registry = pytest.importorskip("myoflow.exercises")
    alias = next(a for n in registry.shipped_names() for a in registry.get_exercise(n).aliases)
    assert DemoSettings(exercise=alias).exercise in synth_names()
    with pytest.raises(ValueError, match="--exercise with virtual straps"):
        DemoSettings(exercise="squat")
