"""Layering of the devices package: codecs load no Bluetooth, protocols stay in their folders,
and no import circle (counting imports inside functions and under ``TYPE_CHECKING``).

Import checks run in a fresh interpreter, so modules other tests imported do not hide a leak.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from myoflow.devices.protocols import NAMES, get_protocol
from myoflow.devices.protocols.contract import StrapProtocol

DEVICES = Path(__file__).resolve().parents[2] / "src" / "myoflow" / "devices"
BLUETOOTH = ("bleak", "bumble")
#: Modules that decode, time and validate without any radio: they must load no bleak/bumble.
RADIO_FREE = [
    "myoflow.devices.profiles",
    "myoflow.devices.decoding",
    "myoflow.devices.protocols",
    *(f"myoflow.devices.protocols.{p}.{m}" for p in NAMES for m in ("codec", "timebase", "rules")),
    *(f"myoflow.devices.protocols.{p}" for p in NAMES),
]


def _loaded_after(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()


@pytest.mark.parametrize("module", RADIO_FREE)
def test_codecs_timebases_rules_and_profiles_load_no_bluetooth(module: str) -> None:
    leaked = _loaded_after(
        f"import sys, {module}\nprint(' '.join(m for m in {BLUETOOTH!r} if m in sys.modules))"
    )
    assert leaked == [], f"importing {module} loaded {leaked}: import them where the radio is needed"


@pytest.mark.parametrize("name", NAMES)
def test_one_protocol_loads_no_other_protocol(name: str) -> None:
    code = (
        "import sys\n"
        "from myoflow.devices.protocols import get_protocol\n"
        f"get_protocol({name!r}).rules()\n"
        "print(' '.join(sorted({m.split('.')[3] for m in sys.modules "
        "if m.startswith('myoflow.devices.protocols.') and m.count('.') >= 3})))"
    )
    others = [p for p in _loaded_after(code) if p not in (name, "contract")]
    assert others == [], f"protocol {name!r} loaded the folders {others}"


@pytest.mark.parametrize("name", NAMES)
def test_every_protocol_fulfils_the_contract(name: str) -> None:
    protocol = get_protocol(name)
    assert isinstance(protocol, StrapProtocol) and protocol.name == name
    settings_rule, streams_rule = protocol.rules()
    assert callable(settings_rule) and callable(streams_rule)
    folder = DEVICES / "protocols" / name
    assert {"__init__.py", "codec.py", "timebase.py", "rules.py", "virtual.py"} <= {
        f.name for f in folder.iterdir()
    }


def _imports(path: Path, package: str, modules: set[str]) -> set[str]:
    """The modules ``path`` imports, anywhere in the file (functions, ``TYPE_CHECKING``).

    As grimp counts them: ``from a import b`` imports module ``a.b`` when that is a module,
    else ``a``.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + [base])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in modules else base)
    return out


def _module_graph() -> dict[str, set[str]]:
    src = DEVICES.parents[1]
    files = {
        ".".join(p.relative_to(src).with_suffix("").parts).removesuffix(".__init__"): p
        for p in DEVICES.rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = {m for m in _imports(path, package, set(files)) if m in files and m != name}
    return graph


def test_devices_has_no_import_circle() -> None:
    graph = _module_graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt]
                pytest.fail("import circle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert len(graph) > 30


_PROTOCOL_WORD = re.compile(r"\b(polar|pmd|ganglion|myo|diy)", re.IGNORECASE)


@pytest.mark.parametrize("module", ["ble.py", "decoding.py", "strap.py", "ingest.py"])
def test_transport_and_decoder_name_no_protocol(module: str) -> None:
    """Code (not docstrings or comments) of the generic modules names no protocol."""
    tree = ast.parse((DEVICES / module).read_text(encoding="utf-8"))
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            text = node.value
        elif isinstance(node, ast.Name):
            text = node.id
        elif isinstance(node, ast.Attribute):
            text = node.attr
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            text = " ".join([getattr(node, "module", "") or ""] + [a.name for a in node.names])
        else:
            continue
        if _PROTOCOL_WORD.search(text.replace("myoflow", "")):
            found.append(f"line {node.lineno}: {text!r}")
    assert found == [], f"{module} names a protocol: {found}"
