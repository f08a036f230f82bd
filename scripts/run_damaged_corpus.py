"""Run myoflow commands on the damaged-file corpus and judge every outcome.

Usage: python scripts/run_damaged_corpus.py CORPUS_DIR [--commands info,check,...]
(``benchmarks/bench_damaged.py`` makes the corpus and runs every command on every file.)

Each command runs in this process through ``myoflow.cli.main`` with its output captured.
Outcomes:

``clear error``
    exit code 1 with the last line of stderr naming the file, no traceback, and no output
    left behind (export and recover leave nothing); ``batch`` exits 0 and lists the file
    among the failed ones with a one-line reason.
``correct``
    a harmless damage (``expect == "same"``) gives the same result as the undamaged base
    (JSON reports and exported files compared, file names and timings aside).
``silent wrong``
    a damaged file accepted as if it were fine, or a harmless one giving another result.
``traceback``
    an exception escaped the command.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_damaged_corpus import Damage  # noqa: E402

#: command -> argv builder (path of the recording, a scratch folder)
COMMANDS: dict[str, Callable[[Path, Path], list[str]]] = {
    "info": lambda p, w: ["info", "--json", str(p)],
    "check": lambda p, w: ["check", str(p)],
    "analyze": lambda p, w: ["analyze", "--json", str(p)],
    "replay": lambda p, w: ["replay", "--fast", str(p)],
    "export_csv": lambda p, w: ["export", "csv", str(p), "--out", str(w / "csv")],
    "export_nwb": lambda p, w: ["export", "nwb", str(p), "--out", str(w / "out.nwb")],
    "recover": lambda p, w: ["recover", str(p), "--out", str(w / "recovered.h5")],
    "batch": lambda p, w: ["batch", str(p), "--out", str(w / "table.csv"), "--workers", "0"],
}
OUTCOMES = ("clear error", "correct", "silent wrong", "traceback")


def run_cli(argv: list[str]) -> tuple[int, str, str, str]:
    """Run ``myoflow ARGV`` in this process: exit code, stdout, stderr, traceback ('' if none)."""
    from myoflow.cli import main

    out, err = io.StringIO(), io.StringIO()
    tb = ""
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as exc:  # argparse
            rc = int(exc.code or 0)
        except Exception:  # noqa: BLE001 - a traceback is the outcome being counted
            rc, tb = -1, traceback.format_exc()
    return rc, out.getvalue(), err.getvalue(), tb


def result_of(command: str, rc: int, stdout: str, work: Path) -> Any:
    """What a successful run produced, normalised for comparison with the undamaged base."""
    if command == "info":
        d = json.loads(stdout)
        for key in ("file", "size_bytes"):
            d.pop(key, None)
        return d
    if command == "analyze":
        d = json.loads(stdout) if stdout.strip() else {}
        d.get("source", {}).pop("file", None)
        return rc, d
    if command == "export_csv":
        files = {}
        for f in sorted((work / "csv").iterdir()):
            text = f.read_text()
            files[f.name] = re.sub(r'"source": "[^"]*"', "", text)
        return files
    if command == "replay":
        return [ln for ln in stdout.splitlines()[1:] if not ln.startswith("replayed ")]
    if command == "batch":
        rows = (work / "table.csv").read_text().splitlines()
        return [re.sub(r"^[^,]*,", "", r) for r in rows]  # first column: the file
    if command == "recover":
        return rc, "nothing to recover" in stdout
    return rc


def judge(damage: Damage, command: str, work: Path, baseline: Any | None) -> tuple[str, str]:
    """Run ``command`` on the damaged file; returns (outcome, one line of detail)."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    rc, stdout, stderr, tb = run_cli(COMMANDS[command](damage.path, work))
    if tb:
        return "traceback", tb.strip().splitlines()[-1]
    last = ((stdout if command == "check" else stderr).strip().splitlines() or [""])[-1]
    name = damage.path.name
    if damage.expect == "data" and command == "info" and rc == 0:
        return "correct", "info reads no samples: the description is right"
    if damage.expect in ("error", "data"):
        if command == "batch":
            failed = [ln for ln in stdout.splitlines() if ln.strip().startswith(str(damage.path))]
            if rc == 0 and "1 file(s) failed" in stdout and failed:
                return "clear error", failed[0].strip()
            return "silent wrong", f"rc={rc}: {stdout.strip().splitlines()[-1:]}"
        if rc == 0:
            return "silent wrong", f"rc=0 on a damaged file: {stdout.strip().splitlines()[:1]}"
        left = [p.name for p in work.iterdir() if p.name != "csv" or any(p.iterdir())]
        if left:
            return "silent wrong", f"rc={rc} but left {left} behind: {last}"
        if rc in (1, 2) and name in last:
            return "clear error", last
        return "silent wrong", f"rc={rc}, unclear message: {last!r}"
    if rc not in (0, 2) or (rc == 2 and command != "analyze"):
        return "silent wrong", f"rc={rc} on a harmless damage: {last}"
    got = result_of(command, rc, stdout, work)
    if baseline is not None and got != baseline:
        return "silent wrong", "result differs from the undamaged base"
    return "correct", "same result as the undamaged base" if baseline is not None else "ok"


def run_corpus(
    corpus: list[Damage], commands: list[str], work: Path, report: Callable[[str], None] = print
) -> dict[str, dict[str, int]]:
    """Judge every command on every file; returns counts per command and outcome."""
    counts = {c: dict.fromkeys(OUTCOMES, 0) for c in commands}
    baselines: dict[tuple[str, str], Any] = {}
    for base in ("final", "live"):
        control = next(d for d in corpus if d.name == f"control_{base}")
        for c in commands:
            w = work / f"control_{base}_{c}"
            w.mkdir(parents=True, exist_ok=True)
            rc, stdout, _, tb = run_cli(COMMANDS[c](control.path, w))
            if tb or rc not in (0, 2):
                raise RuntimeError(f"{c} fails on the undamaged base {control.path} (rc={rc}): {tb}")
            baselines[(base, c)] = result_of(c, rc, stdout, w)
    for d in corpus:
        for c in commands:
            baseline = None if d.name.startswith("control") else baselines[(d.base, c)]
            outcome, detail = judge(d, c, work / "run", baseline)
            counts[c][outcome] += 1
            if outcome in ("silent wrong", "traceback"):
                report(f"{outcome.upper()}: {c} on {d.name} ({d.what}): {detail}")
    return counts


def main(argv: list[str] | None = None) -> int:
    import argparse
    import tempfile

    from make_damaged_corpus import make_corpus

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commands", default=",".join(COMMANDS))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = make_corpus(Path(tmp) / "corpus")
        counts = run_corpus(corpus, args.commands.split(","), Path(tmp) / "work")
    print(json.dumps(counts, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
