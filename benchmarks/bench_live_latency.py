"""Live per-rep analysis: how long after a rep ends its result comes out.

A synthetic 2 kHz glute-bridge session (8 reps, 4 EMG channels, pelvis and thigh IMUs) is fed to
:class:`myoflow.analysis.LiveAnalysis` in 20 ms chunks, in time order, as the live session feeds
it. For each rep, the latency is the data the result had to wait for after the rep ended (a
function of the samples) plus the wall time of the call that produced it. The wall time used to
be asserted in a unit test (< 100 ms); it is measured here instead, as a median over repeats.

Goal: the whole per-rep latency stays under 200 ms (results are feedback between reps).
"""

from __future__ import annotations

import time

import numpy as np

from myoflow.analysis import LiveAnalysis
from myoflow.stream import Block
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import generate_session

from _common import finish, machine, print_figures

CHUNK_S = 0.02
REPEATS = 5


def chunks_in_time_order(blocks: list[Block]) -> list[Block]:
    """Every stream cut into ``CHUNK_S`` pieces, sorted by their last sample time."""
    out = []
    for b in blocks:
        step = max(1, int(round(CHUNK_S * b.stream.rate)))
        for a in range(0, len(b), step):
            out.append(Block(b.stream, b.data[a : a + step], b.times[a : a + step], b.start_index + a))
    out.sort(key=lambda blk: float(blk.times[-1]))
    return out


def run_once(blocks: list[Block]) -> tuple[list[float], list[float], float]:
    """Feed one session; per-rep waited ms, per-rep processing ms, and total wall s."""
    live = LiveAnalysis([b.stream for b in blocks])
    t0 = time.perf_counter()
    for blk in chunks_in_time_order(blocks):
        live.on_block(blk)
        live.poll()
    wall = time.perf_counter() - t0
    waited = [(t.data_s - t.ending_s) * 1000.0 for t in live.timings]
    processing = [t.processing_ms for t in live.timings]
    return waited, processing, wall


def main() -> None:
    cfg = SessionConfig(n_reps=8, seed=3, tense_reps=(2, 5), emg_rate=2000.0)
    session = generate_session(cfg)
    emg = session.emg_block()
    blocks = [emg, *session.imu_blocks()]
    runs = [run_once(blocks) for _ in range(REPEATS)]
    waited = np.array([w for r in runs for w in r[0]])
    processing = np.array([p for r in runs for p in r[1]])
    latency = waited + processing
    seconds = len(emg) / emg.stream.rate
    figures = {
        "reps per run": len(runs[0][0]),
        "data waited for, median ms": float(np.median(waited)),
        "processing of the result call, median ms": float(np.median(processing)),
        "processing of the result call, p95 ms": float(np.percentile(processing, 95)),
        "per-rep latency, median ms": float(np.median(latency)),
        "per-rep latency, max ms": float(latency.max()),
        "goal: per-rep latency max < 200 ms": bool(latency.max() < 200.0),
        "whole session: x real time": float(seconds / np.median([r[2] for r in runs])),
        **machine(),
    }
    print_figures(figures)
    finish(figures)


if __name__ == "__main__":
    main()
