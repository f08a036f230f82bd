"""A generic virtual BLE peripheral: a Bumble device whose GATT table is declared as data.

A device simulator (Myo, Ganglion, Polar, ...) subclasses :class:`VirtualPeripheral`, passes
its services as :class:`ServiceSpec` objects and overrides the hooks it needs:

- :meth:`VirtualPeripheral.handle_write` gets every write to a characteristic, byte-exact;
- :meth:`VirtualPeripheral.on_connect`, :meth:`~VirtualPeripheral.on_disconnect` and
  :meth:`~VirtualPeripheral.on_subscribe` follow the link;
- :meth:`VirtualPeripheral.notify` sends one ATT notification (cut to MTU-3 bytes, as a real
  stack does) and :meth:`~VirtualPeripheral.force_disconnect` drops the link from this side;
- :meth:`VirtualPeripheral.spawn` runs a streaming task for the current connection only: it is
  cancelled when the link drops and awaited when the peripheral stops, and its exception (if any)
  is raised from :meth:`VirtualLink.close <myoflow.devices.virtual.link.VirtualLink.close>`.

The peripheral is plain data until :meth:`VirtualLink.add_peripheral
<myoflow.devices.virtual.link.VirtualLink.add_peripheral>` attaches it to a link on the running
event loop. Pacing, jitter, loss and clock skew are the simulator's business, not this class's.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bumble import att, gatt, hci
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device

from myoflow._checks import check_option, check_positive
from myoflow.devices.profile_types import normalise_uuid
from myoflow.devices.virtual.contract import RadioLink

__all__ = ["CharacteristicSpec", "ServiceSpec", "VirtualPeripheral", "canonical_uuid"]

_SIG_BASE = "-0000-1000-8000-00805f9b34fb"
_SIG_RE = re.compile(r"^0000([0-9a-f]{4})" + re.escape(_SIG_BASE) + "$")
_PROPS = gatt.Characteristic.Properties
#: bleak's property names (``BleakGATTCharacteristic.properties``) -> Bumble flags.
PROPERTY_FLAGS: dict[str, _PROPS] = {
    "read": _PROPS.READ,
    "write": _PROPS.WRITE,
    "write-without-response": _PROPS.WRITE_WITHOUT_RESPONSE,
    "notify": _PROPS.NOTIFY,
    "indicate": _PROPS.INDICATE,
}
#: Reason a peripheral-side drop reports: "connection timeout", what a strap out of range gives.
CONNECTION_TIMEOUT = hci.HCI_ErrorCode.CONNECTION_TIMEOUT_ERROR
_POWER_OFF = hci.HCI_ErrorCode.REMOTE_DEVICE_TERMINATED_CONNECTION_DUE_TO_POWER_OFF_ERROR
WriteHandler = Callable[[str, bytes], Awaitable[None] | None]


def canonical_uuid(value: str, name: str = "uuid") -> str:
    """Return a UUID as bleak spells it: lower-case 128-bit (``"180f"`` -> ``"0000180f-..."``)."""
    try:
        return normalise_uuid(value)
    except ValueError:
        raise ValueError(f"{name} must be a 16-, 32- or 128-bit UUID, got {value!r}") from None


def _bumble_uuid(canonical: str) -> UUID:
    """Bumble UUID, shortened to 16 bits for Bluetooth SIG UUIDs (so ads use the short list)."""
    m = _SIG_RE.match(canonical)
    return UUID(m.group(1)) if m else UUID(canonical)


@dataclass(frozen=True)
class CharacteristicSpec:
    """One characteristic: UUID, bleak property names and the initial value reads return."""

    uuid: str
    properties: tuple[str, ...]
    value: bytes = b""

    def __post_init__(self) -> None:
        object.__setattr__(self, "uuid", canonical_uuid(self.uuid, "CharacteristicSpec.uuid"))
        props = (self.properties,) if isinstance(self.properties, str) else self.properties
        if not props:
            raise ValueError(f"CharacteristicSpec.properties must not be empty ({self.uuid})")
        for p in props:
            check_option(p, "CharacteristicSpec.properties", PROPERTY_FLAGS)
        object.__setattr__(self, "properties", tuple(props))
        object.__setattr__(self, "value", bytes(self.value))

    @property
    def flags(self) -> _PROPS:
        """The properties as Bumble flags."""
        out = _PROPS(0)
        for p in self.properties:
            out |= PROPERTY_FLAGS[p]
        return out


@dataclass(frozen=True)
class ServiceSpec:
    """One primary service; ``advertised`` puts its UUID in the advertising data."""

    uuid: str
    characteristics: tuple[CharacteristicSpec, ...] = field(default_factory=tuple)
    advertised: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "uuid", canonical_uuid(self.uuid, "ServiceSpec.uuid"))
        object.__setattr__(self, "characteristics", tuple(self.characteristics))


class VirtualPeripheral:
    """A BLE peripheral on a :class:`~myoflow.devices.virtual.link.VirtualLink`.

    Parameters
    ----------
    name : str
        Complete local name put in the advertising data and the GAP Device Name.
    services : iterable of ServiceSpec
        The GATT table. Characteristic UUIDs must be unique across services. A CCCD is added
        to every characteristic that notifies or indicates.
    address : str, optional
        Static random address (``"C0:..."``); by default the link assigns one.
    max_mtu : int
        Largest ATT MTU this peripheral accepts in an MTU exchange (23..517 bytes).
    advertising_interval : float
        Seconds between advertising packets (>= 0.01). A central connects on the next one.
    manufacturer_data : mapping of int to bytes, optional
        Company identifier -> payload, advertised as manufacturer specific data.
    on_write : callable, optional
        ``on_write(char_uuid, data)`` (plain or async), called by the default
        :meth:`handle_write`.

    Attributes
    ----------
    address : str or None
        BLE address once on a link (as bleak reports it).
    connected, disconnected : asyncio.Event
        Set while a central is / is not connected (fresh events each time it is attached).
    """

    def __init__(
        self,
        name: str,
        services: Iterable[ServiceSpec],
        *,
        address: str | None = None,
        max_mtu: int = 247,
        advertising_interval: float = 0.02,
        manufacturer_data: Mapping[int, bytes] | None = None,
        on_write: WriteHandler | None = None,
    ) -> None:
        if not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        if not 23 <= int(max_mtu) <= 517:
            raise ValueError(f"max_mtu must be within 23..517 bytes, got {max_mtu!r}")
        if check_positive(advertising_interval, "advertising_interval", "s") < 0.01:
            raise ValueError(f"advertising_interval must be >= 0.01 s, got {advertising_interval}")
        self.name = name
        self.services = tuple(services)
        self.max_mtu = int(max_mtu)
        self.advertising_interval = float(advertising_interval)
        self.manufacturer_data = dict(manufacturer_data or {})
        self.requested_address = address
        self._on_write = on_write
        self._specs: dict[str, CharacteristicSpec] = {}
        for svc in self.services:
            for ch in svc.characteristics:
                if ch.uuid in self._specs:
                    raise ValueError(f"characteristic {ch.uuid} is declared twice in {name!r}")
                self._specs[ch.uuid] = ch
        self._values = {u: s.value for u, s in self._specs.items()}
        self._chars: dict[str, gatt.Characteristic] = {}
        self._subscribed: set[str] = set()
        self._device: Device | None = None
        self._connection: Connection | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._task_error: BaseException | None = None
        self._restart: asyncio.Task[None] | None = None
        self._stopping = False
        self.link: RadioLink | None = None
        self.address: str | None = None
        self.connected = asyncio.Event()
        self.disconnected = asyncio.Event()
        self.disconnected.set()

    # ------------------------------------------------------------------ state
    @property
    def is_connected(self) -> bool:
        """True while a central is connected."""
        return self._connection is not None

    @property
    def mtu(self) -> int:
        """ATT MTU of the current connection in bytes (23 without an exchange or a link)."""
        return self._connection.att_mtu if self._connection is not None else 23

    def value(self, char_uuid: str) -> bytes:
        """The value a read of ``char_uuid`` returns now."""
        return self._values[self._key(char_uuid)]

    def set_value(self, char_uuid: str, data: bytes) -> None:
        """Set the value later reads of ``char_uuid`` return."""
        self._values[self._key(char_uuid)] = bytes(data)

    def is_subscribed(self, char_uuid: str) -> bool:
        """True if the central has enabled notifications or indications on ``char_uuid``."""
        return self._key(char_uuid) in self._subscribed

    # ------------------------------------------------------------------ hooks
    async def handle_write(self, char_uuid: str, data: bytes) -> None:
        """Called for every write (with or without response); calls ``on_write`` if given."""
        if self._on_write is not None:
            result = self._on_write(char_uuid, data)
            if inspect.isawaitable(result):
                await result

    def on_connect(self) -> None:
        """Called when a central connects. Override to reset device state."""

    def on_disconnect(self, reason: int) -> None:
        """Called after the link dropped (HCI reason code); spawned tasks are already cancelled."""

    def on_subscribe(self, char_uuid: str, enabled: bool) -> None:
        """Called when the central writes the CCCD of ``char_uuid``."""

    # ------------------------------------------------------------------ actions
    async def notify(self, char_uuid: str, data: bytes) -> bool:
        """Send ``data`` as one notification on ``char_uuid``.

        Returns False (nothing sent) when no central is connected or it has not subscribed,
        as firmware does. ``data`` longer than MTU-3 bytes is cut to MTU-3 by the GATT server.
        """
        key = char_uuid if char_uuid in self._specs else self._key(char_uuid)
        conn = self._connection
        if conn is None or key not in self._subscribed or self._device is None:
            return False
        await self._device.notify_subscriber(conn, self._chars[key], bytes(data))
        return True

    async def force_disconnect(self, reason: int = CONNECTION_TIMEOUT) -> None:
        """Drop the link from the peripheral side with HCI ``reason``; no-op if not connected."""
        conn = self._connection
        if conn is not None:
            await conn.disconnect(reason)
            await self.disconnected.wait()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` for the current connection: cancelled on disconnect, awaited on stop."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    # ------------------------------------------------------------------ link side
    async def _start(self, link: RadioLink, address: str) -> None:
        """Create the Bumble device on ``link``'s loop, power it on and start advertising."""
        self.link, self.address = link, address
        device = Device(name=self.name, address=hci.Address(address), host=link.new_host(address))
        device.gatt_server.max_mtu = self.max_mtu
        for svc in self.services:
            chars = []
            for spec in svc.characteristics:
                perms = gatt.Characteristic.Permissions(0)
                if "read" in spec.properties:
                    perms |= gatt.Characteristic.READABLE
                if {"write", "write-without-response"} & set(spec.properties):
                    perms |= gatt.Characteristic.WRITEABLE
                value = gatt.CharacteristicValue(
                    read=lambda _conn, u=spec.uuid: self._gatt_read(u),
                    write=lambda _conn, data, u=spec.uuid: self._gatt_write(u, bytes(data)),
                )
                char = gatt.Characteristic(_bumble_uuid(spec.uuid), spec.flags, perms, value)
                self._chars[spec.uuid] = char
                chars.append(char)
            device.add_service(gatt.Service(_bumble_uuid(svc.uuid), chars))
        device.on(device.EVENT_CONNECTION, self._on_connection)
        device.on("characteristic_subscription", self._on_subscription)
        self._device = device
        self._stopping = False
        self.connected, self.disconnected = asyncio.Event(), asyncio.Event()
        self.disconnected.set()
        await device.power_on()
        await self._advertise()

    async def _advertise(self) -> None:
        """(Re)start connectable advertising; a real strap does so after every disconnect."""
        if self._device is None or self._stopping:
            return
        ms = self.advertising_interval * 1000.0
        await self._device.start_advertising(
            advertising_data=self.advertising_data(),
            advertising_interval_min=ms,
            advertising_interval_max=ms,
        )

    async def _stop(self) -> None:
        """Stop advertising, drop the link, await spawned tasks; raise a task's exception."""
        device, self._stopping = self._device, True
        if self._restart is not None:
            await self._restart
        if device is not None:
            await device.stop_advertising()
            await self.force_disconnect(_POWER_OFF)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if device is not None:
            await device.power_off()
        self._device = None
        error, self._task_error = self._task_error, None
        if error is not None:
            raise error

    def advertising_data(self) -> bytes:
        """Advertising payload: flags, name, advertised service UUIDs, manufacturer data."""
        fields: list[tuple[int, bytes]] = [
            (AdvertisingData.FLAGS, bytes([0x06])),
            (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
        ]
        by_size: dict[int, bytes] = {}
        for svc in self.services:
            if svc.advertised:
                raw = _bumble_uuid(svc.uuid).to_bytes()
                by_size[len(raw)] = by_size.get(len(raw), b"") + raw
        kinds = {
            2: AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
            4: AdvertisingData.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
            16: AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
        }
        fields += [(kinds[n], raw) for n, raw in sorted(by_size.items())]
        for company, payload in self.manufacturer_data.items():
            fields.append(
                (
                    AdvertisingData.MANUFACTURER_SPECIFIC_DATA,
                    int(company).to_bytes(2, "little") + bytes(payload),
                )
            )
        return bytes(AdvertisingData(fields))

    def _key(self, char_uuid: str) -> str:
        key = canonical_uuid(char_uuid, "char_uuid")
        if key not in self._specs:
            raise ValueError(f"char_uuid {char_uuid!r} is not a characteristic of {self.name!r}")
        return key

    def _gatt_read(self, key: str) -> bytes:
        if "read" not in self._specs[key].properties:
            raise att.ATT_Error(att.ATT_READ_NOT_PERMITTED_ERROR)
        return self._values[key]

    async def _gatt_write(self, key: str, data: bytes) -> None:
        if not {"write", "write-without-response"} & set(self._specs[key].properties):
            raise att.ATT_Error(att.ATT_WRITE_NOT_PERMITTED_ERROR)
        try:
            await self.handle_write(key, data)
        except att.ATT_Error:
            raise  # a deliberate GATT error response from a simulator
        except Exception as exc:  # a simulator bug: answer "unlikely error", raise it at close
            if self._task_error is None:
                self._task_error = exc
            raise att.ATT_Error(att.ATT_UNLIKELY_ERROR_ERROR) from exc

    def _on_connection(self, connection: Connection) -> None:
        self._connection = connection
        self._subscribed.clear()
        self.disconnected.clear()
        self.connected.set()
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)
        self.on_connect()

    def _on_disconnection(self, reason: int) -> None:
        self._connection = None
        self._subscribed.clear()
        for task in list(self._tasks):
            task.cancel()
        self.connected.clear()
        self.disconnected.set()
        if not self._stopping:
            self._restart = asyncio.get_running_loop().create_task(self._advertise())
        self.on_disconnect(reason)

    def _on_subscription(
        self, _conn: Connection, char: gatt.Characteristic, notify: bool, indicate: bool
    ) -> None:
        key = next((u for u, c in self._chars.items() if c is char), None)
        if key is None:  # the GATT service's own Service Changed characteristic
            return
        enabled = bool(notify or indicate)
        (self._subscribed.add if enabled else self._subscribed.discard)(key)
        self.on_subscribe(key, enabled)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and self._task_error is None:
            self._task_error = task.exception()
