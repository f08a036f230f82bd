"""Names for new recordings that never collide with an existing file.

A recording is named by subject, exercise and local start time, ``s01_glute_bridge_20260315-
143002.h5``; if that file exists already (two starts in one second, a clock set back), a run
counter follows, ``..._run2.h5``, ``..._run3.h5`` (LabRecorder numbers its runs the same way).
Nothing here ever picks a name that exists, so only a name the user typed can meet an existing
file, and then the window asks before overwriting.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

__all__ = ["recording_path", "safe_part"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_part(text: str, default: str) -> str:
    """``text`` as a file-name part: runs of anything but letters, digits, ``. _ -`` become
    ``-``; ``default`` when nothing is left."""
    part = _UNSAFE.sub("-", str(text).strip()).strip("-.")
    return part or default


def recording_path(
    folder: str | Path, subject: str, exercise: str, when: datetime | None = None, max_runs: int = 9999
) -> Path:
    """A new ``.h5`` path in ``folder`` named by subject, exercise and time (module docstring).

    Parameters
    ----------
    folder
        Where the recording goes (need not exist yet).
    subject, exercise
        Pseudonymous subject id (``anon`` when empty) and exercise name.
    when
        Start time (default: now, local time).
    max_runs
        Give up (``FileExistsError``) after this many taken run numbers.
    """
    stamp = (when or datetime.now()).strftime("%Y%m%d-%H%M%S")
    stem = f"{safe_part(subject, 'anon')}_{safe_part(exercise, 'session')}_{stamp}"
    folder = Path(folder)
    path = folder / f"{stem}.h5"
    run = 1
    while path.exists():
        run += 1
        if run > max_runs:
            raise FileExistsError(f"{folder}: {max_runs} recordings named {stem}_runN.h5 exist already")
        path = folder / f"{stem}_run{run}.h5"
    return path
