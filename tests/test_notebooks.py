"""The researcher notebooks in notebooks/ run top to bottom, and are kept without outputs in git.

Each notebook is copied to a temporary folder and executed there with ``nbclient`` on the
``python3`` kernel of this environment (ipykernel installed beside nbclient: jupyter_client
starts it with this very interpreter, checked below). The notebooks find the example recordings
through ``MYOFLOW_RECORDINGS``; anything they write lands in the temporary folder. Plots are
drawn with matplotlib's headless ``Agg`` backend. A failing cell fails the test with the cell's
source and its error.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_NEEDED = ("nbformat", "nbclient", "ipykernel", "matplotlib")
_MISSING = [name for name in _NEEDED if importlib.util.find_spec(name) is None]
if _MISSING:  # fail loudly: a skipped notebook test would let the notebooks rot unnoticed
    pytest.fail(
        f"the notebook tests need {', '.join(_MISSING)} (the 'test' and 'notebooks' extras): "
        "pip install -e '.[test]'",
        pytrace=False,
    )

import nbclient  # noqa: E402 - after the check above
import nbformat  # noqa: E402
from nbclient.exceptions import CellExecutionError  # noqa: E402
from traitlets.config import Config  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
RECORDINGS = REPO / "recordings"
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colour codes in IPython tracebacks
#: Seconds one cell may take before the run is abandoned (a whole notebook takes ~5 s).
CELL_TIMEOUT_S = 120


def _client(nb: object, workdir: Path, socket_dir: Path) -> nbclient.NotebookClient:
    # nbclient owns the kernel manager, so it shuts the kernel down and closes every socket.
    # On POSIX the kernel talks over IPC sockets in socket_dir: no TCP ports, and no warning
    # about plain-text TCP. Windows keeps the default TCP transport.
    config = Config()
    if os.name == "posix":
        config = Config({"KernelManager": {"transport": "ipc", "ip": str(socket_dir / "kernel")}})
    return nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        config=config,
        resources={"metadata": {"path": str(workdir)}},
    )


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """A folder with a short path for the kernel's sockets (a Unix socket path must stay under
    about 100 characters, which pytest's tmp_path can exceed on macOS)."""
    path = Path(tempfile.mkdtemp(prefix="mfk-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def kernel_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The environment the kernel inherits: the recordings, headless plots, and temporary
    folders (the notebooks export into ``tempfile.mkdtemp()``) inside pytest's own."""
    monkeypatch.setenv("MYOFLOW_RECORDINGS", str(RECORDINGS))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def test_there_are_notebooks() -> None:
    names = [p.name for p in NOTEBOOKS]
    assert len(names) >= 3, f"expected at least three notebooks in notebooks/, found {names}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    """Outputs are stripped in git: no outputs, no execution counts, a python3 kernel."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        k
        for k, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, (
        f"{path.name}: code cells {dirty} hold outputs or execution counts; clear them before "
        "committing (Jupyter: Edit > Clear Outputs of All Cells, then save; or "
        f"`.venv/bin/jupyter nbconvert --clear-output --inplace notebooks/{path.name}`, "
        "see notebooks/README.md)"
    )
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", (
        f"{path.name}: kernelspec is not python3"
    )
    assert sum(c.cell_type == "markdown" for c in nb.cells) >= 5, f"{path.name}: too little explanation"


def test_stripping_check_catches_outputs(tmp_path: Path) -> None:
    """The check above fails for a notebook saved with outputs (as after running it in Jupyter)."""
    nb = nbformat.read(NOTEBOOKS[0], as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
    cell.execution_count = 1
    dirty = tmp_path / NOTEBOOKS[0].name
    nbformat.write(nb, dirty)
    with pytest.raises(AssertionError, match="hold outputs or execution counts"):
        test_notebook_is_stored_without_outputs(dirty)


def test_kernel_is_this_environment(tmp_path: Path, socket_dir: Path, kernel_env: None) -> None:
    """The python3 kernel runs this interpreter, so it imports the myoflow under test."""
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("import sys, myoflow\nprint(sys.executable)\nprint(myoflow.__file__)")
        ]
    )
    _client(nb, tmp_path, socket_dir).execute()
    executable, module = nb.cells[0].outputs[0]["text"].split()
    assert Path(executable).resolve() == Path(sys.executable).resolve()
    assert Path(module).resolve().is_relative_to(REPO / "src")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: Path, tmp_path: Path, socket_dir: Path, kernel_env: None) -> None:
    before = sorted(p.name for p in path.parent.iterdir())
    workdir = tmp_path / "run"
    workdir.mkdir()
    copy = workdir / path.name
    shutil.copyfile(path, copy)
    nb = nbformat.read(copy, as_version=4)
    failure = None
    try:
        _client(nb, workdir, socket_dir).execute()
    except CellExecutionError as exc:  # names the cell, shows its source and traceback
        failure = ANSI.sub("", str(exc))
    if failure is not None:
        pytest.fail(f"{path.name} failed:\n{failure}", pytrace=False)
    ran = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in ran), f"{path.name}: not every cell ran"
    errors = [o for c in ran for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"
    text = "".join(o.get("text", "") for c in ran for o in c.outputs if o.output_type == "stream")
    assert "Traceback" not in text, f"{path.name} printed a traceback:\n{text}"
    stderr = "".join(o.get("text", "") for c in ran for o in c.outputs if o.get("name") == "stderr")
    assert "Warning" not in stderr, f"{path.name} warns (a reader sees this):\n{stderr}"
    # the notebook stored in git is untouched (the copy was run), and nothing was written beside it
    assert not any(c.outputs for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    assert sorted(p.name for p in path.parent.iterdir()) == before
