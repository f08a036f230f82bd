"""Optional dependencies: ``pip install myoflow`` analyses recordings; everything else names
its extra in one line.

A fresh interpreter hides the optional packages with a meta-path blocker (as if only the base
dependencies were installed), then uses the library and the command line the way a user would.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from myoflow._extras import EXTRAS, MissingExtraError, missing_extra, require

REPO = Path(__file__).resolve().parents[1]
FILE = str(REPO / "recordings" / "glute_bridge_virtual.h5")
OPTIONAL = sorted(EXTRAS)

BLOCKER = """
import sys

class Blocker:
    '''Refuses the top-level packages in BLOCKED, as if they were not installed.'''

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Blocker())
"""


def _line(purpose: str, dist: str, extra: str) -> str:
    return f"{purpose} needs {dist}, which is not installed: pip install 'myoflow[{extra}]'"


def _run(blocked: list[str], body: str, tmp_path: Path) -> dict:
    """Run ``body`` with ``blocked`` packages hidden; it fills the dict ``out``, returned here."""
    code = (
        f"BLOCKED = {blocked!r}\n"
        + BLOCKER
        + "import contextlib, io, json\nout = {}\n"
        + "def cli(*argv):\n"
        + "    from myoflow.cli import main\n"
        + "    err, std = io.StringIO(), io.StringIO()\n"
        + "    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):\n"
        + "        code = main(list(argv))\n"
        + "    return code, err.getvalue().splitlines()\n"
        + textwrap.dedent(body)
        + "\nprint(json.dumps(out))\n"
    )
    env_code = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=600
    )
    assert env_code.returncode == 0, env_code.stderr[-3000:]
    return json.loads(env_code.stdout.splitlines()[-1])


def test_the_base_install_analyses_and_every_extra_is_named(tmp_path: Path) -> None:
    out = _run(
        OPTIONAL,
        f"""
        import myoflow as mf
        report = mf.analyze({FILE!r})
        out["reps"] = len(report.reps)
        out["batch"] = mf.batch_analyze([{FILE!r}], workers=0).n_rows
        out["csv"] = len(mf.export_csv({FILE!r}, "exported"))
        out["cli_analyze"] = cli("analyze", {FILE!r})[0]
        try:
            report.to_dataframe("reps")
        except mf.MissingExtraError as exc:
            out["pandas"] = str(exc)
        out["scan"] = cli("scan")
        out["demo"] = cli("demo", "--headless")
        out["plot"] = cli("analyze", {FILE!r}, "--plot", "report.png")
        import os
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        out["dashboard"] = cli("dashboard", "--replay", {FILE!r}, "--seconds", "1")
        out["lsl"] = cli("stream", "--virtual", "--fast", "--seconds", "1", "--lsl")
        import sys
        out["loaded"] = sorted({{m.split(".")[0] for m in sys.modules}} & set(BLOCKED))
        """,
        tmp_path,
    )
    assert out["reps"] > 0 and out["batch"] == out["reps"] and out["csv"] > 0 and out["cli_analyze"] == 0
    assert out["pandas"] == _line("Report.to_dataframe", "pandas", "pandas")
    assert out["scan"] == [1, [_line("myoflow scan", "bleak", "ble")]]
    assert out["demo"] == [1, [_line("myoflow demo", "bleak", "virtual")]]
    assert out["plot"] == [1, [_line("plotting a report", "matplotlib", "plot")]]
    assert out["dashboard"] == [1, [_line("myoflow dashboard", "PySide6-Essentials", "gui")]]
    assert out["lsl"] == [1, [_line("myoflow stream", "bleak", "virtual")]]
    assert out["loaded"] == []


def test_virtual_straps_name_the_virtual_extra(tmp_path: Path) -> None:
    out = _run(
        ["bumble"],
        """
        out["stream"] = cli("stream", "--virtual", "--fast", "--seconds", "1")
        """,
        tmp_path,
    )
    assert out["stream"] == [1, [_line("myoflow stream", "bumble", "virtual")]]


def test_require_and_missing_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    assert require("pandas", "x").__name__ == "pandas"
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if not installed
    with pytest.raises(MissingExtraError, match=r"^writing Parquet needs pyarrow, .*'myoflow\[batch\]'$"):
        require("pyarrow", "writing Parquet")
    with pytest.raises(ValueError, match="'numpy' is not an optional dependency"):
        require("numpy", "x")
    broken = ImportError("libEGL.so.1: cannot open shared object file", name="PySide6.QtGui")
    msg = str(missing_extra(broken, "the dashboard"))
    assert msg.startswith("the dashboard needs PySide6-Essentials, which is installed but cannot be imported")
    assert "libEGL.so.1" in msg and msg.endswith("pip install 'myoflow[gui]'")
    assert missing_extra(ModuleNotFoundError("No module named 'foo'", name="foo"), "x") is None


def test_every_extra_named_exists_in_pyproject() -> None:
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]

    def requirements(extra: str) -> set[str]:
        out = set()
        for req in extras[extra]:
            if req.startswith("myoflow["):
                for inner in req[len("myoflow[") : -1].split(","):
                    out |= requirements(inner)
            else:
                out.add(req.split(">")[0].split("<")[0].split("=")[0].lower())
        return out

    for module, (dist, extra) in EXTRAS.items():
        assert extra in extras, f"{module}: extra {extra!r} is not in pyproject.toml"
        assert dist.lower() in requirements(extra), f"{module}: {dist} is not installed by [{extra}]"
    assert {d.lower() for d, _ in EXTRAS.values()} <= requirements("all") <= requirements("test")
