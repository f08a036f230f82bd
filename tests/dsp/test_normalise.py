"""MVC reference, combination of trials, and % MVC normalisation."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from myoflow.dsp.normalise import PercentMvc, combine_mvc, mvc_reference

FS = 1000.0


def test_reference_of_known_plateaus() -> None:
    """Plateaus of known height: the 0.5 s moving average peaks at the plateau level."""
    n = int(3 * FS)
    env = np.full((n, 2), 10.0)
    env[1000:1800, 0] = 250.0  # 0.8 s at 250 uV: a full window fits
    env[1000:1250, 1] = 400.0  # 0.25 s at 400 uV: half a window, averaged with 10 uV
    env[2000:2001, 1] = 1e4  # a 1-sample spike is diluted by the window
    ref = mvc_reference(env, FS, window_s=0.5)
    assert ref.shape == (2,) and ref.dtype == np.float64
    assert ref[0] == pytest.approx(250.0)
    assert ref[1] == pytest.approx((250 * 400.0 + 250 * 10.0) / 500)
    # The spike's 0.5 s window averages (1e4 + 499 * 10) / 500 = 29.98 uV, below the plateau;
    # with a 1-sample window the spike would set the reference.
    assert mvc_reference(env, FS, window_s=0.001)[1] == 1e4


def test_reference_of_noisy_envelope() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(int(4 * FS)) / FS
    level = np.where((t > 1.0) & (t < 3.0), 120.0, 5.0)
    env = (level * (1 + 0.1 * rng.standard_normal(t.size)))[:, None].astype(np.float32)
    (ref,) = mvc_reference(env, FS)
    assert abs(ref - 120.0) < 3.0  # the peak of 2 s / 0.5 s windows of 10 % ripple


def test_reference_is_linear_in_scale() -> None:
    rng = np.random.default_rng(4)
    env = np.abs(rng.standard_normal((3000, 3))) * [1.0, 5.0, 50.0]
    ref = mvc_reference(env, FS, 0.2)
    np.testing.assert_allclose(mvc_reference(env * 1e3, FS, 0.2), ref * 1e3, rtol=1e-6)


def test_reference_skips_non_finite_windows() -> None:
    env = np.full((2000, 1), 20.0)
    env[100:600] = 90.0
    env[300] = np.nan  # every window over the 90 plateau touches the NaN
    (ref,) = mvc_reference(env, FS, 0.5)
    assert np.isfinite(ref)
    assert ref < 90.0
    assert ref == pytest.approx((299 * 90.0 + 201 * 20.0) / 500)  # window [0.301 s, 0.801 s) wins


def test_reference_errors() -> None:
    with pytest.raises(ValueError, match=r"lasts 0\.3 s \(300 samples at 1000 Hz\).*0\.5 s"):
        mvc_reference(np.ones((300, 2)), FS, window_s=0.5)
    with pytest.raises(ValueError, match="channel 1 has no 0.5 s window of finite data"):
        mvc_reference(np.c_[np.ones(600), np.full(600, np.nan)], FS)
    with pytest.raises(ValueError, match="window_s"):
        mvc_reference(np.ones((600, 1)), FS, window_s=-1.0)
    with pytest.raises(ValueError, match="fs"):
        mvc_reference(np.ones((600, 1)), 0.0)


def test_combine_takes_channel_maximum() -> None:
    trials = [np.array([100.0, 40.0, np.nan]), np.array([80.0, 55.0, np.nan]), [90.0, 10.0, 7.0]]
    np.testing.assert_array_equal(combine_mvc(trials), [100.0, 55.0, 7.0])
    only_nan = combine_mvc([np.array([1.0, np.nan]), np.array([2.0, np.nan])])
    assert only_nan[0] == 2.0 and np.isnan(only_nan[1])
    with pytest.raises(ValueError, match="at least one"):
        combine_mvc([])
    with pytest.raises(ValueError, match=r"same number of channels, got sizes \[2, 3\]"):
        combine_mvc([np.ones(2), np.ones(3)])


def test_percent_mvc() -> None:
    norm = PercentMvc([200.0, 50.0], channel_labels=["glute_max_r", "biceps_femoris_r"])
    out = norm(np.array([[100.0, 50.0], [200.0, 12.5]]))
    assert out.dtype == np.float32 and out.flags.c_contiguous
    np.testing.assert_allclose(out, [[50.0, 100.0], [100.0, 25.0]], rtol=1e-6)
    np.testing.assert_allclose(PercentMvc([4.0])(np.array([1.0, 2.0])), [[25.0], [50.0]])


@pytest.mark.parametrize("missing", [None, np.nan, 0.0, -3.0])
def test_percent_mvc_missing_reference(missing) -> None:
    norm = PercentMvc([120.0, missing], channel_labels=["biceps_femoris_r", "glute_max_r"])
    assert norm.has_reference.tolist() == [True, False]
    msg = "no MVC reference for channel 'glute_max_r': run the MVC calibration first"
    with pytest.raises(ValueError, match=re.escape(msg)):
        norm(np.ones((4, 2)))
    with pytest.raises(ValueError, match=re.escape("channel 'ch1'")):
        PercentMvc([1.0, missing])(np.ones((4, 2)))


def test_percent_mvc_argument_errors() -> None:
    with pytest.raises(ValueError, match="2 label"):
        PercentMvc([1.0, 2.0, 3.0], channel_labels=["a", "b"])
    with pytest.raises(ValueError, match="started with 2 channel"):
        PercentMvc([1.0, 2.0])(np.ones((3, 3)))
    with pytest.raises(ValueError, match="must hold numbers"):
        PercentMvc(["strong", 2.0])


@given(
    ref=st.lists(st.floats(1e-3, 1e4), min_size=1, max_size=4),
    scale=st.sampled_from([1e-3, 1.0, 1e3]),
    seed=st.integers(0, 1000),
)
def test_percent_mvc_scale_free(ref, scale, seed) -> None:
    """Envelope and reference in uV or mV give the same % MVC; chunks do not matter."""
    env = np.random.default_rng(seed).uniform(0, 2, (20, len(ref))) * np.array(ref)
    a = PercentMvc(ref)(env)
    b = PercentMvc(np.array(ref) * scale)(env * scale)
    np.testing.assert_allclose(a, b, rtol=1e-5)
    np.testing.assert_array_equal(np.concatenate([PercentMvc(ref)(env[:7]), a[7:]]), a)
    np.testing.assert_allclose(a, 100 * env / np.array(ref), rtol=1e-5)
