"""Signal-core benchmark: 8 EMG channels x 10 minutes at 2 kHz.

Offline: myoflow's zero-phase pipeline (band-pass 20-450 Hz + mains notches at every harmonic
in the band + rectification + 6 Hz envelope + onset detection + every onset refined by the
analysis default, the variance changepoint fit on the raw EMG with its uncertainty,
:mod:`myoflow.dsp.onset_raw`, all onsets of a channel in one call; also timed without the
refinement)
against a plain SciPy reference (``sosfiltfilt`` band-pass order 4 -> ``abs`` -> ``sosfiltfilt``
6 Hz order 4, float64, all channels at once), in wall time and in CPU time, the reference and
the pipeline without refinement taking turns round by round (:func:`paired_times`; the refined
pipeline is timed on its own afterwards: it slows down whatever runs right after it; a shared
machine distorts the CPU ratio much less;
our pipeline runs its FFT blocks on every core, the reference on one, so on a quiet machine the
wall ratio is the larger). Accuracy is checked on like-for-like filters: myoflow's envelope
with the reference's responses (``passes=2``, order 4, no notch) against the reference, as % of
its peak. The 1-minute load average is printed with the figures.

Streaming: ``EmgPipeline.process`` on 20 ms chunks (40 samples x 8 channels) against a naive
loop that calls ``sosfilt`` once per stage (band-pass, each notch, envelope low-pass) per chunk.

Optional: NeuroKit2's ``emg_process`` on one channel, for scale, when installed.
Run: ``make bench`` (all benchmarks) or ``.venv/bin/python benchmarks/bench_dsp.py``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np
from scipy import signal

from myoflow.dsp.design import bandpass, lowpass, mains_notch
from myoflow.dsp.offline import envelope_zero_phase
from myoflow.dsp.onset_raw import refine_onsets_raw, refine_sos
from myoflow.dsp.onsets import detect_onsets
from myoflow.dsp.pipeline import STANDARD, EmgPipeline, envelope_offline
from myoflow.dsp.rest import quietest_baseline
from myoflow.synth.emg import burst_activation, surface_emg

from _common import finish, machine, median_time, print_figures

FS = 2000.0
CHANNELS = 8


def make_emg(minutes: float, seed: int = 0) -> np.ndarray:
    """Bursting surface EMG with mains hum and a DC offset, ``(n, 8)`` float32 uV."""
    n = int(minutes * 60 * FS)
    rng = np.random.default_rng(seed)
    onsets = np.arange(2.0, minutes * 60 - 2.0, 4.0)
    act = np.stack(
        [
            burst_activation(n, FS, onsets + 0.05 * c, np.full(onsets.size, 1.5), 150.0)
            for c in range(CHANNELS)
        ],
        axis=1,
    )
    hum = 15.0 * np.sin(2 * np.pi * 50.0 * np.arange(n) / FS)
    return (surface_emg(act + 3.0, FS, rng) + hum[:, None] + 250.0).astype(np.float32)


def reference(x64: np.ndarray) -> np.ndarray:
    bp = signal.butter(4, [20, 450], "bandpass", fs=FS, output="sos")
    lp = signal.butter(4, 6.0, "lowpass", fs=FS, output="sos")
    return signal.sosfiltfilt(lp, np.abs(signal.sosfiltfilt(bp, x64, axis=0)), axis=0)


SOS = refine_sos(FS, 50.0)


def offline_pipeline(x: np.ndarray, refine: bool = True) -> list[np.ndarray]:
    """Envelope, onsets, and (``refine``) every onset refined to where the variance of the raw
    EMG left rest, with its uncertainty: all onsets of a channel in one call
    (:func:`myoflow.dsp.onset_raw.refine_onsets_raw`, the same numbers as one call each)."""
    env = envelope_offline(x, FS, STANDARD)
    intervals = detect_onsets(env, FS, quietest_baseline(env, FS))
    if not refine:
        return intervals
    out = []
    for c, iv in enumerate(intervals):
        prev = np.concatenate([[0], iv[:-1, 1]]) if len(iv) else np.zeros(0, dtype=np.int64)
        at, unc = refine_onsets_raw(x[:, c], FS, iv[:, 0], SOS, prev)
        out.append(np.column_stack([at, unc]))
    return out


def paired_times(
    fns: dict[str, Callable[[], object]], repeats: int
) -> dict[str, tuple[float, float, object]]:
    """Median wall and CPU time (s; CPU of all threads of this process) of each function, and
    its last result. The functions take turns: one warm-up round, then ``repeats`` rounds in
    which each runs once, so a change of load on a shared machine hits all of them alike (run
    one after the other, a load that came or went between them skewed their ratio)."""
    wall: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    last: dict[str, object] = {}
    for round_ in range(repeats + 1):
        for name, fn in fns.items():
            c0, t0 = time.process_time(), time.perf_counter()
            last[name] = fn()
            if round_:  # round 0 warms up
                wall[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
    return {k: (float(np.median(wall[k])), float(np.median(cpu[k])), last[k]) for k in fns}


def bench_offline(x: np.ndarray, repeats: int) -> dict[str, float]:
    x64 = x.astype(np.float64)
    pair = paired_times(
        {"ref": lambda: reference(x64), "plain": lambda: offline_pipeline(x, refine=False)}, repeats
    )
    (t_ref, c_ref, ref), (t_plain, c_plain, plain) = pair.values()
    n_onsets = sum(len(iv) for iv in plain)
    # The refined pipeline runs on its own, after the pair: whatever runs right after it is
    # slowed down (the reference took 2x its CPU time when it followed a refined run).
    (t_ours, c_ours, _) = paired_times({"ours": lambda: offline_pipeline(x)}, repeats)["ours"]
    same = envelope_zero_phase(x, FS, bandpass(FS, 20, 450, 4), cutoff_hz=6.0, order=4, passes=2)
    inner = slice(int(FS), -int(FS))  # both pad their edges differently
    err = np.max(np.abs(same[inner] - ref[inner]), axis=0) / np.max(ref[inner], axis=0)
    return {
        "offline_reference_s": t_ref,
        "offline_pipeline_s": t_ours,
        "offline_speedup_vs_scipy": t_ref / t_ours,
        "offline_pipeline_without_refinement_s": t_plain,
        "offline_speedup_without_refinement": t_ref / t_plain,
        "onsets": n_onsets,
        "offline_reference_cpu_s": c_ref,
        "offline_pipeline_cpu_s": c_ours,
        "offline_pipeline_without_refinement_cpu_s": c_plain,
        "offline_cpu_ratio_vs_scipy": c_ref / c_ours,
        "offline_cpu_ratio_without_refinement": c_ref / c_plain,
        "refinement_cpu_ms_per_onset": (c_ours - c_plain) / max(n_onsets, 1) * 1000.0,
        "offline_envelope_max_err_pct_of_peak": float(100 * err.max()),
    }


def bench_streaming(x: np.ndarray, n_chunks: int) -> dict[str, float]:
    chunk = int(0.02 * FS)
    chunks = [x[i : i + chunk] for i in range(0, n_chunks * chunk, chunk)]
    pipe = EmgPipeline(FS, STANDARD)

    def per_chunk_us(process) -> float:
        process(chunks[0])
        samples = []
        for c in chunks[1:]:
            t0 = time.perf_counter()
            process(c)
            samples.append(time.perf_counter() - t0)
        return float(np.median(samples) * 1e6)

    ours = per_chunk_us(pipe.process)
    stages = [bandpass(FS, 20, 450, 4), *[row[None, :] for row in mains_notch(FS, 50.0, (20, 450)).sos]]
    low = lowpass(FS, 6.0, 2)
    zi = [np.zeros((s.shape[0], 2, CHANNELS)) for s in stages]
    zi_low = np.zeros((low.shape[0], 2, CHANNELS))

    def naive(c: np.ndarray) -> np.ndarray:
        nonlocal zi_low
        y = c
        for k, s in enumerate(stages):
            y, zi[k] = signal.sosfilt(s, y, axis=0, zi=zi[k])
        out, zi_low = signal.sosfilt(low, np.abs(y), axis=0, zi=zi_low)
        return out

    ref = per_chunk_us(naive)
    return {
        "stream_us_per_chunk": ours,
        "stream_naive_us_per_chunk": ref,
        "stream_speedup_vs_naive": ref / ours,
        "stream_realtime_load_pct": ours / (chunk / FS * 1e6) * 100,
        "live_envelope_delay_ms": pipe.delay_ms,
    }


def bench_neurokit(x: np.ndarray) -> dict[str, float]:
    try:
        import neurokit2 as nk
    except ImportError:
        return {}
    t0 = time.perf_counter()
    nk.emg_process(x[:, 0].astype(np.float64), sampling_rate=int(FS))
    t_nk = time.perf_counter() - t0
    one = x[:, :1]
    t_ours, _ = median_time(lambda: offline_pipeline(one), 3)
    return {
        "neurokit2_emg_process_1ch_s": t_nk,
        "myoflow_offline_1ch_s": t_ours,
        "speedup_vs_neurokit2_1ch": t_nk / t_ours,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--chunks", type=int, default=3000)
    args = parser.parse_args()
    x = make_emg(args.minutes)
    figures: dict[str, object] = {
        "benchmark": "dsp",
        "channels": CHANNELS,
        "fs_hz": FS,
        "minutes": args.minutes,
    }
    figures |= bench_offline(x, args.repeats)
    figures |= bench_streaming(x, args.chunks)
    figures |= bench_neurokit(x)
    figures |= machine()
    figures["load_average_1min"] = round(os.getloadavg()[0], 2)
    print_figures(figures)
    finish(figures)


if __name__ == "__main__":
    main()
