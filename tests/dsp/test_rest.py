"""Rest baselines from each channel's quietest window."""

from __future__ import annotations

import numpy as np
import pytest

from myoflow.dsp.rest import quietest_baseline


def test_each_channel_gets_its_own_quietest_window() -> None:
    fs = 100.0
    rng = np.random.default_rng(0)
    env = 10.0 + rng.normal(0.0, 1.0, (3000, 2))
    env[1000:1200, 0] = 2.0 + rng.normal(0.0, 0.1, 200)  # channel 0 rests at 10-12 s
    env[2400:2600, 1] = 3.0 + rng.normal(0.0, 0.2, 200)  # channel 1 rests at 24-26 s
    base = quietest_baseline(env, fs, window_s=1.0)
    assert base.mean[0] == pytest.approx(2.0, abs=0.05)
    assert base.sd[0] == pytest.approx(0.1, abs=0.03)
    assert base.mean[1] == pytest.approx(3.0, abs=0.05)
    assert base.sd[1] == pytest.approx(0.2, abs=0.05)


def test_the_ends_are_skipped_and_short_input_is_refused() -> None:
    fs = 100.0
    env = np.full((1000, 1), 5.0) + np.random.default_rng(1).normal(0, 0.5, (1000, 1))
    env[:40] = 0.0  # a filter start-up dip is not rest
    assert quietest_baseline(env, fs, window_s=1.0, skip_s=0.5).mean[0] > 4.0
    with pytest.raises(ValueError, match=r"lasts 1.00 s: too short for a 1.0 s rest window"):
        quietest_baseline(env[:100], fs)


def test_any_length_gives_full_windows() -> None:
    fs = 100.0
    rng = np.random.default_rng(2)
    for n in range(250, 420, 7):  # lengths that are not multiples of the search stride
        env = 5.0 + rng.normal(0, 0.5, (n, 2))
        env[-110:, 1] = 1.0 + rng.normal(0, 0.01, 110)  # the quietest window sits at the very end
        base = quietest_baseline(env, fs, window_s=1.0, skip_s=0.0)
        assert base.mean[1] == pytest.approx(1.0, abs=0.01)


def test_windows_with_lost_samples_are_never_chosen() -> None:
    fs = 100.0
    rng = np.random.default_rng(4)
    env = 5.0 + rng.normal(0, 0.5, (2000, 1))
    env[900:1000] = 0.5 + rng.normal(0, 0.05, (100, 1))  # quiet, but lost samples every 0.4 s
    env[900:1000:40] = np.nan
    env[1500:1600] = 2.0 + rng.normal(0, 0.05, (100, 1))  # the quietest window without a gap
    base = quietest_baseline(env, fs, window_s=0.5)
    assert base.mean[0] == pytest.approx(2.0, abs=0.1)
    with pytest.raises(ValueError, match="no 1.0 s window without lost samples"):
        quietest_baseline(np.where(np.arange(300)[:, None] % 50 == 0, np.nan, env[:300]), fs)


def test_the_sd_floor_scale_is_the_largest_finite_magnitude() -> None:
    from myoflow.dsp.rest import _largest_magnitude

    rng = np.random.default_rng(5)
    x = rng.normal(0, 3, (500, 3)).astype(np.float32)
    assert _largest_magnitude(x) == float(np.abs(x).max())
    x[7, 1] = -40.0
    assert _largest_magnitude(x) == 40.0
    x[9, 0] = np.nan  # NaN is ignored
    assert _largest_magnitude(x) == 40.0
    x[11, 2] = -np.inf  # inf counts
    assert _largest_magnitude(x) == np.inf
    assert _largest_magnitude(np.full((4, 2), np.nan, np.float32)) == 1.0  # nothing finite


def test_a_rest_window_of_exact_zeros_gets_the_tiny_absolute_floor() -> None:
    # mean 0 and SD 0: the floor is 1e-9 of the largest |value| on the window search grid
    fs = 100.0
    env = np.zeros((3000, 2))
    env[1000:1500] = [5.0, 7.0]
    base = quietest_baseline(env, fs)
    assert base.mean.tolist() == [0.0, 0.0]
    np.testing.assert_allclose(base.sd, [7e-9, 7e-9])
