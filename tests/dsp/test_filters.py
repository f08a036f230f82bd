"""Stateful SOS filtering: chunking invariance, steady-state start, zero phase, cascades."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import signal

from myoflow.dsp import filters
from myoflow.dsp.design import bandpass, group_delay_ms, highpass, lowpass, mains_notch, passband
from myoflow.dsp.filters import SosFilter, cascade

FS = 1000.0


def split(x: np.ndarray, cuts: list[int]) -> list[np.ndarray]:
    """``x`` cut at the given sample indices (any order, repeats give empty chunks)."""
    return np.split(x, sorted(c % (len(x) + 1) for c in cuts))


def emg_like(n: int, ch: int, seed: int = 0, offset: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, ch)) * 50.0 + offset).astype(np.float32)


def band_and_notch(fs: float = FS) -> np.ndarray:
    return cascade(bandpass(fs, 20.0, 450.0), mains_notch(fs, 50.0, band=(20.0, 450.0)))


@given(cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_sosfilter_chunked_equals_one_call(cuts: list[int]) -> None:
    x = emg_like(700, 3, offset=2053.0)
    sos = band_and_notch()
    whole = SosFilter(sos, FS).process(x)
    f = SosFilter(sos, FS)
    chunked = np.concatenate([f.process(c) for c in split(x, cuts)])
    assert chunked.dtype == np.float32 and chunked.shape == x.shape
    np.testing.assert_allclose(chunked, whole, rtol=1e-5, atol=1e-3)


def test_sosfilter_matches_scipy_from_steady_state() -> None:
    x = emg_like(900, 2, seed=1, offset=300.0)
    sos = band_and_notch()
    zi = signal.sosfilt_zi(sos)[:, :, None] * x[0].astype(np.float64)[None, None, :]
    expected, _ = signal.sosfilt(sos, x.astype(np.float64), axis=0, zi=zi)
    np.testing.assert_allclose(SosFilter(sos, FS).process(x), expected, rtol=1e-5, atol=1e-3)


def test_public_sosfilt_fallback_gives_same_output(monkeypatch: pytest.MonkeyPatch) -> None:
    x = emg_like(500, 2, seed=2)
    sos = band_and_notch()
    fast = SosFilter(sos, FS)
    fast_out = np.concatenate([fast.process(x[:123]), fast.process(x[123:])])
    monkeypatch.setattr(filters, "_sos_kernel", None)
    slow = SosFilter(sos, FS)
    slow_out = np.concatenate([slow.process(x[:123]), slow.process(x[123:])])
    np.testing.assert_allclose(slow_out, fast_out, rtol=1e-6, atol=1e-4)


def test_dc_offset_causes_no_start_transient() -> None:
    rng = np.random.default_rng(3)
    x = (2053.0 + rng.standard_normal((2000, 2))).astype(np.float32)  # raw ADC counts
    y = SosFilter(highpass(FS, 20.0), FS).process(x)
    assert np.max(np.abs(y[:200])) < 5.0  # noise level (~1), no 2053-sized step response
    cold, _ = signal.sosfilt(highpass(FS, 20.0), x, axis=0, zi=np.zeros((2, 2, 2)))
    assert np.max(np.abs(cold[:200])) > 1000.0  # a filter started at rest would ring


def test_channel_count_fixed_empty_chunks_and_reset() -> None:
    f = SosFilter(lowpass(FS, 40.0), FS)
    empty = f.process(np.empty((0, 2), dtype=np.float32))
    assert empty.shape == (0, 2) and empty.dtype == np.float32
    x = emg_like(300, 2, seed=4)
    first = f.process(x)
    with pytest.raises(ValueError, match="started with 2 channel"):
        f.process(np.zeros((10, 3)))
    with pytest.raises(ValueError, match=r"shape \(n_samples, n_channels\)"):
        f.process(np.zeros((10, 2, 1)))
    assert f.process(np.empty((0, 2))).shape == (0, 2)
    f.reset()
    np.testing.assert_array_equal(f.process(x), first)
    mono = SosFilter(lowpass(FS, 40.0), FS).process(x[:, 0])
    assert mono.shape == (300, 1)
    np.testing.assert_array_equal(mono[:, 0], first[:, 0])


def test_delay_ms_over_passband() -> None:
    sos = bandpass(2000.0, 20.0, 450.0)
    f = SosFilter(sos, 2000.0)
    assert f.passband == pytest.approx(passband(sos, 2000.0))
    assert f.delay_ms == pytest.approx(group_delay_ms(sos, 2000.0, *f.passband))
    assert 0.5 < f.delay_ms < 10.0
    env = SosFilter(lowpass(2000.0, 6.0), 2000.0, passband=(0.0, 0.0))
    assert env.delay_ms == pytest.approx(37.5, abs=0.5)
    with pytest.raises(ValueError, match="passband 0-1200 Hz"):
        SosFilter(sos, 2000.0, passband=(0.0, 1200.0))


def test_cascade_is_sequential_filtering() -> None:
    bp, notch = bandpass(FS, 20.0, 300.0), mains_notch(FS, 50.0, band=(20.0, 300.0))
    both = cascade(bp, notch)
    assert both.shape == (bp.shape[0] + len(notch.freqs_hz), 6)
    x = emg_like(400, 1, seed=5).astype(np.float64)
    np.testing.assert_allclose(
        signal.sosfilt(both, x, axis=0), signal.sosfilt(notch.sos, signal.sosfilt(bp, x, axis=0), axis=0)
    )
    np.testing.assert_array_equal(cascade(bp, np.empty((0, 6))), bp)
    with pytest.raises(ValueError, match="at least one"):
        cascade()
