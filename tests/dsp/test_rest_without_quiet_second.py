"""Rest levels on continuous movement, short windows, and 'no resting period found'."""

from __future__ import annotations

import numpy as np

from myoflow.analysis.activation import ActivationParams, analysis_envelope, normalise, rest_levels
from myoflow.dsp.onsets import Baseline, OnsetParams, detect_onsets
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.dsp.rest import quietest_baseline
from myoflow.synth.emg import emg_noise


def _gait_like(fs: float, seconds: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A burst every 1.1 s (0.45 s long) with 0.65 s of rest between: no quiet second."""
    n = int(seconds * fs)
    t = np.arange(n) / fs
    onsets = np.arange(0.7, seconds - 1.0, 1.1)
    amp = np.full(n, 3.0)
    for on in onsets:
        amp += 60.0 * np.clip(np.minimum((t - on) / 0.08, (on + 0.45 - t) / 0.08), 0, 1)
    emg = emg_noise(n, 1, fs, rng)[:, 0] * amp + rng.standard_normal(n) * 2.0
    return emg[:, None].astype(np.float32), onsets


def test_no_quiet_second_still_gives_a_threshold_below_the_bursts() -> None:
    fs = 1000.0
    emg, onsets = _gait_like(fs, 30.0, np.random.default_rng(1))
    env = envelope_offline(emg, fs, profile_for_rate(fs))
    ae = analysis_envelope(normalise(env, fs).envelope, fs)
    lv = rest_levels(ae, fs)
    assert lv.found(0)
    assert lv.onset_threshold[0] < 0.5 * np.percentile(ae, 99.5)
    h = 3.0
    base = Baseline(lv.mean, (lv.onset_threshold - lv.mean) / h)
    found = detect_onsets(ae, fs, base, OnsetParams(h, h, 0.05, 0.05))[0][:, 0] / fs
    # (timing is not the point here: the zero-phase envelope spreads a sharp burst ~0.1-0.2 s)
    hit = [np.any(np.abs(found - on) < 0.25) for on in onsets]
    assert np.mean(hit) >= 0.9  # every cycle's burst has an onset near it


def test_a_muscle_that_never_rests_is_marked_instead_of_a_threshold_above_its_peak() -> None:
    fs = 200.0
    rng = np.random.default_rng(2)
    t = np.arange(int(20 * fs)) / fs
    level = 40.0 + 10.0 * np.sin(2 * np.pi * 0.9 * t)  # always active, never below 30
    ae = (level * (1 + 0.2 * rng.standard_normal(t.size)))[:, None].astype(np.float32)
    ae = analysis_envelope(np.abs(ae), fs)
    lv = rest_levels(ae, fs)
    assert not lv.found(0)


def test_short_rest_window_is_allowed_even_on_a_flat_stretch() -> None:
    # rest_levels(window_s=0.1) raised "baseline sd ... got 0.0" on a clamped envelope
    fs = 100.0
    env = np.full((1000, 2), 5.0, dtype=np.float32)
    env[300:400] = 0.0  # a perfectly flat stretch, as the old clamp made
    env[600:700, 1] = 50.0
    lv = rest_levels(env, fs, ActivationParams(), window_s=0.1)
    assert np.all(lv.sd > 0) and np.all(np.isfinite(lv.onset_threshold))
    base = quietest_baseline(env, fs, window_s=0.1)
    assert np.all(base.sd > 0)


def test_steady_window_choice_prefers_the_flat_stretch_between_bursts() -> None:
    fs = 100.0
    t = np.arange(600) / fs
    env = np.where((t % 1.0) < 0.5, 2.0, 2.0 + 30.0 * np.sin(np.pi * ((t % 1.0) - 0.5) / 0.5) ** 2)
    env = env[:, None].astype(np.float32)
    level_only = quietest_baseline(env, fs, window_s=0.5, skip_s=0.0)
    steady = quietest_baseline(env, fs, window_s=0.5, skip_s=0.0, sd_weight=2.0)
    assert steady.sd[0] <= level_only.sd[0]
    assert abs(steady.mean[0] - 2.0) < 0.2
