"""No import circle anywhere in src/myoflow.

The import graph is read from the source with :mod:`ast`: every ``import`` and ``from ...
import`` of a myoflow module, at module level and inside functions (a deferred import still
closes a circle; it only hides it until that function runs), but not under ``if
TYPE_CHECKING:``, which never runs. ``from a import b`` counts as importing ``a.b`` when that is
a module, else ``a``; importing ``a.b.c`` also imports the packages ``a.b`` and ``a`` (their
``__init__``), except the packages that enclose the importing module itself.

A circle is reported as a path (``a -> b -> a``). Break it by moving what both need into a
leaf module both can import (docs/architecture.md).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

#: Circles known and allowed for now, each as the set of its modules (keep this empty).
KNOWN_CIRCLES: list[frozenset[str]] = []


def _modules() -> dict[str, Path]:
    return {
        ".".join(p.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__"): p
        for p in (SRC / "myoflow").rglob("*.py")
    }


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(tree: ast.Module, package: str, modules: set[str]) -> set[str]:
    """Names of the modules ``tree`` imports (see the module docstring)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up level - 1
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    """``module -> the myoflow modules it imports`` for every module under src/myoflow."""
    files = _modules()
    names = set(files)
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str] = set()
        for target in _imported(ast.parse(path.read_text(encoding="utf-8")), package, names):
            parts = target.split(".")
            for i in range(2, len(parts) + 1):  # a.b.c loads a.b and a.b.c (a: the top package)
                prefix = ".".join(parts[:i])
                if prefix in names and prefix != name and not name.startswith(prefix + "."):
                    edges.add(prefix)
        graph[name] = edges
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def _path(graph: dict[str, set[str]], component: list[str]) -> str:
    """One circle through the component's first module, as ``a -> b -> a``."""
    start, members = component[0], set(component)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:  # breadth first, inside the component, back to start
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & members):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return (
                        " -> ".join([start, *reversed(path[:-1]), start])
                        if len(path) > 1
                        else f"{start} -> {start}"
                    )
                if w not in previous:
                    previous[w] = v
                    nxt.append(w)
        frontier = nxt
    return " <-> ".join(component)


def test_the_graph_sees_the_code_base() -> None:
    graph = import_graph()
    assert len(graph) > 100 and "myoflow.stream" in graph
    assert "myoflow.stream" in graph["myoflow.session.run"]  # module level
    assert "myoflow.session.run" in graph["myoflow.rigs.demo"]  # inside a function


def test_no_import_circle_in_src() -> None:
    graph = import_graph()
    new = [c for c in circles(graph) if not any(set(c) <= known for known in KNOWN_CIRCLES)]
    assert not new, "import circles:\n" + "\n".join(_path(graph, c) for c in new)


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
    assert _path(graph, ["a", "b", "c"]) == "a -> b -> c -> a"
