"""Lazy package faces: a package re-exports names from its modules, imported on first use.

A face (``myoflow``, ``myoflow.storage``, ...) lists its public names in ``__all__`` and
imports them under ``if TYPE_CHECKING:``, which type checkers, editors and ruff read, but
which never runs. :func:`lazy_exports` reads that block from the face's source once and
returns the package's ``__getattr__`` and ``__dir__`` (PEP 562): ``import myoflow`` imports
none of the modules behind the names, and ``myoflow.open_recording`` imports only
:mod:`myoflow.storage.reader`. One list of names, one place that says where each lives.

An optional dependency missing behind a name is a :class:`~myoflow._extras.MissingExtraError`
that names the extra to install. ``tests/test_api.py`` checks every face.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["FACES", "lazy_exports", "type_checking_imports"]

#: The package faces: the modules whose ``__all__`` is the public API (docs/python-api.md, section 6).
FACES = (
    "myoflow",
    "myoflow.storage",
    "myoflow.analysis",
    "myoflow.dsp",
    "myoflow.reports",
    "myoflow.synth",
    "myoflow.devices",
    "myoflow.lsl",
)


def type_checking_imports(source: str) -> dict[str, str]:
    """Name -> absolute module of each ``from module import name`` under ``if TYPE_CHECKING:``.

    Parameters
    ----------
    source
        Python source of a package face.

    Returns
    -------
    dict
        In source order; an ``import ... as`` alias is the name.
    """
    out: dict[str, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                if not isinstance(stmt, ast.ImportFrom) or stmt.level or stmt.module is None:
                    raise ValueError(f"line {stmt.lineno}: a face imports only 'from myoflow.x import y'")
                for alias in stmt.names:
                    out[alias.asname or alias.name] = stmt.module
    return out


def lazy_exports(
    package: str, source_file: str, submodules: Sequence[str] = ()
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package face.

    Parameters
    ----------
    package
        The package's ``__name__``.
    source_file
        The package's ``__file__``: its ``if TYPE_CHECKING:`` imports say where each name lives.
    submodules
        Subpackages also reachable as attributes (``myoflow.storage``), imported on first use.

    Returns
    -------
    tuple
        ``(__getattr__, __dir__)``.
    """
    where = type_checking_imports(Path(source_file).read_text(encoding="utf-8"))

    def __getattr__(name: str) -> Any:
        if name in where:
            from myoflow._extras import missing_extra

            try:
                module = importlib.import_module(where[name])
            except ImportError as exc:
                raise missing_extra(exc, f"{package}.{name}") or exc from None
            value = getattr(module, name)
        elif name in submodules:
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)  # next time, a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted({*getattr(sys.modules[package], "__all__", where), *submodules})

    return __getattr__, __dir__
