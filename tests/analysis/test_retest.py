"""Test-retest: two sessions or two sets side by side, with known differences."""

from __future__ import annotations

import json

import numpy as np
import pytest

from myoflow.analysis.report import Report
from myoflow.analysis.retest import compare, compare_reports, compare_sets
from myoflow.synth.config import SessionConfig


def report_of(synthetic, cfg: SessionConfig, name: str) -> Report:
    session, metrics = synthetic(cfg)
    assert len(metrics.results) == cfg.n_reps
    return Report(source={"file": f"/data/{name}.h5"}, movement={"source": "hip"}, metrics=metrics)


def test_compare_summaries_metric_by_metric() -> None:
    a = {"crossover_ms": 100.0, "glute_max_r.peak_pct": 0.0, "only_a_s": 1.0, "bad": float("nan")}
    b = {"crossover_ms": 80.0, "glute_max_r.peak_pct": 5.0, "only_b_deg": 2.0, "bad": 3.0}
    r = compare(a, b, ("before", "after"))
    assert [c.metric for c in r.changes] == [
        "crossover_ms",
        "glute_max_r.peak_pct",
        "only_a_s",
        "bad",
        "only_b_deg",
    ]
    assert r["crossover_ms"].diff == -20.0 and r["crossover_ms"].pct_change == -20.0
    assert r["glute_max_r.peak_pct"].diff == 5.0 and r["glute_max_r.peak_pct"].pct_change is None
    assert r["only_a_s"].b is None and r["only_a_s"].diff is None
    assert r["bad"].a is None and r["only_b_deg"].a is None
    doc = json.loads(r.to_json())
    assert doc["a"] == "before" and doc["metrics"][0] == {
        "metric": "crossover_ms",
        "a": 100.0,
        "b": 80.0,
        "diff": -20.0,
        "pct_change": -20.0,
        "icc2_1": None,
        "icc3_1": None,
        "sem": None,
        "mdc95": None,
        "verdict": None,
    }
    assert doc["trials"] is None
    assert r.to_csv().splitlines()[1] == "crossover_ms,100,80,-20,-20,,,,,"
    assert "crossover_ms" in r.format()
    with pytest.raises(KeyError, match="no metric"):
        r["nope"]


def test_two_sets_differ_in_relaxation(synthetic) -> None:
    """Set 0 relaxes after every rep; in set 1 two of three reps stay tense (all muscles)."""
    cfg = SessionConfig(
        n_reps=6, reps_per_set=3, set_pause_s=8.0, emg_rate=1000.0, tense_reps=(3, 4), seed=11
    )
    r = compare_sets(report_of(synthetic, cfg, "sets"))
    for m in cfg.placements:
        assert r[f"{m}.relaxed_share"].a == 1.0
        assert r[f"{m}.relaxed_share"].diff == pytest.approx(-2.0 / 3.0)
    assert r["n_reps"].diff == 0.0
    with pytest.raises(ValueError, match="set_b=5"):
        compare_sets(report_of(synthetic, cfg, "sets"), 0, 5)


def test_two_sessions_glute_peak_raised_by_half(synthetic) -> None:
    base = SessionConfig(n_reps=6, emg_rate=1000.0, seed=4)
    peaks = (45.0, 30.0, 26.0, 20.0)
    a = report_of(synthetic, base.__class__(**{**base.__dict__, "peak_pct": peaks}), "before")
    b = report_of(
        synthetic, base.__class__(**{**base.__dict__, "peak_pct": (67.5, *peaks[1:]), "seed": 5}), "after"
    )
    r = compare_reports(a, b)
    assert (r.label_a, r.label_b) == ("before.h5", "after.h5")
    assert r["glute_max_r.peak_pct"].pct_change == pytest.approx(50.0, abs=12.0)
    assert abs(r["biceps_femoris_r.peak_pct"].pct_change) < 12.0
    assert np.isfinite(r["crossover_ms"].diff)
    # judged against the spread of the reps of both sessions
    assert r.trials == "6 and 6 reps"
    glute = r["glute_max_r.peak_pct"]
    assert glute.mdc95 is not None and glute.diff > glute.mdc95 and glute.verdict == "up"
    unchanged = [r[f"{m}.peak_pct"] for m in ("biceps_femoris_r", "semitendinosus_r", "glute_med_r")]
    assert sum(c.verdict == "within noise" for c in unchanged) >= 2, [(c.diff, c.mdc95) for c in unchanged]
    assert all(c.sem is not None and c.sem > 0 for c in unchanged)
    assert "MDC95" in r.format() and "from the spread of 6 and 6 reps" in r.format()
    row = next(line for line in r.to_csv().splitlines() if line.startswith("glute_max_r.peak_pct,"))
    assert row.endswith(",up")


def test_text_table_columns_line_up_with_long_labels() -> None:
    from myoflow.analysis.retest import compare

    table = compare({"peak_pct": 40.0}, {"peak_pct": 50.0}, ("glute_bridge_virtual.h5", "retest.h5")).format()
    header, row = table.splitlines()
    assert len(header) == len(row)
    assert header.index("glute_bridge_virtual.h5") + len("glute_bridge_virtual.h5") == row.index("40") + 2
