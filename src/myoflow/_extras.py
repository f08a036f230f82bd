"""Optional dependencies: which ``pip install 'myoflow[extra]'`` brings which module.

``pip install myoflow`` analyses recordings (numpy, scipy, h5py, tqdm). Bluetooth, the
dashboard, virtual straps, DataFrames and the optional formats come with extras
(``pyproject.toml``). Every place that needs one of them goes through :func:`require` (or,
for a failed import caught further up, :func:`missing_extra`), so the user always reads one
line that names the extra to install, e.g.::

    the dashboard needs PySide6, which is not installed: pip install 'myoflow[gui]'
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["EXTRAS", "MissingExtraError", "missing_extra", "require"]

#: Top-level module -> (distribution to install, the extra of myoflow that installs it).
EXTRAS: dict[str, tuple[str, str]] = {
    "bleak": ("bleak", "ble"),
    "bumble": ("bumble", "virtual"),
    "PySide6": ("PySide6-Essentials", "gui"),
    "pyqtgraph": ("pyqtgraph", "gui"),
    "sounddevice": ("sounddevice", "gui"),
    "pandas": ("pandas", "pandas"),
    "pylsl": ("pylsl", "lsl"),
    "pyxdf": ("pyxdf", "xdf"),
    "pynwb": ("pynwb", "nwb"),
    "dask": ("dask[distributed]", "batch"),
    "distributed": ("dask[distributed]", "batch"),
    "pyarrow": ("pyarrow", "batch"),
    "matplotlib": ("matplotlib", "plot"),
    "edfio": ("edfio", "bids"),
}


class MissingExtraError(ImportError):
    """An optional dependency is missing (or broken); the message names the extra to install."""


def missing_extra(
    exc: ImportError, purpose: str, module: str | None = None, *, virtual: bool = False
) -> MissingExtraError | None:
    """The one-line error for ``exc`` when it is an optional dependency failing to import.

    Parameters
    ----------
    exc
        The error an import raised.
    purpose
        What needed the module, e.g. ``"myoflow scan"`` or ``"the dashboard"``.
    module
        The module that was imported, when known; default: the one ``exc`` names.
    virtual
        The purpose runs virtual straps: Bluetooth comes with the ``virtual`` extra.

    Returns
    -------
    MissingExtraError or None
        None when ``exc`` is about a module of no extra (a real bug: let it propagate).
    """
    if isinstance(exc, MissingExtraError):
        return exc
    root = (module or exc.name or "").split(".")[0]
    if root not in EXTRAS:
        return None
    dist, extra = EXTRAS[root]
    if virtual and extra == "ble":
        extra = "virtual"
    if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] == root:
        why = "which is not installed"
    else:  # installed, but it fails to load (e.g. a missing system library)
        why = f"which is installed but cannot be imported ({exc})"
    return MissingExtraError(f"{purpose} needs {dist}, {why}: pip install 'myoflow[{extra}]'", name=exc.name)


def require(module: str, purpose: str) -> ModuleType:
    """Import an optional dependency, or raise :class:`MissingExtraError` naming its extra.

    Parameters
    ----------
    module
        Dotted module name; its top-level package must be in :data:`EXTRAS`.
    purpose
        What needs it, for the message (``"writing Parquet"``, ``"the dashboard"``).

    Returns
    -------
    ModuleType
        The imported module.
    """
    root = module.split(".")[0]
    if root not in EXTRAS:
        raise ValueError(f"{module!r} is not an optional dependency of myoflow; known: {sorted(EXTRAS)}")
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise missing_extra(exc, purpose, module) or exc from None
