"""Crash benchmark: what a recording keeps when the recorder is killed, stopped or runs out of disk.

* SIGKILL (``--kills`` times): a recorder subprocess writes 3 EMG channels at 2 kHz in real time
  (the default 0.25 s flush interval) and is killed at a random time 1-8 s in; ``recover`` must
  rebuild the file; lost = kill time - time of the last recovered sample (same monotonic clock).
* SIGTERM and SIGHUP (``--stops`` times each): ``myoflow record --virtual`` (real time) gets the
  signal 2-6 s after it starts recording; the file must be ``final`` and the command say so;
  lost = signal time - time of the last sample in the file.
* Full disk (``--fulls`` times): the same recorder, writing 100 000 rows/s, under a file-size
  limit (RLIMIT_FSIZE between 3 and 8 MB) and, when this runs as root, on an 8 MB tmpfs; the
  error must name the file, the file must open and ``recover`` must rebuild it with what was
  flushed (the recorder keeps a 1 MiB reserve to close the file cleanly).

Run: ``make bench BENCH=crash`` or ``.venv/bin/python benchmarks/bench_crash.py``.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from myoflow.storage._recover import recover
from myoflow.storage.reader import open_recording

from _common import finish, machine, print_figures

WRITER = """
import resource, signal, sys, time
import numpy as np
from myoflow.storage.schema import RecordingError
from myoflow.storage.writer import Recorder
from myoflow.stream import StreamInfo
if len(sys.argv) > 2 and sys.argv[2].isdigit():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), int(sys.argv[2])))
emg = StreamInfo("strap/emg", "emg", 2000.0, ("a", "b", "c"))
rec = Recorder(sys.argv[1])
rec.add_stream(emg, "int16", 0.1)
rec.start()
t0 = time.monotonic()
print("started", t0, flush=True)
n = 0
fast = len(sys.argv) > 2  # filling a disk: as fast as the writer takes it
try:
    while time.monotonic() - t0 < 60:
        due = n + 2000 if fast else int((time.monotonic() - t0) * 2000)
        if due > n:
            rows = np.arange(n, due)
            data = (rows[:, None] * 5 + np.array([0, 1, 2])) % 20000
            rec.write_block("strap/emg", data, t0 + rows / 2000.0)
            n = due
        time.sleep(0.02 if fast else 0.003)
except RecordingError as exc:
    print("error:", exc, flush=True)
    sys.exit(3)
"""


def _last_time(path: Path, stream: str, t_start: float = float("nan")) -> tuple[float, int, str]:
    """Time of the last stored sample (``t_start`` when none), samples stored, state."""
    with open_recording(path) as rec:
        v = rec.streams[stream]
        n = v.n_samples
        return (float(v.times(n - 1, n)[0]) if n else t_start), n, rec.state


def sigkill(tmp: Path, runs: int, rng: random.Random) -> dict[str, float]:
    lost, ok, empty = [], 0, 0
    for k in range(runs):
        path = tmp / f"kill{k}.h5"
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        word, t_start = proc.stdout.readline().split()
        assert word == "started"
        time.sleep(rng.uniform(1.0, 8.0))
        t_kill = time.monotonic()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        fixed = recover(path, tmp / f"kill{k}.recovered.h5")
        t_last, n, state = _last_time(fixed, "strap/emg", float(t_start))
        ok += state == "recovered"
        empty += n == 0
        lost.append(t_kill - t_last)
        when = t_kill - float(t_start)
        print(f"SIGKILL {k}: {when:.2f} s in, {n} samples kept, {t_kill - t_last:.3f} s lost")
    return {
        "sigkill_runs": runs,
        "sigkill_recovered": ok,
        "sigkill_recovered_empty": empty,
        "sigkill_lost_max_s": max(lost),
        "sigkill_lost_mean_s": sum(lost) / runs,
    }


def stops(tmp: Path, runs: int, rng: random.Random) -> dict[str, float]:
    out: dict[str, float] = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        lost, ok = [], 0
        for k in range(runs):
            path = tmp / f"{sig.name}{k}.h5"
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "myoflow.cli",
                    "record",
                    "--virtual",
                    "--seconds",
                    "300",
                    "--out",
                    str(path),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            assert proc.stdout is not None
            line = ""
            while not line.startswith("recording "):
                line = proc.stdout.readline()
                if not line and proc.poll() is not None:
                    raise RuntimeError(f"record stopped early: {proc.stderr.read() if proc.stderr else ''}")
            time.sleep(rng.uniform(2.0, 6.0))
            t_sig = time.monotonic()
            proc.send_signal(sig)
            stdout, stderr = proc.communicate(timeout=180)
            t_last, n, state = _last_time(path, "diy/emg")
            said = f"stopped by {sig.name}, finalised" in stdout and "received" in stderr
            ok += state == "final" and n > 0 and said and proc.returncode == 128 + sig
            lost.append(t_sig - t_last)
            gap = t_sig - t_last
            print(f"{sig.name} {k}: exit {proc.returncode}, state {state}, {n} samples, {gap:.3f} s")
        out[f"{sig.name.lower()}_runs"] = runs
        out[f"{sig.name.lower()}_final_and_said_so"] = ok
        out[f"{sig.name.lower()}_gap_to_signal_max_s"] = max(lost)
    return out


def full_disk(tmp: Path, runs: int, rng: random.Random) -> dict[str, float]:
    ok, kept = 0, []
    places = [("fsize", tmp, rng.randint(3_000_000, 8_000_000)) for _ in range(runs)]
    mnt = tmp / "mnt"
    mnt.mkdir()
    mounted = (
        os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)], capture_output=True
        ).returncode
        == 0
    )
    if mounted:
        places.append(("tmpfs", mnt, 0))
    try:
        for k, (how, folder, limit) in enumerate(places):
            path = folder / f"full{k}.h5"
            argv = [sys.executable, "-c", WRITER, str(path)] + ([str(limit)] if how == "fsize" else [])
            proc = subprocess.run(
                argv + ["fill"] * (how == "tmpfs"), capture_output=True, text=True, timeout=120
            )
            named = proc.returncode == 3 and str(path) in proc.stdout
            print(
                f"disk full {k} ({how}): exit {proc.returncode}: {proc.stdout.strip().splitlines()[-1][:150]}"
            )
            fixed = recover(path, tmp / f"full{k}.recovered.h5")
            _, n, state = _last_time(fixed, "strap/emg")
            ok += named and state == "recovered" and n > 0
            kept.append(n / 2000.0)
    finally:
        if mounted:
            subprocess.run(["umount", str(mnt)], check=False)
    return {
        "disk_full_runs": len(places),
        "disk_full_named_and_recovered": ok,
        "disk_full_tmpfs": mounted,
        "disk_full_kept_s_min": min(kept),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--stops", type=int, default=5)
    parser.add_argument("--fulls", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--parts", default="kill,stop,full", help="which parts to run (default: all)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    figures: dict[str, object] = dict(machine())
    with tempfile.TemporaryDirectory() as tmp:
        parts = args.parts.split(",")
        if "kill" in parts:
            figures.update(sigkill(Path(tmp), args.kills, rng))
        if "stop" in parts:
            figures.update(stops(Path(tmp), args.stops, rng))
        if "full" in parts:
            figures.update(full_disk(Path(tmp), args.fulls, rng))
    print_figures(figures)
    finish(figures)


if __name__ == "__main__":
    main()
