"""The demo's comparison with the synthetic truth: only reps that ended inside what was streamed,
relaxation judged on the exercise's relax target (glute_med for the clamshell)."""

from __future__ import annotations

import io

from myoflow.dashboard.virtual_source import truth_summary, virtual_source
from myoflow.rigs.demo import DemoSettings, judged_muscle, run_demo

CLAM = ("glute_med_r", "glute_max_r", "adductor_longus_r", "biceps_femoris_r")


def test_the_judged_muscle_is_the_exercise_relax_target() -> None:
    assert judged_muscle(CLAM, "clamshell") == "glute_med_r"  # metrics.relax_targets: prime movers
    assert judged_muscle(CLAM, "glute_bridge") == "glute_max_r"
    assert judged_muscle(("biceps_femoris_r", "glute_max_l"), "clamshell") == "glute_max_l"  # none placed


def test_the_headless_clamshell_demo_reports_glute_med_relaxation() -> None:
    out = io.StringIO()
    report = run_demo(DemoSettings(seconds=12, exercise="clamshell", seed=7), out=out)
    text = out.getvalue()
    assert report.live_reps, text
    assert "glute_med_r relaxed at the bottom" in text or "glute_med_r NOT relaxed" in text, text
    assert "glute_max_r relaxed at the bottom" not in text and "glute_max_r NOT relaxed" not in text
    assert "bottom glute_med" in text, text


def test_virtual_truth_compares_only_reps_that_ended_in_the_stream(stream_to_end) -> None:
    # 12 s streamed of an 18 s synthetic clamshell session: rep 2 is still going at the end
    source = virtual_source(12.0, exercise="clamshell", fast=True)
    truth = source.session.truth
    assert len(truth) == 2 and truth[0].end_s < 10.0 < 12.0 < truth[1].end_s
    stream_to_end(source)
    summary = truth_summary(source)
    assert summary is not None
    assert summary.startswith("live reps: 1 of the 1 synthetic reps that ended in the 1"), summary
    assert "(1 more still going or just ending when it stopped, not compared)" in summary, summary
    assert summary.endswith("glute_med_r relaxed verdicts agreeing with the truth: 1/1"), summary
