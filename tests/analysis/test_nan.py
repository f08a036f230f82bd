"""Lost samples in analysis arrays: bridged for filtering, never turned into data."""

from __future__ import annotations

import warnings

import numpy as np

from myoflow.analysis._nan import interpolate_nan, mean_over_columns
from myoflow.analysis.activation import analysis_envelope


def test_interpolation_bridges_gaps_per_column() -> None:
    x = np.array([[1.0, np.nan], [np.nan, np.nan], [3.0, 5.0], [np.nan, 7.0]])
    out = interpolate_nan(x)
    np.testing.assert_allclose(out, [[1, 5], [2, 5], [3, 5], [3, 7]])
    assert np.isnan(x[1, 0])  # the input is untouched
    full = np.ones((3, 2))
    assert interpolate_nan(full) is full
    np.testing.assert_array_equal(interpolate_nan(np.full(3, np.nan)), np.zeros(3))


def test_row_means_of_empty_rows_are_nan_without_a_warning() -> None:
    x = np.array([[1.0, 3.0], [np.nan, np.nan], [np.nan, 4.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(mean_over_columns(x), [2.0, np.nan, 4.0])


def test_the_envelope_next_to_a_gap_is_not_pulled_down() -> None:
    fs = 200.0
    env = np.full((2000, 1), 30.0)
    env[1000:1040] = np.nan  # 0.2 s lost while the muscle holds 30 % MVC
    out = analysis_envelope(env, fs)
    assert np.isnan(out[1000:1040]).all()
    near = np.r_[out[960:1000, 0], out[1040:1080, 0]]
    np.testing.assert_allclose(near, 30.0, rtol=1e-3)  # with zero-filling this fell to ~15


def test_reductions_of_missing_or_empty_windows_are_nan_without_warnings() -> None:
    from myoflow.analysis._nan import nan_max, nan_mean, nan_min

    x = np.array([[np.nan, 1.0], [np.nan, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(nan_max(x), [np.nan, 3.0])
        np.testing.assert_allclose(nan_min(x), [np.nan, 1.0])
        np.testing.assert_allclose(nan_mean(x), [np.nan, 2.0])
        assert np.isnan(nan_max(np.empty(0))) and np.isnan(nan_mean(np.full(3, np.nan)))
        assert nan_max(np.array([2.0, np.nan, 5.0])) == 5.0


def test_a_step_out_of_lost_samples_is_not_a_crossover() -> None:
    from myoflow.analysis.handover import find_crossover

    fs = 100.0
    n = 200
    glute = np.full(n, 30.0)
    ham = np.full(n, 10.0)  # the glute dominates throughout: share 0.75
    glute[50:60] = np.nan  # lost samples
    active = np.ones(n, bool)
    assert find_crossover(glute, ham, fs, 0.0, 0.2, 1.8, active) is None
    ham[120:] = 40.0  # now the hamstrings dominate ...
    glute[160:] = 80.0  # ... until the glute takes over: one real crossing
    cross = find_crossover(glute, ham, fs, 0.0, 0.2, 1.9, active, hold_s=0.1)
    assert cross is not None and abs(cross - 1.6) < 0.05  # a step: the refined crossing is within 50 ms


def test_no_onset_time_when_the_rise_happened_while_samples_were_lost() -> None:
    from myoflow.analysis.activation import ActivationParams, RestLevels, muscle_activation

    fs = 100.0
    env = np.full((400, 1), 1.0)
    env[190:] = 40.0  # the muscle switches on at 1.9 s, 0.1 s before the movement ...
    levels = RestLevels(np.array([1.0]), np.array([0.3]), np.array([2.0]), np.array([3.0]))
    args = dict(fs=fs, t0=0.0, start_s=2.0, top_s=3.0, bottom_s=3.9, levels=levels, params=ActivationParams())
    seen = muscle_activation(env, **args)[0]
    assert seen.onset_ms is not None and abs(seen.onset_ms + 100.0) < 20.0
    lost = env.copy()
    lost[170:210] = np.nan  # ... while 0.4 s of data were lost
    assert muscle_activation(lost, **args)[0].onset_ms is None
