"""Virtual straps: Bumble GATT peripherals on an in-process link, and a bleak backend over it.

:class:`VirtualLink` is one radio world on the caller's event loop; :class:`VirtualPeripheral`
is the declarative base every strap simulator builds on; :class:`BumbleBleakScanner` and
:class:`BumbleBleakClient` plug into bleak's ``backend=`` argument so the unmodified ingest code
talks to the virtual straps (``link.scanner_backend`` / ``link.client_backend``).
"""

from myoflow.devices.virtual.bleak_backend import BumbleBleakClient, BumbleBleakScanner
from myoflow.devices.virtual.link import VirtualLink
from myoflow.devices.virtual.peripheral import CharacteristicSpec, ServiceSpec, VirtualPeripheral

__all__ = [
    "BumbleBleakClient",
    "BumbleBleakScanner",
    "CharacteristicSpec",
    "ServiceSpec",
    "VirtualLink",
    "VirtualPeripheral",
]
