"""Batch benchmark: files per second of :func:`~myoflow.reports.batch.batch_analyze` on synthetic
recordings (glute bridge, EMG 4 channels at 2 kHz, pelvis and thigh IMUs at 100 Hz).

Runs: in this process (``workers=0``), a local spawn pool of 1 and of 2 processes (end to end:
the wall time includes starting the workers, as a user sees it), and a Dask LocalCluster of 2
single-threaded worker processes on the loopback (timed warm: the cluster is started and the
workers have imported myoflow before the timed runs; the cluster start is reported apart).
Reported: files/s of each, the scaling from 1 to 2 local workers (ideal 2.0 on 2 cores) beside
what two CPU-bound processes gain on the machine at that moment (a shared or throttled machine
gives less than 2.0), and the parent's peak resident memory.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_batch.py [--files 24 --seconds 60]``.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from myoflow.reports.batch import batch_analyze
from myoflow.storage.schema import ClockAnchor, SessionMetadata
from myoflow.storage.writer import Recorder
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import generate_session

from _common import finish, machine, median_time


def make_folder(folder: Path, n_files: int, seconds: float) -> list[str]:
    """``n_files`` recordings of about ``seconds`` s each (different seeds and subjects)."""
    n_reps = max(1, int((seconds - 6.0) / 5.0))  # 3 s lead-in and tail, ~5 s per rep
    paths = []
    for k in range(n_files):
        s = generate_session(SessionConfig(n_reps=n_reps, emg_rate=2000.0, seed=k))
        path = folder / f"s{k:03d}.h5"
        meta = SessionMetadata(subject_id=f"S{k % 5}", exercise="glute_bridge")
        with Recorder(path, meta, clock=ClockAnchor(0.0, 1.7e9), on_full="wait") as rec:
            blocks = [s.emg_block(), *s.imu_blocks()]
            for b in blocks:
                rec.add_stream(b.stream, np.float32)
            rec.start()
            for b in blocks:
                rec.write_block(b.stream.name, b.data, b.times)
        paths.append(str(path))
    return paths


def _burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def machine_speedup(n: int = 5_000_000) -> float:
    """Speed-up of two CPU-bound pure-Python jobs in a warm 2-process pool over running them one
    after the other: what the machine gives two processes right now (2.0 on two idle cores)."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    serial, _ = median_time(lambda: (_burn(n), _burn(n)), repeats=3, warmup=0)
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        list(pool.map(_burn, [1, 1]))
        parallel, _ = median_time(lambda: list(pool.map(_burn, [n, n])), repeats=3, warmup=0)
    return serial / parallel


def rate(pattern: str, repeats: int, **kwargs: object) -> tuple[float, int]:
    """Median files/s of a batch over ``pattern`` and its row count."""
    seconds, result = median_time(lambda: batch_analyze(pattern, **kwargs), repeats=repeats, warmup=0)
    assert not result.failures, result.failures
    return len(result.files) / seconds, result.n_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=24, help="recordings in the batch (default 24)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each recording, s")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per configuration (median)")
    args = parser.parse_args()
    started = time.perf_counter()
    figures: dict[str, object] = {"benchmark": "batch", **machine(), "files": args.files}
    with tempfile.TemporaryDirectory(prefix="myoflow-bench-batch-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        make_folder(folder, args.files, args.seconds)
        print(f"{args.files} recordings of {args.seconds:g} s written in {time.perf_counter() - t0:.1f} s")
        pattern = str(folder / "*.h5")
        for name, kwargs in (
            ("inline", {"workers": 0}),
            ("local_1", {"workers": 1}),
            ("local_2", {"workers": 2}),
        ):
            fps, rows = rate(pattern, args.repeats, **kwargs)
            figures[f"{name}_files_per_s"] = fps
            print(f"{name:>8}: {fps:6.2f} files/s ({rows} reps)")
        figures["scaling_1_to_2_workers"] = figures["local_2_files_per_s"] / figures["local_1_files_per_s"]
        figures["machine_2_process_speedup"] = machine_speedup()
        print(
            f"scaling 1 -> 2 local workers: {figures['scaling_1_to_2_workers']:.2f}x (ideal 2.0; two "
            f"CPU-bound processes get {figures['machine_2_process_speedup']:.2f}x on this machine now)"
        )

        from distributed import LocalCluster

        t0 = time.perf_counter()
        with LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster:
            figures["dask_cluster_start_s"] = time.perf_counter() - t0
            batch_analyze(pattern, scheduler=cluster.scheduler_address)  # workers import myoflow
            fps, _ = rate(pattern, args.repeats, scheduler=cluster.scheduler_address)
            figures["dask_2_files_per_s"] = fps
        print(
            f"    dask: {fps:6.2f} files/s on a warm LocalCluster of 2 workers "
            f"(started in {figures['dask_cluster_start_s']:.1f} s)"
        )
    figures["parent_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    figures["runtime_s"] = time.perf_counter() - started
    print(f"parent peak RSS {figures['parent_peak_rss_mb']:.0f} MB; total {figures['runtime_s']:.0f} s")
    finish(figures)


if __name__ == "__main__":
    main()
