"""Onsets from a variance changepoint fit on the band-passed EMG (issue 12: the envelope-based
refinement was 14-38 ms off by class, always early on steps)."""

from __future__ import annotations

import numpy as np
import pytest

from myoflow.dsp.onset_raw import RawRefineParams, refine_onset_raw, refine_sos


def _emg(fs: float, rise_s: float, seed: int, onset_s: float = 4.0, peak: float = 20.0) -> np.ndarray:
    """White 'EMG' (unit rest noise plus a resting tone) whose amplitude ramps up at ``onset_s``
    over ``rise_s``, with a DC offset."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(8 * fs)) / fs
    amp = 1.0 + peak * np.clip((t - onset_s) / rise_s, 0.0, 1.0)
    return rng.standard_normal(t.size) * np.sqrt(1.0 + amp**2) + 120.0


def _detect(x: np.ndarray, fs: float) -> int:
    """A crude late detector: the 100 ms moving power above 8x its resting level."""
    w = int(0.1 * fs)
    y = np.convolve((x - x[: int(fs)].mean()) ** 2, np.ones(w) / w, mode="same")
    return int(np.flatnonzero(y > 8.0 * np.median(y[: int(2 * fs)]))[0])


@pytest.mark.parametrize("fs", [200.0, 1000.0, 2000.0])
@pytest.mark.parametrize(("rise", "tol_ms"), [(0.02, 10.0), (0.3, 20.0), (1.0, 40.0)])
def test_onset_is_where_the_variance_starts_to_rise(fs: float, rise: float, tol_ms: float) -> None:
    if fs < 1000.0:
        tol_ms *= 2.0  # 5x fewer samples: less to see the rise in
    sos = refine_sos(fs, 50.0)
    errs, thr = [], []
    for seed in range(7):
        x = _emg(fs, rise, seed)
        det = _detect(x, fs)
        at, unc = refine_onset_raw(x, fs, det, sos)
        errs.append((at / fs - 4.0) * 1000.0)
        thr.append((det / fs - 4.0) * 1000.0)
        assert np.isfinite(unc) and 0 < unc < 1.0
    assert np.median(np.abs(errs)) <= tol_ms, (fs, rise, errs)
    if rise >= 1.0:  # the detector is late on a slow rise; the fit is not
        assert np.median(np.abs(errs)) < 0.5 * np.median(np.abs(thr)), (errs, thr)


def test_same_samples_same_onset_wherever_the_buffer_starts() -> None:
    """Live keeps a buffer of raw EMG and offline has the whole recording: the refinement reads
    only the window around the detection, so both give the same number."""
    fs = 1000.0
    sos = refine_sos(fs, 50.0)
    x = _emg(fs, 0.5, 3)
    det = _detect(x, fs)
    whole = refine_onset_raw(x, fs, det, sos)
    p = RawRefineParams()
    cut = det - int((p.lookback_s + p.settle_s) * fs) - 10
    part = refine_onset_raw(x[cut:], fs, det - cut, sos)
    assert part[0] + cut == whole[0] and part[1] == whole[1]


def test_uncertainty_grows_with_noise() -> None:
    fs = 1000.0
    sos = refine_sos(fs, 50.0)
    loud = [
        refine_onset_raw(x, fs, _detect(x, fs), sos)[1]
        for x in (_emg(fs, 0.3, s, peak=30.0) for s in range(4))
    ]
    faint = [
        refine_onset_raw(x, fs, _detect(x, fs), sos)[1]
        for x in (_emg(fs, 0.3, s, peak=3.0) for s in range(4))
    ]
    assert np.median(faint) > np.median(loud)


def test_short_window_and_lost_samples() -> None:
    fs = 1000.0
    sos = refine_sos(fs, 50.0)
    x = _emg(fs, 0.1, 1)
    assert np.isnan(refine_onset_raw(x[:100], fs, 1, sos)[1])  # nothing before the detection
    det = _detect(x, fs)
    lost = x.copy()
    lost[int(3.0 * fs) : int(3.2 * fs)] = np.nan  # a gap before the onset
    at, unc = refine_onset_raw(lost, fs, det, sos)
    assert abs(at / fs - 4.0) < 0.02 and np.isfinite(unc)


def test_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="rise_frac"):
        RawRefineParams(rise_frac=2.0)
    with pytest.raises(ValueError, match="lookback_s"):
        RawRefineParams(lookback_s=0.0)


def test_changepoint_beats_threshold_on_generated_ramps() -> None:
    """On the independent burst generator (truth the detector never sees): slow ramps."""
    from myoflow.analysis.activation import ActivationParams, analysis_envelope, normalise, rest_levels
    from myoflow.dsp.onsets import Baseline, OnsetParams, detect_onsets
    from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
    from myoflow.synth.bursts import TrialConfig, generate_trial

    fs = 1000.0
    trial = generate_trial(TrialConfig(shape="ramp", fs=fs, duration_s=40.0, snr=20.0, seed=5))
    ae = analysis_envelope(normalise(envelope_offline(trial.emg, fs, profile_for_rate(fs)), fs).envelope, fs)
    lv = rest_levels(ae, fs, ActivationParams())
    base = Baseline(lv.mean, (lv.onset_threshold - lv.mean) / 3.0)
    intervals = detect_onsets(ae, fs, base, OnsetParams(3.0, 3.0, 0.05, 0.05))[0]
    sos = refine_sos(fs, 50.0)
    raw = trial.emg[:, 0].astype(np.float64)
    thr_err, cp_err = [], []
    for on in trial.truth.onsets_s[0]:
        k = int(np.argmin(np.abs(intervals[:, 0] / fs - on)))
        if abs(intervals[k, 0] / fs - on) > 1.0:
            continue
        prev = int(intervals[k - 1, 1]) if k else 0
        at, _ = refine_onset_raw(raw, fs, int(intervals[k, 0]), sos, prev)
        thr_err.append(abs(intervals[k, 0] / fs - on))
        cp_err.append(abs(at / fs - on))
    assert len(cp_err) >= 8
    assert np.median(cp_err) < np.median(thr_err), (np.median(cp_err), np.median(thr_err))
    assert np.median(cp_err) < 0.025
