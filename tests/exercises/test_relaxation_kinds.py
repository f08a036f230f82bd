"""Relaxation after the set and antagonist-assisted relaxation, on envelopes with known truth,
and through the whole offline analysis of synthetic sessions with an antagonist channel."""

from __future__ import annotations

import numpy as np
import pytest

from myoflow.analysis.antagonist_assist import antagonist_assist
from myoflow.analysis.set_relaxation import set_relaxation

FS = 100.0


def _trace(n_s: float, level: float, spans: list[tuple[float, float, float]]) -> np.ndarray:
    """A flat envelope at ``level`` with ``(t0, t1, value)`` plateaus."""
    x = np.full(int(n_s * FS), level)
    for a, b, v in spans:
        x[int(a * FS) : int(b * FS)] = v
    return x


@pytest.mark.parametrize(
    ("relax_at", "expect"),
    [(0.0, 0.0), (1.5, 1.5), (2.9, 2.9), (4.0, 4.0), (None, None)],
)
def test_time_to_relax_after_the_set(relax_at: float | None, expect: float | None) -> None:
    end = 10.0
    tense_until = end + (relax_at if relax_at is not None else 50.0)
    env = _trace(30.0, 1.0, [(0.0, min(tense_until, 30.0), 30.0)])
    env = np.column_stack([env, _trace(30.0, 1.0, [])])
    out = set_relaxation(
        env,
        FS,
        0.0,
        ("glute_med_r", "adductor_longus_r"),
        end,
        25.0,
        np.array([1.0, 1.0]),
        np.array([3.0, 3.0]),
    )
    a = out["glute_med_r"]
    if expect is None:
        assert a.time_to_relax_s is None and not a.relaxed
        assert a.residual_pct == pytest.approx(30.0)
    else:
        assert a.time_to_relax_s == pytest.approx(expect, abs=0.011)
        assert a.relaxed == (expect <= 3.0)
    assert out["adductor_longus_r"].time_to_relax_s == 0.0 and out["adductor_longus_r"].relaxed
    assert a.rest_after_s == pytest.approx(15.0)


def test_residual_tension_is_the_level_left_after_settling() -> None:
    env = _trace(20.0, 1.0, [(0.0, 5.0, 40.0), (5.0, 20.0, 6.0)])[:, np.newaxis]
    out = set_relaxation(env, FS, 0.0, ("glute_max_r",), 5.0, None, np.array([1.0]), np.array([3.0]))[
        "glute_max_r"
    ]
    assert (
        out.time_to_relax_s is None
        and out.residual_pct == pytest.approx(6.0)
        and out.residual_x_rest == pytest.approx(6.0)
    )
    assert out.rest_after_s is None


def test_post_set_search_stops_at_the_next_set() -> None:
    env = _trace(30.0, 1.0, [(0.0, 14.0, 30.0)])[:, np.newaxis]
    out = set_relaxation(env, FS, 0.0, ("g",), 10.0, 12.0, np.array([1.0]), np.array([3.0]))["g"]
    assert out.time_to_relax_s is None and not out.relaxed  # it let go only after the next set began


def _assist(burst: tuple[float, float] | None, relax_at: float | None, t0: float = 100.0):
    agonist = _trace(8.0, 1.0, [(0.0, relax_at if relax_at is not None else 8.0, 30.0)])
    antagonist = _trace(8.0, 1.0, [] if burst is None else [(burst[0], burst[1], 20.0)])
    return antagonist_assist(
        agonist, antagonist, FS, t0, t0 + 4.0, (1.0, 3.0), (1.0, 5.0), ("glute_max_r", "rectus_femoris_r")
    )


def test_burst_then_relaxation_is_an_assisted_relaxation() -> None:
    a = _assist((3.8, 4.1), 4.25)
    assert a.burst and a.burst_ms == pytest.approx(-200.0, abs=11) and a.burst_peak_pct == 20.0
    assert a.relaxed_after and a.relax_delay_ms == pytest.approx(450.0, abs=11)


def test_burst_without_relaxation_is_reported_as_not_followed() -> None:
    a = _assist((3.8, 4.1), None)
    assert a.burst and a.relaxed_after is False and a.relax_delay_ms is None


@pytest.mark.parametrize(
    ("burst", "why"),
    [(None, "no burst"), ((2.0, 2.3), "too early"), ((3.0, 5.0), "not brief"), ((4.5, 4.7), "too late")],
)
def test_no_brief_burst_near_the_bottom(burst: tuple[float, float] | None, why: str) -> None:
    a = _assist(burst, 4.25)
    assert not a.burst and a.relaxed_after is None and a.burst_s is None, why


def test_noise_grazing_the_threshold_is_no_burst() -> None:
    agonist = _trace(8.0, 1.0, [(0.0, 4.25, 30.0)])
    antagonist = _trace(8.0, 1.0, [(3.8, 4.1, 5.5)])  # above the 5.0 threshold, rise < 2 x 4.0
    a = antagonist_assist(agonist, antagonist, FS, 0.0, 4.0, (1.0, 3.0), (1.0, 5.0), ("g", "rf"))
    assert not a.burst


def test_relaxation_too_long_after_the_burst_does_not_count() -> None:
    a = _assist((3.8, 4.0), 5.5)  # 1.7 s after the burst: more than follow_s (0.8 s)
    assert a.burst and a.relaxed_after is False


# --- through the whole offline analysis -----------------------------------------------------


def _with_antagonist(session, burst_reps: set[int], seed: int = 1) -> tuple[np.ndarray, tuple[str, ...]]:
    """The session's EMG plus a rectus femoris channel: baseline noise with a 250 ms burst
    (about 25 % MVC) ending 50 ms after the bottom of each rep in ``burst_reps`` (0-based)."""
    cfg = session.config
    rng = np.random.default_rng(seed)
    t = session.emg_times
    level = np.full(t.size, 2.0)
    for k in burst_reps:
        b = session.truth[k].bottom_s
        level[(t >= b - 0.2) & (t < b + 0.05)] = 25.0
    rf = rng.standard_normal(t.size) * level * 3.0 + rng.standard_normal(t.size) * 2.0
    emg = np.column_stack([session.emg, rf.astype(np.float32)])
    del cfg
    return emg, (*session.placements, "rectus_femoris_r")


def _offline(emg: np.ndarray, places: tuple[str, ...], session):
    from myoflow.analysis.reps import movement_angle
    from myoflow.analysis.session_metrics import analyse_arrays
    from myoflow.dsp.imu import SagittalTiltFilter
    from myoflow.dsp.pipeline import envelope_offline, profile_for_rate

    cfg = session.config
    env = envelope_offline(emg, cfg.emg_rate, profile_for_rate(cfg.emg_rate, cfg.hum_hz))
    phi = {seg: SagittalTiltFilter(cfg.imu_rate).process(a, g) for seg, (a, g) in session.imu.items()}
    return analyse_arrays(
        env, cfg.emg_rate, places, None, movement_angle(phi.get("pelvis"), phi.get("thigh")), cfg.imu_rate
    )


@pytest.mark.parametrize("rate", [1000.0, 2000.0])
def test_antagonist_bursts_are_found_per_rep_and_relaxation_after_them_is_judged(rate: float) -> None:
    from myoflow.synth.config import SessionConfig
    from myoflow.synth.session import generate_session

    session = generate_session(
        SessionConfig(
            n_reps=8,
            reps_per_set=4,
            set_pause_s=12.0,
            seed=4,
            emg_rate=rate,
            tense_reps=(1, 5),
            tense_muscles=("glute_max_r",),
        )
    )
    bursts = {0, 1, 2, 5, 6}
    emg, places = _with_antagonist(session, bursts)
    metrics = _offline(emg, places, session)
    assert len(metrics.results) == 8
    assert metrics.context.antagonists["glute_max_r"] == "rectus_femoris_r"
    for k, r in enumerate(metrics.results):
        a = r.antagonist_assist["glute_max_r"]
        assert a.burst == (k in bursts), (k, a)
        if a.burst:
            truth_onset = session.truth[k].bottom_s - 0.2
            assert a.burst_s == pytest.approx(
                truth_onset, abs=0.2
            )  # the zero-phase envelope leads, (k, a.burst_s - truth_onset)
            # the glute relaxed after the burst exactly when the rep was not a tense one
            assert a.relaxed_after == (k not in (1, 5)), (k, a)
            assert a.relaxed_after == r.relaxation["glute_max_r"].relaxed
    assert [s.index for s in metrics.sets] == [0, 1]
    first, last = metrics.sets
    for m in places:
        assert first.after_set[m].rest_after_s == pytest.approx(
            session.truth[4].onset_s - session.truth[3].bottom_s, abs=0.15
        )
        assert last.after_set[m].rest_after_s is None
        assert first.after_set[m].relaxed and last.after_set[m].relaxed  # everything rests after a set
        assert first.after_set[m].time_to_relax_s is not None and first.after_set[m].time_to_relax_s < 2.0


def test_the_exercise_file_chooses_the_antagonist_of_its_relax_targets() -> None:
    from myoflow.analysis.exercise_rules import exercise_antagonists
    from myoflow.exercises import get_exercise

    places = ["glute_med_r", "glute_max_r", "adductor_longus_l", "adductor_longus_r"]
    assert exercise_antagonists(None, places)["glute_med_r"] == "adductor_longus_r"
    assert exercise_antagonists(get_exercise("clamshell"), places)["glute_med_r"] == "adductor_longus_r"
    assert exercise_antagonists(get_exercise("reverse_clamshell"), places)["glute_med_r"] == "glute_max_r"
    # a relax target whose exercise antagonist is not placed keeps its role-based one
    assert exercise_antagonists(get_exercise("reverse_clamshell"), ["glute_med_r", "adductor_longus_r"]) == {
        "glute_med_r": "adductor_longus_r",
        "adductor_longus_r": "glute_med_r",
    }


@pytest.mark.parametrize("name", ["clamshell", "side_lying_hip_abduction"])
def test_the_generators_antagonist_strategy_is_found_per_rep(name: str, tmp_path, record_session) -> None:
    """The synthetic antagonist strategy (a brief adductor burst at the end of the eccentric in
    chosen reps, the gluteus medius letting go after it) through ``myoflow.reports.analyze``."""
    from myoflow.reports import analyze
    from myoflow.synth.config import SessionConfig
    from myoflow.synth.session import generate_session

    bursts = (0, 2, 3)
    session = generate_session(
        SessionConfig(
            exercise=name, n_reps=5, seed=3, emg_rate=1000.0, antagonist_burst_pct=30.0, burst_reps=bursts
        )
    )
    assert "adductor_longus_r" in session.placements
    path = tmp_path / f"{name}.h5"
    record_session(path, session, name)
    results = analyze(path, mains_hz=session.config.hum_hz).metrics.results
    assert len(results) == 5
    for k, (r, truth) in enumerate(zip(results, session.truth, strict=True)):
        a = r.antagonist_assist["glute_med_r"]
        assert a.antagonist == "adductor_longus_r"
        assert a.burst == (k in bursts), (k, a)
        if a.burst:
            assert truth.antagonist_burst_s is not None
            assert a.burst_s == pytest.approx(truth.antagonist_burst_s, abs=0.2), (
                k,
                a.burst_s,
                truth.antagonist_burst_s,
            )
            assert a.relaxed_after, (k, a)
