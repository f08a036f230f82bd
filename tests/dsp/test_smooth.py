"""The analysis envelope is never clamped: a positive-kernel smoother keeps power >= 0."""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt

from myoflow.analysis.activation import analysis_envelope
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.dsp.smooth import matched_lowpass, positive_lowpass, section_pole
from myoflow.synth.bursts import TrialConfig, generate_trial


def test_positive_lowpass_is_non_negative_where_a_butterworth_undershoots() -> None:
    fs = 1000.0
    x = np.zeros((4000, 1))
    x[1000:1200] = 100.0  # a burst of power, then silence
    old = sosfiltfilt(butter(2, 6.0, fs=fs, output="sos"), x, axis=0)
    assert old.min() < -1.0  # the zero-phase Butterworth undershoots below 0 ...
    new = positive_lowpass(x, fs, 6.0)
    assert new.min() >= 0.0  # ... the positive kernel cannot
    assert abs(new.sum() - x.sum()) / x.sum() < 1e-3  # and keeps the area (gain 1 at DC)


def test_cutoff_is_where_the_magnitude_says() -> None:
    fs, fc = 1000.0, 6.0
    a = section_pole(fs, fc, sections=2, gain_at_cutoff=0.5)
    w = 2 * np.pi * fc / fs
    h1 = (1 - a) / abs(1 - a * np.exp(-1j * w))
    assert abs(h1**4 - 0.5) < 1e-9


def test_analysis_envelope_has_no_clipped_zeros_on_a_hard_trial() -> None:
    # the old clamp set 4-20 % of samples to exactly 0 after bursts
    for fs in (200.0, 2000.0):
        trial = generate_trial(TrialConfig(shape="step", fs=fs, duration_s=20.0, snr=30.0, seed=3))
        env = envelope_offline(trial.emg, fs, profile_for_rate(fs))
        ae = analysis_envelope(env, fs)
        assert np.all(ae > 0), fs
        assert np.all(np.isfinite(ae))


def test_constant_input_passes_unchanged_and_edges_hold() -> None:
    x = np.full((500, 2), 3.0)
    assert np.allclose(matched_lowpass(x, 100.0, 6.0), 3.0)
    one = positive_lowpass(np.array([0.0, 0.0, 5.0, 0.0]), 100.0, 6.0)
    assert one.shape == (4,) and one.min() >= 0.0


def _lfilter_passes(x: np.ndarray, fs: float, cutoff_hz: float, sections: int, gain: float) -> np.ndarray:
    """The smoother's definition, one ``lfilter`` pass at a time (each from the steady state of
    its first input), forwards then backwards: what the cascade must give bit for bit."""
    from scipy.signal import lfilter

    a = section_pole(fs, cutoff_hz, sections, gain)
    y = np.ascontiguousarray(np.asarray(x, dtype=np.float64).reshape(len(x), -1).T)
    for _ in range(2):
        for _ in range(sections):
            y, _z = lfilter([1.0 - a], [1.0, -a], y, axis=1, zi=a * y[:, :1])
        y = y[:, ::-1]
    return y.T.reshape(np.shape(x))


def test_cascade_of_complex_pairs_gives_the_lfilter_passes_bit_for_bit() -> None:
    rng = np.random.default_rng(11)
    for shape in [(900, 8), (901, 3), (5000, 1), (3000,), (1, 2), (64, 5)]:
        x = 100.0 * rng.standard_normal(shape) ** 2
        x[: shape[0] // 4] = 0.0  # an exact-zero stretch: signed zeros must match too
        for fs, fc, sections, gain in (
            (200.0, 7.5, 4, 2**-0.5),
            (2000.0, 6.0, 2, 0.5),
            (100.0, 40.0, 3, 0.5),
        ):
            got = positive_lowpass(x, fs, fc, sections, gain)
            want = _lfilter_passes(x, fs, fc, sections, gain)
            assert got.shape == want.shape
            assert np.array_equal(got, want), (shape, fs)
            assert np.array_equal(np.signbit(got), np.signbit(want))
    # a long recording is filtered a few channels at a time: still the same numbers
    long = rng.random((1_100_000, 3))
    assert np.array_equal(positive_lowpass(long, 200.0, 7.5), _lfilter_passes(long, 200.0, 7.5, 2, 0.5))


def test_a_lost_sample_stays_in_its_own_channel() -> None:
    x = np.random.default_rng(2).random((800, 3))
    x[100, 0] = np.nan
    got = positive_lowpass(x, 200.0, 7.5)
    assert np.isfinite(got[:, 1:]).all()
    assert np.array_equal(got, _lfilter_passes(x, 200.0, 7.5, 2, 0.5), equal_nan=True)
