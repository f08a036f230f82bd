"""What the bleak backend and the peripherals need of a radio link: :class:`RadioLink`.

A leaf module: :class:`~myoflow.devices.virtual.link.VirtualLink` satisfies it, and the
backend (:mod:`~myoflow.devices.virtual.bleak_backend`) and
:class:`~myoflow.devices.virtual.peripheral.VirtualPeripheral` depend on this contract
rather than on the link, so the link can build backends over itself without an import circle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from bumble.device import Advertisement, Connection
from bumble.host import Host

__all__ = ["AdvertisementListener", "RadioLink"]

AdvertisementListener = Callable[[Advertisement], None]


class RadioLink(Protocol):
    """One in-process radio world: a central that scans and connects, and peripherals on it."""

    def find_peripheral(self, address: str) -> Any:
        """The peripheral with BLE ``address`` (case-insensitive), or None."""
        ...

    async def connect(self, address: str, timeout: float) -> Connection:
        """Connect the central to ``address``; ``TimeoutError`` when it does not advertise."""
        ...

    async def start_scan(self, listener: AdvertisementListener) -> None:
        """Deliver every advertisement the central hears to ``listener`` until :meth:`stop_scan`."""
        ...

    async def stop_scan(self, listener: AdvertisementListener) -> None:
        """Stop delivering to ``listener``."""
        ...

    def new_host(self, address: str) -> Host:
        """A Bumble host wired to a new controller on this link (one per device)."""
        ...
