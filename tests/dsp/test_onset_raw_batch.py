"""All onsets of one channel in one call give the same numbers as one call per onset (to float
rounding: the rows of the batched arrays are padded to the longest window of the call)."""

from __future__ import annotations

import numpy as np
import pytest

from myoflow.analysis.activity import session_onsets
from myoflow.analysis.onset_emg import RawEmg, changepoint_onset, changepoint_onsets
from myoflow.dsp.onset_raw import refine_onset_raw, refine_onsets_raw, refine_sos
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.synth.bursts import CONDITIONS, TrialConfig, generate_trial


def _trial(fs: float, shape: str, cond: str):
    cfg = TrialConfig(shape=shape, fs=fs, duration_s=20.0, seed=3, **CONDITIONS[cond])
    trial = generate_trial(cfg)
    env = envelope_offline(trial.emg, fs, profile_for_rate(fs, cfg.mains_hz))
    return trial, session_onsets(env, fs, None, method="threshold").intervals


@pytest.mark.parametrize(("fs", "shape", "cond"), [(200.0, "ramp", "skin"), (1000.0, "double", "mains50")])
def test_batch_equals_one_call_per_onset(fs: float, shape: str, cond: str) -> None:
    trial, intervals = _trial(fs, shape, cond)
    sos = refine_sos(fs, trial.config.mains_hz)
    x = trial.emg[:, 0].copy()
    x[int(3.0 * fs) : int(3.1 * fs)] = np.nan  # lost samples inside some window
    det = intervals[0][:, 0].astype(np.int64)
    earliest = np.concatenate([[0], intervals[0][:-1, 1]]).astype(np.int64)
    det = np.concatenate([det, [5, x.size - 3]])  # windows too short at either end
    earliest = np.concatenate([earliest, [0, 0]])
    at, unc = refine_onsets_raw(x, fs, det, sos, earliest)
    one = np.array([refine_onset_raw(x, fs, int(d), sos, int(e)) for d, e in zip(det, earliest, strict=True)])
    assert det.size >= 6
    assert np.allclose(at, one[:, 0], rtol=0.0, atol=1e-6)  # samples
    assert np.allclose(unc, one[:, 1], rtol=1e-6, atol=0.0, equal_nan=True)
    assert np.isnan(unc[-2:]).all() and np.array_equal(at[-2:], det[-2:])
    assert np.isfinite(unc[:-2]).mean() > 0.8


def test_analysis_batch_equals_one_call_per_onset() -> None:
    fs = 1000.0
    trial, intervals = _trial(fs, "step", "clean")
    raw = RawEmg(trial.emg, fs, 0.25, trial.config.mains_hz)  # the clock starts 0.25 s before the EMG
    det_s = intervals[1][:, 0] / fs + 0.2503
    ear_s = np.concatenate([[0.0], intervals[1][:-1, 1] / fs + 0.25])
    det_s = np.concatenate([det_s, [-1.0, 99.0]])  # outside the recording: the detection is kept
    ear_s = np.concatenate([ear_s, [0.0, 0.0]])
    at, unc = changepoint_onsets(raw, 1, det_s, ear_s)
    for i, (d, e) in enumerate(zip(det_s, ear_s, strict=True)):
        t, u = changepoint_onset(raw, 1, float(d), float(e))
        assert at[i] == pytest.approx(t, abs=1e-9) and (
            np.isnan(unc[i]) if u is None else unc[i] == pytest.approx(u, rel=1e-6)
        )
    assert np.isnan(unc[-2:]).all()


def test_batch_inputs() -> None:
    sos = refine_sos(1000.0, 50.0)
    x = np.random.default_rng(0).standard_normal(5000)
    at, unc = refine_onsets_raw(x, 1000.0, np.array([], dtype=int), sos)
    assert at.size == 0 and unc.size == 0
    with pytest.raises(ValueError, match="earliest must have one sample per detection"):
        refine_onsets_raw(x, 1000.0, np.array([3000, 4000]), sos, np.array([0]))


@pytest.mark.parametrize("fs", [1000.0, 2000.0])
def test_staged_filtering_equals_filtering_every_window_to_its_end(
    fs: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The filter runs to 0.6 s / 1.2 s after each detection first and further only where the
    first peak is not settled: the same onsets as filtering every window to its end."""
    import myoflow.dsp.onset_raw_window as window

    trial, intervals = _trial(fs, "ramp", "tonic")
    sos = refine_sos(fs, trial.config.mains_hz)
    x = trial.emg[:, 0].copy()
    det = intervals[0][:, 0].astype(np.int64)
    earliest = np.concatenate([[0], intervals[0][:-1, 1]]).astype(np.int64)
    staged = refine_onsets_raw(x, fs, det, sos, earliest)
    monkeypatch.setattr(window, "REACH_S", ())
    whole = refine_onsets_raw(x, fs, det, sos, earliest)
    assert det.size >= 4 and np.isfinite(staged[1]).mean() > 0.7
    assert np.allclose(staged[0], whole[0], rtol=0.0, atol=1e-6)
    assert np.allclose(staged[1], whole[1], rtol=1e-9, atol=0.0, equal_nan=True)
