"""Docstrings of the public modules pass ruff's pydocstyle rules (D, numpy convention).

The public modules are the package faces (``myoflow``, ``myoflow.storage``, ...) and the modules
their names come from (their ``if TYPE_CHECKING:`` imports), so the checked set follows the API.
Run the same check with ``.venv/bin/ruff check --select D --ignore D105,D205,D209,D401 FILES``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from myoflow._lazy import FACES, type_checking_imports

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
#: D401 (imperative mood) and D205/D209 (one-line summary, closing quotes on their own line):
#: the house style writes summaries as noun phrases that may wrap to a second line. D105: dunder
#: methods say what Python says they do.
DOCSTRING_IGNORE = ("D105", "D205", "D209", "D401")


def _module_file(module: str) -> Path:
    path = SRC / Path(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def public_modules() -> list[Path]:
    """The faces' files and the files of every module a face re-exports from."""
    out = set()
    for face in FACES:
        init = _module_file(face)
        out.add(init)
        out |= {_module_file(m) for m in type_checking_imports(init.read_text(encoding="utf-8")).values()}
    return sorted(out)


def test_public_modules_have_numpy_style_docstrings() -> None:
    files = public_modules()
    assert len(files) > 30 and all(f.is_file() for f in files)
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is a test dependency (pyproject [test] extra) but is not installed")
    proc = subprocess.run(
        [
            ruff,
            "check",
            "--no-cache",
            "--select",
            "D",
            "--ignore",
            ",".join(DOCSTRING_IGNORE),
            *map(str, files),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
