"""Envelopes: chunking invariance, reported delays against measured lags, offline accuracy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from myoflow.dsp.envelope import (
    MovingMav,
    MovingRms,
    RectifiedEnvelope,
    tkeo,
)

FS = 2000.0
CUTS = st.lists(st.integers(min_value=0, max_value=10_000), max_size=12)


def split(x: np.ndarray, cuts: list[int]) -> list[np.ndarray]:
    return np.split(x, sorted(c % (len(x) + 1) for c in cuts))


def noise(n: int, ch: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((n, ch)) * 40.0).astype(np.float32)


def gaussian_burst(
    n: int, fs: float, centre_s: float, width_s: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Noise (one channel) whose amplitude is a Gaussian; returns (signal, amplitude)."""
    t = np.arange(n) / fs
    amp = np.exp(-0.5 * ((t - centre_s) / width_s) ** 2) * 100.0
    return (noise(n, 1, seed)[:, 0] / 40.0 * amp).astype(np.float32), amp


def centroid_ms(y: np.ndarray, fs: float) -> float:
    y = np.asarray(y, dtype=np.float64).ravel()
    return float(np.sum(np.arange(len(y)) * y) / np.sum(y) / fs * 1000.0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: RectifiedEnvelope(FS),
        lambda: MovingRms(FS, 0.05),
        lambda: MovingMav(FS, 0.0125),
    ],
    ids=["rectified", "rms", "mav"],
)
@given(cuts=CUTS)
def test_streaming_equals_one_call(make, cuts: list[int]) -> None:  # type: ignore[no-untyped-def]
    x = noise(600, 2, seed=1)
    whole = make().process(x)
    stage = make()
    chunked = np.concatenate([stage.process(c) for c in split(x, cuts)])
    assert chunked.dtype == np.float32 and chunked.shape == x.shape
    np.testing.assert_allclose(chunked, whole, rtol=1e-5, atol=1e-4)


def windowed_reference(x: np.ndarray, w: int, rms: bool) -> np.ndarray:
    """Direct float64 window statistic; the first w-1 outputs average the samples so far."""
    v = np.square(x, dtype=np.float64) if rms else np.abs(x, dtype=np.float64)
    padded = np.concatenate((np.zeros((w - 1, v.shape[1])), v))
    sums = sliding_window_view(padded, w, axis=0).sum(axis=-1)
    mean = sums / np.minimum(np.arange(1, len(v) + 1), w)[:, None]
    return np.sqrt(mean) if rms else mean


def test_moving_windows_match_direct_computation() -> None:
    x = noise(1000, 2, seed=2)
    np.testing.assert_allclose(MovingRms(FS, 0.05).process(x), windowed_reference(x, 100, True), rtol=1e-5)
    np.testing.assert_allclose(MovingMav(FS, 0.05).process(x), windowed_reference(x, 100, False), rtol=1e-5)
    one = MovingMav(FS, 0.6 / FS)  # a one-sample window is |x|
    assert one.window == 1
    np.testing.assert_allclose(one.process(x), np.abs(x))


def test_moving_rms_no_drift_over_a_million_samples() -> None:
    rng = np.random.default_rng(3)
    n, w = 1_000_000, 200
    x = rng.standard_normal((n, 1)).astype(np.float32)
    x[: n // 2] *= 1000.0  # loud first half: a naive running sum would swamp the quiet half
    whole = MovingRms(FS, w / FS).process(x)
    stage = MovingRms(FS, w / FS)
    cuts = np.cumsum(rng.integers(1, 60_000, size=40))
    chunked = np.concatenate([stage.process(c) for c in np.split(x, cuts[cuts < n])])
    np.testing.assert_allclose(chunked, whole, rtol=1e-5)
    tail = slice(n - 5000, n)
    expected = windowed_reference(x[n - 5000 - w + 1 :], w, True)[w - 1 :]
    np.testing.assert_allclose(whole[tail], expected, rtol=1e-5)
    np.testing.assert_allclose(chunked[tail], expected, rtol=1e-5)


def test_moving_window_delay_and_validation() -> None:
    rms = MovingRms(FS, 0.1)
    assert rms.window == 200 and rms.delay_ms == pytest.approx(199 / 2 / FS * 1000)
    x, _ = gaussian_burst(6000, FS, 1.5, 0.15)
    mav = MovingMav(FS, 0.1)
    measured = centroid_ms(mav.process(x), FS) - centroid_ms(np.abs(x), FS)
    assert measured == pytest.approx(mav.delay_ms, abs=1.0)
    with pytest.raises(ValueError, match="window_s"):
        MovingRms(FS, 0.0)
    with pytest.raises(ValueError, match="shorter than one sample at fs=200 Hz"):
        MovingRms(200.0, 0.001)
    with pytest.raises(ValueError, match="MovingRms was started with 2 channel"):
        rms.process(np.zeros((5, 2)))
        rms.process(np.zeros((5, 3)))


@pytest.mark.parametrize("fs", [200.0, 2000.0])
def test_rectified_envelope_delay_matches_measured_lag(fs: float) -> None:
    env = RectifiedEnvelope(fs)
    assert env.delay_ms == pytest.approx(37.5, abs=1.0)  # ARCHITECTURE.md: ~38 ms at 6 Hz, 2nd order
    n = int(4 * fs)
    x, _ = gaussian_burst(n, fs, 2.0, 0.2, seed=4)
    y = env.process(x)
    lag = centroid_ms(y, fs) - centroid_ms(np.abs(x), fs)
    assert lag == pytest.approx(env.delay_ms, abs=2.0)
    # A step in amplitude: the envelope crosses half the final level ~delay_ms after the step.
    step = np.ones(n, dtype=np.float32)
    step[: n // 2] = 0.0
    y = RectifiedEnvelope(fs).process(step)[:, 0]
    crossing_ms = (np.argmax(y >= 0.5) - n // 2) / fs * 1000.0
    assert crossing_ms == pytest.approx(env.delay_ms, abs=3.0)


def test_tkeo_definition() -> None:
    n, omega, amp = 500, 0.3, 2.0
    x = (amp * np.sin(omega * np.arange(n))).astype(np.float32)
    psi = tkeo(x)[:, 0]
    # For A sin(w n) the operator gives exactly A^2 sin^2(w) away from the edges.
    np.testing.assert_allclose(psi[1:-1], amp**2 * np.sin(omega) ** 2, rtol=1e-4)
    assert tkeo(np.empty((0, 2))).shape == (0, 2)
