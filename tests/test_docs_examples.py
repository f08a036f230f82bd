"""The code in docs/python-api.md runs as written.

Every fenced ```python block of the page is executed on its own (a reader copies one block at a
time, so each must stand alone), in a temporary folder that holds a copy of the example
recordings under ``recordings/``, as the repository root does. Files the examples write land in
that folder.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "python-api.md"
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
HEADING = re.compile(r"^## (.+)$", re.M)


def _blocks() -> list[tuple[str, str]]:
    """``(id, code)`` of every python block, the id naming the section it sits in."""
    text = PAGE.read_text(encoding="utf-8")
    out = []
    for k, m in enumerate(FENCE.finditer(text)):
        headings = HEADING.findall(text[: m.start()])
        section = re.sub(r"\W+", "-", headings[-1].lower()).strip("-") if headings else "intro"
        out.append((f"{k}-{section}", m.group(1)))
    return out


BLOCKS = _blocks()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    rec = tmp_path / "recordings"
    rec.mkdir()
    for h5 in (REPO / "recordings").glob("*.h5"):
        shutil.copyfile(h5, rec / h5.name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_page_covers_the_five_tasks() -> None:
    headings = HEADING.findall(PAGE.read_text(encoding="utf-8"))
    for task in ("Open a recording", "Iterate it", "Run the pipeline on arrays", "Analyse", "Export"):
        assert any(task in h for h in headings), f"docs/python-api.md has no section {task!r}: {headings}"
    sections = {block_id.split("-", 1)[1] for block_id, _ in BLOCKS}
    assert len(sections) >= 5, f"every task needs runnable code; python blocks only in {sorted(sections)}"


@pytest.mark.parametrize("code", [c for _, c in BLOCKS], ids=[i for i, _ in BLOCKS])
def test_example_runs(code: str, workdir: Path) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"{PAGE.name} example", "exec"), {"__name__": "__docs_example__"})
    assert out.getvalue().strip(), "every example prints what it shows"


def test_examples_write_into_the_working_folder(workdir: Path) -> None:
    """The export example leaves its files where a reader would look for them."""
    code = next(c for block_id, c in BLOCKS if block_id.endswith("export"))
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(code, f"{PAGE.name} example", "exec"), {"__name__": "__docs_example__"})
    assert (workdir / "exported" / "diy_emg.csv").stat().st_size > 100_000
    header = (workdir / "reps.csv").read_text().splitlines()[0]
    assert header.startswith("rep,set_index,partial,level_unit,rom_deg")
    assert '"schema": "myoflow.analysis-report"' in (workdir / "report.json").read_text()
