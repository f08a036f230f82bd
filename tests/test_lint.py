"""The code base passes ruff (rules in pyproject.toml): unused imports, undefined names,
bugbear patterns, import order. Run `.venv/bin/ruff check --fix src tests benchmarks` to fix."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing() -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is a test dependency (pyproject [test] extra) but is not installed")
    proc = subprocess.run(
        [ruff, "check", "--no-cache", "src", "tests", "benchmarks"], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
