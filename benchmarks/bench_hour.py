"""One hour of virtual straps recorded: is the recorder's memory flat?

Runs the real command, ``myoflow record --virtual --fast --seconds S`` (the glute rig: DIY
4-channel EMG at 1 kHz and two Polar Verity Sense, in virtual time), in a child process, reads
its status lines (the DIY strap's EMG sample count gives the virtual time) and samples the
child's resident memory (``VmRSS``) at each one. Reported: RSS every ``--report-every`` virtual
minutes, the child's peak (``VmHWM``), the slope of RSS against virtual time (least squares
from ``--from-min`` on: by default minute 20, once the start-up is over and the ingest's bounded
histories are full: 4096 packet ages per stream fill in 17 virtual minutes at the IMU's 4
packets/s; the slope from minute 5 is printed too), the samples stored against those asked
for, and whether the file was finalised.

Goal (issue 14, "a 1-hour virtual stream flat"): slope under 0.05 MB per virtual minute
(under 3 MB over the hour) and a peak that does not grow with ``--seconds``. Before this
benchmark: 612 MB before streaming began (the synthetic hour, generated up front), +0.48 MB/min.
2026-12-07 (load ~1, after the fixes): 197 MB at 5 virtual min, 194 at 20, 182 at 60,
-0.28 MB/min from minute 20: met.

Run: ``make bench BENCH=hour`` or ``.venv/bin/python benchmarks/bench_hour.py [--seconds 1800]``
(a shorter run when an hour takes too long on a loaded machine: 10-22 min of wall time here).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from _common import finish, machine, print_figures

GOAL_MB_PER_MIN = 0.05
_EMG = re.compile(r"^\s+diy \[streaming\] emg (\d+) ")


def _status(pid: int, key: str) -> float:
    """``key`` (VmRSS, VmHWM) of process ``pid``, MB (nan once it has gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def record(seconds: float, out: Path, every_s: float, rate: float) -> dict:
    """Run the recording; ``(virtual s, RSS MB)`` at each status line, peak, wall time, output."""
    argv = [
        sys.executable,
        "-c",
        "import sys; from myoflow.cli import main; sys.exit(main(sys.argv[1:]))",
        "record",
        "--virtual",
        "--fast",
        "--seconds",
        str(seconds),
        "--rate",
        str(rate),
        "--out",
        str(out),
        "--status-every",
        str(every_s),
    ]
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    points: list[tuple[float, float]] = []
    peak = [0.0]
    lines: list[str] = []

    def watch_peak() -> None:  # VmHWM is gone once the child exits: read it while it runs
        while proc.poll() is None:
            hwm = _status(proc.pid, "VmHWM")
            if hwm == hwm:  # not nan
                peak[0] = max(peak[0], hwm)
            time.sleep(1.0)

    threading.Thread(target=watch_peak, daemon=True).start()
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line.rstrip())
        m = _EMG.match(line)
        if m:
            points.append((int(m.group(1)) / rate, _status(proc.pid, "VmRSS")))
    code = proc.wait()
    return {"points": points, "peak": peak[0], "wall": time.perf_counter() - t0, "code": code, "lines": lines}


def slope_mb_per_min(points: list[tuple[float, float]], from_min: float) -> float:
    """Least-squares slope of RSS (MB) against virtual minutes, from ``from_min`` on."""
    t = np.array([p[0] / 60.0 for p in points])
    r = np.array([p[1] for p in points])
    keep = (t >= from_min) & np.isfinite(r)
    if keep.sum() < 3:
        return float("nan")
    return float(np.polyfit(t[keep], r[keep], 1)[0])


def stored_emg(path: Path) -> int:
    """EMG samples in the recording."""
    from myoflow.storage.reader import open_recording

    with open_recording(path) as rec:
        return sum(s.n_samples for name, s in rec.streams.items() if name.endswith("/emg"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3600.0, help="virtual seconds to record")
    parser.add_argument("--every", type=float, default=2.0, help="status line interval, wall s")
    parser.add_argument("--from-min", type=float, default=20.0, help="fit the slope from this virtual min")
    parser.add_argument("--report-every", type=float, default=5.0, help="RSS table step, virtual min")
    args = parser.parse_args()
    rate = 1000.0
    figures: dict[str, object] = dict(machine())
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "hour.h5"
        run = record(args.seconds, out, args.every, rate)
        if run["code"] != 0:
            print("\n".join(run["lines"][-20:]))
            raise SystemExit(f"record failed with exit code {run['code']}")
        stored = stored_emg(out)
        final = any("(finalised)" in ln for ln in run["lines"])
    points = run["points"]
    print("virtual min   RSS MB")
    next_min = 0.0
    for t, r in points:
        if t / 60.0 >= next_min:
            print(f"{t / 60.0:11.1f}   {r:6.1f}")
            next_min = (t / 60.0 // args.report_every + 1) * args.report_every
    if points:
        print(f"{points[-1][0] / 60.0:11.1f}   {points[-1][1]:6.1f}   (last status line)")
    slope = slope_mb_per_min(points, args.from_min)
    after = [r for t, r in points if t / 60.0 >= args.from_min]
    figures.update(
        virtual_s=args.seconds,
        wall_s=run["wall"],
        status_lines=len(points),
        rss_first_mb=points[0][1] if points else float("nan"),
        rss_at_from_min_mb=after[0] if after else float("nan"),
        rss_last_mb=points[-1][1] if points else float("nan"),
        peak_rss_mb=run["peak"],
        slope_mb_per_min=slope,
        slope_from_5_min_mb_per_min=slope_mb_per_min(points, 5.0),
        emg_samples_asked=int(args.seconds * rate),
        emg_samples_stored=stored,
        finalised=final,
    )
    print_figures(figures)
    ok = slope < GOAL_MB_PER_MIN
    print(
        f"goal: RSS slope < {GOAL_MB_PER_MIN} MB per virtual minute from minute {args.from_min:g}: "
        f"{slope:+.3f} MB/min -> {'met' if ok else 'NOT met'}"
    )
    finish(figures)


if __name__ == "__main__":
    main()
