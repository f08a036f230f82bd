"""Rep segmentation against the generator's truth (hip angle from the true segment angles and
from the fused IMU angle)."""

from __future__ import annotations

import numpy as np
import pytest

from myoflow.analysis.rep_summary import longest_run
from myoflow.analysis.reps import segment_reps
from myoflow.synth.session import glute_bridge_session, rdl_session


@pytest.mark.parametrize("make", [glute_bridge_session, rdl_session])
def test_rep_count_and_phase_order_match_truth(make) -> None:
    session = make(n_reps=6, emg_rate=200.0, seed=3)
    fs = session.config.imu_rate
    reps = segment_reps(session.hip_angle, fs)
    assert len(reps) == len(session.truth) == 6
    for rep, truth in zip(reps, session.truth, strict=True):
        t = rep.times(fs)
        assert t["start"] < t["top"] <= t["eccentric"] < t["bottom"] <= t["end"]
        # phase boundaries within 0.15 s of the truth (speed below 5 % of peak on a min-jerk movement)
        assert abs(t["start"] - truth.onset_s) < 0.15
        assert abs(t["top"] - truth.top_s) < 0.15
        assert abs(t["eccentric"] - truth.eccentric_start_s) < 0.15
        assert abs(t["bottom"] - truth.bottom_s) < 0.15


def test_no_reps_in_small_movements_or_noise() -> None:
    rng = np.random.default_rng(0)
    assert segment_reps(40 + rng.normal(0, 2, 3000), 100.0) == []
    assert segment_reps(np.full(10, np.nan), 100.0) == []
    with pytest.raises(ValueError, match="shape"):
        segment_reps(np.zeros((10, 2)), 100.0)


def test_a_lowering_that_has_not_finished_is_not_a_rep() -> None:
    fs = 100.0
    t = np.arange(0, 9, 1 / fs)
    angle = np.interp(t, [0, 1, 2, 3, 5, 6, 7, 8, 9], [45, 45, 2, 2, 45, 45, 2, 2, 20])
    assert len(segment_reps(angle, fs)) == 1


def test_longest_run() -> None:
    assert longest_run(np.array([0, 1, 1, 0, 1, 1, 1, 0], bool)) == 3
    assert longest_run(np.zeros(5, bool)) == 0
    assert longest_run(np.ones(4, bool)) == 4


def test_a_recording_that_ends_mid_rep_leaves_the_rep_before_it_intact() -> None:
    fs = 100.0
    t = np.arange(0, 12.5, 1 / fs)
    # rep 1 (0-5 s) complete; rep 2 starts at 6 s and the recording stops during its top hold
    angle = np.interp(t, [0, 1, 2, 3, 4.5, 6, 7, 8, 12.5], [45, 45, 2, 2, 45, 45, 2, 2, 2])
    reps = segment_reps(angle, fs)
    assert len(reps) == 1
    ph = reps[0].times(fs)
    assert abs(ph["eccentric"] - 3.0) < 0.15 and abs(ph["bottom"] - 4.5) < 0.15
    assert ph["end"] <= 6.1  # bounded by the unfinished rep's start, not the end of the data


@pytest.mark.parametrize("make", [glute_bridge_session, rdl_session])
def test_live_and_offline_share_the_phase_rule_on_the_same_angle(make) -> None:
    """The same angle through offline ``segment_reps`` and live ``IncrementalReps`` (cell by
    cell, 20 ms steps): the same reps, phase boundaries within 3 cells (the live smoothing's
    backward pass starts 0.3 s behind, so the smoothed angles differ in the last bits)."""
    from myoflow.analysis.live_reps import IncrementalReps

    session = make(n_reps=6, emg_rate=200.0, seed=4)
    fs = session.config.imu_rate
    offline = segment_reps(session.hip_angle, fs)
    live = IncrementalReps(fs)
    for k in range(0, session.hip_angle.size, 2):
        live.push(k, session.hip_angle[k : k + 2])
    assert len(live.reps) >= len(offline) - 1 == 5  # the last rep's bottom window may be cut off
    for a, b in zip(live.reps, offline, strict=False):
        for key in ("start", "top", "eccentric", "bottom"):
            assert abs(getattr(a, key) - getattr(b, key)) <= 3, key
        assert a.rom == pytest.approx(b.rom, abs=0.5) and a.partial == b.partial
