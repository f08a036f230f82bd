"""The transport seam: unmodified public bleak API -> Bumble backend -> virtual peripherals.

Every test runs one ``asyncio.run`` session with its own :class:`VirtualLink`; ``_session``
also checks that the session leaves no pending task behind.
"""

from __future__ import annotations

import asyncio
import random

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError

from myoflow.devices.virtual import (
    BumbleBleakClient,
    BumbleBleakScanner,
    CharacteristicSpec,
    ServiceSpec,
    VirtualLink,
    VirtualPeripheral,
)

BASE = "d506{:04x}-a904-deb9-4748-2c7f4a124842"
CONTROL, INFO, COMMAND = BASE.format(0x0001), BASE.format(0x0101), BASE.format(0x0401)
DATA_SVC, DATA = BASE.format(0x0005), BASE.format(0x0105)
CCCD = "00002902-0000-1000-8000-00805f9b34fb"
OTHER_SVC = "0000fe84-0000-1000-8000-00805f9b34fb"
INFO_VALUE = bytes(range(1, 21))


def strap(name: str = "Strap", *, extra: bool = False, **kwargs: object) -> VirtualPeripheral:
    """A small strap: control service (read info, write command), data service (notify)."""
    services = [
        ServiceSpec(
            CONTROL,
            (
                CharacteristicSpec(INFO, ("read",), INFO_VALUE),
                CharacteristicSpec(COMMAND, ("write", "write-without-response")),
            ),
        ),
        ServiceSpec(DATA_SVC, (CharacteristicSpec(DATA, ("notify",)),), advertised=False),
    ]
    if extra:
        services.append(
            ServiceSpec(
                "fe84",
                (
                    CharacteristicSpec("2a19", ("read", "notify"), b"\x64"),
                    CharacteristicSpec("2d30c083-f39f-4ce6-923f-3484ea480596", ("write-without-response",)),
                ),
            )
        )
    return VirtualPeripheral(name, services, **kwargs)  # type: ignore[arg-type]


async def _connect(link: VirtualLink, name: str, **kwargs: object) -> BleakClient:
    device = await BleakScanner.find_device_by_name(name, timeout=5, backend=link.scanner_backend)
    assert device is not None, f"{name} not found"
    client = BleakClient(device, backend=link.client_backend, **kwargs)  # type: ignore[arg-type]
    await client.connect()
    return client


class Collector:
    """A notify callback that keeps payloads and sets an event once ``n`` arrived."""

    def __init__(self, n: int) -> None:
        self.n, self.data, self.done = n, [], asyncio.Event()

    def __call__(self, _char: object, data: bytearray) -> None:
        assert isinstance(data, bytearray)
        self.data.append(bytes(data))
        if len(self.data) >= self.n:
            self.done.set()


def test_scan_finds_peripheral_by_name_and_by_service_uuid(on_link) -> None:
    async def body(link: VirtualLink) -> None:
        a = await link.add_peripheral(strap("Alpha", manufacturer_data={0x0D5: b"\x01\x02"}))
        b = await link.add_peripheral(strap("Beta", extra=True))
        found = await BleakScanner.find_device_by_name("Beta", timeout=5, backend=link.scanner_backend)
        assert found is not None and found.address == b.address and found.name == "Beta"

        # Filtering on the 16-bit service only Beta advertises: Alpha must never come through.
        scanner = BleakScanner(service_uuids=["fe84"], backend=link.scanner_backend)
        async with scanner:
            async for device, adv in scanner.advertisement_data():  # noqa: B007 - both used after the loop
                break
        assert device.address == b.address
        assert adv.local_name == "Beta"
        assert set(adv.service_uuids) == {CONTROL, OTHER_SVC}  # DATA_SVC is not advertised
        assert a.address not in scanner.discovered_devices_and_advertisement_data

        # Unfiltered, both show up with what they advertise.
        seen = {}
        async with BleakScanner(backend=link.scanner_backend) as scanner:
            async for device, adv in scanner.advertisement_data():
                seen[adv.local_name] = (device, adv)
                if len(seen) == 2:
                    break
        assert seen["Alpha"][1].manufacturer_data == {0x0D5: b"\x01\x02"}
        assert seen["Alpha"][1].service_uuids == [CONTROL]
        assert seen["Alpha"][0].address == a.address

    on_link(body)


def test_gatt_table_seen_through_bleak_matches_declaration(on_link) -> None:
    async def body(link: VirtualLink) -> None:
        peripheral = await link.add_peripheral(strap(extra=True))
        client = await _connect(link, "Strap")
        for svc in peripheral.services:
            seen = client.services.get_service(svc.uuid)
            assert seen is not None, svc.uuid
            assert {c.uuid for c in seen.characteristics} == {c.uuid for c in svc.characteristics}
            for spec in svc.characteristics:
                char = seen.get_characteristic(spec.uuid)
                assert char is not None and char.service_uuid == svc.uuid
                assert set(char.properties) == set(spec.properties)
                has_cccd = char.get_descriptor(CCCD) is not None
                assert has_cccd == bool({"notify", "indicate"} & set(spec.properties))
        handles = [c.handle for c in client.services.characteristics.values()]
        assert len(handles) == len(set(handles))
        cccd = client.services.get_characteristic(DATA).get_descriptor(CCCD)
        assert await client.read_gatt_descriptor(cccd.handle) == b"\x00\x00"
        await client.start_notify(DATA, Collector(1))
        assert await client.read_gatt_descriptor(cccd.handle) == b"\x01\x00"
        await client.disconnect()

        # bleak's ``services=`` filter: only the asked-for service is discovered.
        client = BleakClient(peripheral.address, services=[DATA_SVC], backend=link.client_backend)
        await client.connect()
        assert [s.uuid for s in client.services] == [DATA_SVC]
        await client.disconnect()

    on_link(body)


def test_mtu_exchange_and_truncation_without_it(on_link) -> None:
    payload = bytes(random.Random(1).randrange(256) for _ in range(300))

    async def body(link: VirtualLink) -> None:
        full = await link.add_peripheral(strap("Full"))
        small = await link.add_peripheral(strap("Small", max_mtu=185))
        bare = await link.add_peripheral(strap("Bare"))
        cases = [(full, {}, 247), (small, {}, 185), (bare, {"mtu": None}, 23)]
        for peripheral, kwargs, mtu in cases:
            client = await _connect(link, peripheral.name, **kwargs)
            assert client.mtu_size == mtu and peripheral.mtu == mtu
            assert client.services.get_characteristic(COMMAND).max_write_without_response_size == mtu - 3
            got = Collector(2)
            await client.start_notify(DATA, got)
            assert await peripheral.notify(DATA, payload[:40])
            assert await peripheral.notify(DATA, payload)
            await got.done.wait()
            # Anything longer than MTU-3 is cut, as a real GATT server does.
            assert got.data == [payload[: min(40, mtu - 3)], payload[: mtu - 3]]
            await client.disconnect()

    on_link(body)


def test_write_reaches_handler_byte_exact_and_read_returns_value(on_link) -> None:
    writes: list[tuple[str, bytes]] = []

    async def on_write(uuid: str, data: bytes) -> None:
        writes.append((uuid, data))

    async def body(link: VirtualLink) -> None:
        peripheral = await link.add_peripheral(strap(on_write=on_write))
        client = await _connect(link, "Strap")
        commands = [b"\x01\x03\x03\x01\x00", b"\x09\x01\x01", bytes(range(256))[:200], b"\x00"]
        for i, cmd in enumerate(commands):
            await client.write_gatt_char(COMMAND, cmd, response=i % 2 == 0)
        await client.read_gatt_char(INFO)  # a round trip: every command has been handled
        assert writes == [(COMMAND, c) for c in commands]

        assert await client.read_gatt_char(INFO) == INFO_VALUE
        peripheral.set_value(INFO, b"v2")
        assert await client.read_gatt_char(INFO) == b"v2"
        assert await client.read_gatt_char(INFO, use_cached=True) == b"v2"

        with pytest.raises(BleakGATTProtocolError):  # INFO is read-only
            await client.write_gatt_char(INFO, b"\x00", response=True)
        with pytest.raises(BleakError, match="exceeds MTU-3"):
            await client.write_gatt_char(COMMAND, bytes(245), response=False)
        await client.disconnect()

    on_link(body)


def test_2000_notifications_arrive_byte_exact_and_in_order(on_link) -> None:
    rng = random.Random(7)
    n = 2000
    sent = [
        i.to_bytes(2, "little") + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 60)))
        for i in range(n)
    ]

    async def body(link: VirtualLink) -> None:
        peripheral = await link.add_peripheral(strap())
        client = await _connect(link, "Strap")
        got = Collector(n)
        await client.start_notify(DATA, got)
        assert peripheral.is_subscribed(DATA)
        for i, payload in enumerate(sent):
            assert await peripheral.notify(DATA, payload)
            if i % 100 == 99:
                await asyncio.sleep(0)  # let the link drain now and then, as a paced strap does
        await asyncio.wait_for(got.done.wait(), 10)
        assert len(got.data) == n and got.data == sent

        await client.stop_notify(DATA)
        await client.read_gatt_char(INFO)  # round trip so the CCCD write has landed
        assert not peripheral.is_subscribed(DATA)
        assert not await peripheral.notify(DATA, b"dropped")
        await client.disconnect()

    on_link(body)


def test_several_peripherals_each_with_its_own_client(on_link) -> None:
    names = ["S0", "S1", "S2"]

    async def body(link: VirtualLink) -> None:
        peripherals = [await link.add_peripheral(strap(n)) for n in names]
        clients = await asyncio.gather(*(_connect(link, n) for n in names))
        assert [c.address for c in clients] == [p.address for p in peripherals]
        assert all(c.is_connected for c in clients)
        collectors = [Collector(50) for _ in names]
        for client, col in zip(clients, collectors, strict=True):
            await client.start_notify(DATA, col)
        for k in range(50):  # interleave the three streams
            for j, p in enumerate(peripherals):
                await p.notify(DATA, bytes([j, k]))
        await asyncio.gather(*(c.done.wait() for c in collectors))
        for j, col in enumerate(collectors):
            assert col.data == [bytes([j, k]) for k in range(50)]
        # A connected strap stops advertising: a second central times out, and the central's
        # cancelled connection attempt does not block the next one.
        with pytest.raises(TimeoutError, match="no connectable advertisement"):
            await BleakClient(peripherals[0].address, backend=link.client_backend, timeout=0.1).connect()
        await clients[0].disconnect()
        again = BleakClient(peripherals[0].address, backend=link.client_backend)
        await again.connect()
        assert again.is_connected
        await asyncio.gather(*(c.disconnect() for c in [again, *clients[1:]]))
        assert not any(p.is_connected for p in peripherals)

    on_link(body)


def test_force_disconnect_triggers_callback_and_reconnect_works(on_link) -> None:
    async def body(link: VirtualLink) -> None:
        peripheral = await link.add_peripheral(strap())
        streams: list[asyncio.Task[None]] = []
        peripheral.on_connect = lambda: streams.append(  # type: ignore[method-assign]
            peripheral.spawn(asyncio.Event().wait())
        )
        dropped: list[BleakClient] = []
        dropped_event = asyncio.Event()

        def on_disconnect(c: BleakClient) -> None:
            dropped.append(c)
            dropped_event.set()

        client = await _connect(link, "Strap", disconnected_callback=on_disconnect)
        assert client.is_connected and peripheral.is_connected
        await peripheral.force_disconnect()
        await dropped_event.wait()
        assert dropped == [client] and not client.is_connected
        assert streams[0].cancelled()  # the per-connection task stopped with the link
        with pytest.raises(BleakError):
            await client.read_gatt_char(INFO)

        await client.connect()  # the peripheral advertises again after the drop
        assert client.is_connected and client.mtu_size == 247
        got = Collector(1)
        await client.start_notify(DATA, got)
        await peripheral.notify(DATA, b"again")
        await got.done.wait()
        assert got.data == [b"again"]
        await client.disconnect()
        assert len(dropped) == 2 and not peripheral.is_connected

    on_link(body)


def test_request_cut_by_a_drop_raises_bleak_error_not_cancelled(on_link) -> None:
    async def body(link: VirtualLink) -> None:
        started, release = asyncio.Event(), asyncio.Event()

        async def slow(uuid: str, data: bytes) -> None:
            started.set()
            await release.wait()

        peripheral = await link.add_peripheral(strap(on_write=slow))
        client = await _connect(link, "Strap")
        write = asyncio.create_task(client.write_gatt_char(COMMAND, b"\x01", response=True))
        await started.wait()  # the request is now waiting on the peripheral
        await peripheral.force_disconnect()
        with pytest.raises(BleakError, match="disconnected"):
            await write
        release.set()

    on_link(body)


def test_clean_shutdown_and_task_errors_surface(on_link) -> None:
    async def body(link: VirtualLink) -> None:
        peripheral = await link.add_peripheral(strap())
        client = await _connect(link, "Strap")
        await client.start_notify(DATA, Collector(1))

        async def broken() -> None:
            raise RuntimeError("simulator bug")

        peripheral.spawn(broken())
        await asyncio.sleep(0)
        # close() with a client still connected: the links drop, the error comes out.
        with pytest.raises(RuntimeError, match="simulator bug"):
            await link.close()
        assert not client.is_connected and link.peripherals == ()

    on_link(body)


def test_a_failing_write_handler_answers_an_error_and_surfaces_at_close(on_link) -> None:
    def buggy(uuid: str, data: bytes) -> None:
        raise KeyError(data)

    async def body(link: VirtualLink) -> None:
        await link.add_peripheral(strap(on_write=buggy))
        client = await _connect(link, "Strap")
        with pytest.raises(BleakGATTProtocolError) as info:
            await client.write_gatt_char(COMMAND, b"\x07", response=True)
        assert info.value.code == 0x0E  # "unlikely error"
        with pytest.raises(KeyError):
            await link.close()

    on_link(body)


def test_invalid_arguments_name_the_parameter(on_link) -> None:
    with pytest.raises(ValueError, match="CharacteristicSpec.uuid"):
        CharacteristicSpec("not-a-uuid", ("read",))
    with pytest.raises(ValueError, match="CharacteristicSpec.properties"):
        CharacteristicSpec("2a19", ("notifi",))
    with pytest.raises(ValueError, match="declared twice"):
        VirtualPeripheral(
            "X",
            [
                ServiceSpec("180f", (CharacteristicSpec("2a19", ("read",)),)),
                ServiceSpec("180a", (CharacteristicSpec("2a19", ("read",)),)),
            ],
        )
    with pytest.raises(ValueError, match="max_mtu"):
        strap(max_mtu=10)
    with pytest.raises(ValueError, match="advertising_interval"):
        strap(advertising_interval=0.001)
    with pytest.raises(BleakError, match="needs a VirtualLink"):
        BleakClient("C0:00:00:00:00:01", backend=BumbleBleakClient)
    with pytest.raises(BleakError, match="needs a VirtualLink"):
        BleakScanner(backend=BumbleBleakScanner)

    async def body(link: VirtualLink) -> None:
        with pytest.raises(ValueError, match="char_uuid"):
            await (await link.add_peripheral(strap())).notify("2a19", b"")
        with pytest.raises(BleakDeviceNotFoundError):
            await BleakClient("C0:00:00:00:AA:AA", backend=BumbleBleakClient, link=link).connect()
        with pytest.raises(ValueError, match="mtu"):
            BleakClient("C0:00:00:00:00:01", backend=link.client_backend, mtu=5)

    on_link(body)
