"""The per-rep filters' cheaper zero-phase filter gives SciPy's ``sosfiltfilt`` numbers bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt

from myoflow.analysis._lowpass import pad_length, zero_phase
from myoflow.analysis.activation import crossover_envelope
from myoflow.analysis.fatigue import HIGHPASS_HZ, highpassed
from myoflow.analysis.reps import smooth_trace

DESIGNS = {
    "crossover 6 Hz at 2 kHz": butter(2, 6.0, fs=2000.0, output="sos"),
    "fatigue high-pass": butter(4, 20.0, btype="highpass", fs=2000.0, output="sos"),
    "angle 5 Hz at 100 Hz": butter(2, 5.0, fs=100.0, output="sos"),
    "band-pass, 3 sections": butter(3, (20.0, 450.0), btype="bandpass", fs=2000.0, output="sos"),
}


@pytest.mark.parametrize("name", DESIGNS)
@pytest.mark.parametrize("shape", [(6000, 6), (3001, 8), (4000, 3), (700,), (200, 1), (48, 2)])
def test_zero_phase_is_sosfiltfilt_bit_for_bit(name: str, shape: tuple[int, ...]) -> None:
    sos = DESIGNS[name]
    rng = np.random.default_rng(len(shape) * 100 + shape[0])
    for scale in (1e-6, 1.0, 1e6):
        # envelope-like power (non-negative, bursts) and a zero-mean signal, one column constant
        x = scale * rng.standard_normal(shape) ** 2
        x[shape[0] // 3 : shape[0] // 2] *= 50.0
        if x.ndim == 2 and x.shape[1] > 2:
            x[:, 2] = 0.0
        for sig in (x, x - x.mean(axis=0)):
            got = zero_phase(sos, sig)
            want = sosfiltfilt(sos, sig, axis=0)
            assert got.shape == want.shape and got.dtype == np.float64
            assert np.array_equal(got, want), (
                f"{name} {shape} scale {scale}: max diff {np.abs(got - want).max()}"
            )


def test_zero_phase_too_short_names_the_length() -> None:
    sos = DESIGNS["fatigue high-pass"]
    n = pad_length(sos)
    with pytest.raises(ValueError, match=f"more than {n} samples, got {n}"):
        zero_phase(sos, np.ones((n, 2)))


def test_the_rep_filters_keep_sosfiltfilt_numbers() -> None:
    """Crossover envelope (with a lost stretch), the stall's angle trace and the fatigue
    high-pass: what the metrics got from ``sosfiltfilt`` before."""
    rng = np.random.default_rng(7)
    env = np.abs(rng.standard_normal((5000, 6))).astype(np.float32) * 20
    env[1200:1300, 1] = np.nan
    got = crossover_envelope(env, 2000.0, 6.0)
    bridged = np.array(env, dtype=np.float64)
    for c in range(6):
        bad = ~np.isfinite(bridged[:, c])
        bridged[bad, c] = np.interp(np.flatnonzero(bad), np.flatnonzero(~bad), bridged[~bad, c])
    power = sosfiltfilt(butter(2, 6.0, fs=2000.0, output="sos"), np.square(bridged), axis=0)
    want = np.sqrt(np.maximum(power, 0.0)).astype(np.float32)
    want[~np.isfinite(env)] = np.nan
    assert np.array_equal(got, want, equal_nan=True)

    angle = np.cumsum(rng.standard_normal(400))
    assert np.array_equal(
        smooth_trace(angle, 100.0, 5.0), sosfiltfilt(butter(2, 5.0, fs=100.0, output="sos"), angle)
    )

    raw = rng.standard_normal((3000, 8))
    hp = butter(4, HIGHPASS_HZ, btype="highpass", fs=2000.0, output="sos")
    assert np.array_equal(highpassed(raw, 2000.0), sosfiltfilt(hp, raw, axis=0))


def test_channels_filtered_in_pairs_equal_each_channel_alone() -> None:
    """Two channels ride in one complex signal: each gets the numbers it gets alone, whatever
    its neighbour holds (a rep's crossover envelopes, one channel at a time as before)."""
    rng = np.random.default_rng(3)
    env = (np.abs(rng.standard_normal((4000, 5))) * [1.0, 1e3, 1e-3, 50.0, 0.0]).astype(np.float32)
    env[:, 4] = 0.0  # a silent channel beside a loud one
    together = crossover_envelope(env, 2000.0, 6.0)
    for c in range(env.shape[1]):
        alone = crossover_envelope(env[:, [c]], 2000.0, 6.0)
        assert np.array_equal(together[:, c], alone[:, 0]), c
    sos = DESIGNS["fatigue high-pass"]
    x = rng.standard_normal((3000, 4))
    assert np.array_equal(zero_phase(sos, x)[:, 1:3], zero_phase(sos, x[:, 1:3]))


def test_a_lost_sample_stays_in_its_own_channel() -> None:
    """A NaN or inf filtered as a complex pair would spoil its partner (``0 * nan``): such
    input is filtered channel by channel, as ``sosfiltfilt`` does."""
    rng = np.random.default_rng(5)
    sos = DESIGNS["fatigue high-pass"]
    for bad in (np.nan, np.inf):
        x = rng.standard_normal((2000, 4))
        x[700, 1] = bad
        got, want = zero_phase(sos, x), sosfiltfilt(sos, x, axis=0)
        assert np.array_equal(got, want, equal_nan=True)
        assert np.isfinite(got[:, [0, 2, 3]]).all()
