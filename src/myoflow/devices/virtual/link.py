"""One in-process Bumble radio world: a LocalLink, a central device and virtual peripherals.

Everything runs on the asyncio loop of the caller; there are no threads, no kernel and no
adapter. The central is one Bumble :class:`~bumble.device.Device` (like one host adapter) that
scans for and connects to every peripheral on the link; the bleak backend in
:mod:`~myoflow.devices.virtual.bleak_backend` drives it.

Typical use::

    async with VirtualLink() as link:
        strap = await link.add_peripheral(MyStrap())
        device = await BleakScanner.find_device_by_name("Strap", backend=link.scanner_backend)
        async with BleakClient(device, backend=link.client_backend) as client:
            ...

LocalLink delivers packets on the next loop iteration and has no radio timing: pacing,
connection-interval batching, jitter, loss and skew belong to the device simulators.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bumble import hci
from bumble.controller import Controller
from bumble.core import TimeoutError as BumbleTimeoutError
from bumble.device import Advertisement, Connection, Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from myoflow.devices.virtual.bleak_backend import BumbleBleakClient, BumbleBleakScanner, bind_backends
from myoflow.devices.virtual.contract import AdvertisementListener
from myoflow.devices.virtual.peripheral import VirtualPeripheral

logger = logging.getLogger(__name__)

__all__ = ["VirtualLink"]


class _CentralController(Controller):
    """Bumble's controller, plus what a real one does when a pending connection is cancelled.

    Bumble 0.0.236 acknowledges LE Create Connection Cancel but keeps the pending connection and
    never reports its end, so the host waits forever and every later connect is refused. A real
    controller drops it and reports LE Connection Complete with "unknown connection identifier".
    """

    def on_hci_le_create_connection_cancel_command(
        self, command: hci.HCI_LE_Create_Connection_Cancel_Command
    ) -> hci.HCI_StatusReturnParameters:
        pending, self.pending_le_connection = self.pending_le_connection, None
        result = super().on_hci_le_create_connection_cancel_command(command)
        if pending is not None:
            self.send_hci_packet(
                hci.HCI_LE_Connection_Complete_Event(
                    status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR,
                    connection_handle=0,
                    role=hci.Role.CENTRAL,
                    peer_address_type=pending.peer_address.address_type,
                    peer_address=pending.peer_address,
                    connection_interval=0,
                    peripheral_latency=0,
                    supervision_timeout=0,
                    central_clock_accuracy=0,
                )
            )
        return result


class VirtualLink:
    """A Bumble LocalLink with one central and any number of :class:`VirtualPeripheral`.

    Parameters
    ----------
    central_address : str
        Static random address of the central (the "host adapter").

    Notes
    -----
    Create and use it inside one running event loop (``async with VirtualLink() as link``).
    Connections are made one at a time (``connect`` holds a lock), as a single controller
    allows only one pending LE connection.
    """

    def __init__(self, central_address: str = "F0:00:00:00:00:01") -> None:
        self.central_address = central_address
        self.bumble_link: LocalLink | None = None
        self._central: Device | None = None
        self._peripherals: dict[str, VirtualPeripheral] = {}
        self._next_address = 1
        self._connect_lock: asyncio.Lock | None = None
        self._listeners: list[AdvertisementListener] = []
        self._scan_lock: asyncio.Lock | None = None
        self._backends: tuple[type[BumbleBleakScanner], type[BumbleBleakClient]] | None = None
        self._controllers: dict[str, Controller] = {}

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> VirtualLink:
        """Create the LocalLink and power on the central. Needs a running loop."""
        if self.bumble_link is not None:
            raise RuntimeError("this VirtualLink is already started")
        self.bumble_link = LocalLink()
        self._connect_lock, self._scan_lock = asyncio.Lock(), asyncio.Lock()
        central = Device(
            name="myoflow-central",
            address=hci.Address(self.central_address),
            host=self.new_host(self.central_address, _CentralController),
        )
        central.on(central.EVENT_ADVERTISEMENT, self._on_advertisement)
        await central.power_on()
        self._central = central
        return self

    async def close(self) -> None:
        """Stop every peripheral, drop every link, power the central off.

        Raises the first exception a peripheral's spawned task ended with, after shutdown.
        """
        errors: list[BaseException] = []
        for peripheral in list(self._peripherals.values()):
            try:
                await self.remove_peripheral(peripheral)
            except Exception as exc:  # keep shutting the others down, then re-raise
                errors.append(exc)
        if self._central is not None:
            if self._listeners:
                self._listeners.clear()
                await self._central.stop_scanning()
            await self._central.power_off()
        self._central, self.bumble_link = None, None
        if errors:
            raise errors[0]

    async def __aenter__(self) -> VirtualLink:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ peripherals
    @property
    def central(self) -> Device:
        """The central Bumble device (raises if the link is not started)."""
        if self._central is None:
            raise RuntimeError("VirtualLink is not started: use 'async with VirtualLink()'")
        return self._central

    @property
    def peripherals(self) -> tuple[VirtualPeripheral, ...]:
        """The peripherals on the link, in the order they were added."""
        return tuple(self._peripherals.values())

    def find_peripheral(self, address: str) -> VirtualPeripheral | None:
        """The peripheral with BLE ``address`` (case-insensitive), or None."""
        return self._peripherals.get(address.upper())

    async def add_peripheral(self, peripheral: VirtualPeripheral) -> VirtualPeripheral:
        """Attach ``peripheral`` to the link, power it on and start it advertising."""
        self.central  # noqa: B018 - raises if not started
        address = (peripheral.requested_address or self._allocate_address()).upper()
        if address in self._peripherals or address == self.central_address.upper():
            raise ValueError(f"address {address} is already in use on this link")
        if peripheral.link is not None:
            raise ValueError(f"peripheral {peripheral.name!r} is already on a link")
        self._peripherals[address] = peripheral
        await peripheral._start(self, address)
        return peripheral

    async def remove_peripheral(self, peripheral: VirtualPeripheral) -> None:
        """Drop its link, stop it advertising, power it off and take its controller away."""
        address = peripheral.address or ""
        if self._peripherals.get(address) is not peripheral:
            raise ValueError(f"peripheral {peripheral.name!r} is not on this link")
        try:
            await peripheral._stop()
        finally:
            del self._peripherals[address]
            controller = self._controllers.pop(address, None)
            if controller is not None and self.bumble_link is not None:
                self.bumble_link.remove_controller(controller)
            peripheral.link = None

    def new_host(self, address: str, kind: type[Controller] = Controller) -> Host:
        """A Bumble host wired to a new controller on this link (one per device)."""
        if self.bumble_link is None:
            raise RuntimeError("VirtualLink is not started: use 'async with VirtualLink()'")
        controller = kind(address.upper(), link=self.bumble_link)
        self._controllers[address.upper()] = controller
        return Host(controller, AsyncPipeSink(controller))

    def _allocate_address(self) -> str:
        while True:
            n, self._next_address = self._next_address, self._next_address + 1
            address = f"C0:00:00:00:{n >> 8:02X}:{n & 0xFF:02X}"
            if address not in self._peripherals:
                return address

    # ------------------------------------------------------------------ central side
    async def connect(self, address: str, timeout: float) -> Connection:
        """Connect the central to ``address`` (waits for its next advertisement).

        Raises
        ------
        TimeoutError
            If the peripheral did not advertise within ``timeout`` seconds (for example it is
            already connected to this central).
        """
        assert self._connect_lock is not None
        async with self._connect_lock:
            try:
                return await self.central.connect(
                    hci.Address(address),
                    own_address_type=hci.OwnAddressType.RANDOM,
                    timeout=timeout,
                )
            except BumbleTimeoutError as exc:
                raise TimeoutError(f"no connectable advertisement from {address} within {timeout} s") from exc

    async def start_scan(self, listener: AdvertisementListener) -> None:
        """Deliver every advertisement the central hears to ``listener`` until stop_scan."""
        assert self._scan_lock is not None
        async with self._scan_lock:
            self._listeners.append(listener)
            if len(self._listeners) == 1:
                await self.central.start_scanning(active=True, filter_duplicates=False)

    async def stop_scan(self, listener: AdvertisementListener) -> None:
        """Stop delivering to ``listener``; the central stops scanning after the last one."""
        assert self._scan_lock is not None
        async with self._scan_lock:
            if listener in self._listeners:
                self._listeners.remove(listener)
                if not self._listeners and self._central is not None:
                    await self._central.stop_scanning()

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        for listener in list(self._listeners):
            listener(advertisement)

    # ------------------------------------------------------------------ bleak seam
    @property
    def scanner_backend(self) -> type[BumbleBleakScanner]:
        """``BleakScanner(backend=link.scanner_backend)``: a scanner class bound to this link."""
        return self._bound()[0]

    @property
    def client_backend(self) -> type[BumbleBleakClient]:
        """``BleakClient(device, backend=link.client_backend)``: a client bound to this link."""
        return self._bound()[1]

    def _bound(self) -> tuple[type[BumbleBleakScanner], type[BumbleBleakClient]]:
        if self._backends is None:
            self._backends = bind_backends(self)
        return self._backends

    def __repr__(self) -> str:
        state = "started" if self._central is not None else "stopped"
        names: list[Any] = [p.name for p in self._peripherals.values()]
        return f"<VirtualLink {state}, peripherals={names}>"
