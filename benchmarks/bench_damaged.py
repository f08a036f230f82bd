"""Damaged-file benchmark: every command on every file of the damaged-recording corpus.

The corpus (``scripts/make_damaged_corpus.py``: the example recording and a live file left by a
killed recorder, each broken one way per file - attributes, tables, time maps, gaps, events,
bytes) is written to a temporary folder. Then:

1. every command (info, check, analyze, replay --fast, export csv, export nwb, recover, batch)
   runs on every file in this process through ``myoflow.cli.main`` and each outcome is judged
   (``scripts/run_damaged_corpus.py``): clear error, correct result, silent wrong answer or
   traceback;
2. ``myoflow info`` and ``myoflow check`` run on every file as real subprocesses: the exit code
   must be 0 or 1 (never a crash by signal), stderr never holds a traceback.

Run: ``make bench BENCH=damaged`` or ``.venv/bin/python benchmarks/bench_damaged.py``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import finish, machine, print_figures

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

from make_damaged_corpus import make_corpus  # noqa: E402
from run_damaged_corpus import COMMANDS, OUTCOMES, run_corpus  # noqa: E402


def main() -> None:
    figures: dict[str, object] = dict(machine())
    with tempfile.TemporaryDirectory() as tmp:
        corpus = make_corpus(Path(tmp) / "corpus")
        damaged = [d for d in corpus if not d.name.startswith("control")]
        figures["files"] = len(corpus)
        figures["damaged_files"] = len(damaged)
        figures["harmless_damages"] = sum(d.expect == "same" for d in damaged)
        t0 = time.perf_counter()
        problems: list[str] = []
        counts = run_corpus(corpus, list(COMMANDS), Path(tmp) / "work", report=problems.append)
        figures["in_process_s"] = time.perf_counter() - t0
        for line in problems:
            print(line)
        print(f"{'command':12s} " + " ".join(f"{o:>13s}" for o in OUTCOMES))
        for c, row in counts.items():
            print(f"{c:12s} " + " ".join(f"{row[o]:13d}" for o in OUTCOMES))
        for o in OUTCOMES:
            figures[f"runs_{o.replace(' ', '_')}"] = sum(row[o] for row in counts.values())
        figures["runs"] = sum(sum(row.values()) for row in counts.values())
        crashes = 0
        t0 = time.perf_counter()
        for d in corpus:
            for cmd in ("info", "check"):
                proc = subprocess.run(
                    [sys.executable, "-m", "myoflow.cli", cmd, str(d.path)],
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
                if proc.returncode not in (0, 1) or "Traceback" in proc.stderr:
                    crashes += 1
                    print(f"SUBPROCESS: {cmd} {d.name}: exit {proc.returncode} {proc.stderr[-300:]}")
        figures["subprocess_runs"] = 2 * len(corpus)
        figures["subprocess_crashes_or_tracebacks"] = crashes
        figures["subprocess_s"] = time.perf_counter() - t0
    print_figures(figures)
    finish(figures)


if __name__ == "__main__":
    main()
