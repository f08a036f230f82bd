"""EMG profiles and the composed pipeline: chunking, delays, live vs offline, impossible bands."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from myoflow.dsp.pipeline import (
    LOW_RATE,
    STANDARD,
    EmgPipeline,
    EmgProfile,
    envelope_offline,
    profile_for_rate,
)
from myoflow.synth.emg import burst_activation, surface_emg


def _emg(fs: float, seconds: float = 8.0, channels: int = 3, seed: int = 1) -> np.ndarray:
    n = int(fs * seconds)
    onsets = np.arange(1.0, seconds - 1.5, 2.0)
    act = np.stack(
        [
            burst_activation(n, fs, onsets + 0.1 * c, np.full(onsets.size, 0.8), 100.0)
            for c in range(channels)
        ],
        axis=1,
    )
    hum = 20.0 * np.sin(2 * np.pi * 50.0 * np.arange(n) / fs)[:, None]
    return surface_emg(act + 2.0, fs, np.random.default_rng(seed)) + hum.astype(np.float32) + 300.0


def test_profile_for_rate_picks_and_names_the_profile() -> None:
    assert profile_for_rate(2000).name == profile_for_rate(1000).name == "standard"
    assert profile_for_rate(200).name == profile_for_rate(500).name == "low_rate"
    assert profile_for_rate(1000, mains_hz=60).mains_hz == 60
    assert STANDARD.notch_freqs(1000) == (50, 100, 150, 200, 250, 300, 350, 400, 450)
    assert LOW_RATE.notch_freqs(200) == (50,)
    assert LOW_RATE.with_mains(60).notch_freqs(200) == (20, 60, 80)
    assert STANDARD.with_mains(None).notch_freqs(1000) == ()
    # >= 1 kHz: in-band harmonics only (nothing folded back from above Nyquist)
    assert STANDARD.with_mains(60).notch_freqs(1000) == (60, 120, 180, 240, 300, 360, 420)


def test_an_impossible_band_is_an_error_naming_rate_and_band() -> None:
    with pytest.raises(ValueError, match=r"20.*450 Hz.*200"):
        EmgPipeline(200.0, STANDARD)
    with pytest.raises(ValueError, match="envelope"):
        EmgProfile("bad", envelope="median")
    with pytest.raises(ValueError, match="mains_hz"):
        EmgProfile("bad", mains_hz=55)


@pytest.mark.parametrize("fs", [200.0, 1000.0, 2000.0])
def test_live_delay_fits_the_biofeedback_budget(fs: float) -> None:
    for mains in (50.0, 60.0):
        delay = EmgPipeline(fs, profile_for_rate(fs, mains)).delay_ms
        assert 30.0 < delay < 60.0


@given(cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=12))
def test_pipeline_streaming_equals_one_call(cuts: list[int]) -> None:
    for fs in (200.0, 1000.0):
        x = _emg(fs, seconds=4.0)
        whole = EmgPipeline(fs).process(x)
        pipe = EmgPipeline(fs)
        bounds = sorted({0, len(x), *[c % (len(x) + 1) for c in cuts]})
        parts = [pipe.process(x[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        np.testing.assert_allclose(
            np.concatenate([p.envelope for p in parts]), whole.envelope, rtol=1e-4, atol=1e-3
        )
        np.testing.assert_allclose(
            np.concatenate([p.filtered for p in parts]), whole.filtered, rtol=1e-4, atol=1e-3
        )


def test_reset_forgets_state() -> None:
    x = _emg(1000.0, seconds=2.0)
    pipe = EmgPipeline(1000.0)
    first = pipe.process(x).envelope
    pipe.reset()
    np.testing.assert_array_equal(pipe.process(x).envelope, first)


@pytest.mark.parametrize("fs", [200.0, 2000.0])
def test_offline_is_the_live_envelope_without_its_delay(fs: float) -> None:
    x = _emg(fs, seconds=20.0, channels=2)
    pipe = EmgPipeline(fs)
    live = pipe.process(x).envelope
    offline = envelope_offline(x, fs)
    inner = slice(int(2 * fs), -int(2 * fs))
    # same magnitude responses: same level on noise-like EMG
    np.testing.assert_allclose(live[inner].mean(axis=0), offline[inner].mean(axis=0), rtol=0.03)
    # offline has no lag; live lags by about its reported delay
    lags = np.arange(-int(0.2 * fs), int(0.2 * fs) + 1)
    a, b = offline[inner, 0] - offline[inner, 0].mean(), live[:, 0] - live[:, 0].mean()
    start = int(2 * fs)
    xc = [np.dot(a, b[start + k : start + k + a.size]) for k in lags]
    measured_ms = lags[int(np.argmax(xc))] / fs * 1000.0
    assert abs(measured_ms - pipe.delay_ms) < 0.35 * pipe.delay_ms, (measured_ms, pipe.delay_ms)


def test_mains_hum_and_dc_offset_do_not_reach_the_envelope() -> None:
    fs = 1000.0
    n = int(10 * fs)
    rest = surface_emg(np.full((n, 1), 2.0), fs, np.random.default_rng(3))
    hum = (50.0 * np.sin(2 * np.pi * 50.0 * np.arange(n) / fs)).astype(np.float32)[:, None]
    clean = envelope_offline(rest, fs)[int(fs) : -int(fs)].mean()
    humming = envelope_offline(rest + hum + 2053.0, fs)[int(fs) : -int(fs)].mean()
    assert humming < 1.5 * clean  # 25x the noise floor of hum adds < 50 %
