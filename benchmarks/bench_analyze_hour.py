"""``myoflow analyze`` of a 1-hour, 8-channel, 2 kHz recording (target: under 10 s).

The recording is a synthetic glute-bridge session (8 EMG channels at 2 kHz, pelvis and thigh
IMUs) written with the ordinary ``Recorder`` in six 10-minute parts, one after the other on the
same clock (the generator makes one part at a time, to keep its memory small). The timed run is
the command a user types, ``myoflow analyze FILE --json``, in a fresh process (imports, file
reading, envelopes, reps, every metric, the report), median of ``--repeats`` runs, in wall
time and in CPU time of that process (user + sys: what a loaded machine does not inflate much),
with the load average when the runs ended.
Run: ``make bench BENCH=analyze_hour`` or ``.venv/bin/python benchmarks/bench_analyze_hour.py``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from myoflow.storage.schema import ClockAnchor, SessionMetadata
from myoflow.storage.writer import Recorder
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import generate_session

from _common import finish, machine

PLACEMENTS = tuple(
    f"{m}_{s}" for s in ("l", "r") for m in ("glute_max", "biceps_femoris", "semitendinosus", "glute_med")
)


def write_hour(path: Path, minutes: float, parts: int) -> float:
    """Write ``parts`` consecutive sessions of ``minutes / parts`` each; returns seconds written."""
    per = minutes * 60.0 / parts
    n_reps = max(1, int((per - 6.0) / 5.0))
    meta = SessionMetadata(subject_id="S0", exercise="glute_bridge")
    offset = 0.0
    with Recorder(path, meta, clock=ClockAnchor(0.0, 1.7e9), on_full="wait") as rec:
        for k in range(parts):
            s = generate_session(SessionConfig(n_reps=n_reps, emg_rate=2000.0, seed=k, placements=PLACEMENTS))
            blocks = [s.emg_block(), *s.imu_blocks()]
            if k == 0:
                for b in blocks:
                    rec.add_stream(b.stream, np.float32)
                rec.start()
            span = float(s.emg_times[-1]) + 1.0 / 2000.0
            for b in blocks:
                rec.write_block(b.stream.name, b.data, b.times + offset)
            offset += span
    return offset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--parts", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--file", type=Path, help="time this recording (written first if missing), not a temporary one"
    )
    args = parser.parse_args()
    figures: dict[str, object] = {"benchmark": "analyze_hour", "channels": len(PLACEMENTS), "fs_hz": 2000.0}
    with tempfile.TemporaryDirectory(prefix="myoflow-bench-hour-") as tmp:
        path = args.file or Path(tmp) / "hour.h5"
        if not path.exists():
            t0 = time.perf_counter()
            figures["recording_s"] = write_hour(path, args.minutes, args.parts)
            figures["write_s"] = time.perf_counter() - t0
        figures["file_mb"] = path.stat().st_size / 1e6
        exe = Path(sys.executable).with_name("myoflow")
        times, cpus = [], []
        for _ in range(args.repeats):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run([str(exe), "analyze", str(path), "--json"], check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        figures["analyze_s_median"] = float(np.median(times))
        figures["analyze_s_all"] = [round(t, 2) for t in times]
        # CPU time (user + sys, all threads) of the analyze process: comparable between runs on
        # a shared machine, where wall time mostly measures the other processes
        figures["analyze_cpu_s_median"] = float(np.median(cpus))
        figures["load_average_1min"] = os.getloadavg()[0]
    figures |= machine()
    for k, v in figures.items():
        print(f"{k:24s} {v}")
    finish(figures)


if __name__ == "__main__":
    main()
