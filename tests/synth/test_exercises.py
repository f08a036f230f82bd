"""Synthetic sessions of every exercise: the motion of its family, its muscles by role, the truth."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from myoflow.analysis.movement import movement_rules
from myoflow.analysis.movement_events import detect_holds, detect_steps
from myoflow.dsp.imu3d import TiltFilter3D
from myoflow.synth.config import SessionConfig
from myoflow.synth.exercises import FALLBACK, HINGES, MOTIONS, exercise_facts, synth_names
from myoflow.synth.session import generate_session

SMALL = {"n_reps": 3, "emg_rate": 200.0, "imu_rate": 100.0, "tempo_jitter": 0.3, "noise_preset": "clean"}


def _registry_gap(name: str) -> str | None:
    """Why the installed registry's [movement] block cannot find this exercise's reps yet
    (asked of its owner in EX16: reverse_clamshell needs direction = -1, single-leg balance
    the lifted leg's thigh IMU), or None."""
    f = exercise_facts(name)
    if name == "reverse_clamshell" and f.direction != -1:
        return "registry: reverse_clamshell has no [movement] direction = -1 (internal rotation)"
    if name == "single_leg_balance" and f.segment != "thigh":
        return "registry: single_leg_balance segment is the pelvis; the foot lift is seen on the lifted thigh"
    return None


def _xfail_registry_gap(name: str) -> None:
    reason = _registry_gap(name)
    if reason:
        pytest.xfail(reason)


def _rules(name: str, side: str = "r"):
    """Facts and movement rules of ``name`` for EMG on ``side``: a hip hike is seen on the free
    (other) side of the pelvis, lifted by the stance side's glute med."""
    f = exercise_facts(name)
    if f.family == "pelvic_hike":
        side = "l" if side == "r" else "r"
    return f, movement_rules(
        SimpleNamespace(family=f.family, segment=f.segment, options={"direction": f.direction}), side
    )


@pytest.mark.parametrize("name", synth_names())
def test_every_exercise_reps_from_quaternions_and_from_acc_gyro(name: str) -> None:
    _xfail_registry_gap(name)
    session = generate_session(SessionConfig(exercise=name, seed=3, **SMALL))
    facts, rules = _rules(name)
    assert session.family == facts.family
    fs = session.config.imu_rate
    acc, gyro = session.imu[facts.segment]
    assert acc.shape == gyro.shape == (session.imu_times.size, 3)
    # gravity only and noise: the accelerometer is close to 1 g throughout
    assert abs(float(np.median(np.linalg.norm(acc, axis=1))) - 1.0) < 0.05
    pelvis_q = session.orientation["pelvis"] if facts.family == "sagittal_hinge" else None
    from_quat = rules.reps(rules.angle(session.orientation[facts.segment], pelvis_q), fs)
    ups = {seg: TiltFilter3D(fs).process_up(*session.imu[seg]) for seg in session.imu}
    from_imu = rules.reps(
        rules.angle(ups[facts.segment], ups["pelvis"] if pelvis_q is not None else None), fs
    )
    assert len(from_quat) == len(from_imu) == len(session.truth) == 3
    for rep, truth in zip(from_quat, session.truth, strict=True):
        assert abs(rep.start / fs - truth.onset_s) < 0.3
        assert abs(rep.bottom / fs - truth.bottom_s) < 0.6  # sway at rest delays "still"


@pytest.mark.parametrize("name", ["copenhagen_plank", "single_leg_balance"])
def test_holds_have_truth_and_tremor(name: str) -> None:
    _xfail_registry_gap(name)
    session = generate_session(SessionConfig(exercise=name, seed=1, hold_s=8.0, **SMALL))
    facts = exercise_facts(name)
    assert all(t.hold_s == pytest.approx(8.0) for t in session.truth)
    gyro = session.imu[facts.segment][1]
    holds = detect_holds(
        session.orientation[facts.segment],
        session.config.imu_rate,
        segment=facts.segment,
        side="r",
        gyro=gyro,
    )
    assert len(holds) == 3
    for hold, truth in zip(holds, session.truth, strict=True):
        assert abs(hold.hold_s - truth.hold_s) < 0.2
        assert hold.tremor_rms_dps > 1.0
    assert generate_session(SessionConfig(exercise=name, **SMALL)).truth[0].hold_s == pytest.approx(
        facts.hold_s or 30.0
    )


def test_band_walk_strides_are_steps() -> None:
    session = generate_session(SessionConfig(exercise="lateral_band_walk", n_reps=7, seed=2, emg_rate=200.0))
    steps = detect_steps(session.orientation["thigh"], session.config.imu_rate, side="r")
    assert len(steps) == 7


def test_left_side_mirrors() -> None:
    cfg = SessionConfig(
        exercise="side_lying_hip_abduction", placements=("glute_med_l", "adductor_longus_l"), **SMALL
    )
    assert cfg.side == "l"
    session = generate_session(cfg)
    _, rules = _rules("side_lying_hip_abduction", "l")
    assert len(rules.reps(rules.angle(session.orientation["thigh"]), 100.0)) == 3
    _, wrong = _rules("side_lying_hip_abduction", "r")
    assert len(wrong.reps(wrong.angle(session.orientation["thigh"]), 100.0)) != 3


def test_muscles_by_role_tense_reps_and_antagonist_burst() -> None:
    cfg = SessionConfig(
        exercise="clamshell", tense_reps=(1,), antagonist_burst_pct=25.0, burst_reps=(0, 2), **SMALL
    )
    session = generate_session(cfg)
    assert session.placements == ("glute_med_r", "glute_max_r", "adductor_longus_r")
    t = session.truth
    assert [m.relaxed for m in t[1].muscles.values()] == [False] * 3
    assert t[0].muscles["glute_med_r"].relaxed
    # the prime mover works hardest, the antagonist least
    peaks = [t[0].muscles[p].peak_pct for p in session.placements]
    assert peaks[0] > peaks[1] > peaks[2] or peaks[0] > peaks[2]
    assert t[0].antagonist_burst_s is not None and t[1].antagonist_burst_s is None
    b = t[0].antagonist_burst_s
    let_go = t[0].muscles["glute_med_r"].offset_s  # the target relaxes during the burst
    assert b < let_go < b + 0.8  # within the analysis's follow window (AssistParams.follow_s)
    assert t[0].bottom_s - 0.5 < b < t[0].bottom_s  # at the end of the eccentric phase
    act = session.activation_at(np.array([b + 0.5 * cfg.antagonist_burst_s]))
    assert act[0, 2] > 20.0  # the burst, on the antagonist only
    assert act[0, 0] < 40.0
    # a tense bottom stays above rest for the target
    mid_rest = 0.5 * (t[1].bottom_s + t[1].end_s)
    assert session.activation_at(np.array([mid_rest]))[0, 0] > 5.0


def test_facts_match_the_registry_when_it_is_installed() -> None:
    registry = pytest.importorskip("myoflow.exercises")
    for name in registry.shipped_names():
        facts = exercise_facts(name)
        ex = registry.get_exercise(name)
        assert (facts.family, facts.segment) == (ex.movement.family, ex.movement.segment)
    assert set(registry.shipped_names()) <= set(synth_names())


def test_names_and_errors() -> None:
    assert set(FALLBACK) == set(HINGES) | set(MOTIONS)
    with pytest.raises(ValueError, match="generator can synthesise"):
        SessionConfig(exercise="squat")
    with pytest.raises(ValueError, match="crossover_deg applies to the hinges"):
        SessionConfig(exercise="clamshell", crossover_deg=20.0)
    with pytest.raises(ValueError, match="hold_s"):
        SessionConfig(exercise="copenhagen_plank", hold_s=500.0)
