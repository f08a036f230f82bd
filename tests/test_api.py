"""The public API: what the package faces export, what docs/python-api.md documents, and that
both are the same.

* Each face's ``__all__`` is exactly the list under its heading in "6. The public API" of
  docs/python-api.md, every name resolves, and the lazy re-exports are the names the face
  imports for type checkers.
* The page's examples import only public names (no module paths).
* ``import myoflow`` imports none of the modules behind the names.
* ``myoflow.analyze`` takes a path or an opened recording; reports and batches turn into
  pandas DataFrames with the same values as their CSV.
"""

from __future__ import annotations

import ast
import importlib
import io
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import myoflow as mf
from myoflow._lazy import FACES, type_checking_imports

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "python-api.md"
FILE = str(REPO / "recordings" / "glute_bridge_virtual.h5")


def _documented() -> dict[str, list[str]]:
    """Face -> the names in the first column of its table in section 6 of the page."""
    text = PAGE.read_text(encoding="utf-8")
    section = text[text.index("## 6. The public API") :]
    section = section[: section.index("\n## ", 1)] if "\n## " in section[1:] else section
    out: dict[str, list[str]] = {}
    for block in re.split(r"^### ", section, flags=re.M)[1:]:
        face = re.match(r"`([\w.]+)`", block).group(1)
        names = []
        for row in re.findall(r"^\| (.+?) \|", block, flags=re.M):
            names += [n for n in re.findall(r"`([A-Za-z_]\w*)", row)]
        out[face] = [n for n in names if n not in ("name",)]
    return out


DOCUMENTED = _documented()


def test_every_face_is_documented() -> None:
    assert sorted(DOCUMENTED) == sorted(FACES)


@pytest.mark.parametrize("face", FACES)
def test_documented_names_are_exactly_the_exports(face: str) -> None:
    module = importlib.import_module(face)
    documented = DOCUMENTED[face]
    assert len(documented) == len(set(documented)), f"{face}: a name is documented twice"
    missing = sorted(set(module.__all__) - set(documented))
    extra = sorted(set(documented) - set(module.__all__))
    assert not missing, f"{face} exports {missing} but docs/python-api.md does not list them"
    assert not extra, f"docs/python-api.md lists {extra} under {face}, which does not export them"


@pytest.mark.parametrize("face", FACES)
def test_every_exported_name_resolves_and_comes_from_the_declared_module(face: str) -> None:
    module = importlib.import_module(face)
    declared = type_checking_imports(Path(module.__file__).read_text(encoding="utf-8"))
    eager = {"__version__"}
    assert set(declared) == set(module.__all__) - eager, f"{face}: __all__ and TYPE_CHECKING imports differ"
    for name in module.__all__:
        value = getattr(module, name)
        assert value is not None
        if name in declared:
            assert value is getattr(importlib.import_module(declared[name]), name)
    assert set(module.__all__) <= set(dir(module))
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        module.no_such_name  # noqa: B018


@pytest.mark.parametrize("face", [f for f in FACES if f != "myoflow"])
def test_no_export_is_shadowed_by_a_submodule(face: str) -> None:
    """``import face.x`` binds the module ``x`` on the package, hiding an exported name ``x``."""
    module = importlib.import_module(face)
    submodules = {m.name for m in pkgutil.iter_modules(module.__path__)}
    assert not submodules & set(module.__all__)


def _page_code() -> str:
    return "\n".join(re.findall(r"^```python\n(.*?)^```", PAGE.read_text(encoding="utf-8"), re.S | re.M))


def _notebook_code(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def _example_imports(code: str) -> list[tuple[str, str]]:
    """``(module, name)`` of every myoflow import and ``mf.<...>`` attribute in ``code``."""
    out = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("myoflow"):
            out += [(node.module, a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            out += [(a.name, "") for a in node.names if a.name.startswith("myoflow")]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "mf":
            out.append(("myoflow", node.attr))
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute)
            and isinstance(node.value.value, ast.Name)
            and node.value.value.id == "mf"
        ):
            out.append((f"myoflow.{node.value.attr}", node.attr))
    return out


NOTEBOOKS = sorted(p.relative_to(REPO).as_posix() for p in REPO.glob("notebooks/*.ipynb"))


@pytest.mark.parametrize("source", ["docs/python-api.md", *NOTEBOOKS])
def test_examples_use_only_the_public_api(source: str) -> None:
    path = REPO / source
    used = _example_imports(_notebook_code(path) if path.suffix == ".ipynb" else _page_code())
    assert used, f"{source} uses no myoflow name"
    for module, name in used:
        assert module in FACES, f"{source} imports the internal module {module}"
        if name and name not in FACES and f"{module}.{name}" not in FACES:
            assert name in importlib.import_module(module).__all__, f"{source}: {module}.{name} is not public"


def test_import_myoflow_imports_none_of_the_modules_behind_its_names() -> None:
    code = (
        "import sys, myoflow\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('myoflow') or m in "
        "('numpy', 'scipy', 'h5py', 'tqdm', 'pandas'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["myoflow", "myoflow._lazy"]


def test_analyze_takes_a_path_or_an_opened_recording() -> None:
    from_path = mf.analyze(FILE)
    with mf.open_recording(FILE) as rec:
        from_recording = mf.analyze(rec)
    assert from_path.reps and from_recording.to_json() == from_path.to_json()


def test_report_dataframes_hold_the_csv_values() -> None:
    pd = pytest.importorskip("pandas")
    report = mf.analyze(FILE)
    reps = report.to_dataframe("reps")
    csv = pd.read_csv(io.StringIO(report.to_csv()))
    assert list(reps.columns) == list(csv.columns) == report.csv_columns()
    assert len(reps) == len(report.reps) == len(csv)
    numeric = [c for c in csv.columns if c != "level_unit"]
    got, want = reps[numeric].astype(float).to_numpy(), csv[numeric].astype(float).to_numpy()
    assert np.array_equal(np.isnan(got), np.isnan(want))
    assert np.allclose(got, want, rtol=1e-5, atol=1e-6, equal_nan=True)  # the CSV keeps 6 digits
    assert reps["rep"].tolist() == [r.index for r in report.reps]

    sets = report.to_dataframe("sets")
    assert list(sets.columns[:6]) == ["set_index", "first_rep", "last_rep", "start_s", "end_s", "n_reps"]
    assert sets["n_reps"].sum() == len(report.reps)
    for row in sets.itertuples(index=False):
        assert row.n_reps == report.summary(row.set_index)["n_reps"]
    session = report.to_dataframe("session")
    assert len(session) == 1 and session.loc[0, "n_reps"] == len(report.reps)
    assert session.loc[0, "glute_max_r.peak_pct"] == pytest.approx(report.summary()["glute_max_r.peak_pct"])
    with pytest.raises(ValueError, match="Invalid value for 'table'.*'reps', 'sets', 'session'"):
        report.to_dataframe("muscles")


def test_batch_dataframe_is_the_batch_table() -> None:
    pytest.importorskip("pandas")
    result = mf.batch_analyze(FILE, workers=0)
    frame = result.to_dataframe()
    assert list(frame.columns) == result.columns and len(frame) == result.n_rows > 0
    assert frame["rep"].tolist() == result.table()["rep"]


def test_a_missing_pandas_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    report = mf.analyze(FILE)
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    with pytest.raises(mf.MissingExtraError, match=r"needs pandas.*pip install 'myoflow\[pandas\]'"):
        report.to_dataframe()
