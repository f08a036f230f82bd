"""Run every benchmark in this folder, each in its own process, and summarise.

Each ``bench_*.py`` prints its figures and ends with one JSON line; this script prints them as
they come and ends with one JSON line holding every benchmark's figures by name. Pass names to
run a subset: ``python benchmarks/run_all.py dsp ingest``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        wanted = {f"bench_{name}.py" for name in argv}
        scripts = [s for s in scripts if s.name in wanted]
        missing = wanted - {s.name for s in scripts}
        if missing:
            print(f"no such benchmark: {', '.join(sorted(missing))}", file=sys.stderr)
            return 2
    results: dict[str, object] = {}
    failed = []
    for script in scripts:
        name = script.stem.removeprefix("bench_")
        print(f"== {name} ({script.name})", flush=True)
        proc = subprocess.run([sys.executable, str(script)], cwd=HERE, capture_output=True, text=True)
        print(proc.stdout, end="")
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            failed.append(name)
            continue
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        results[name] = json.loads(lines[-1]) if lines else None
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    print(json.dumps(results))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
