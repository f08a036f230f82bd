"""Filter design: measured responses at the rates straps use, notch folding, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from myoflow.dsp.design import (
    NotchDesign,
    as_sos,
    bandpass,
    default_band,
    group_delay_ms,
    highpass,
    lowpass,
    mains_notch,
    passband,
)
from myoflow.dsp.filters import SosFilter

RATES = (200.0, 1000.0, 2000.0)


def measured_gain_db(sos: np.ndarray, fs: float, freq: float, seconds: float = 6.0) -> float:
    """Steady-state gain (dB) of ``sos`` at ``freq``: a sinusoid through :class:`SosFilter`,
    amplitude fitted by least squares over the second half (after the transient)."""
    t = np.arange(int(seconds * fs)) / fs
    x = np.sin(2 * np.pi * freq * t)
    x[0] = 0.0  # start from rest
    y = SosFilter(sos, fs).process(x)[:, 0].astype(np.float64)
    half = slice(len(t) // 2, None)
    basis = np.stack([np.sin(2 * np.pi * freq * t[half]), np.cos(2 * np.pi * freq * t[half])], 1)
    coef, *_ = np.linalg.lstsq(basis, y[half], rcond=None)
    return float(20 * np.log10(np.hypot(*coef)))


@pytest.mark.parametrize("fs", RATES)
def test_bandpass_measured_edges_are_minus_3_db(fs: float) -> None:
    low, high = default_band(fs)
    sos = bandpass(fs, low, high, order=4)
    assert sos.shape == (4, 6) and sos.dtype == np.float64
    assert measured_gain_db(sos, fs, low) == pytest.approx(-3.01, abs=0.1)
    assert measured_gain_db(sos, fs, high) == pytest.approx(-3.01, abs=0.1)
    assert measured_gain_db(sos, fs, np.sqrt(low * high)) == pytest.approx(0.0, abs=0.2)
    assert measured_gain_db(sos, fs, low / 4) < -40.0  # 24 dB/octave below the band


@pytest.mark.parametrize("fs", RATES)
def test_highpass_and_lowpass_measured_cutoffs(fs: float) -> None:
    hp = highpass(fs, 20.0, order=4)
    assert measured_gain_db(hp, fs, 20.0) == pytest.approx(-3.01, abs=0.1)
    assert measured_gain_db(hp, fs, 5.0) < -45.0
    assert measured_gain_db(hp, fs, 0.3 * fs) == pytest.approx(0.0, abs=0.1)
    cut = 0.2 * fs
    lp = lowpass(fs, cut, order=2)
    assert measured_gain_db(lp, fs, cut) == pytest.approx(-3.01, abs=0.1)
    assert measured_gain_db(lp, fs, cut / 10) == pytest.approx(0.0, abs=0.1)
    env = lowpass(fs, 6.0, order=2)
    assert measured_gain_db(env, fs, 6.0, seconds=10.0) == pytest.approx(-3.01, abs=0.1)


def test_notch_at_mains_deep_and_narrow() -> None:
    notch = mains_notch(2000.0, 50.0, band=(20.0, 450.0))
    assert notch.freqs_hz == tuple(50.0 * k for k in range(1, 10))
    one = mains_notch(2000.0, 50.0, band=(20.0, 450.0), max_harmonic_hz=50.0)
    assert one.freqs_hz == (50.0,) and one.sos.shape == (1, 6)
    assert measured_gain_db(one.sos, 2000.0, 50.0) < -20.0
    assert measured_gain_db(one.sos, 2000.0, 45.0) > -1.0
    assert measured_gain_db(one.sos, 2000.0, 55.0) > -1.0
    for f in (100.0, 250.0, 450.0):
        assert measured_gain_db(notch.sos, 2000.0, f) < -20.0


def test_notch_folds_harmonics_at_low_rate() -> None:
    # 60 Hz mains sampled at 200 Hz: 120 -> 80, 180 -> 20, 240 -> 40; 300 -> 100 = Nyquist: dropped.
    notch = mains_notch(200.0, 60.0, band=default_band(200.0))
    assert isinstance(notch, NotchDesign)
    assert notch.freqs_hz == (20.0, 40.0, 60.0, 80.0)
    for f in notch.freqs_hz:
        assert measured_gain_db(notch.sos, 200.0, f, seconds=20.0) < -20.0
        assert measured_gain_db(notch.sos, 200.0, f + 4.0) > -1.0


def test_notch_drops_centres_near_zero_and_nyquist_and_out_of_band() -> None:
    freqs = mains_notch(202.0, 50.0).freqs_hz  # 100 Hz sits 1 Hz below Nyquist; 200 folds to 2 Hz
    assert 100.0 not in freqs and 2.0 not in freqs
    assert all(2.0 < f < 99.0 for f in freqs) and len(set(freqs)) == len(freqs)
    empty = mains_notch(200.0, 50.0, band=(20.0, 45.0))
    assert empty.sos.shape == (0, 6) and empty.freqs_hz == ()


def test_impossible_bands_name_rate_and_band() -> None:
    with pytest.raises(
        ValueError,
        match=(
            r"band-pass 20-450 Hz is impossible at fs=200 Hz"
            r".*Nyquist frequency \(100 Hz\).*low-rate profile"
        ),
    ):
        bandpass(200, 20, 450)
    with pytest.raises(ValueError, match=r"band-pass 100-50 Hz at fs=1000 Hz: the lower edge"):
        bandpass(1000, 100, 50)
    with pytest.raises(ValueError, match=r"low-pass at 150 Hz is impossible at fs=200 Hz"):
        lowpass(200, 150)
    with pytest.raises(ValueError, match=r"high-pass at 500 Hz is impossible at fs=1000 Hz"):
        highpass(1000, 500)
    with pytest.raises(ValueError, match="cutoff must be a positive number"):
        highpass(1000, 0)
    with pytest.raises(ValueError, match="low must be a positive number"):
        bandpass(1000, -5, 100)
    with pytest.raises(ValueError, match="order must be an integer >= 1, got 0"):
        bandpass(1000, 20, 100, order=0)
    with pytest.raises(ValueError, match="'mains'.*got 55"):
        mains_notch(1000, 55)
    with pytest.raises(ValueError, match="fs"):
        bandpass(-200)
    with pytest.raises(ValueError, match="fs=40 Hz"):
        default_band(40.0)


def test_default_band_low_rate_profile() -> None:
    assert default_band(200.0) == (20.0, 90.0)
    assert default_band(1000.0) == (20.0, 450.0)
    assert default_band(2000.0) == (20.0, 450.0)


def test_group_delay_values() -> None:
    one_sample = np.array([[0.0, 1.0, 0.0, 1.0, 0.0, 0.0]])  # y[n] = x[n-1]
    assert group_delay_ms(one_sample, 500.0, 10.0, 200.0) == pytest.approx(2.0, rel=1e-9)
    # 2nd-order Butterworth: sqrt(2) / (2 pi fc) at 0 Hz, ~37.5 ms at 6 Hz.
    assert group_delay_ms(lowpass(2000.0, 6.0), 2000.0, 0.0, 0.0) == pytest.approx(
        np.sqrt(2) / (2 * np.pi * 6.0) * 1000, rel=0.01
    )
    notch = mains_notch(2000.0, 50.0, max_harmonic_hz=50.0).sos
    assert np.isfinite(group_delay_ms(notch, 2000.0, 0.0, 1000.0))
    with pytest.raises(ValueError, match=r"0-1500 Hz.*fs=2000 Hz"):
        group_delay_ms(notch, 2000.0, 0.0, 1500.0)


def test_passband_and_sos_checks() -> None:
    lo, hi = passband(bandpass(2000.0, 20.0, 450.0), 2000.0)
    assert lo == pytest.approx(20.0, abs=0.2) and hi == pytest.approx(450.0, abs=0.2)
    with pytest.raises(ValueError, match=r"shape \(n_sections, 6\)"):
        as_sos(np.ones((2, 5)))
    with pytest.raises(ValueError, match="unstable"):
        as_sos(np.array([[1.0, 0.0, 0.0, 1.0, -2.5, 1.2]]))
    with pytest.raises(ValueError, match="a0"):
        as_sos(np.array([[1.0, 0.0, 0.0, 2.0, 0.0, 0.0]]))
