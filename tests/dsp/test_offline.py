"""The FFT zero-phase path must reproduce forward-backward IIR filtering (sosfiltfilt)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import signal

from myoflow.dsp.offline import envelope_zero_phase, zero_phase_fft, zero_phase_kernel_halfwidth
from myoflow.synth.emg import burst_activation, surface_emg


def _emg(fs: float, seconds: float, channels: int = 3, seed: int = 0) -> np.ndarray:
    n = int(fs * seconds)
    onsets = np.arange(1.0, seconds - 2, 3.0)
    act = np.stack(
        [
            burst_activation(n, fs, onsets + 0.2 * c, np.full(onsets.size, 1.2), 80.0 + 30 * c)
            for c in range(channels)
        ],
        axis=1,
    )
    return surface_emg(act + 3.0, fs, np.random.default_rng(seed))


@pytest.mark.parametrize("fs", [1000.0, 2000.0])
def test_zero_phase_fft_equals_sosfiltfilt_away_from_edges(fs: float) -> None:
    x = _emg(fs, 20.0)
    sos = signal.butter(4, [20, 450], "bandpass", fs=fs, output="sos")
    ref = signal.sosfiltfilt(sos, x.astype(np.float64), axis=0)
    ours = zero_phase_fft(x, fs, sos, passes=2)
    inner = slice(int(fs), -int(fs))
    err = np.max(np.abs(ours[inner] - ref[inner])) / np.max(np.abs(ref[inner]))
    assert err < 1e-3, f"max error {err:.2e} of peak"
    assert ours.dtype == np.float32 and ours.shape == x.shape


def test_zero_phase_fft_with_notch_cascade_and_block_boundaries() -> None:
    fs = 2000.0
    x = _emg(fs, 150.0, channels=2)  # longer than one FFT block: exercises overlap-save joins
    sos = np.vstack(
        [signal.butter(4, [20, 450], "bandpass", fs=fs, output="sos")]
        + [signal.tf2sos(*signal.iirnotch(f, 30, fs=fs)) for f in (50, 100, 150)]
    )
    ref = signal.sosfiltfilt(sos, x.astype(np.float64), axis=0)
    ours = zero_phase_fft(x, fs, sos, passes=2)
    inner = slice(int(3 * fs), -int(3 * fs))
    err = np.max(np.abs(ours[inner] - ref[inner])) / np.max(np.abs(ref[inner]))
    assert err < 2e-3


@pytest.mark.parametrize("fs", [1000.0, 2000.0])
def test_envelope_within_one_percent_of_reference(fs: float) -> None:
    x = _emg(fs, 30.0)
    bp = signal.butter(4, [20, 450], "bandpass", fs=fs, output="sos")
    lp = signal.butter(4, 6.0, "lowpass", fs=fs, output="sos")
    ref = signal.sosfiltfilt(lp, np.abs(signal.sosfiltfilt(bp, x.astype(np.float64), axis=0)), axis=0)
    ours = envelope_zero_phase(x, fs, bp, cutoff_hz=6.0, order=4, passes=2)
    inner = slice(int(fs), -int(fs))
    err = np.max(np.abs(ours[inner] - ref[inner]), axis=0) / np.max(ref[inner], axis=0)
    assert np.all(err < 0.01), f"envelope error {np.round(100 * err, 3)} % of peak"


@given(n=st.integers(min_value=1, max_value=3000))
def test_any_length_keeps_shape(n: int) -> None:
    fs = 1000.0
    x = np.random.default_rng(n).standard_normal((n, 2)).astype(np.float32)
    bp = signal.butter(2, [20, 200], "bandpass", fs=fs, output="sos")
    env = envelope_zero_phase(x, fs, bp)
    assert env.shape == (n, 2) and np.all(np.isfinite(env))


def test_scale_invariance() -> None:
    fs = 1000.0
    x = _emg(fs, 10.0, channels=1)
    bp = signal.butter(4, [20, 450], "bandpass", fs=fs, output="sos")
    base = envelope_zero_phase(x, fs, bp)
    for scale in (1e-3, 1e3):
        np.testing.assert_allclose(
            envelope_zero_phase(x * scale, fs, bp) / scale, base, rtol=1e-4, atol=1e-4 * base.max()
        )


def test_errors_name_the_problem() -> None:
    bp = signal.butter(2, [20, 90], "bandpass", fs=200, output="sos")
    with pytest.raises(ValueError, match=r"cut-off 150.0 Hz is impossible at fs=200.0 Hz"):
        envelope_zero_phase(np.zeros((100, 1)), 200, bp, cutoff_hz=150)
    with pytest.raises(ValueError, match="shape"):
        zero_phase_fft(np.zeros((2, 2, 2)), 200, bp)
    # a resonator that never decays is refused rather than silently truncated
    b, a = signal.iirpeak(50, 1e6, fs=1000)
    with pytest.raises(ValueError, match="does not decay"):
        zero_phase_kernel_halfwidth(signal.tf2sos(b, a), 1000, max_s=1.0)


@given(
    factor=st.integers(min_value=1, max_value=12),
    n_blocks=st.integers(min_value=1, max_value=5000),
    extra=st.integers(min_value=-11, max_value=11),
)
def test_upsampling_is_linear_interpolation_between_block_centres(
    factor: int, n_blocks: int, extra: int
) -> None:
    from myoflow.dsp.offline import _upsample_linear

    n = max(1, n_blocks * factor + extra)
    slow = np.random.default_rng(n_blocks).normal(size=(n_blocks, 2)).astype(np.float32)
    centres = np.arange(n_blocks) * factor + (factor - 1) / 2.0
    expected = np.stack([np.interp(np.arange(n), centres, slow[:, c]) for c in range(2)], axis=1)
    np.testing.assert_allclose(_upsample_linear(slow, factor, n), expected, rtol=1e-5, atol=1e-5)


def test_zero_phase_means_no_lag_and_time_symmetry() -> None:
    fs = 1000.0
    x = _emg(fs, 12.0, channels=1, seed=5)
    sos = signal.butter(4, [20, 450], "bandpass", fs=fs, output="sos")
    for passes in (1, 2):
        y = zero_phase_fft(x, fs, sos, passes=passes)
        lags = signal.correlation_lags(len(x), len(x))
        assert lags[np.argmax(signal.correlate(y[:, 0], x[:, 0]))] == 0
        # zero phase: reversing time commutes with the filter
        np.testing.assert_allclose(
            zero_phase_fft(x[::-1], fs, sos, passes=passes)[::-1], y, atol=1e-3 * np.abs(y).max()
        )
    env = envelope_zero_phase(x, fs, sos)
    causal = signal.sosfilt(signal.butter(2, 6.0, fs=fs, output="sos"), np.abs(signal.sosfilt(sos, x[:, 0])))
    lags = signal.correlation_lags(len(x), len(x))
    lag_zero = lags[np.argmax(signal.correlate(env[:, 0] - env.mean(), causal - causal.mean()))]
    assert lag_zero < -20  # the causal envelope lags the zero-phase one (the check can see a lag)


def test_dc_offset_comes_back_through_a_low_pass_and_not_through_a_band_pass() -> None:
    fs = 2000.0
    x = _emg(fs, 80.0, channels=2) + np.float32(2053.0)  # raw ADC counts; several FFT blocks
    inner = slice(int(2 * fs), -int(2 * fs))
    low = zero_phase_fft(x, fs, signal.butter(2, 30.0, fs=fs, output="sos"))
    assert np.mean(low[inner]) == pytest.approx(2053.0, abs=1.0)
    band = zero_phase_fft(x, fs, signal.butter(4, [20, 450], "bandpass", fs=fs, output="sos"))
    assert abs(np.mean(band[inner])) < 1.0


def test_notches_are_applied_forward_backward() -> None:
    fs = 2000.0
    x = _emg(fs, 20.0, channels=2) + np.float32(2053.0)
    bp = signal.butter(4, [20, 450], "bandpass", fs=fs, output="sos")
    notch = np.vstack([signal.tf2sos(*signal.iirnotch(f, 30, fs=fs)) for f in range(50, 451, 50)])
    low = signal.butter(4, 6.0, fs=fs, output="sos")
    ref = signal.sosfiltfilt(
        low, np.abs(signal.sosfiltfilt(np.vstack([bp, notch]), x.astype(np.float64), axis=0)), axis=0
    )
    ours = envelope_zero_phase(x, fs, bp, cutoff_hz=6.0, order=4, passes=2, notch_sos=notch)
    inner = slice(int(fs), -int(fs))
    assert np.max(np.abs(ours[inner] - ref[inner]) / ref[inner].max(axis=0)) < 0.005
    with pytest.raises(ValueError, match="passes must be 1"):
        zero_phase_fft(x, fs, bp, passes=3)


def test_threaded_blocks_give_the_serial_result_bit_for_bit() -> None:
    """Blocks filtered on several threads at once write the same values as one thread."""
    fs = 2000.0
    x = _emg(fs, 90.0, channels=4)  # several overlap-save blocks
    band = signal.butter(4, [20, 450], "bandpass", fs=fs, output="sos")
    notch = np.vstack([signal.tf2sos(*signal.iirnotch(f, 45.0, fs=fs)) for f in (50.0, 150.0)])
    serial = envelope_zero_phase(x, fs, band, notch_sos=notch, workers=1)
    threaded = envelope_zero_phase(x, fs, band, notch_sos=notch, workers=3)
    np.testing.assert_array_equal(threaded, serial)
    np.testing.assert_array_equal(
        zero_phase_fft(x, fs, band, notch_sos=notch, workers=3),
        zero_phase_fft(x, fs, band, notch_sos=notch, workers=1),
    )


def _exact_zero_phase(x: np.ndarray, fs: float, stages: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """One float64 FFT over the whole recording, both ends extended by 10 s of odd reflection:
    the zero-phase response with no blocks, no kernel truncation and no float32."""
    pad = int(10 * fs)
    x = x.astype(np.float64)
    ext = np.concatenate([2 * x[0] - x[pad:0:-1], x, 2 * x[-1] - x[-2 : -pad - 2 : -1]])
    n = ext.shape[0]
    freqs = np.fft.rfftfreq(n, 1.0 / fs)
    gain = np.ones(freqs.size)
    for sos, power in stages:
        gain *= np.abs(signal.sosfreqz(sos, worN=freqs, fs=fs)[1]) ** power
    return np.fft.irfft(np.fft.rfft(ext, axis=0) * gain[:, None], n=n, axis=0)[pad : pad + x.shape[0]]


def test_blocks_match_one_exact_float64_fft() -> None:
    """Overlap-save blocks, two channels per complex FFT (3 channels: one padded), float32
    and the truncated kernel together stay within 5e-5 of the peak of the exact answer (a DC
    offset and mains hum included, as raw straps deliver)."""
    fs = 2000.0
    hum = 15.0 * np.sin(2 * np.pi * 50.0 * np.arange(int(130 * fs)) / fs)
    x = (_emg(fs, 130.0, channels=3) + hum[:, None] + 250.0).astype(np.float32)
    band = signal.butter(4, [20, 450], "bandpass", fs=fs, output="sos")
    notch = np.vstack([signal.tf2sos(*signal.iirnotch(f, 46.6, fs=fs)) for f in (50.0, 100.0, 150.0)])
    ours = zero_phase_fft(x, fs, band, passes=1, notch_sos=notch)
    exact = _exact_zero_phase(x, fs, [(band, 1), (notch, 2)])
    inner = slice(int(3 * fs), -int(3 * fs))
    err = np.max(np.abs(ours[inner] - exact[inner]), axis=0) / np.max(np.abs(exact[inner]), axis=0)
    assert np.all(err < 5e-5), f"error {err} of peak"


def test_lost_samples_spoil_only_their_own_channel() -> None:
    """Channels 2k and 2k + 1 share a complex FFT; a NaN in one must not reach the other."""
    fs = 2000.0
    x = _emg(fs, 60.0, channels=4).astype(np.float32)
    band = signal.butter(4, [20, 450], "bandpass", fs=fs, output="sos")
    clean = envelope_zero_phase(x, fs, band)
    x[50_000:50_010, 0] = np.nan
    x[90_000, 3] = np.inf
    lost = envelope_zero_phase(x, fs, band)
    np.testing.assert_allclose(lost[:, [1, 2]], clean[:, [1, 2]], rtol=1e-5, atol=1e-5 * clean.max())
    assert np.isnan(lost[50_000:50_010, 0]).all() and not np.isfinite(lost[90_000, 3])
    filtered = zero_phase_fft(x, fs, band)
    np.testing.assert_allclose(filtered[:, 1], zero_phase_fft(x[:, 1], fs, band)[:, 0], atol=1e-3)


def test_half_rate_inverse_fft_gives_the_full_rate_envelope() -> None:
    """At 10 kHz the 20-450 Hz band is ~0 above fs / 4, so the inverse FFT runs at half the rate
    (bins dropped, not folded); the envelope must still be the exact one (the band filter at the
    full rate, rectified, averaged over 40-sample blocks, low-passed, interpolated) but for
    averaging |y| over every other sample: ~1e-3 of the peak."""
    fs = 10_000.0
    x = _emg(fs, 40.0, channels=2).astype(np.float32)
    bp = signal.butter(4, [20, 450], "bandpass", fs=fs, output="sos")
    ours = envelope_zero_phase(x, fs, bp)
    factor = 40  # fs // (40 x 6 Hz) = 41, even for the half-rate inverse
    rect = np.abs(_exact_zero_phase(x, fs, [(bp, 1)]))
    means = rect[: rect.shape[0] // factor * factor].reshape(-1, factor, 2).mean(axis=1)
    low = signal.butter(2, 6.0, fs=fs / factor, output="sos")
    smooth = _exact_zero_phase(means, fs / factor, [(low, 1)])
    centres = np.arange(smooth.shape[0]) * factor + (factor - 1) / 2
    exact = np.stack([np.interp(np.arange(x.shape[0]), centres, smooth[:, c]) for c in range(2)], axis=1)
    inner = slice(int(2 * fs), -int(2 * fs))
    assert np.max(np.abs(ours[inner] - exact[inner])) < 3e-3 * exact[inner].max()
