"""Relaxation after the set, live == offline: a synthetic session of an exercise judged after
the set is analysed offline (``analyze``) and fed block by block to the live analysis, whose
:class:`~myoflow.analysis.live_after_set.AfterSetWatch` gives the verdict once the rest after the
last rep covers the rule's 10 s search window. Same set end (two grid cells), same verdict per
muscle, time to relax within 0.3 s, residual tension within 10 %. Sessions whose last rep leaves
every muscle tense for 30 s (the generator's ``after_set_relax_s``) must read "not relaxed" both
ways; the others relax within a second of the set's end."""

from __future__ import annotations

from pathlib import Path

import pytest

from myoflow.analysis.live_after_set import AfterSetWatch, after_set_text
from myoflow.exercises import get_exercise
from myoflow.reports import analyze
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import generate_session

CELL_S = 0.01


@pytest.mark.parametrize(
    ("name", "tense"),
    [
        ("lateral_band_walk", False),
        ("copenhagen_plank", False),
        ("single_leg_balance", False),
        ("lateral_band_walk", True),
        ("copenhagen_plank", True),
    ],
)
def test_after_set_live_equals_offline(
    name: str, tense: bool, tmp_path: Path, record_session, replay_live
) -> None:
    assert get_exercise(name).metrics.relaxation == "after_set"
    tension = {"tense_reps": (2,), "after_set_relax_s": 30.0} if tense else {}
    cfg = SessionConfig(exercise=name, n_reps=3, seed=5, emg_rate=1000.0, tail_s=12.0, **tension)
    session = generate_session(cfg)
    path = tmp_path / f"{name}.h5"
    mvc = record_session(path, session, name)
    report = analyze(path, mains_hz=session.config.hum_hz)
    (offline_set,) = report.metrics.sets
    offline = offline_set.after_set
    watch = AfterSetWatch()
    seen: list[tuple[dict, int]] = []  # each new verdict and the grid cell it came at

    def frame(live) -> None:
        got = watch.update(live)
        if got is not None and (not seen or seen[-1][0] is not got):
            seen.append((got, live.newest_cell))

    live = replay_live(path, name, mvc, each=frame)
    assert seen and seen[-1][0] is watch.result, "the verdict comes once the rest covers the search window"
    got = watch.result
    assert got is not None
    t0 = report.source["t0_host_s"]
    bottom = live.results[-1].phases["bottom"]
    assert seen[-1][1] * CELL_S >= bottom + watch.params.search_s, "not before the window has passed"
    assert set(got) == set(offline)
    assert all(not r.relaxed for r in offline.values()) if tense else all(r.relaxed for r in offline.values())
    for m, b in offline.items():
        a = got[m]
        assert abs(a.set_end_s - t0 - b.set_end_s) <= 2 * CELL_S + 1e-6, m
        assert a.relaxed == b.relaxed, m
        assert (a.time_to_relax_s is None) == (b.time_to_relax_s is None), m
        if b.time_to_relax_s is not None:
            assert a.time_to_relax_s == pytest.approx(b.time_to_relax_s, abs=0.3), m
        assert a.residual_pct == pytest.approx(b.residual_pct, rel=0.1), m
        assert a.rest_after_s is None
    assert after_set_text(got).startswith("after the set: ")
    assert watch.finish() is got  # already computed: a set ended now keeps it


def test_after_set_line_says_slow_and_not_relaxed() -> None:
    from myoflow.analysis.set_relaxation import SetRelaxation

    slow = SetRelaxation(10.0, 4.2, 9.0, 3.0, False, None)
    never = SetRelaxation(10.0, None, 30.0, 10.0, False, None)
    text = after_set_text({"glute_med_r": slow, "adductor_longus_r": never})
    assert text == (
        "after the set: glute_med_r slow to relax (4.2 s) (residual 3.0x rest); "
        "adductor_longus_r not relaxed (residual 10.0x rest)"
    )
    assert after_set_text(None) == "after the set: waiting for the rest after the last rep"
