"""``batch_analyze(..., workers=2)`` from a plain script with no ``if __name__ == "__main__":``
guard: the script runs once (not again in each worker) and every file is analysed.

The script is a real file run by a fresh interpreter, as a user would run it; before the fix
each spawn worker re-ran it, multiprocessing refused, and the batch returned 0 files with
a traceback per worker.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_script_without_a_main_guard_runs_the_batch_in_two_workers(tmp_path: Path) -> None:
    files = sorted(str(p) for p in (REPO / "recordings").glob("*.h5"))
    assert len(files) >= 2
    script = tmp_path / "my_batch.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import myoflow as mf

            print("script body ran")
            result = mf.batch_analyze({files!r}, workers=2)
            inline = mf.batch_analyze({files!r}, workers=0)
            print(result.runner, result.n_ok, result.failures, result.table() == inline.table())
            """
        )
    )
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=600
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr == "", out.stderr
    assert out.stdout.splitlines() == ["script body ran", f"2 local processes {len(files)} [] True"]
