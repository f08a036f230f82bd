"""The Bayesian feedback envelope against the live 6 Hz low-pass envelope on the same input:
lag after a step up and down, ripple while steady, chunk invariance, scale invariance."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from myoflow.dsp.pipeline import EmgPipeline
from myoflow.feedback.envelope import BayesEnvelope, step_lag_ripple

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
