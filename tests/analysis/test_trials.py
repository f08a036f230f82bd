"""Reps as repeats: per-rep summaries follow the session's rules, MDC95 between two sessions,
and verdicts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from myoflow.analysis.reliability import reliability_stats
from myoflow.analysis.report import Report
from myoflow.analysis.trials import judge, mdc95_between, metric_reliability, rep_summaries
from myoflow.synth.config import SessionConfig


def test_rep_summaries_average_to_the_session_summary(synthetic) -> None:
    cfg = SessionConfig(n_reps=6, reps_per_set=3, set_pause_s=8.0, emg_rate=1000.0, tense_reps=(4,), seed=3)
    _, metrics = synthetic(cfg)
    report = Report(source={"file": "x.h5"}, movement={"source": "hip"}, metrics=metrics)
    reps = rep_summaries(report)
    session = report.summary()
    assert len(reps) == 6 and "n_reps" not in reps[0]
    for key in ("glute_max_r.peak_pct", "glute_max_r.relaxed_share", "rom_deg"):
        assert np.mean([r[key] for r in reps]) == pytest.approx(session[key])
    assert [r["glute_max_r.relaxed_share"] for r in reps].count(0.0) >= 1  # the tense rep
    assert report.summary(1)["n_reps"] == 3  # the report itself is untouched
    assert rep_summaries(Report(source={}, movement={}, metrics=None)) == []


def test_mdc_between_sessions_of_m_reps() -> None:
    rng = np.random.default_rng(0)
    reps = [[{"x": v} for v in rng.normal(10.0 + s, 1.0, 8)] for s in range(5)]
    stats, note = metric_reliability(reps, "x")
    assert stats is not None and note == "5 sessions x 8 reps"
    table = np.array([[r["x"] for r in session] for session in reps])
    assert stats.sem_mse == reliability_stats(table).sem_mse
    assert mdc95_between(stats, 1, 1) == pytest.approx(1.96 * math.sqrt(2) * stats.sem_mse)
    assert mdc95_between(stats, 8, 8) == pytest.approx(1.96 * math.sqrt(2 / 8) * stats.sem_mse)
    with pytest.raises(ValueError, match="at least 1 rep"):
        mdc95_between(stats, 0, 3)
    none, why = metric_reliability(reps[:1], "x")
    assert none is None and "needs 2 sessions" in why
    short = [[{"x": 1.0}, {"x": 2.0}], [{"x": 1.5}, {"x": None}], [{"x": 1.2}, {"x": 2.5}]]
    stats, note = metric_reliability(short, "x")
    assert stats is not None and stats.n == 2 and stats.n_dropped == 1


def test_verdicts() -> None:
    assert judge("glute_max_r.relaxed_share", 0.3, 0.2) == "better"
    assert judge("glute_max_r.relaxed_share", -0.3, 0.2) == "worse"
    assert judge("glute_max_r.bottom_min_pct", -3.0, 1.0) == "better"
    assert judge("glute_max_r.peak_pct", 5.0, 4.0) == "up"
    assert judge("glute_max_r.peak_pct", -5.0, 4.0) == "down"
    assert judge("glute_max_r.peak_pct", 3.9, 4.0) == "within noise"
    assert judge("glute_max_r.peak_pct", None, 4.0) is None
    assert judge("glute_max_r.peak_pct", 1.0, None) is None


def test_a_change_against_an_mdc_of_zero_gets_no_verdict() -> None:
    # reps with no spread (SEM 0) say nothing about the noise: no "worse" for any change
    assert judge("glute_max_r.relaxed_share", -0.119, 0.0) is None
    assert judge("glute_max_r.relaxed_share", 0.0, 0.0) == "within noise"
    assert judge("glute_max_r.relaxed_share", -0.3, 0.2) == "worse"
    assert judge("glute_max_r.peak_pct", 5.0, 2.0) == "up"
    assert judge("glute_max_r.peak_pct", 1.0, 2.0) == "within noise"
