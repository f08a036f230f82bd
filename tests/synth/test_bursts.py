"""The varied burst generator: deterministic, its truth where the activation leaves rest."""

from __future__ import annotations

import numpy as np
import pytest

from myoflow.synth.bursts import CONDITIONS, SHAPE_CLASSES, TrialConfig, generate_trial, mvc_trial


@pytest.mark.parametrize("shape", SHAPE_CLASSES)
def test_truth_onsets_are_where_the_activation_departs(shape: str) -> None:
    cfg = TrialConfig(shape=shape, fs=1000.0, duration_s=25.0, residual_pct=4.0, seed=11)
    trial = generate_trial(cfg)
    act = trial.truth.activation_pct[:, 0]
    assert trial.emg.shape == act.shape[:1] + (2,) and trial.emg.dtype == np.float32
    ons = trial.truth.onsets_s[0]
    assert ons.size >= 3 and ons[0] >= 2.0  # at least 2 s of rest first
    for on in ons:
        i = int(round(on * cfg.fs))
        assert act[i + 5] > act[i - 5] + 0.05  # rises right after the onset ...
        assert np.ptp(act[max(0, i - 100) : i - 1]) < 1e-9  # ... and was flat just before
    assert np.all(trial.truth.offsets_s[0] > ons)


def test_same_seed_same_trial_and_conditions_are_valid() -> None:
    for name, extra in CONDITIONS.items():
        cfg = TrialConfig(shape="double", fs=200.0, duration_s=12.0, seed=4, **extra)
        a, b = generate_trial(cfg), generate_trial(cfg)
        assert np.array_equal(a.emg, b.emg), name
        assert np.all(np.isfinite(a.emg)), name


def test_coactivation_follows_channel_0_and_mvc_trial_reaches_the_reference() -> None:
    trial = generate_trial(TrialConfig(shape="step", fs=2000.0, duration_s=20.0, coactivation=True, seed=2))
    on0, on1 = trial.truth.onsets_s
    assert set(np.round(on1, 6)) <= set(np.round(on0, 6))
    mvc = mvc_trial(trial)
    rms = np.sqrt(np.mean(mvc[int(2.5 * 2000) : int(4.5 * 2000)].astype(np.float64) ** 2, axis=0))
    assert np.allclose(rms, trial.mvc_uv, rtol=0.1)
