"""Layering: importing the signal core must not drag in Bluetooth, HDF5 or Qt.

Each check runs in a fresh interpreter, so modules imported by other tests don't hide a leak.
If this fails, move the heavy import inside the function that needs it, or move the code to the
layer that owns that dependency (see docs/architecture.md).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("bleak", "h5py", "PySide6", "pyqtgraph", "bumble", "matplotlib")


def _loaded_after_import(module: str) -> set[str]:
    code = f"import sys, {module}\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize(
    "module",
    ["myoflow", "myoflow.stream", "myoflow.dsp.pipeline", "myoflow.synth.session", "myoflow.cli"],
)
def test_core_imports_load_no_heavy_dependency(module: str) -> None:
    leaked = _loaded_after_import(module)
    assert not leaked, (
        f"importing {module} loaded {sorted(leaked)}; the core must stay free of Bluetooth, "
        "HDF5 and Qt - import them inside the functions or layers that need them"
    )


LAYERS = {
    # package: prefixes of modules it must never load (layers above it or beside it)
    "myoflow.dsp": (
        "myoflow.devices",
        "myoflow.analysis",
        "myoflow.storage",
        "myoflow.dashboard",
        "myoflow.session",
        "myoflow.synth",
        "myoflow.rigs",
    ),
    "myoflow.storage": (
        "myoflow.dsp",
        "myoflow.analysis",
        "myoflow.devices",
        "myoflow.dashboard",
        "myoflow.session",
        "myoflow.rigs",
    ),
    "myoflow.analysis": (
        "myoflow.devices",
        "myoflow.storage",
        "myoflow.dashboard",
        "myoflow.synth",
        "myoflow.session",
    ),
    "myoflow.synth": ("myoflow.dsp", "myoflow.analysis", "myoflow.storage", "myoflow.devices"),
    "myoflow.devices": (
        "myoflow.dsp",
        "myoflow.analysis",
        "myoflow.storage",
        "myoflow.synth",
        "myoflow.session",
        "myoflow.rigs",
        "myoflow.reports",
        "myoflow.lsl",
        "myoflow.dashboard",
        "myoflow.commands",
    ),
    "myoflow.reports": (
        "myoflow.devices",
        "myoflow.synth",
        "myoflow.session",
        "myoflow.rigs",
        "myoflow.lsl",
        "myoflow.dashboard",
        "myoflow.commands",
    ),
    "myoflow.lsl": (
        "myoflow.analysis",
        "myoflow.storage",
        "myoflow.session",
        "myoflow.rigs",
        "myoflow.reports",
        "myoflow.dashboard",
        "myoflow.commands",
    ),
    "myoflow.session": (
        "myoflow.rigs",
        "myoflow.reports",
        "myoflow.lsl",
        "myoflow.dashboard",
        "myoflow.commands",
    ),
    "myoflow.rigs": ("myoflow.reports", "myoflow.lsl", "myoflow.dashboard", "myoflow.commands"),
}


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_layers_import_downward_only(package: str) -> None:
    code = (
        "import sys, pkgutil, importlib\n"
        f"pkg = importlib.import_module({package!r})\n"
        "for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "    importlib.import_module(m.name)\n"
        f"bad = sorted(m for m in sys.modules if m.startswith({LAYERS[package]!r}))\n"
        "print(' '.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [], f"{package} imports modules of other layers: {out.stdout}"
