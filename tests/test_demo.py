"""The main job: `myoflow demo --headless --seconds N` exits 0 and reports the reps it found."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np
import pytest

from myoflow.cli import main
from myoflow.demo import DemoSettings, onset_errors_ms, run_demo


def test_demo_command_runs_headless_and_exits_zero() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("DISPLAY", None)
    proc = subprocess.run(
        [sys.executable, "-m", "myoflow.cli", "demo", "--headless", "--seconds", "20"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "reps found: 2 (truth 2)" in proc.stdout
    assert "relaxed verdicts agreeing with truth: 2/2" in proc.stdout


def test_demo_finds_every_rep_and_relaxation_at_200_hz_and_2_khz() -> None:
    for rate in (200.0, 2000.0):
        # 7 reps; reps 3 and 7 stay tense at the bottom (the last one relaxes only after the set)
        report = run_demo(DemoSettings(seconds=41, emg_rate=rate, seed=11), out=io.StringIO())
        truth = report.session.truth
        assert len(report.reps) == len(truth) == 7
        verdicts = [r.relaxation["glute_max_r"].relaxed for r in report.reps]
        assert verdicts == [t.muscles["glute_max_r"].relaxed for t in truth]
        assert verdicts == [True, True, False, True, True, True, False]
        errors = onset_errors_ms(report.reps, truth)
        assert errors.size >= 12
        assert np.median(np.abs(errors)) < 30  # measured 12-18 ms


def test_demo_chunk_size_does_not_change_results() -> None:
    a = run_demo(DemoSettings(seconds=20, chunk_s=0.02), out=io.StringIO())
    b = run_demo(DemoSettings(seconds=20, chunk_s=0.137), out=io.StringIO())
    assert a.reps == b.reps


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--seconds", "5"], "at least 12"),
        (["demo", "--rate", "50"], "between 200 and 2000 Hz"),
        (["demo", "--chunk-ms", "0"], "between 1 and 1000 ms"),
    ],
)
def test_demo_rejects_bad_settings_with_a_clear_message(argv, message, capsys) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err
