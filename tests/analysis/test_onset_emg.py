"""Changepoint onsets in the analysis: the raw EMG live keeps equals what offline reads, and
the onset carries an uncertainty into the report (issue 12)."""

from __future__ import annotations

import numpy as np
import pytest

from myoflow.analysis.activation import ActivationParams
from myoflow.analysis.activity import session_onsets
from myoflow.analysis.onset_emg import RawEmg, RawHistory, changepoint_onset
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.synth.bursts import TrialConfig, generate_trial


def test_live_history_gives_the_offline_window_whatever_the_chunks() -> None:
    fs = 1000.0
    rng = np.random.default_rng(1)
    x = rng.standard_normal((12_000, 2)).astype(np.float32)
    times = 5.0 + np.arange(x.shape[0]) / fs
    hist = RawHistory(fs, 2, seconds=8.0)
    at = 0
    while at < x.shape[0]:
        k = int(rng.integers(1, 300))
        hist.write(times[at : at + k], x[at : at + k])
        at += k
    offline = RawEmg(x, fs, 5.0).window(13.0, 15.0)
    live = hist.read(13.0, 15.0, 50.0)
    assert live is not None and live.t0 == pytest.approx(offline.t0)
    np.testing.assert_array_equal(live.samples, offline.samples)
    # older than the ring holds: NaN, never another sample
    old = hist.read(6.0, 7.0, 50.0)
    assert old is not None and np.isnan(old.samples).all()


def test_a_gap_stays_nan_in_the_history() -> None:
    fs = 200.0
    hist = RawHistory(fs, 1)
    t = np.arange(1000) / fs
    keep = (t < 2.0) | (t >= 3.0)
    hist.write(t[keep], np.ones((int(keep.sum()), 1)))
    got = hist.read(4.0, 4.9, None)
    assert got is not None
    k = np.rint((t - got.t0) * fs).astype(int)
    inside = (k >= 0) & (k < got.samples.shape[0])
    assert np.isnan(got.samples[k[inside & ~keep], 0]).all()
    assert (got.samples[k[inside & keep], 0] == 1.0).all()


def test_changepoint_session_onsets_beat_threshold_and_carry_uncertainty() -> None:
    fs = 2000.0
    trial = generate_trial(TrialConfig(shape="step", fs=fs, duration_s=25.0, snr=15.0, seed=11))
    env = envelope_offline(trial.emg, fs, profile_for_rate(fs))
    raw = RawEmg(trial.emg, fs, 0.0, 50.0)
    cp = session_onsets(env, fs, method="changepoint", raw=raw)
    thr = session_onsets(env, fs, method="threshold")
    err_cp, err_thr = [], []
    for truth, a, b, u in zip(trial.truth.onsets_s, cp.onsets_s, thr.onsets_s, cp.uncertainty_s, strict=True):
        assert np.isfinite(u).all() and (u > 0).all()
        for t in truth:
            err_cp.append(np.min(np.abs(a - t)))
            err_thr.append(np.min(np.abs(b - t)))
    assert np.median(err_cp) < 0.01 < np.median(err_thr)  # steps: the threshold is ~50 ms early


def test_without_raw_the_changepoint_method_reports_the_crossing() -> None:
    fs = 1000.0
    trial = generate_trial(TrialConfig(shape="ramp", fs=fs, duration_s=15.0, seed=2))
    env = envelope_offline(trial.emg, fs, profile_for_rate(fs))
    a = session_onsets(env, fs, params=ActivationParams(onset_method="changepoint"))
    b = session_onsets(env, fs, method="threshold")
    for x, y in zip(a.onsets_s, b.onsets_s, strict=True):
        np.testing.assert_array_equal(x, y)


def test_changepoint_outside_the_raw_window_is_the_detection() -> None:
    raw = RawEmg(np.zeros((100, 1), dtype=np.float32), 1000.0, 10.0)
    assert changepoint_onset(raw, 0, 50.0, 0.0) == (50.0, None)
    with pytest.raises(ValueError, match="n_samples, n_channels"):
        RawEmg(np.zeros(10), 1000.0, 0.0)
