"""A bleak backend over Bumble: the public bleak API talking to virtual peripherals.

Pass the classes to bleak's ``backend=`` argument; nothing else in the calling code changes::

    scanner = BleakScanner(backend=link.scanner_backend)
    client = BleakClient(device, backend=link.client_backend)

``link.scanner_backend`` / ``link.client_backend`` are subclasses bound to one
:class:`~myoflow.devices.virtual.link.VirtualLink`. The unbound :class:`BumbleBleakClient`
also works with a :class:`~bleak.backends.device.BLEDevice` found by a Bumble scanner (its
``details`` name the link) or with ``link=`` passed through ``BleakClient(..., link=link)``.

Behaviour follows bleak's BlueZ backend, the platform the straps are used on:

- ``connect`` exchanges the ATT MTU (``mtu=247`` by default, like BlueZ; pass ``mtu=None``
  through ``BleakClient(..., mtu=None)`` to skip it and keep 23 bytes), then discovers
  every service, characteristic and descriptor;
- ``disconnected_callback`` is called after every disconnection, asked for or not, and
  ``services`` is reset to None;
- a GATT error response raises ``BleakGATTProtocolError``; a request cut short by the link
  dropping raises ``BleakError`` (not ``CancelledError``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid as _uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from bleak.args import SizedBuffer
from bleak.backends.characteristic import BleakGATTCharacteristic, GattCharacteristicsFlags
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bumble import att, core, hci
from bumble.core import AdvertisingData
from bumble.device import Advertisement, Connection, Peer
from bumble.gatt_client import CharacteristicProxy

from myoflow.devices.virtual.contract import RadioLink
from myoflow.devices.virtual.peripheral import canonical_uuid

logger = logging.getLogger(__name__)

__all__ = ["BumbleBleakClient", "BumbleBleakScanner", "VirtualDeviceDetails", "bind_backends"]

_T = TypeVar("_T")
_ADV = AdvertisingData
_UUID_LISTS = (
    _ADV.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    _ADV.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    _ADV.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    _ADV.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    _ADV.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    _ADV.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
)
_SERVICE_DATA = (_ADV.SERVICE_DATA_16_BIT_UUID, _ADV.SERVICE_DATA_32_BIT_UUID, _ADV.SERVICE_DATA_128_BIT_UUID)


@dataclass(frozen=True)
class VirtualDeviceDetails:
    """``BLEDevice.details`` of a virtual peripheral: the link it is on and its last advert."""

    link: RadioLink
    advertisement: Advertisement


def uuid_str(uuid: core.UUID) -> str:
    """bleak's spelling (lower-case 128-bit) of a Bumble UUID."""
    return str(_uuid.UUID(bytes=bytes(reversed(uuid.to_bytes(force_128=True)))))


def _find_link(explicit: RadioLink | None, device: object, bound: RadioLink | None, who: str) -> RadioLink:
    if explicit is not None:
        return explicit
    details = getattr(device, "details", None)
    if isinstance(details, VirtualDeviceDetails):
        return details.link
    if bound is not None:
        return bound
    raise BleakError(
        f"{who} needs a VirtualLink: use backend=link.{who}_backend, pass link=..., "
        "or a BLEDevice found by a Bumble scanner"
    )


def advertisement_data(adv: Advertisement) -> AdvertisementData:
    """Convert a Bumble advertisement (advert and scan response merged) to bleak's tuple."""
    data = adv.data
    name = data.get(_ADV.COMPLETE_LOCAL_NAME) or data.get(_ADV.SHORTENED_LOCAL_NAME)
    uuids: dict[str, None] = {}
    for kind in _UUID_LISTS:
        for group in data.get_all(kind):
            uuids.update((uuid_str(u), None) for u in group)
    manufacturer = {int(c): bytes(p) for c, p in data.get_all(_ADV.MANUFACTURER_SPECIFIC_DATA)}
    service_data = {uuid_str(u): bytes(p) for kind in _SERVICE_DATA for u, p in data.get_all(kind)}
    tx = data.get(_ADV.TX_POWER_LEVEL)
    return AdvertisementData(
        local_name=name,
        manufacturer_data=manufacturer,
        service_data=service_data,
        service_uuids=list(uuids),
        tx_power=tx,
        rssi=int(adv.rssi),
        platform_data=(adv,),
    )


class BumbleBleakScanner(BaseBleakScanner):
    """bleak scanner backend: reports what the link's central hears while scanning.

    Accepts bleak's scanner arguments (``scanning_mode``, ``bluez``, ``cb`` are ignored:
    scanning is always active) and ``link=`` when the class is not bound to a link.
    """

    bound_link: ClassVar[RadioLink | None] = None

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None = None,
        service_uuids: list[str] | None = None,
        scanning_mode: str = "active",
        *,
        link: RadioLink | None = None,
        **kwargs: Any,
    ) -> None:
        uuids = None if service_uuids is None else [canonical_uuid(u, "service_uuids") for u in service_uuids]
        super().__init__(detection_callback, uuids)
        self._link = _find_link(link, None, self.bound_link, "scanner")

    async def start(self) -> None:
        """Forget earlier devices and start listening to the central's scan."""
        self.seen_devices = {}
        await self._link.start_scan(self._on_advertisement)

    async def stop(self) -> None:
        """Stop listening (the central stops scanning when no scanner listens)."""
        await self._link.stop_scan(self._on_advertisement)

    def _on_advertisement(self, adv: Advertisement) -> None:
        data = advertisement_data(adv)
        if not self.is_allowed_uuid(data.service_uuids):
            return
        address = adv.address.to_string(with_type_qualifier=False)
        device = self.create_or_update_device(
            address, address, data.local_name, VirtualDeviceDetails(self._link, adv), data
        )
        self.call_detection_callbacks(device, data)


class BumbleBleakClient(BaseBleakClient):
    """bleak client backend: one GATT client connection from the link's central.

    Extra keyword arguments (through ``BleakClient(..., **kwargs)``): ``link`` (when the class
    is not bound and the device is a plain address) and ``mtu`` (ATT MTU to request at connect,
    default 247; None skips the exchange so the MTU stays 23).
    """

    bound_link: ClassVar[RadioLink | None] = None

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        services: set[str] | None = None,
        timeout: float = 10.0,
        link: RadioLink | None = None,
        mtu: int | None = 247,
        **kwargs: Any,
    ) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
        if mtu is not None and not 23 <= int(mtu) <= 517:
            raise ValueError(f"mtu must be None or within 23..517 bytes, got {mtu!r}")
        self.address = self.address.upper()
        self._device_name = getattr(address_or_ble_device, "name", None)
        self._link = _find_link(link, address_or_ble_device, self.bound_link, "client")
        self._requested_mtu = mtu
        self._service_filter = None if services is None else [canonical_uuid(u, "services") for u in services]
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._disconnected: asyncio.Event | None = None
        self._subscribers: dict[int, Callable[[bytes], None]] = {}

    # ------------------------------------------------------------------ connection
    @property
    def name(self) -> str:
        """Advertised name if known, else the address."""
        if self._device_name:
            return self._device_name
        peripheral = self._link.find_peripheral(self.address)
        return peripheral.name if peripheral is not None else self.address

    @property
    def mtu_size(self) -> int:
        """Negotiated ATT MTU in bytes (23 before an exchange or when not connected)."""
        return self._connection.att_mtu if self._connection is not None else 23

    @property
    def is_connected(self) -> bool:
        """True from a finished ``connect`` until the link drops or ``disconnect``."""
        return self._connection is not None and self.services is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        """Connect, exchange the MTU, discover the GATT table; all within ``timeout``."""
        if pair:
            logger.info("the virtual link does not pair; ignoring pair=True for %s", self.address)
        if self.is_connected:
            return
        if self._link.find_peripheral(self.address) is None:
            raise BleakDeviceNotFoundError(self.address, f"no virtual peripheral {self.address}")
        deadline = asyncio.get_running_loop().time() + self._timeout
        connection = await self._link.connect(self.address, timeout=self._timeout)
        async with asyncio.timeout_at(deadline):
            self._connection, self._disconnected = connection, asyncio.Event()
            connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)
            self._peer = Peer(connection)
            try:
                if self._requested_mtu is not None:
                    await self._gatt(self._peer.request_mtu(self._requested_mtu))
                self.services = await self._gatt(self._discover())
            except BaseException:
                await self.disconnect()
                raise

    async def disconnect(self) -> None:
        """Terminate the link (reason: remote user terminated) and wait until it is down."""
        connection, event = self._connection, self._disconnected
        if connection is None or event is None:
            return
        try:
            await connection.disconnect(hci.HCI_ErrorCode.REMOTE_USER_TERMINATED_CONNECTION_ERROR)
        except hci.HCI_Error:
            if self._connection is not None:  # not a race with the peer dropping the link
                raise
        await event.wait()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """Not supported: the virtual straps, like the real ones, use no pairing."""
        raise BleakError("pairing is not supported on the virtual link")

    async def unpair(self) -> None:
        """Not supported (nothing is ever paired)."""
        raise BleakError("pairing is not supported on the virtual link")

    def _on_disconnection(self, reason: int) -> None:
        logger.debug("%s disconnected, reason 0x%02X", self.address, reason)
        self._connection, self._peer, self.services = None, None, None
        self._subscribers.clear()
        if self._disconnected is not None:
            self._disconnected.set()
        if self._disconnected_callback is not None:
            asyncio.get_running_loop().call_soon(self._disconnected_callback)

    async def _discover(self) -> BleakGATTServiceCollection:
        peer = self._require_peer()
        uuids = [core.UUID(u) for u in self._service_filter or ()]
        collection = BleakGATTServiceCollection()
        for service in await peer.discover_services(uuids):
            await peer.discover_characteristics(service=service)
            bleak_service = BleakGATTService(service, service.handle, uuid_str(service.uuid))
            collection.add_service(bleak_service)
            for char in service.characteristics:
                await peer.discover_descriptors(char)
                props = [
                    f.name.replace("_", "-") for f in GattCharacteristicsFlags if char.properties & f.value
                ]
                bleak_char = BleakGATTCharacteristic(
                    char,
                    char.handle,
                    uuid_str(char.uuid),
                    props,  # type: ignore[arg-type]
                    lambda: self.mtu_size - 3,
                    bleak_service,
                )
                collection.add_characteristic(bleak_char)
                for desc in char.descriptors:
                    collection.add_descriptor(
                        BleakGATTDescriptor(desc, desc.handle, uuid_str(desc.type), bleak_char)
                    )
        return collection

    # ------------------------------------------------------------------ I/O
    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        """Read a characteristic value (long values with Read Blob)."""
        peer = self._require_peer()
        cached = peer.gatt_client.cached_values.get(characteristic.handle)
        if use_cached and cached is not None:
            return bytearray(cached[1])
        return bytearray(await self._gatt(peer.read_value(characteristic.obj)))

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        """Read a descriptor value."""
        peer = self._require_peer()
        return bytearray(await self._gatt(peer.read_value(descriptor.obj)))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        """Write Request (``response=True``) or Write Command; a command is limited to MTU-3."""
        peer = self._require_peer()
        payload = bytes(data)
        if not response and len(payload) > self.mtu_size - 3:
            raise BleakError(
                f"write without response of {len(payload)} bytes exceeds MTU-3 = {self.mtu_size - 3} bytes"
            )
        await self._gatt(peer.write_value(characteristic.obj, payload, with_response=response))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: SizedBuffer) -> None:
        """Write a descriptor value (with response)."""
        peer = self._require_peer()
        await self._gatt(peer.write_value(descriptor.obj, bytes(data), with_response=True))

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        """Write the CCCD (notifications preferred over indications) and route values."""
        peer = self._require_peer()
        proxy: CharacteristicProxy[bytes] = characteristic.obj

        def on_value(value: bytes) -> None:
            callback(bytearray(value))

        old = self._subscribers.pop(characteristic.handle, None)
        if old is not None:
            await self._gatt(peer.unsubscribe(proxy, old))
        self._subscribers[characteristic.handle] = on_value
        await self._gatt(peer.subscribe(proxy, on_value, prefer_notify=True))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        """Clear the CCCD and stop routing values of ``characteristic``."""
        peer = self._require_peer()
        subscriber = self._subscribers.pop(characteristic.handle, None)
        await self._gatt(peer.unsubscribe(characteristic.obj, subscriber))

    # ------------------------------------------------------------------ helpers
    def _require_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError(f"Not connected to {self.address}")
        return self._peer

    async def _gatt(self, request: Awaitable[_T]) -> _T:
        """Await a Bumble GATT request, translating its errors to bleak's."""
        try:
            return await request
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self._connection is None and task is not None and not task.cancelling():
                raise BleakError(f"{self.address} disconnected during a GATT request") from None
            raise


def bind_backends(link: RadioLink) -> tuple[type[BumbleBleakScanner], type[BumbleBleakClient]]:
    """Scanner and client backend classes bound to ``link`` (keep bleak's class names)."""
    scanner = type("BumbleBleakScanner", (BumbleBleakScanner,), {"bound_link": link})
    client = type("BumbleBleakClient", (BumbleBleakClient,), {"bound_link": link})
    return scanner, client
