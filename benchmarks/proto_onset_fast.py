"""Research prototype benchmark (issue 12): a cheap onset refinement against ``changepoint``.

Question: can every onset of ``bench_dsp.py`` (8 ch x 10 min at 2 kHz, ~2090 onsets) be refined
for ~10-15 us CPU each (what ">= 5x the SciPy reference with the new detectors included" leaves)
while keeping the accuracy floors of ``bench_accuracy.py`` (median |error| <= 15 ms at >= 1 kHz,
<= 25 ms at 200 Hz, every shape class)? The candidate is :mod:`_onset_fast` (a sparse causal FIR,
block amplitudes, a hinge fitted for every candidate changepoint at once from suffix sums, the
posterior mean); the reference is myoflow's ``changepoint`` (:mod:`myoflow.dsp.onset_raw`).

``--part cost``: CPU per onset of both on ``bench_dsp.py``'s recording, the same detections, in
the same run (the prototype's FIR part also on its own), and the wall time of the plain pipeline
with and without the prototype's refinement against the SciPy reference (taking turns).
``--part accuracy``: the ``bench_accuracy.py`` onset grid (7 conditions x 4 shape classes x the
rates, ``--seeds`` seeds from ``--first-seed``, ``--seconds`` long trials), every threshold
detection of the analysis path refined by both (the prototype from the same 10 ms-grid detection
and earliest sample as ``changepoint``); with ``--zero-phase`` also the prototype fed the
zero-phase band-passed EMG's rectified 4 ms block means (what the offline envelope computes:
no per-onset filtering, but the notches' zero-phase kernel leaks burst power before the onset).
Run: ``.venv/bin/python benchmarks/proto_onset_fast.py [--part cost|accuracy] [--seeds 2]``.

Measured 2026-12-07 (2 cores shared, load ~2): the prototype costs 72 us CPU per onset (its
FIR and window gather alone 10 us), ``changepoint`` 371 us in the same run: ~5x cheaper, still
~5x above the budget, so bench_dsp would reach ~1.4-2.2x (one or two threads), not 5x. Median
|error| (ms) step/ramp/plateau/double, prototype (changepoint), seeds 0-1, 40 s trials: 200 Hz
9.6/23.6/12.7/12.9 (5.2/22.4/9.4/10.8), 1 kHz 5.3/11.8/5.7/6.6 (2.5/13.2/7.0/6.3), 2 kHz
5.2/11.3/5.0/6.2 (2.5/10.8/5.6/5.4); held-out seeds 4-7 (40 s / 20 s): 200 Hz ramps 27.2 / 28.2
(23.7 / 25.6): over the 25 ms floor; at >= 1 kHz every class within 15 ms on all four sets (worst
1 kHz ramps 14.8). Steps ~2x ``changepoint``'s error (biased 4-6 ms early). From the zero-phase
block means steps come out 19-33 ms early. Cheaper settings trade accuracy: ``block_s=0.008``
48 us per onset (1 kHz ramps 15.5 ms on seeds 4-7 of 20 s trials), with ``pre_s=post_s=0.6``
too 36 us (1 kHz ramps 16.1 ms on seeds 4-7 of 40 s). Not integrated.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict

import numpy as np
from _onset_fast import FastParams, fir_amplitude, fir_spec, refine_fast, refine_from_blocks
from bench_accuracy import score
from bench_dsp import FS, SOS, make_emg, offline_pipeline, paired_times, reference

from myoflow.analysis.activity import session_onsets
from myoflow.analysis.onset_emg import GRID_HZ, RawEmg
from myoflow.dsp.normalise import mvc_reference
from myoflow.dsp.offline import zero_phase_fft
from myoflow.dsp.onset_raw import refine_onsets_raw
from myoflow.dsp.onsets import detect_onsets
from myoflow.dsp.pipeline import STANDARD, envelope_offline, profile_for_rate
from myoflow.dsp.rest import quietest_baseline
from myoflow.synth.bursts import CONDITIONS, SHAPE_CLASSES, TrialConfig, generate_trial, mvc_trial

from _common import finish, machine

SHAPES = SHAPE_CLASSES


def _cpu(fn, repeats: int) -> float:
    """Median CPU time (s, this process) of ``fn()`` after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        c0 = time.process_time()
        fn()
        times.append(time.process_time() - c0)
    return float(np.median(times))


def cost(minutes: float, repeats: int) -> dict[str, object]:
    x = make_emg(minutes)
    env = envelope_offline(x, FS, STANDARD)
    intervals = detect_onsets(env, FS, quietest_baseline(env, FS))
    n = sum(len(iv) for iv in intervals)
    prev = [np.concatenate([[0], iv[:-1, 1]]) for iv in intervals]
    q = FastParams()

    def fast() -> None:
        for c, iv in enumerate(intervals):
            refine_fast(x[:, c], FS, iv[:, 0], prev[c], 50.0, q)

    def fir_only() -> None:
        p, lag = fir_spec(FS, 50.0, q.diff_s)
        blk = int(round(FS * q.block_s))
        pre, post = int(round(q.pre_s * FS / blk)), int(round(q.post_s * FS / blk))
        for c, iv in enumerate(intervals):
            fir_amplitude(x[:, c], iv[:, 0] - pre * blk, pre + post, blk, p, lag, q.comb_m)

    def changepoint() -> None:
        for c, iv in enumerate(intervals):
            refine_onsets_raw(x[:, c], FS, iv[:, 0], SOS, prev[c])

    per = {name: _cpu(fn, repeats) / n * 1e6 for name, fn in (("fast", fast), ("fir", fir_only))}
    per["changepoint"] = _cpu(changepoint, max(1, repeats // 2)) / n * 1e6
    x64 = x.astype(np.float64)

    def with_fast() -> None:
        offline_pipeline(x, refine=False)
        fast()

    pair = paired_times(
        {
            "ref": lambda: reference(x64),
            "plain": lambda: offline_pipeline(x, refine=False),
            "fast": with_fast,
        },
        repeats,
    )
    t_ref = pair["ref"][0]
    print(
        f"onsets {n}; CPU per onset: prototype {per['fast']:.1f} us (its FIR part {per['fir']:.1f} us), "
        f"changepoint {per['changepoint']:.1f} us"
    )
    print(
        f"wall vs SciPy reference ({t_ref:.3f} s): plain pipeline {t_ref / pair['plain'][0]:.2f}x, "
        f"with the prototype's refinement {t_ref / pair['fast'][0]:.2f}x"
    )
    return {
        "onsets": n,
        "proto_cpu_us_per_onset": per["fast"],
        "proto_fir_cpu_us_per_onset": per["fir"],
        "changepoint_cpu_us_per_onset": per["changepoint"],
        "reference_wall_s": t_ref,
        "speedup_plain": t_ref / pair["plain"][0],
        "speedup_with_proto_refinement": t_ref / pair["fast"][0],
    }


def _zero_phase_blocks(trial) -> tuple[np.ndarray, int]:
    """Rectified 4 ms block means of the zero-phase band-passed EMG (the offline envelope's)."""
    fs = trial.fs
    band, notches = profile_for_rate(fs, trial.config.mains_hz).filters(fs, offline=True)
    f = zero_phase_fft(trial.emg, fs, band, passes=1, notch_sos=notches if len(notches) else None)
    factor = max(1, int(round(fs * 0.004)))
    nb = f.shape[0] // factor
    return np.abs(f[: nb * factor].astype(np.float64)).reshape(nb, factor, -1).mean(axis=1), factor


def _trial_onsets(trial, use_mvc: bool, zero_phase: bool) -> dict[str, tuple[list, list]]:
    """Onsets (s) and uncertainties (s) per channel by ``changepoint``, the prototype and (with
    ``zero_phase``) the prototype on zero-phase block means, from the same detections."""
    fs, cfg = trial.fs, trial.config
    prof = profile_for_rate(fs, cfg.mains_hz)
    env = envelope_offline(trial.emg, fs, prof)
    mvc = mvc_reference(envelope_offline(mvc_trial(trial), fs, prof), fs) if use_mvc else None
    got = session_onsets(env, fs, mvc, method="changepoint", raw=RawEmg(trial.emg, fs, 0.0, cfg.mains_hz))
    out: dict[str, tuple[list, list]] = {"changepoint": (got.onsets_s, got.uncertainty_s)}
    blocks = _zero_phase_blocks(trial) if zero_phase else None
    for name in ("prototype", "proto zero-phase")[: 1 + zero_phase]:
        at_all, unc_all = [], []
        for c, iv in enumerate(got.intervals):
            # the 10 ms grid of changepoint_onsets: the same detection and earliest sample
            det_s = np.ceil(iv[:, 0] / fs * GRID_HZ - 1e-6) / GRID_HZ
            ear_s = np.ceil(np.concatenate(([0.0], iv[:-1, 1] / fs)) * GRID_HZ - 1e-6) / GRID_HZ
            det, ear = np.rint(det_s * fs).astype(np.int64), np.rint(ear_s * fs).astype(np.int64)
            if name == "prototype":
                at, unc = refine_fast(trial.emg[:, c], fs, det, ear, cfg.mains_hz)
            elif det.size:
                at, unc = refine_from_blocks(blocks[0][:, c], blocks[1], fs, det, ear)
            else:
                at, unc = np.zeros(0), np.zeros(0)
            at_all.append(at / fs)
            unc_all.append(unc)
        out[name] = (at_all, unc_all)
    return out


def accuracy(seeds: int, first: int, seconds: float, rates: tuple[float, ...], zero_phase: bool) -> dict:
    errs: dict[tuple, list[float]] = defaultdict(list)
    covered: dict[tuple, int] = defaultdict(int)
    for fs in rates:
        for shape in SHAPES:
            for k, cond in enumerate(CONDITIONS):
                for seed in range(first, first + seeds):
                    cfg = TrialConfig(
                        shape=shape, fs=fs, duration_s=seconds, seed=1000 * seed + 17 * k, **CONDITIONS[cond]
                    )
                    trial = generate_trial(cfg)
                    for method, (found, unc) in _trial_onsets(trial, seed % 2 == 0, zero_phase).items():
                        e, _, _, _, cov = score(found, trial, seconds, unc)
                        errs[(method, fs, shape)] += e
                        covered[(method, fs, shape)] += cov
    methods = ("changepoint", "prototype", "proto zero-phase")[: 2 + zero_phase]
    print(
        f"\n{'rate':>6s} {'shape':8s} {'n':>5s} "
        + " ".join(f"{m + ' med|e| (bias) ms':>36s}" for m in methods)
        + f" {'proto in unc %':>14s}"
    )
    figures: dict[str, object] = {}
    for fs in rates:
        for shape in SHAPES:
            cells = []
            for m in methods:
                e = np.asarray(errs[(m, fs, shape)])
                med = float(np.median(np.abs(e))) if e.size else float("nan")
                bias = float(np.median(e)) if e.size else float("nan")
                cells.append(f"{med:27.1f} ({bias:+6.1f})")
                figures[f"onset_med_ms[{m}|{fs:.0f}|{shape}]"] = med
            n_hit = len(errs[("prototype", fs, shape)])
            inside = 100.0 * covered[("prototype", fs, shape)] / max(n_hit, 1)
            print(f"{fs:6.0f} {shape:8s} {n_hit:5d} " + " ".join(cells) + f" {inside:14.1f}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("cost", "accuracy", "both"), default="both")
    parser.add_argument("--minutes", type=float, default=10.0, help="cost: recording length")
    parser.add_argument("--repeats", type=int, default=5, help="cost: timed runs")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=40.0, help="accuracy: trial length")
    parser.add_argument("--rates", default="200,1000,2000")
    parser.add_argument("--zero-phase", action="store_true", help="accuracy: also from zero-phase blocks")
    args = parser.parse_args()
    figures: dict[str, object] = {"benchmark": "proto_onset_fast"}
    if args.part in ("cost", "both"):
        figures |= cost(args.minutes, args.repeats)
    if args.part in ("accuracy", "both"):
        rates = tuple(float(r) for r in args.rates.split(","))
        figures |= {"seeds": args.seeds, "first_seed": args.first_seed, "trial_s": args.seconds}
        figures |= accuracy(args.seeds, args.first_seed, args.seconds, rates, args.zero_phase)
    figures |= machine()
    figures["load_average_1min"] = round(os.getloadavg()[0], 2)
    finish(figures)


if __name__ == "__main__":
    main()
