"""Run the official BIDS validator (the ``bids-validator-deno`` package) on a dataset folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["validator_command", "validate_bids"]


def validator_command() -> list[str]:
    """The command that runs the BIDS validator; OSError naming the package when it is missing."""
    exe = shutil.which("bids-validator-deno", path=str(Path(sys.executable).parent)) or shutil.which(
        "bids-validator-deno"
    )
    if exe is None:
        raise OSError("the BIDS validator is not installed: pip install bids-validator-deno")
    return [exe]


def validate_bids(root: str | os.PathLike[str], timeout_s: float = 300.0) -> tuple[list[str], list[str]]:
    """``(errors, warnings)`` of the validator on ``root``, one line each (``CODE subcode: file``).

    Raises
    ------
    OSError
        The validator is missing or did not answer with its JSON report.
    """
    cmd = [*validator_command(), str(root), "--format", "json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    try:
        issues = json.loads(proc.stdout)["issues"]["issues"]
    except (ValueError, KeyError, TypeError):
        tail = " ".join((proc.stderr or proc.stdout).split())[-300:]
        raise OSError(f"the BIDS validator gave no report (exit {proc.returncode}): {tail}") from None
    errors: list[str] = []
    warnings: list[str] = []
    for i in issues:
        text = f"{i.get('code')} {i.get('subCode') or ''}: {i.get('location') or ''}".replace(" :", ":")
        (errors if i.get("severity") == "error" else warnings).append(text)
    return errors, warnings
