"""Bluetooth LE with bleak: scan, find straps, and run one connection to a strap.

* :func:`scan` lists what advertises (name, address, RSSI, the shipped profiles that match).
* :func:`find_devices` resolves what the user asked for (an address, a name, or "the first
  strap this profile matches") in one scan, and raises :class:`~myoflow.devices.errors.DeviceNotFound`
  listing what was seen when something is missing.
* :class:`StrapLink` is one connection: connect, check the negotiated MTU against the profile's
  ``min_mtu``, read the battery if the strap has the standard battery service, subscribe to the
  profile's characteristics, send the start writes in order and check the answers of a control
  point (the protocol reads them); :meth:`StrapLink.close` sends the stop writes, unsubscribes, disconnects.

Its notification callback does only what bleak's queue example does: it stamps the host time
(the injected ``clock``) and enqueues ``(host_time, char_uuid, bytes)``; decoding happens in the
ingest's consumer task (:mod:`myoflow.devices.ingest`). ``backend=`` is bleak's: ``None`` for the
platform (BlueZ, CoreBluetooth, WinRT), or the virtual straps' Bumble backend. Platform errors
that mean "no Bluetooth here" become :class:`~myoflow.devices.errors.AdapterUnavailable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError, BleakGATTProtocolError

from myoflow._checks import check_positive
from myoflow.devices.codec import DecodeError
from myoflow.devices.errors import (
    CommandRefused,
    DeviceNotFound,
    IngestError,
    MtuTooSmall,
    adapter_unavailable,
)
from myoflow.devices.profiles import DeviceProfile, profile_for_advertisement, shipped_profiles
from myoflow.devices.protocols import get_protocol
from myoflow.devices.seen import SeenDevice

logger = logging.getLogger(__name__)

__all__ = ["DeviceQuery", "SeenDevice", "StrapLink", "find_devices", "scan"]

BATTERY_LEVEL = "00002a19-0000-1000-8000-00805f9b34fb"
#: Exceptions after which connecting again may work (the strap went out of range, was busy...).
TRANSIENT = (BleakError, TimeoutError, OSError, EOFError)
_ADDRESS = re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f-]{36}$")
Clock = Callable[[], float]


@dataclass(frozen=True)
class DeviceQuery:
    """What to connect to: ``device`` (address or name, None: any) and/or a ``profile``.

    With no ``device``, the first advertisement the profile matches (any shipped profile when
    ``profile`` is None) is taken. A name matches when it equals the advertised name or starts
    it (case-insensitive), so ``"Polar H10"`` finds ``"Polar H10 1A2B3C4D"``.
    """

    device: str | None = None
    profile: DeviceProfile | None = None

    def describe(self) -> str:
        if self.device:
            return repr(self.device)
        return f"profile {self.profile.name!r}" if self.profile else "any known strap"

    def matches(self, seen: SeenDevice) -> bool:
        if self.device:
            q = self.device.strip().lower()
            if seen.address.lower() == q:
                return True
            if _ADDRESS.match(self.device.strip()):
                return False
            return bool(seen.name) and seen.name.lower().startswith(q)
        if self.profile is not None:
            return self.profile.name in seen.profiles
        return bool(seen.profiles)


def _seen(device: BLEDevice, adv: AdvertisementData, profiles: Sequence[DeviceProfile] | None) -> SeenDevice:
    name = adv.local_name or device.name
    uuids = tuple(adv.service_uuids or ())
    matching = profile_for_advertisement(name, uuids, profiles)
    return SeenDevice(name, device.address, adv.rssi, uuids, tuple(p.name for p in matching))


@contextlib.contextmanager
def adapter_errors(platform: bool) -> Iterator[None]:
    """Re-raise bleak's "no Bluetooth here" errors as :class:`AdapterUnavailable`."""
    try:
        yield
    except IngestError:
        raise
    except Exception as exc:
        mapped = adapter_unavailable(exc, platform=platform)
        if mapped is None:
            raise
        raise mapped from exc


async def scan(
    timeout: float = 5.0,
    *,
    backend: type | None = None,
    profiles: Sequence[DeviceProfile] | None = None,
) -> list[SeenDevice]:
    """Listen for ``timeout`` seconds; every device heard, strongest signal first.

    ``profiles`` are the candidates for :attr:`SeenDevice.profiles` (the shipped ones by default).
    Raises :class:`~myoflow.devices.errors.AdapterUnavailable` when there is no usable adapter.
    """
    check_positive(timeout, "timeout", "s")
    pool = list(shipped_profiles().values()) if profiles is None else list(profiles)
    seen: dict[str, SeenDevice] = {}

    def on_advertisement(device: BLEDevice, adv: AdvertisementData) -> None:
        seen[device.address] = _seen(device, adv, pool)

    with adapter_errors(platform=backend is None):
        async with BleakScanner(on_advertisement, backend=backend):
            await asyncio.sleep(timeout)
    return sorted(seen.values(), key=lambda d: (-(d.rssi if d.rssi is not None else -999), d.address))


async def find_devices(
    queries: Sequence[DeviceQuery],
    timeout: float = 10.0,
    *,
    backend: type | None = None,
) -> list[tuple[BLEDevice, SeenDevice]]:
    """Find one distinct device per query in one scan, in the order of ``queries``.

    Returns as soon as every query has a device. Raises
    :class:`~myoflow.devices.errors.DeviceNotFound` (naming the first query left without one and
    listing every device seen) after ``timeout`` seconds, and
    :class:`~myoflow.devices.errors.AdapterUnavailable` when there is no usable adapter.
    """
    check_positive(timeout, "timeout", "s")
    pool = list(shipped_profiles().values())
    pool += [q.profile for q in queries if q.profile is not None and q.profile not in pool]
    found: list[tuple[BLEDevice, SeenDevice] | None] = [None] * len(queries)
    seen: dict[str, SeenDevice] = {}
    done = asyncio.Event()

    def on_advertisement(device: BLEDevice, adv: AdvertisementData) -> None:
        info = _seen(device, adv, pool)
        seen[device.address] = info
        taken = {f[1].address for f in found if f is not None}
        for i, query in enumerate(queries):
            if found[i] is None and info.address not in taken and query.matches(info):
                found[i] = (device, info)
                break
        if all(f is not None for f in found):
            done.set()

    with adapter_errors(platform=backend is None):
        async with BleakScanner(on_advertisement, backend=backend):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout)
    for query, got in zip(queries, found, strict=True):
        if got is None:
            raise DeviceNotFound(query.describe(), timeout, list(seen.values()))
    return [f for f in found if f is not None]


class StrapLink:
    """One connection to a strap, set up as its profile says.

    Parameters
    ----------
    device
        A ``BLEDevice`` from a scan, or an address.
    profile
        The strap's profile: subscriptions, start/stop writes, ``min_mtu``.
    enqueue
        Called from the notification callback with ``(host_time, char_uuid, data)``; it must
        only enqueue (e.g. ``queue.put_nowait``).
    clock
        Host clock stamping every notification, seconds (``time.monotonic``, or the virtual
        straps' clock in fast mode).
    backend
        bleak client backend (None: the platform's).
    timeout
        Connection timeout, s.
    response_timeout
        How long to wait for a control point's answer to a command, s.
    client_kwargs
        Extra keyword arguments for :class:`bleak.BleakClient`.

    Attributes
    ----------
    disconnected : asyncio.Event
        Set when the link drops (or is closed).
    mtu : int or None
        Negotiated ATT MTU, bytes (None when the platform cannot tell).
    battery : int or None
        Battery level in %, read once at connection, when the strap offers it.
    """

    def __init__(
        self,
        device: BLEDevice | str,
        profile: DeviceProfile,
        enqueue: Callable[[tuple[float, str, bytes]], None],
        clock: Clock,
        *,
        backend: type | None = None,
        timeout: float = 20.0,
        response_timeout: float = 5.0,
        client_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.device, self.profile = device, profile
        self.label = getattr(device, "name", None) or getattr(device, "address", device)
        self._enqueue, self._clock, self._backend = enqueue, clock, backend
        self._timeout = check_positive(timeout, "timeout", "s")
        self._response_timeout = check_positive(response_timeout, "response_timeout", "s")
        self._client_kwargs = dict(client_kwargs or {})
        self._control = {c.uuid for c in profile.characteristics if c.role == "control_point"}
        self._responses: asyncio.Queue[bytes] = asyncio.Queue()
        self._subscribed: list[str] = []
        self.client: BleakClient | None = None
        self.disconnected = asyncio.Event()
        self.mtu: int | None = None
        self.battery: int | None = None
        self.refusals: list[CommandRefused] = []

    @property
    def is_connected(self) -> bool:
        return self.client is not None and self.client.is_connected and not self.disconnected.is_set()

    # ------------------------------------------------------------------ notification callback
    def _on_notify(self, uuid: str, _char: Any, data: bytearray) -> None:
        item = (self._clock(), uuid, bytes(data))
        if uuid in self._control:
            self._responses.put_nowait(item[2])
        self._enqueue(item)

    def _on_disconnect(self, _client: BleakClient) -> None:
        self.disconnected.set()

    # ------------------------------------------------------------------ set-up
    async def open(self, on_connected: Callable[[], None] | None = None) -> None:
        """Connect, check the MTU, subscribe and send the start writes.

        ``on_connected()`` runs once the link is up, before the first subscription (the ingest
        marks the restart of its timebases there). On any failure the link is closed and the
        error raised: :class:`MtuTooSmall`, :class:`CommandRefused`, ``AdapterUnavailable``, an
        :class:`IngestError` with reason ``"profile_mismatch"`` when the strap lacks a
        characteristic the profile subscribes to, or a bleak/timeout error when the link failed.
        """
        kwargs = dict(self._client_kwargs)
        if self._backend is not None and "mtu" in inspect.signature(self._backend).parameters:
            kwargs.setdefault("mtu", self.profile.mtu)  # a backend that asks for an MTU: the profile's
        client = BleakClient(
            self.device,
            disconnected_callback=self._on_disconnect,
            timeout=self._timeout,
            backend=self._backend,
            **kwargs,
        )
        self.client = client
        with adapter_errors(platform=self._backend is None):
            await client.connect()
        try:
            if on_connected is not None:
                on_connected()
            self.mtu = await _negotiated_mtu(client)
            if self.mtu is not None and self.mtu < self.profile.min_mtu:
                raise MtuTooSmall(self.label, self.mtu, self.profile.min_mtu, self.profile.name)
            self.battery = await self._read_battery(client)
            await self._check_identity(client)
            missing = [u for u in self.profile.subscribe if client.services.get_characteristic(u) is None]
            if missing:
                raise IngestError(
                    f"{self.label} has no characteristic {', '.join(missing)} that profile "
                    f"{self.profile.name!r} needs: is it the right profile for this strap?",
                    reason="profile_mismatch",
                    device=self.label,
                )
            for uuid in self.profile.subscribe:
                await client.start_notify(uuid, partial(self._on_notify, uuid))
                self._subscribed.append(uuid)
            for write in self.profile.start:
                await self._write(write.characteristic, write.data, write.response, strict=True)
        except BaseException:
            await self._disconnect()
            raise

    async def _check_identity(self, client: BleakClient) -> None:
        """Read what the protocol checks once connected (e.g. a firmware version string).

        Raises :class:`IngestError` with reason ``"firmware"`` naming what the strap reported.
        """
        for uuid, check in get_protocol(self.profile.protocol).identity_checks().items():
            char = client.services.get_characteristic(uuid) if client.services else None
            if char is None or "read" not in char.properties:
                logger.warning(
                    "%s: cannot read %s to check its firmware; assuming the profile's", self.label, uuid
                )
                continue
            try:
                value = bytes(await client.read_gatt_char(char))
            except BleakError as exc:
                logger.warning(
                    "%s: reading %s failed (%s); assuming the profile's firmware", self.label, uuid, exc
                )
                continue
            try:
                check(value)
            except DecodeError as exc:
                raise IngestError(
                    f"{self.label}: {exc} (profile {self.profile.name!r})",
                    reason="firmware",
                    device=self.label,
                ) from None

    async def _read_battery(self, client: BleakClient) -> int | None:
        char = client.services.get_characteristic(BATTERY_LEVEL) if client.services else None
        if char is None or "read" not in char.properties:
            return None
        try:
            value = await client.read_gatt_char(char)
        except BleakError:
            return None
        return int(value[0]) if value else None

    async def _write(self, uuid: str, data: bytes, response: bool, *, strict: bool) -> None:
        """Write ``data``; for a control point, wait for its answer and check the status."""
        assert self.client is not None
        while not self._responses.empty():
            self._responses.get_nowait()
        try:
            await self.client.write_gatt_char(uuid, data, response=response)
        except BleakGATTProtocolError as exc:
            code = int(exc.args[0])
            refused = CommandRefused(self.label, data, code, f"ATT error 0x{code:02X}: {exc.args[-1]}")
            if strict:
                raise refused from exc
            self.refusals.append(refused)
            return
        if uuid in self._control:
            await self._control_answer(data, strict)

    async def _control_answer(self, command: bytes, strict: bool) -> None:
        protocol = get_protocol(self.profile.protocol)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self._response_timeout if strict else min(1.0, self._response_timeout))
        while True:
            try:
                raw = await asyncio.wait_for(self._responses.get(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                if strict:
                    raise TimeoutError(
                        f"{self.label}: no control point answer to {command.hex(' ')} within "
                        f"{self._response_timeout:g} s"
                    ) from None
                return
            reply = protocol.control_reply(command, raw)
            if reply is None:
                continue  # malformed (the consumer counts it), unsolicited, or about another command
            if reply.refused:
                refused = CommandRefused(self.label, command, reply.status, reply.status_name)
                if strict:
                    raise refused
                self.refusals.append(refused)
            return

    # ------------------------------------------------------------------ shutdown
    async def close(self, send_stop: bool = True) -> None:
        """Send the stop writes (when connected and ``send_stop``), unsubscribe, disconnect.

        Never raises for a link that is already gone; refused stop commands are kept in
        :attr:`refusals`.
        """
        try:
            if send_stop and self.is_connected:
                for write in self.profile.stop:
                    try:
                        await self._write(write.characteristic, write.data, write.response, strict=False)
                    except TRANSIENT as exc:
                        logger.info("%s: stop write %s failed: %s", self.label, write.data.hex(" "), exc)
                        break
            for uuid in reversed(self._subscribed):
                if not self.is_connected:
                    break
                with contextlib.suppress(*TRANSIENT):
                    await self.client.stop_notify(uuid)  # type: ignore[union-attr]
        finally:
            await self._disconnect()

    async def _disconnect(self) -> None:
        self._subscribed.clear()
        client = self.client
        if client is not None:
            with contextlib.suppress(*TRANSIENT):
                await client.disconnect()
        self.disconnected.set()


async def _negotiated_mtu(client: BleakClient) -> int | None:
    """The link's ATT MTU. BlueZ only knows it after an AcquireWrite/AcquireNotify (bleak's
    ``mtu_size.py`` example); when that fails the MTU is unknown (None)."""
    backend = getattr(client, "_backend", None)
    acquire = getattr(backend, "_acquire_mtu", None)
    if acquire is not None and getattr(backend, "_mtu_size", 0) is None:
        try:
            await acquire()
        except Exception as exc:  # any failure only means "unknown": the strap will say (status)
            logger.info("could not read the ATT MTU: %s", exc)
            return None
    return int(client.mtu_size)
