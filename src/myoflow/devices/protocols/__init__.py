"""The strap protocols, one folder each, and the one registry everything else looks up.

:func:`get_protocol` returns the :class:`~myoflow.devices.protocols.contract.StrapProtocol` of a
profile's ``protocol`` name; :data:`NAMES` lists them. As in bleak's ``backends/``, each protocol
is imported inside its own branch, so importing this package (or one protocol) never loads
another protocol's code, and no protocol's Bluetooth simulator is loaded before it is asked for.

Adding a strap: a folder ``protocols/<name>/`` with the files the contract lists, one branch
below, a profile TOML in ``firmware_configs/`` and its tests (``docs/adding-a-strap.md``).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from myoflow.devices.protocols.contract import StrapProtocol

__all__ = ["NAMES", "get_protocol"]

#: Every protocol a profile may name, in the order error messages list them.
NAMES = ("diy", "ganglion", "myo", "polar_pmd")


@cache
def get_protocol(name: str) -> StrapProtocol:
    """The protocol called ``name`` (a profile's ``protocol``). Raises ``KeyError`` for others."""
    if name == "diy":
        from myoflow.devices.protocols.diy import PROTOCOL
    elif name == "ganglion":
        from myoflow.devices.protocols.ganglion import PROTOCOL
    elif name == "myo":
        from myoflow.devices.protocols.myo import PROTOCOL
    elif name == "polar_pmd":
        from myoflow.devices.protocols.polar_pmd import PROTOCOL
    else:
        raise KeyError(f"no strap protocol {name!r}; known: {', '.join(NAMES)}")
    return PROTOCOL
