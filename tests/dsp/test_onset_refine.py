"""Onsets refined back to where the activation left rest (slow ramps were 35-55 ms late)."""

from __future__ import annotations

import numpy as np

from myoflow.dsp.onset_refine import envelope_kernels, refine_onset
from myoflow.dsp.pipeline import profile_for_rate


def _model_envelope(fs: float, rise_s: float, kernels) -> np.ndarray:
    t = np.arange(int(8 * fs)) / fs
    a = 30.0 * np.clip((t - 3.0) / rise_s, 0, 1)
    amp = np.convolve(a, kernels[0], mode="same")
    return np.sqrt(np.convolve(amp**2, kernels[1], mode="same") + 1.0)


def test_refined_onset_is_where_the_rise_starts_for_steps_and_slow_ramps() -> None:
    for fs in (200.0, 1000.0, 2000.0):
        kernels = envelope_kernels(fs, profile_for_rate(fs), 6.0)
        for rise in (0.03, 0.3, 1.0, 1.5):
            y = _model_envelope(fs, rise, kernels)
            detected = int(np.flatnonzero(y > 3.0)[0])
            at, unc = refine_onset(y, fs, detected, 0, None, kernels)
            assert abs(at / fs - 3.0) <= 0.012, (fs, rise, at / fs)
            assert np.isfinite(unc) and unc >= 0


def test_threshold_crossing_is_late_on_a_slow_ramp_and_refinement_fixes_it() -> None:
    fs = 1000.0
    kernels = envelope_kernels(fs, profile_for_rate(fs), 6.0)
    y = _model_envelope(fs, 1.2, kernels)
    detected = int(np.flatnonzero(y > 3.0)[0])
    assert detected / fs - 3.0 > 0.05  # the threshold fires > 50 ms late
    at, _ = refine_onset(y, fs, detected, 0, None, kernels)
    assert abs(at / fs - 3.0) < 0.01


def test_noisy_ramps_refined_closer_than_threshold() -> None:
    from myoflow.analysis.activation import ActivationParams, analysis_envelope, normalise, rest_levels
    from myoflow.dsp.onsets import Baseline, OnsetParams, detect_onsets
    from myoflow.synth.bursts import TrialConfig, generate_trial

    fs = 1000.0
    trial = generate_trial(TrialConfig(shape="ramp", fs=fs, duration_s=40.0, snr=20.0, seed=5))
    from myoflow.dsp.pipeline import envelope_offline

    prof = profile_for_rate(fs)
    ae = analysis_envelope(normalise(envelope_offline(trial.emg, fs, prof), fs).envelope, fs)
    lv = rest_levels(ae, fs, ActivationParams())
    base = Baseline(lv.mean, (lv.onset_threshold - lv.mean) / 3.0)
    intervals = detect_onsets(ae, fs, base, OnsetParams(3.0, 3.0, 0.05, 0.05))[0]
    kernels = envelope_kernels(fs, prof, 6.0)
    thr_err, ref_err = [], []
    for on in trial.truth.onsets_s[0]:
        k = np.argmin(np.abs(intervals[:, 0] / fs - on))
        if abs(intervals[k, 0] / fs - on) > 1.0:
            continue
        prev = intervals[k - 1, 1] if k else 0
        at, _ = refine_onset(ae[:, 0].astype(np.float64), fs, int(intervals[k, 0]), int(prev), None, kernels)
        thr_err.append(abs(intervals[k, 0] / fs - on))
        ref_err.append(abs(at / fs - on))
    assert len(ref_err) >= 8
    assert np.median(ref_err) < np.median(thr_err)
    assert np.median(ref_err) < 0.06
