"""Which envelope should drive the feedback (mat bar, tone)? Onset lag, false alarms, ripple, cost.

Candidates, all causal, all fed the same band-passed EMG (``EmgPipeline``'s band filter):

* ``lowpass6``: rectify + the live 2nd-order 6 Hz low-pass: the analysis envelope (lanes, reps).
* ``bayes_sanger``: :class:`~myoflow.feedback.envelope.BayesEnvelope` with a slow random walk
  (alpha 0.005, beta 1e-5 per sample, as first tried after Sanger 2007).
* ``bayes_feedback``: :func:`~myoflow.feedback.envelope.feedback_envelope`, the walk chosen here
  (:data:`~myoflow.feedback.envelope.FEEDBACK_WALK_PER_S` 50 /s, jumps 0.5 /s): what the
  dashboard's mat bar and tone show.
* ``lowpass15``: rectify + a 2nd-order 15 Hz low-pass (less lag, more ripple).

Measured on:

1. **Synthetic** 2 kHz band-limited noise, rest 5 uV mean absolute value, 20 contractions to
   100 uV: 10 *steps* and 10 *ramps* (0.5 s linear rise, like a bridge's concentric phase).
   Onset lag = when the envelope first crosses 20 uV (the 15 % MVC line of a 100 uV MVC, above
   the rest) minus when the true amplitude did. **False alarms**: 60 s of rest alone, upward
   crossings of 10 uV (twice the rest level) per minute and the share of time above it.
   Ripple: std / mean over the steady contractions.
2. **Real**: BioSPPy's ``emg_1.txt`` (1 kHz ADC counts, 64 s, rest with a few bursts; nobody
   on this project made it): onsets = upward crossings, 1 s apart at least, of the level
   ``rest + 15 % (peak - rest)`` (rest: the median, peak: the 99.9th percentile) by the offline
   zero-phase envelope (the non-causal reference); each candidate's lag to the same level, and
   its crossings of it while the reference is under half of it (false alarms per minute).

Run: ``.venv/bin/python benchmarks/bench_feedback_envelope.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from scipy import signal

from _common import finish, machine

FS = 2000.0
REST, HIGH, ONSET_LEVEL, ALARM_LEVEL = 5.0, 100.0, 20.0, 10.0
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "biosppy_examples" / "emg_1.txt"


def _noise(n: int, fs: float, rng: np.random.Generator) -> np.ndarray:
    b, a = signal.butter(4, [30, min(300, 0.45 * fs)], btype="band", fs=fs)
    x = signal.lfilter(b, a, rng.standard_normal(n))
    return x / np.mean(np.abs(x))


def synthetic(seed: int = 3) -> tuple[np.ndarray, np.ndarray, list[tuple[float, str]]]:
    """``(emg, true amplitude, [(true 20 uV crossing s, "step"|"ramp")])``: 20 contractions."""
    rng = np.random.default_rng(seed)
    amp = np.full(int(60 * FS), REST)
    onsets = []
    for k in range(20):
        t0 = 1.5 + 2.9 * k + rng.uniform(0, 0.4)
        i0, i1 = int(t0 * FS), int((t0 + 1.5) * FS)
        if k % 2 == 0:
            amp[i0:i1] = HIGH
            onsets.append((i0 / FS, "step"))
        else:
            ramp = np.clip((np.arange(i1 - i0) / FS) / 0.5, 0, 1)
            amp[i0:i1] = REST + (HIGH - REST) * ramp
            cross = i0 + np.flatnonzero(amp[i0:i1] >= ONSET_LEVEL)[0]
            onsets.append((cross / FS, "ramp"))
    return _noise(amp.size, FS, rng) * amp, amp, onsets


def candidates(fs: float, reference: float) -> dict:
    """name -> function(filtered (n,)) -> envelope (n,), same units."""
    from myoflow.feedback.envelope import BayesEnvelope, feedback_envelope

    def lowpass(cut: float):
        sos = signal.butter(2, cut, fs=fs, output="sos")
        return lambda x: signal.sosfilt(sos, np.abs(x))

    block = max(1, int(round(fs / 500.0)))  # one update per 2 ms (the random walk per sample)
    return {
        "lowpass6": lowpass(6.0),
        "lowpass15": lowpass(15.0),
        "bayes_sanger": lambda x: BayesEnvelope(reference, alpha=0.005, beta=1e-5, block=block).process(x),
        "bayes_feedback": lambda x: feedback_envelope(fs, reference).process(x),
    }


def _band(x: np.ndarray, fs: float) -> np.ndarray:
    from myoflow.dsp.pipeline import EmgPipeline

    return EmgPipeline(fs).process(x[:, None].astype(np.float32)).filtered[:, 0].astype(np.float64)


def _crossings(env: np.ndarray, level: float) -> np.ndarray:
    above = env >= level
    return np.flatnonzero(above[1:] & ~above[:-1]) + 1


def run_synthetic(names: tuple[str, ...] | None = None) -> dict:
    """Figures of each candidate (or those in ``names``) on the synthetic signals."""
    emg, amp, onsets = synthetic()
    filtered = _band(emg, FS)
    rest = _band(_noise(int(60 * FS), FS, np.random.default_rng(11)) * REST, FS)
    out: dict = {}
    for name, fn in candidates(FS, HIGH).items():
        if names is not None and name not in names:
            continue
        t0 = time.process_time()
        env = fn(filtered)
        cost = (time.process_time() - t0) / (filtered.size / FS)
        lags = {"step": [], "ramp": []}
        for t_true, kind in onsets:
            i = int(t_true * FS)
            cross = np.flatnonzero(env[i - int(0.3 * FS) : i + int(1.0 * FS)] >= ONSET_LEVEL)
            lags[kind].append((cross[0] - int(0.3 * FS)) / FS * 1000.0 if cross.size else np.nan)
        steady = np.concatenate(
            [env[int((t + 0.6) * FS) : int((t + 1.4) * FS)] for t, kind in onsets if kind == "step"]
        )
        rest_env = fn(rest)[int(2 * FS) :]  # after the start-up transient
        out[name] = {
            "step_lag_ms_median": float(np.nanmedian(lags["step"])),
            "ramp_lag_ms_median": float(np.nanmedian(lags["ramp"])),
            "ramp_lag_ms_max": float(np.nanmax(lags["ramp"])),
            "early_onsets": int(np.sum(np.array(lags["step"] + lags["ramp"]) < -50.0)),
            "rest_false_alarms_per_min": _crossings(rest_env, ALARM_LEVEL).size / (rest_env.size / FS / 60.0),
            "rest_time_above_pct": float(100.0 * np.mean(rest_env >= ALARM_LEVEL)),
            "ripple": float(steady.std() / steady.mean()),
            "cpu_ms_per_s_per_channel": cost * 1000.0,
        }
    return out


def run_real() -> dict:
    if not DATA.exists():
        return {}
    fs = 1000.0
    raw = np.loadtxt(DATA, comments="#")
    raw = raw[:, -1] if raw.ndim > 1 else raw
    filtered = _band(raw - np.median(raw), fs)
    sos = signal.butter(2, 6.0, fs=fs, output="sos")
    reference = signal.sosfiltfilt(sos, np.abs(filtered))  # zero phase: the non-causal reference
    rest, peak = np.median(reference), np.percentile(reference, 99.9)
    level = rest + 0.15 * (peak - rest)
    onsets = [i for i in _crossings(reference, level) if i > 2 * fs]
    onsets = [i for k, i in enumerate(onsets) if k == 0 or i - onsets[k - 1] > 1.0 * fs]
    at_rest = reference < 0.5 * level
    out: dict = {"real_onsets": len(onsets)}
    for name, fn in candidates(fs, float(peak)).items():
        env = fn(filtered)
        lags = []
        for i in onsets:
            cross = np.flatnonzero(env[i - int(0.3 * fs) : i + int(1.0 * fs)] >= level)
            lags.append((cross[0] - int(0.3 * fs)) / fs * 1000.0 if cross.size else np.nan)
        rest_cross = [i for i in _crossings(env, level) if at_rest[i] and i > 2 * fs]
        out[name] = {
            "real_onset_lag_ms_median": float(np.nanmedian(lags)),
            "real_false_alarms_per_min": float(len(rest_cross) / (at_rest.sum() / fs / 60.0)),
        }
    return out


def main() -> None:
    synth = run_synthetic()
    real = run_real()
    figures: dict = {}
    print(
        f"{'envelope':12s} {'step lag':>9s} {'ramp lag':>9s} {'ramp max':>9s} {'alarms/min':>10s} "
        f"{'above %':>8s} {'ripple':>7s} {'cpu ms/s':>9s} | {'real lag':>9s} {'real alarms/min':>15s}"
    )
    for name, f in synth.items():
        r = real.get(name, {})
        real_lag, real_alarms = (
            r.get("real_onset_lag_ms_median", np.nan),
            r.get("real_false_alarms_per_min", np.nan),
        )
        print(
            f"{name:12s} {f['step_lag_ms_median']:8.1f}  {f['ramp_lag_ms_median']:8.1f}  "
            f"{f['ramp_lag_ms_max']:8.1f}  {f['rest_false_alarms_per_min']:9.1f}  "
            f"{f['rest_time_above_pct']:7.2f}  {f['ripple']:6.3f}  {f['cpu_ms_per_s_per_channel']:8.1f} | "
            f"{real_lag:8.1f}  {real_alarms:14.1f}"
        )
        figures.update({f"{name}_{k}": v for k, v in {**f, **r}.items()})
    figures["real_onsets"] = real.get("real_onsets", 0)
    finish({**figures, **machine()})


if __name__ == "__main__":
    main()
