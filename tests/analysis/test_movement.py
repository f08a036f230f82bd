"""Movement families: angles from orientation, reps per family offline and live, steps, holds."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from myoflow.analysis.movement import (
    FAMILY_DEFAULTS,
    MOVEMENT_FAMILIES,
    anatomical_angle,
    family_reps,
    incremental_reps,
    movement_angle,
    movement_rules,
    up_from_orientation,
)
from myoflow.analysis.movement_events import detect_holds, detect_steps, steps_per_side, tremor
from myoflow.dsp.imu import sagittal_angle_from_quaternion
from myoflow.synth.imu import MovementTimeline, plan_reps
from myoflow.synth.poses import joint_chain, side_sign

FS = 100.0


def _progress(n_reps: int, seed: int = 0, hold_s: float = 0.6) -> tuple[np.ndarray, list]:
    """Progress 0..1 of ``n_reps`` reps with varied tempo and amplitude, and the plan."""
    rng = np.random.default_rng(seed)
    dur = np.column_stack(
        [
            rng.uniform(0.6, 1.4, n_reps),
            np.full(n_reps, hold_s),
            rng.uniform(0.8, 2.2, n_reps),
            rng.uniform(0.8, 2.0, n_reps),
        ]
    )
    s_top = rng.uniform(0.8, 1.0, n_reps)
    plan = plan_reps(dur, s_top, [0] * n_reps, 2.0, 10.0, [None] * n_reps, 0.5)
    t = np.arange(int((plan[-1].t_end + 2.0) * FS)) / FS
    return MovementTimeline(plan).progress(t)[0], plan


def _wobble(n: int, deg: float, seed: int) -> np.ndarray:
    t = np.arange(n) / FS
    rng = np.random.default_rng(seed)
    return deg * np.sin(2 * np.pi * rng.uniform(0.2, 0.9) * t + rng.uniform(0, 6))


def _family_quat(family: str, s: np.ndarray, side: str) -> np.ndarray:
    """A physical pose (synth.poses) per family, with wobble about the axes that do not count."""
    k = side_sign(side)
    w1, w2 = _wobble(s.size, 3.0, 1), _wobble(s.size, 2.0, 2)
    lying = "lying_left" if side == "r" else "lying_right"
    if family == "frontal_abduction":
        return joint_chain(lying, [("y", -10 + w1), ("z", k * 35 * s), ("x", w2)])
    if family == "axial_rotation":
        return joint_chain(lying, [("y", -45 + w1), ("z", w2), ("x", -k * 40 * s)])
    if family == "pelvic_hike":
        return joint_chain("standing", [("y", 8 + w1), ("z", k * (-3 + 12 * s)), ("x", w2)])
    raise AssertionError(family)


@pytest.mark.parametrize("family", ["frontal_abduction", "axial_rotation", "pelvic_hike"])
@pytest.mark.parametrize("side", ["l", "r"])
def test_family_reps_offline_and_live(family: str, side: str) -> None:
    s, plan = _progress(6, seed=len(family) + (side == "l"))
    q = _family_quat(family, s, side)
    angle = movement_angle(q, family, side=side)
    reps = family_reps(angle, FS, family)
    assert len(reps) == len(plan)
    for r, p in zip(reps, plan, strict=True):
        assert abs(r.start / FS - p.t_on) < 0.25
        assert abs(r.bottom / FS - p.t_bot) < 0.35
    live = incremental_reps(FS, family)
    for k0 in range(0, angle.size, 37):
        live.push(k0, angle[k0 : k0 + 37])
    assert len(live.reps) == len(reps)
    for a, b in zip(live.reps, reps, strict=True):  # same rule; the live range is "so far"
        for key in ("start", "top", "eccentric", "bottom"):
            assert abs(getattr(a, key) - getattr(b, key)) <= 0.05 * FS, key


def test_wrong_side_or_sign_finds_no_clean_reps() -> None:
    """The segmenter's sign matters: the other direction turns rests into 'reps'."""
    s, plan = _progress(5, seed=3)
    q = _family_quat("axial_rotation", s, "r")
    right = family_reps(movement_angle(q, "axial_rotation", side="r"), FS, "axial_rotation")
    wrong = family_reps(
        movement_angle(q, "axial_rotation", side="r", direction="internal"), FS, "axial_rotation"
    )
    assert len(right) == len(plan)
    assert [r.start for r in wrong] != [r.start for r in right]


def test_anatomical_angles_read_the_physical_pose() -> None:
    deg = np.linspace(0, 40, 5)
    for side in "lr":
        k = side_sign(side)
        abd = joint_chain("standing", [("z", k * deg)])
        np.testing.assert_allclose(anatomical_angle(abd, "frontal_abduction", side=side), deg, atol=1e-9)
        lying = "lying_left" if side == "r" else "lying_right"
        np.testing.assert_allclose(
            anatomical_angle(joint_chain(lying, [("z", k * deg)]), "frontal_abduction", side=side),
            90 + deg,
            atol=1e-9,
        )
        er = joint_chain(lying, [("y", -45.0), ("x", -k * deg)])
        np.testing.assert_allclose(anatomical_angle(er, "axial_rotation", side=side), deg, atol=1e-9)
        hike = joint_chain("standing", [("z", k * deg)])
        np.testing.assert_allclose(anatomical_angle(hike, "pelvic_hike", side=side), deg, atol=1e-9)
    flex = joint_chain("standing", [("y", -deg)])
    np.testing.assert_allclose(anatomical_angle(flex, "sagittal_hinge"), sagittal_angle_from_quaternion(flex))
    np.testing.assert_allclose(movement_angle(flex, "sagittal_hinge", segment="pelvis"), -deg, atol=1e-9)


def test_up_vectors_and_quaternions_agree() -> None:
    q = joint_chain("lying_left", [("y", -30.0), ("x", np.linspace(0, 50, 11))])
    up = up_from_orientation(q)
    for fam in MOVEMENT_FAMILIES:
        np.testing.assert_allclose(movement_angle(up * 3.0, fam), movement_angle(q, fam), atol=1e-9)


def test_bad_input_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match="family"):
        movement_angle(np.tile([1.0, 0, 0, 0], (5, 1)), "squat")
    with pytest.raises(ValueError, match="orientation must have shape"):
        movement_angle(np.zeros((5, 2)), "stepping")
    with pytest.raises(ValueError, match="at sample 2"):
        movement_angle(np.array([[1.0, 0, 0, 0]] * 2 + [[np.nan, 0, 0, 0]]), "stepping")
    with pytest.raises(ValueError, match="direction"):
        movement_angle(np.tile([1.0, 0, 0, 0], (5, 1)), "axial_rotation", direction="out")
    assert set(FAMILY_DEFAULTS) == set(MOVEMENT_FAMILIES)


def test_band_walk_strides() -> None:
    s, plan = _progress(8, seed=5, hold_s=0.2)
    w1, w2 = _wobble(s.size, 2.0, 7), _wobble(s.size, 3.0, 8)
    # athletic stance: abduct about the body's AP axis, then flex the thigh 25 deg (not the detector's plane)
    q = joint_chain("standing", [("z", -(4 + 18 * s) + w1), ("y", -25 + w2)])
    steps = detect_steps(q, FS, side="r", t0=10.0)
    assert len(steps) == len(plan)
    assert all(st.start_s < st.out_s < st.back_s for st in steps)
    assert abs(steps[0].start_s - 10.0 - plan[0].t_on) < 0.25
    assert steps_per_side(steps) == {"l": len(plan), "r": len(plan)}
    left = [replace(st, side="l") for st in steps[:-1]]  # a left thigh that saw one stride fewer
    assert steps_per_side(steps, left) == {"l": len(plan) - 1, "r": len(plan)}


def test_holds_time_and_tremor() -> None:
    rng = np.random.default_rng(4)
    dur = np.array([[1.0, 20.0, 1.2, 6.0], [0.8, 12.5, 1.0, 3.0]])
    plan = plan_reps(dur, np.ones(2), [0, 0], 3.0, 10.0, [None, None], 0.5)
    t = np.arange(int((plan[-1].t_end + 2) * FS)) / FS
    s = MovementTimeline(plan).progress(t)[0]
    shake = np.where(s > 0.99, 0.6 * np.sin(2 * np.pi * 7.0 * t) * np.linspace(0.2, 1.5, t.size), 0.0)
    q = joint_chain("lying_right", [("z", -20 + 25 * s + shake), ("y", rng.normal(0, 0.05, t.size))])
    holds = detect_holds(q, FS, segment="pelvis", side="l")
    assert len(holds) == 2
    for h, p in zip(holds, plan, strict=True):
        assert abs(h.start_s - p.t_top) < 0.2
        assert abs(h.end_s - p.t_ecc) < 0.2
        assert abs(h.hold_s - (p.t_ecc - p.t_top)) < 0.2
        assert h.tremor_rms_dps > 5.0 and h.tremor_frac > 0.8
    still = tremor(np.zeros((500, 3)), FS)
    assert still[0] == 0.0
    assert np.isnan(tremor(np.zeros((50, 3)), FS)[0])


def test_single_leg_balance_hold_from_thigh() -> None:
    dur = np.array([[0.7, 30.0, 0.7, 4.0]])
    plan = plan_reps(dur, np.ones(1), [0], 2.5, 10.0, [None], 0.5)
    t = np.arange(int((plan[-1].t_end + 1) * FS)) / FS
    s = MovementTimeline(plan).progress(t)[0]
    q = joint_chain("standing", [("y", -(3 + 40 * s)), ("z", _wobble(t.size, 2.0, 3))])
    (hold,) = detect_holds(q, FS, segment="thigh", side="l")
    assert abs(hold.hold_s - 30.0) < 0.2


def test_movement_rules_from_an_exercise_block() -> None:
    """The one object live and offline build from a [movement] block (numbers-only options)."""
    s, plan = _progress(5, seed=11)
    q = _family_quat("axial_rotation", s, "l")
    reverse = SimpleNamespace(family="axial_rotation", segment="thigh", options={"direction": -1.0})
    clam = SimpleNamespace(family="axial_rotation", segment="thigh", options={})
    assert len(movement_rules(clam, "l").reps(movement_rules(clam, "l").angle(q), FS)) == len(plan)
    rules = movement_rules(reverse, "l")
    assert rules.direction == "internal"
    np.testing.assert_allclose(rules.angle(q), -movement_rules(clam, "l").angle(q))
    walk = movement_rules(SimpleNamespace(family="stepping", segment="thigh", options={"min_step_deg": 4.0}))
    assert walk.segmenter["min_range_deg"] == 4.0
    assert isinstance(walk.live(FS).min_range_deg, float)
    hold = movement_rules(SimpleNamespace(family="isometric_hold", segment="thigh", options={}))
    assert hold.plane == "sagittal"
    with pytest.raises(ValueError, match="direction"):
        movement_rules(SimpleNamespace(family="axial_rotation", segment="thigh", options={"direction": 2.0}))
    with pytest.raises(ValueError, match="movement.family"):
        movement_rules(SimpleNamespace(family="twist", segment="thigh", options={}))


def test_conventions_agree_with_the_balance_test_and_the_tilt_filter() -> None:
    """Independent code reads the same angles: balance.sway_angles (AP = sagittal, ML positive
    to the left = the left pelvic hike) on acc + gyro of a synthetic hike, vs the quaternions."""
    from myoflow.analysis.balance import sway_angles
    from myoflow.synth.config import SessionConfig
    from myoflow.synth.session import generate_session

    s = generate_session(
        SessionConfig(exercise="hip_hike", n_reps=2, emg_rate=200.0, imu_rate=100.0, gyro_bias_dps=0.0)
    )
    acc, gyro = s.imu["pelvis"]
    ap, ml = sway_angles(acc, gyro, 100.0)
    q = s.orientation["pelvis"]
    settle = slice(200, None)  # the tilt filter's start-up
    assert np.percentile(np.abs(ml - anatomical_angle(q, "pelvic_hike", side="l"))[settle], 95) < 1.5
    assert (
        np.percentile(np.abs(ap - anatomical_angle(q, "sagittal_hinge", segment="thigh"))[settle], 95) < 1.5
    )
