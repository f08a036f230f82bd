"""The metric core against the generator's truth over a grid of 24 synthetic sessions.

Glute bridges and RDLs; clean, typical and noisy EMG; 200 Hz and 2 kHz; with both IMUs and with
none (EMG-only reps); 12 reps each in two sets, with 3 tense reps, 2 stalls, 1 partial rep and
the crossover drawn per rep across the exercise's band: 288 reps, 1152 muscle verdicts. The
measured numbers are in docs/metrics.md; the bounds below sit between them and the targets.
"""

from __future__ import annotations

import numpy as np


def test_rep_count_is_exact_in_every_session(accuracy_grid) -> None:
    wrong = {key: comp.count_errors for key, comp in accuracy_grid.items() if comp.count_errors}
    assert not wrong
    assert sum(c.sessions for c in accuracy_grid.values()) == 24


def test_relaxed_verdict_is_right_on_at_least_98_percent(accuracy_grid, pool) -> None:
    allv = pool(accuracy_grid).verdicts
    assert len(allv) == 24 * 12 * 4
    assert np.mean(allv) >= 0.98  # measured 99.9 %
    for key, comp in accuracy_grid.items():
        assert np.mean(comp.verdicts) >= 0.95, key


def test_muscle_onset_median_error(accuracy_grid, pool, med_abs) -> None:
    everything = pool(accuracy_grid)
    assert len(everything.onset_ms) > 900
    assert med_abs(everything.onset_ms) <= 15.0  # measured 13 ms
    for preset in ("clean", "typical", "noisy"):
        assert med_abs(pool(accuracy_grid, rate=2000.0, preset=preset).onset_ms) <= 15.0  # 9-12 ms
    assert med_abs(pool(accuracy_grid, rate=200.0, preset="clean").onset_ms) <= 15.0  # 14 ms
    # 200 Hz with noise misses the 15 ms target (16 ms typical, 26 ms noisy): see docs/metrics.md
    assert med_abs(pool(accuracy_grid, rate=200.0).onset_ms) <= 20.0


def test_crossover_time_and_hip_angle(accuracy_grid, pool, med_abs) -> None:
    everything = pool(accuracy_grid)
    assert len(everything.crossover_ms) > 250
    assert med_abs(everything.crossover_ms) <= 25.0  # measured 24 ms
    assert med_abs(pool(accuracy_grid, rate=2000.0).crossover_ms) <= 25.0  # 19 ms
    assert med_abs(pool(accuracy_grid, rate=200.0).crossover_ms) <= 30.0  # 26 ms: docs/metrics.md
    assert len(everything.crossover_deg) > 120
    assert med_abs(everything.crossover_deg) <= 3.0  # measured 2.3 deg
    for rate in (200.0, 2000.0):
        assert med_abs(pool(accuracy_grid, rate=rate).crossover_deg) <= 3.0
    assert np.mean(everything.crossover_exists) >= 0.95  # measured 97.9 %


def test_stalls_partials_and_sets_match_truth(accuracy_grid, pool) -> None:
    with_imu = pool(accuracy_grid, imu=True)
    assert len(with_imu.stall_agrees) == 12 * 12
    assert np.mean(with_imu.stall_agrees) >= 0.97  # measured 99.3 %
    assert all(with_imu.partial_agrees)
    assert all(pool(accuracy_grid).set_agrees)
