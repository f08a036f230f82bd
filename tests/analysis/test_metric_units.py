"""Each metric on signals built by hand, where the right answer is known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from myoflow.analysis.activation import ActivationParams, normalise, rest_levels
from myoflow.analysis.cocontraction import cocontraction_in_window, cocontraction_index
from myoflow.analysis.eccentric import eccentric_hold
from myoflow.analysis.handover import find_crossover, find_stall, glute_share
from myoflow.analysis.placement import antagonist_of, handover_channels, parse_placement, prime_movers
from myoflow.analysis.relaxation import antagonist_cue, relaxation, sustained_tension_share
from myoflow.analysis.rep_summary import SessionContext
from myoflow.dsp.onsets import Baseline

FS = 1000.0


def test_placements_map_to_roles_and_missing_channels_are_named() -> None:
    assert parse_placement("glute_max_r").role == "glute"
    assert parse_placement("semitendinosus_l") == parse_placement("semitendinosus_l")
    assert parse_placement("biceps_femoris_r").side == "r"
    assert parse_placement("adductor_r").role == "adductor"
    assert parse_placement("mystery").role == "other"
    placed = ("glute_max_r", "biceps_femoris_r", "semitendinosus_r", "glute_med_r", "adductor_r")
    assert handover_channels(placed) == ([0], [1, 2])
    assert prime_movers(placed) == [0, 1, 2]
    assert antagonist_of(placed, "glute_med_r") == "adductor_r"
    assert antagonist_of(placed, "glute_max_r") is None
    with pytest.raises(
        ValueError, match=r"handover needs a hamstring and a glute channel.*found: glute_max_r"
    ):
        handover_channels(("glute_max_r", "glute_med_r"))
    with pytest.raises(ValueError, match="placement must be a non-empty string"):
        parse_placement("")


def test_context_reports_what_is_missing_for_a_metric() -> None:
    levels = rest_levels(np.ones((4000, 2)) + np.linspace(0, 0.01, 4000)[:, None], FS)
    ctx = SessionContext(("glute_med_r", "adductor_r"), "% MVC", "emg", levels, 1.5)
    assert "handover needs a hamstring and a glute channel" in ctx.unavailable["handover"]
    assert "glute" in ctx.unavailable["eccentric_hold"]
    with pytest.raises(ValueError, match="needs channel 'rectus_femoris_r'"):
        SessionContext(
            ("glute_med_r",), "% MVC", "hip", levels, 1.5, antagonists={"glute_med_r": "rectus_femoris_r"}
        )
    with pytest.raises(ValueError, match="'mode'"):
        SessionContext(("glute_med_r", "adductor_r"), "% MVC", "imu", levels, 1.5)


def test_cocontraction_index_of_known_shapes() -> None:
    a = np.array([0.0, 10.0, 20.0, 10.0, 0.0])
    assert cocontraction_index(a, a) == pytest.approx(100.0)
    assert cocontraction_index(a, np.zeros(5)) == 0.0
    assert cocontraction_index(a, a / 2) == pytest.approx(200 * 20 / 60)
    assert cocontraction_index(a, np.array([5.0, np.nan, 5.0, 5.0, 5.0])) == pytest.approx(200 * 10 / 50)
    assert np.isnan(cocontraction_index(np.zeros(3), np.zeros(3)))
    t = np.arange(2000) / FS
    assert cocontraction_in_window(
        np.ones(2000), np.where(t < 1.5, 1.0, 0.0), FS, 0.0, 1.0, 2.0
    ) == pytest.approx(200 * 0.5 / 1.5, rel=1e-3)
    with pytest.raises(ValueError, match="same shape"):
        cocontraction_index(np.ones(3), np.ones(4))


def test_eccentric_hold_is_the_first_half_of_the_lowering_over_the_concentric_peak() -> None:
    t = np.arange(6000) / FS
    env = np.interp(t, [0, 1, 2, 3, 4, 5, 6], [1, 40, 40, 40, 20, 1, 1])[:, None]
    # concentric 1-2 s (peak 40); eccentric 3-5 s, first half 3-4 s: mean 30 -> 75 %
    assert eccentric_hold(env, FS, 0.0, 1.0, 2.0, 3.0, 5.0)[0] == pytest.approx(75.0, abs=0.2)


def test_relaxation_gaps_threshold_and_verdict() -> None:
    t = np.arange(3000) / FS
    relaxed = np.where((t > 1.0) & (t < 1.25), 0.5, 5.0)  # a 0.25 s gap
    short = np.where((t > 1.0) & (t < 1.15), 0.5, 5.0)  # 0.15 s: too short
    env = np.stack([relaxed, short], axis=1)
    out = relaxation(env, FS, 0.0, (0.5, 2.5), np.array([0.8, 0.8]), np.array([1.0, 1.0]))
    assert out[0].relaxed and not out[1].relaxed
    assert out[0].gaps_s[0] == pytest.approx((1.001, 1.25), abs=2e-3)
    assert out[0].bottom_min_pct == 0.5 and out[0].bottom_min_x_rest == pytest.approx(0.625)
    assert out[0].threshold_pct == 1.0


def test_rest_threshold_is_the_larger_of_half_a_percent_and_three_sd() -> None:
    rng = np.random.default_rng(0)
    env = np.abs(1.0 + 0.05 * rng.standard_normal((5000, 2))) * np.array([1.0, 0.1])
    levels = rest_levels(env, FS, ActivationParams(), Baseline([1.0, 0.1], [0.2, 0.01]))
    assert levels.rest_threshold == pytest.approx([1.6, 0.5])
    # onset: max(sqrt(m^2 + 3^2 - 1^2), m + 3 sd)
    assert levels.onset_threshold == pytest.approx([3.0, np.sqrt(0.01 + 8.0)])


def test_antagonist_cue_before_the_agonist_lets_go() -> None:
    t = np.arange(3000) / FS
    burst = np.where((t > 1.7) & (t < 1.9), 10.0, 0.5)
    cue = antagonist_cue(burst, FS, 0.0, relax_s=2.0, onset_threshold=3.0, name="rectus_femoris_r")
    assert cue.cue and cue.lead_ms == pytest.approx(299.0, abs=2) and cue.peak_pct == 10.0
    quiet = antagonist_cue(np.full(3000, 0.5), FS, 0.0, 2.0, 3.0, "rectus_femoris_r")
    assert not quiet.cue and quiet.lead_ms is None


def test_sustained_tension_share_counts_tension_that_holds_through_a_bottom() -> None:
    t = np.arange(20000) / FS
    # reps start at 1, 5, 9, 13 s; the muscle relaxes after rep 1 and after rep 3 only
    env = np.where(((t > 3.5) & (t < 4.5)) | ((t > 11.5) & (t < 12.5)), 0.2, 10.0)
    share = sustained_tension_share(env, FS, 0.0, (1.0, 17.0), [1.0, 5.0, 9.0, 13.0], 1.0)
    assert share == pytest.approx((11.5 - 4.5) / 16.0, abs=1e-3)
    relaxed_each_time = np.where(np.isin(np.floor(t) % 4, [3]), 0.2, 10.0)
    assert sustained_tension_share(relaxed_each_time, FS, 0.0, (1.0, 17.0), [1.0, 5.0, 9.0, 13.0], 1.0) == 0.0


def test_crossover_is_found_interpolated_and_held() -> None:
    t = np.arange(2000) / FS
    h = np.full(t.size, 20.0)
    g = 10.0 + 20.0 * t  # G = H at t = 0.5 s
    active = np.ones(t.size, dtype=bool)
    assert find_crossover(g, h, FS, 0.0, 0.1, 1.5, active) == pytest.approx(0.5, abs=3e-3)  # line fit
    assert glute_share(g, h)[500] == pytest.approx(0.5)
    blip = np.where((t > 0.5) & (t < 0.55), 30.0, 10.0)  # above 0.5 for 50 ms only
    assert find_crossover(blip, h, FS, 0.0, 0.1, 1.5, active) is None
    assert find_crossover(g, h, FS, 0.0, 0.1, 1.5, np.zeros(t.size, dtype=bool)) is None


def test_stall_in_mid_range_is_found_with_its_activation_drop() -> None:
    fs = 100.0
    t = np.arange(400) / fs
    angle = np.interp(t, [0, 1, 1.4, 2.0, 2.4, 4], [45, 45, 25, 25, 5, 5])
    combined = np.interp(np.arange(4000) / FS, [0, 1, 1.4, 1.7, 2.0, 2.4, 4], [2, 30, 40, 30, 40, 50, 50])
    stall = find_stall(angle, fs, 0.0, 1.0, 2.4, combined, FS, 0.0, crossover_s=2.1)
    assert stall is not None
    assert stall.start_s == pytest.approx(1.4, abs=0.12) and stall.end_s == pytest.approx(2.0, abs=0.12)
    assert stall.hip_deg == pytest.approx(25.0, abs=1.0)
    assert stall.activation_drop_pct == pytest.approx(25.0, abs=3.0)
    assert stall.from_crossover_s == pytest.approx(0.1, abs=0.12)
    smooth = np.interp(t, [0, 1, 2.4, 4], [45, 45, 5, 5])
    assert find_stall(smooth, fs, 0.0, 1.0, 2.4, combined, FS, 0.0, None) is None


def test_normalisation_without_mvc_is_percent_of_session_peak() -> None:
    env = np.stack([np.linspace(0, 50, 4000), np.linspace(0, 200, 4000)], axis=1)
    norm = normalise(env, FS)
    assert norm.unit == "% session peak"
    assert norm.envelope.max(axis=0) == pytest.approx([100 * 50 / 46.875, 100 * 200 / 187.5], rel=1e-3)
    assert normalise(env, FS, np.array([50.0, 100.0])).unit == "% MVC"
    with pytest.raises(ValueError, match="mvc has 1 value"):
        normalise(env, FS, np.array([1.0]))
    with pytest.raises(ValueError, match="need > 0"):
        normalise(env, FS, np.array([1.0, 0.0]))
