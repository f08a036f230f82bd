"""CSV import benchmark: peak memory and speed of ``myoflow import csv`` on long files.

Two files are written to a temporary folder and imported by the real command in a subprocess,
whose peak resident memory (``ru_maxrss`` of the finished child) and wall time are reported:

* ``long``: 10 M rows of ``time,a,b`` (integer counts; about 200 MB), the shape of the file that
  peaked at 8.9 GB before the import streamed;
* ``hour``: one hour of 16 EMG channels at 2 kHz (7.2 M rows x 16 integer columns, about 800 MB).

A few values are left empty, to exercise the gap path. Target (issue 14): peak < 500 MB,
independent of the file's length. Run: ``make bench BENCH=import`` or
``.venv/bin/python benchmarks/bench_import.py [--scale 0.1]`` (a tenth of the rows).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import finish, machine, print_figures


def write_csv(path: Path, rows: int, channels: int, rate: float, seed: int = 0) -> None:
    """``time`` then ``channels`` int columns; every 100 000th row has an empty first channel."""
    rng = np.random.default_rng(seed)
    names = ["time", *(f"c{i}" for i in range(channels))]
    block = 200_000
    with path.open("w") as f:
        f.write(",".join(names) + "\n")
        for r0 in range(0, rows, block):
            n = min(block, rows - r0)
            data = rng.integers(-2000, 2000, (n, channels))
            t = (r0 + np.arange(n)) / rate
            cols = [np.char.mod("%.4f", t)] + [data[:, j].astype(str) for j in range(channels)]
            holes = np.flatnonzero((r0 + np.arange(n)) % 100_000 == 99_999)
            cols[1][holes] = ""
            lines = cols[0]
            for c in cols[1:]:
                lines = np.char.add(np.char.add(lines, ","), c)
            f.write("\n".join(lines.tolist()) + "\n")


CHILD = """
import sys
from myoflow.cli import main
code = main(sys.argv[1:])
hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM")][0].split()[1]
print("VmHWM_kB", hwm, file=sys.stderr)
sys.exit(code)
"""


def run_import(src: Path, out: Path, rate: float, channels: int) -> tuple[float, float]:
    """(peak resident MB, wall s) of ``myoflow import csv`` in a fresh child process.

    The peak is the child's own ``VmHWM`` (``ru_maxrss`` would carry this process's peak over
    the fork and exec).
    """
    argv = [sys.executable, "-c", CHILD, "import", "csv", str(src), "--rate", str(rate), "--out", str(out)]
    for i in range(channels):
        argv += ["--map", f"c{i}=emg"]
    t0 = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"import failed ({proc.returncode}): {proc.stderr}")
    hwm = [ln for ln in proc.stderr.splitlines() if ln.startswith("VmHWM_kB")][-1]
    return int(hwm.split()[1]) / 1024.0, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the rows to write")
    parser.add_argument("--cases", default="long,hour", help="which files (comma-separated: long, hour)")
    args = parser.parse_args()
    figures: dict[str, object] = dict(machine())
    cases = {
        "long": (int(10_000_000 * args.scale), 2, 2000.0),
        "hour": (int(7_200_000 * args.scale), 16, 2000.0),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, (rows, channels, rate) in cases.items():
            if name not in args.cases.split(","):
                continue
            src = Path(tmp) / f"{name}.csv"
            write_csv(src, rows, channels, rate)
            peak, wall = run_import(src, Path(tmp) / f"{name}.h5", rate, channels)
            figures[f"{name}_rows"] = rows
            figures[f"{name}_channels"] = channels
            figures[f"{name}_csv_mb"] = src.stat().st_size / 1e6
            figures[f"{name}_h5_mb"] = (Path(tmp) / f"{name}.h5").stat().st_size / 1e6
            figures[f"{name}_peak_rss_mb"] = peak
            figures[f"{name}_wall_s"] = wall
            figures[f"{name}_rows_per_s"] = rows / wall
            src.unlink()
    print_figures(figures)
    finish(figures)


if __name__ == "__main__":
    main()
