"""The Bayesian feedback envelope against the live 6 Hz low-pass envelope on the same input:
lag after a step up and down, ripple while steady, chunk invariance, scale invariance; the feedback
envelope (the walk the dashboard uses) on a ramp and at rest, and the live feedback levels."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from myoflow.dsp.pipeline import EmgPipeline
from myoflow.feedback.envelope import BayesEnvelope, feedback_envelope, step_lag_ripple

FS = 2000.0


def step_emg(seed: int = 1) -> np.ndarray:
    """6 s of band-limited noise: 5 uV mean amplitude, 100 uV from 2 s to 4 s."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(6 * FS)) / FS
    amp = np.where((t >= 2) & (t < 4), 100.0, 5.0)
    b, a = signal.butter(4, [30, 300], btype="band", fs=FS)
    noise = signal.lfilter(b, a, rng.standard_normal(t.size))
    return noise / np.mean(np.abs(noise)) * amp


@pytest.fixture(scope="module")
def filtered_and_lowpass() -> tuple[np.ndarray, np.ndarray]:
    out = EmgPipeline(FS).process(step_emg()[:, None].astype(np.float32))
    return out.filtered[:, 0].astype(np.float64), out.envelope[:, 0].astype(np.float64)


def test_bayes_envelope_follows_a_step_faster_than_the_low_pass_with_no_more_ripple(
    filtered_and_lowpass,
) -> None:  # noqa: ANN001
    filtered, lowpass = filtered_and_lowpass
    bayes = BayesEnvelope(100.0).process(filtered)
    lp_up, lp_down, lp_ripple = step_lag_ripple(lowpass, FS)
    up, down, ripple = step_lag_ripple(bayes, FS)
    assert lp_up > 30.0 and lp_down > 30.0  # the 2nd-order 6 Hz low-pass: ~38-44 ms
    assert up < lp_up - 20.0 and down < lp_down - 15.0, (up, down, lp_up, lp_down)
    assert ripple <= 1.1 * lp_ripple, (ripple, lp_ripple)
    # same units: the steady level matches the low-pass envelope's (mean absolute value)
    steady = slice(int(2.5 * FS), int(3.9 * FS))
    assert np.median(bayes[steady]) == pytest.approx(np.median(lowpass[steady]), rel=0.15)


def test_bayes_envelope_is_chunk_and_scale_invariant(filtered_and_lowpass) -> None:  # noqa: ANN001
    x = filtered_and_lowpass[0][: int(2.5 * FS)]
    whole = BayesEnvelope(100.0).process(x)
    env = BayesEnvelope(100.0)
    cuts = np.sort(np.random.default_rng(0).choice(np.arange(1, x.size), 12, replace=False))
    parts = np.concatenate([env.process(c) for c in np.split(x, cuts)])
    np.testing.assert_allclose(parts, whole, rtol=1e-12)
    scaled = BayesEnvelope(100.0 * 1000).process(x * 1000)
    np.testing.assert_allclose(scaled, whole * 1000, rtol=1e-9)
    with pytest.raises(ValueError, match="reference"):
        BayesEnvelope(0.0)


def ramp_emg(seed: int = 2) -> np.ndarray:
    """6 s: 5 uV rest, a 0.5 s linear ramp to 100 uV from 2 s, held to 4 s (a bridge's push)."""
    t = np.arange(int(6 * FS)) / FS
    amp = 5.0 + 95.0 * np.clip((t - 2.0) / 0.5, 0.0, 1.0) * (t < 4.0)
    b, a = signal.butter(4, [30, 300], btype="band", fs=FS)
    noise = signal.lfilter(b, a, np.random.default_rng(seed).standard_normal(t.size))
    return noise / np.mean(np.abs(noise)) * amp


def test_feedback_envelope_leads_the_low_pass_on_a_ramp_and_stays_quiet_at_rest() -> None:
    out = EmgPipeline(FS).process(ramp_emg()[:, None].astype(np.float32))
    filtered, lowpass = out.filtered[:, 0].astype(np.float64), out.envelope[:, 0].astype(np.float64)
    fb = feedback_envelope(FS, 100.0).process(filtered)
    true_cross = 2.0 + (20.0 - 5.0) / 95.0 * 0.5  # the amplitude reaches 20 uV here (s)
    i0 = int(1.5 * FS)
    lag_fb = (i0 + np.flatnonzero(fb[i0:] >= 20.0)[0]) / FS - true_cross
    lag_lp = (i0 + np.flatnonzero(lowpass[i0:] >= 20.0)[0]) / FS - true_cross
    assert 0.0 < lag_fb < lag_lp - 0.015, (lag_fb, lag_lp)
    rest = slice(int(0.5 * FS), int(1.9 * FS))
    assert np.all(fb[rest] < 10.0)  # no false alarm: never twice the 5 uV rest level


def test_feedback_envelope_estimates_channels_together_as_apart() -> None:
    x = np.column_stack((ramp_emg(3), 0.5 * ramp_emg(4)))[: int(3 * FS)]
    together = feedback_envelope(FS, 100.0, channels=2).process(x)
    for j in range(2):
        np.testing.assert_allclose(together[:, j], feedback_envelope(FS, 100.0).process(x[:, j]), rtol=1e-9)


def test_feedback_levels_follow_the_target_in_percent_of_mvc_or_of_the_session_peak() -> None:
    from myoflow.feedback.level import FeedbackLevels
    from myoflow.stream import Block, StreamInfo

    info = StreamInfo("s/emg", "emg", FS, ("ch1", "ch2"), ("glute_max_r", "biceps_femoris_r"), "uV")
    x = np.column_stack((3.0 * ramp_emg(5), ramp_emg(6))).astype(np.float32)  # glute: 300 uV
    levels = FeedbackLevels({info.name: info})
    assert np.isnan(levels.level_pct("glute_max_r"))
    n = int(3.5 * FS)  # into the steady 100 uV part
    for k in range(0, n, 20):  # 10 ms notifications
        levels.on_block(Block(info, x[k : k + 20], np.arange(k, k + 20) / FS, k))
    assert levels.level_pct("glute_max_r", {"glute_max_r": 600.0}) == pytest.approx(50.0, rel=0.25)
    assert levels.level_pct("glute_max_r") == pytest.approx(100.0, rel=0.35)  # of its own peak so far
    assert np.isnan(levels.level_pct("no_such_muscle"))
    assert levels.newest_s("glute_max_r") == pytest.approx((n - 1) / FS)
