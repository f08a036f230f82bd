"""Slow ramps, the onset class the changepoint fit missed (issue 12: 34 / 23 / 17 ms median
error at 200 Hz / 1 kHz / 2 kHz against the 25 / 15 ms floors)."""

from __future__ import annotations

import numpy as np
import pytest

from myoflow.analysis.activity import session_onsets
from myoflow.analysis.onset_emg import RawEmg
from myoflow.dsp.onset_raw import refine_onset_raw, refine_sos
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.synth.bursts import CONDITIONS, TrialConfig, generate_trial


@pytest.mark.parametrize(("fs", "tol_ms"), [(200.0, 19.0), (1000.0, 12.0)])
def test_generated_ramps_within_the_floor(fs: float, tol_ms: float) -> None:
    """Ramps of the independent burst generator (0.3-1.5 s, linear or quarter-sine) in three
    conditions, through the analysis path. Before the resting tone was fitted and the onset
    taken as the posterior mean, these were 24.5 ms (200 Hz) and 18.7 ms (1 kHz) off; now
    about 14 and 8 ms."""
    errs = []
    for cond in ("clean", "mains50", "coactivation"):
        for seed in range(3):
            cfg = TrialConfig(shape="ramp", fs=fs, duration_s=20.0, seed=seed, **CONDITIONS[cond])
            trial = generate_trial(cfg)
            env = envelope_offline(trial.emg, fs, profile_for_rate(fs, cfg.mains_hz))
            raw = RawEmg(trial.emg, fs, 0.0, cfg.mains_hz)
            got = session_onsets(env, fs, None, method="changepoint", raw=raw)
            for c in range(2):
                for t in trial.truth.onsets_s[c]:
                    d = got.onsets_s[c] - t
                    if d.size and np.min(np.abs(d)) < 0.5:
                        errs.append(1000.0 * float(d[np.argmin(np.abs(d))]))
    assert len(errs) >= 80
    assert np.median(np.abs(errs)) <= tol_ms, np.median(np.abs(errs))


def _toned_ramp(fs: float, seed: int, tone: float, rise_s: float = 0.8) -> np.ndarray:
    """White 'EMG' whose amplitude is a resting tone plus a ramp from 4 s (the tone and the
    contraction are the same motor units: amplitudes add), plus unit white noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(7 * fs)) / fs
    amp = tone + 20.0 * np.clip((t - 4.0) / rise_s, 0.0, 1.0)
    return rng.standard_normal(t.size) * amp + rng.standard_normal(t.size)


@pytest.mark.parametrize("tone", [0.0, 1.0])
def test_resting_tone_does_not_bias_the_onset(tone: float) -> None:
    """The power at the foot of a ramp rises linearly with a resting tone and quadratically
    without one: the fit estimates how much of each (with the two fixed tone values of before,
    a tone as large as the noise put the onset 22 ms early; a tone 3x the noise still does,
    by about 20 ms: docs/metrics.md)."""
    fs = 1000.0
    sos = refine_sos(fs, 50.0)
    errs = []
    for seed in range(6):
        x = _toned_ramp(fs, seed, tone)
        at, _ = refine_onset_raw(x, fs, int(4.15 * fs), sos)
        errs.append((at / fs - 4.0) * 1000.0)
    assert abs(np.median(errs)) <= 12.0, errs
    assert np.median(np.abs(errs)) <= 15.0, errs
