"""``myoflow analyze`` of a 1-hour, 8-channel, 2 kHz recording (target: under 10 s).

The recording is a synthetic glute-bridge session (8 EMG channels at 2 kHz, pelvis and thigh
IMUs) written with the ordinary ``Recorder`` in six 10-minute parts, one after the other on the
same clock (the generator makes one part at a time, to keep its memory small). The timed run is
the command a user types, ``myoflow analyze FILE --json``, in a fresh process (imports, file
reading, envelopes, reps, every metric, the report), median of ``--repeats`` runs, in wall
time and in CPU time of that process (user + sys: what a loaded machine does not inflate much),
with the load average when the runs ended. One more run (``--split``, on by default) times the
changepoint onset fit inside the process (CPU time of every
:func:`~myoflow.analysis.onset_emg.changepoint_onsets` / ``changepoint_onset`` call the analysis
makes) and reports it and the rest (reading, envelopes, reps, every other metric, the report)
apart, with the number of onsets fitted.
Run: ``make bench BENCH=analyze_hour`` or ``.venv/bin/python benchmarks/bench_analyze_hour.py``.
"""

from __future__ import annotations

import argparse
import json
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


#: The analyze command run in a fresh process with the changepoint fit's CPU time summed
#: (the functions the analysis calls are wrapped by a timer; they run unchanged). The timer is
#: the calling thread's CPU time: the reps are analysed on two threads at once.
SPLIT = """
import json, sys, time
import myoflow.analysis.activation as act
import myoflow.analysis.rep_summary as rs
spent = {"fit_cpu_s": 0.0, "onsets": 0}
def timed(f, batched):
    def run(raw, c, detected, earliest):
        t0 = time.thread_time()
        try:
            return f(raw, c, detected, earliest)
        finally:
            spent["fit_cpu_s"] += time.thread_time() - t0
            spent["onsets"] += len(detected) if batched else 1
    return run
rs.changepoint_onsets = timed(rs.changepoint_onsets, True)
rs.changepoint_onset = timed(rs.changepoint_onset, False)
act.changepoint_onset = timed(act.changepoint_onset, False)
from myoflow.cli import main
t0 = time.process_time()
code = main(["analyze", sys.argv[1], "--json"])
spent["total_cpu_s"] = time.process_time() - t0
print(json.dumps(spent), file=sys.stderr)
sys.exit(code)
"""


def split_run(path: Path) -> dict[str, float]:
    """CPU time of the changepoint fit and of everything else in one analyze run (:data:`SPLIT`;
    the analysis modules and scipy.signal are imported before the clock starts)."""
    out = subprocess.run(
        [sys.executable, "-c", SPLIT, str(path)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    got = json.loads(out.stderr.decode().strip().splitlines()[-1])
    return {
        "split_fit_cpu_s": got["fit_cpu_s"],
        "split_rest_cpu_s": got["total_cpu_s"] - got["fit_cpu_s"],
        "split_onsets_fitted": got["onsets"],
        "split_fit_ms_per_onset": 1000.0 * got["fit_cpu_s"] / max(1, got["onsets"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--parts", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--split",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="one more run timing the changepoint fit apart from the rest (CPU time, in process)",
    )
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
        if args.split:
            figures |= split_run(path)
        figures["load_average_1min"] = os.getloadavg()[0]
    figures |= machine()
    for k, v in figures.items():
        print(f"{k:24s} {v}")
    finish(figures)


if __name__ == "__main__":
    main()
