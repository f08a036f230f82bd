"""The type check: mypy over the signal core, recordings, metrics, the strap protocols and the
public faces (``[tool.mypy]`` in pyproject.toml says which files and how strictly).

Run it yourself with ``.venv/bin/mypy`` from the repository root.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_mypy_finds_no_type_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert "No module named mypy" not in proc.stderr, "mypy is a test dependency (pyproject [test] extra)"
    assert proc.returncode == 0, proc.stdout + proc.stderr
