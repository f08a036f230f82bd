"""Tempo against the exercise's targets: ``analyze`` compares each rep's phase durations with the
exercise file's ``[phases]`` seconds. The truth is the generator's tempo, set apart from the
targets: a session lowered in 0.9 s against a 2 s target must be told "short", one at the
target's tempo must not."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from myoflow.analysis.tempo import session_tempo, tempo_verdict
from myoflow.exercises import get_exercise
from myoflow.reports import analyze
from myoflow.reports.findings import session_findings
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import generate_session


def _report(tmp_path: Path, record_session, eccentric_s: float, seed: int = 3):
    """A glute-bridge session at the file's targets (1.5 / 1 / 2 / 1.5 s), except the lowering."""
    cfg = SessionConfig(
        n_reps=6,
        seed=seed,
        emg_rate=1000.0,
        concentric_s=1.5,
        top_hold_s=1.0,
        eccentric_s=eccentric_s,
        bottom_rest_s=1.5,
        tempo_jitter=0.0,
    )
    path = tmp_path / f"bridge_{eccentric_s:g}.h5"
    record_session(path, generate_session(cfg), "glute_bridge")
    return analyze(path, mains_hz=cfg.hum_hz)


def test_a_fast_lowering_is_told_and_a_session_at_the_targets_is_not(tmp_path: Path, record_session) -> None:
    fast, steady = _report(tmp_path, record_session, 0.9), _report(tmp_path, record_session, 2.0)
    by_phase = {p["phase"]: p for p in fast.to_dict()["movement"]["tempo"]}
    assert set(by_phase) == {"concentric", "top", "eccentric", "bottom"}
    ecc = by_phase["eccentric"]
    assert ecc["target_s"] == 2.0 and ecc["median_s"] == pytest.approx(0.9, abs=0.25)
    assert ecc["short_reps"] == [r.index for r in fast.reps] and not ecc["long_reps"]
    assert len(by_phase["bottom"]["seconds"]) == len(fast.reps) - 1  # the set's last rest has no end
    told = [s for s in session_findings(fast) if "eccentric" in s]
    assert len(told) == 1 and "shorter than the target" in told[0] and "2 s" in told[0]

    steady_tempo = steady.to_dict()["movement"]["tempo"]
    for p in steady_tempo:
        assert not p["short_reps"] and not p["long_reps"], p
    assert not [s for s in session_findings(steady) if "than the target" in s]


@dataclass
class _Rep:
    index: int
    set_index: int
    phases: dict[str, float] = field(default_factory=dict)


def test_the_band_around_a_target_and_what_is_not_judged() -> None:
    assert tempo_verdict(2.0, 2.0) == "on target"
    assert tempo_verdict(1.35, 2.0) == "short" and tempo_verdict(1.45, 2.0) == "on target"  # 30 %
    assert tempo_verdict(0.25, 0.5) == "on target" and tempo_verdict(0.15, 0.5) == "short"  # 0.3 s
    assert tempo_verdict(2.7, 2.0) == "long"
    bridge = get_exercise("glute_bridge")
    reps = [
        _Rep(1, 0, {"start": 0.0, "top": 1.5, "eccentric": 2.5, "bottom": 4.5, "end": 6.0}),
        _Rep(2, 0, {"start": 6.0, "top": 7.5, "eccentric": 8.5, "bottom": 9.0, "end": 20.0}),
    ]
    tempo = {p.phase: p for p in session_tempo(reps, bridge.phases)}
    assert tempo["eccentric"].short_reps == (2,) and tempo["eccentric"].seconds == {1: 2.0, 2: 0.5}
    assert list(tempo["bottom"].seconds) == [1]  # rep 2 ends the set
    assert session_tempo(reps, get_exercise("copenhagen_plank").phases) == []  # isometric: holds instead
    assert session_tempo([], bridge.phases) == []
