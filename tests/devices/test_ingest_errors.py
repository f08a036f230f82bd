"""Ingest errors and shutdown: no adapter, strap not found, MTU and refused commands, clean stop,
cancellation, reconnects that give up, corrupt notifications, argument checks."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason, BleakDBusError

from myoflow.devices.ble import scan
from myoflow.devices.decoding import StrapDecoder
from myoflow.devices.errors import (
    AdapterUnavailable,
    CommandRefused,
    ConnectionLost,
    DeviceNotFound,
    IngestError,
    MtuTooSmall,
    ProfileMismatch,
    adapter_unavailable,
)
from myoflow.devices.ingest import Ingest, ReconnectPolicy, StrapConfig
from myoflow.devices.profiles import load_profile
from myoflow.devices.protocols.ganglion import codec as ganglion
from myoflow.devices.protocols.myo import codec as myo
from myoflow.devices.protocols.polar_pmd import codec as pmd
from myoflow.devices.protocols.polar_pmd.virtual import VirtualPolar
from myoflow.devices.sinks import CollectingSink
from myoflow.devices.virtual.radio import LinkConditions
from myoflow.rigs.virtual_rig import VirtualRig, virtual_rig
from myoflow.stream import Block
from myoflow.synth.session import glute_bridge_session

SESSION = glute_bridge_session(n_reps=2, emg_rate=1000.0, imu_rate=100.0, seed=2)
FAST = ReconnectPolicy(initial_s=0.01, max_s=0.05, max_attempts=3)


def _session(body: Callable[[], Awaitable[None]]) -> None:
    """Run ``body()``; fail if any task or thread outlives it."""
    threads = {t.ident for t in threading.enumerate()}

    async def main() -> None:
        await body()
        leftover = asyncio.all_tasks() - {asyncio.current_task()}
        assert not leftover, f"pending tasks: {leftover}"

    asyncio.run(main())
    assert {t.ident for t in threading.enumerate()} <= threads


# ---------------------------------------------------------------------------- no adapter
def test_no_adapter_is_adapter_unavailable_with_a_hint() -> None:
    """This machine has no Bluetooth adapter and no D-Bus: the platform backend must say so."""

    async def body() -> None:
        with pytest.raises(AdapterUnavailable) as info:
            await scan(0.2)
        assert "--virtual" in str(info.value) and info.value.reason in ("no_dbus", "no_bluez", "no_bluetooth")
        ingest = Ingest([StrapConfig("ganglion_fw3")], scan_timeout=0.5)
        with pytest.raises(AdapterUnavailable, match="Bluetooth is not available"):
            async with ingest:
                pytest.fail("must not get here")

    _session(body)


def test_platform_errors_map_to_adapter_unavailable() -> None:
    off = BleakBluetoothNotAvailableError(
        "No powered Bluetooth adapters found.", BleakBluetoothNotAvailableReason.POWERED_OFF
    )
    assert adapter_unavailable(off).reason == "powered_off"
    none = BleakBluetoothNotAvailableError(
        "No Bluetooth adapters found.", BleakBluetoothNotAvailableReason.NO_BLUETOOTH
    )
    err = adapter_unavailable(none)
    assert (
        err.reason == "no_bluetooth" and "No Bluetooth adapters found" in str(err) and "--virtual" in str(err)
    )
    bluez = adapter_unavailable(BleakDBusError("org.freedesktop.DBus.Error.ServiceUnknown", []))
    assert bluez.reason == "no_bluez" and "bluetoothd" in str(bluez)
    assert adapter_unavailable(FileNotFoundError(2, "No such file or directory")).reason == "no_dbus"
    assert adapter_unavailable(FileNotFoundError(2, "x"), platform=False) is None  # virtual: a real bug
    assert adapter_unavailable(BleakDBusError("org.bluez.Error.Failed", ["le-connection-abort"])) is None
    assert adapter_unavailable(ValueError("x")) is None


# ---------------------------------------------------------------------------- not found
def test_device_not_found_lists_what_was_seen() -> None:
    async def body() -> None:
        async with virtual_rig(("ganglion", "myo"), session=SESSION) as rig:
            config = StrapConfig("polar_h10_acc_ecg", device="Polar H10")
            with pytest.raises(DeviceNotFound) as info:
                async with _link_ingest(rig, [config], scan_timeout=0.5):
                    pass
            err = info.value
            assert err.query == "'Polar H10'" and err.timeout == 0.5 and err.reason == "not_found"
            assert {d.name for d in err.seen} == {s.name for s in rig.straps}
            assert "Ganglion-3C00" in str(err) and "ganglion_fw3" in str(err) and "myo_raw_emg" in str(err)
            # Looking up by profile finds nothing either when no strap matches it.
            with pytest.raises(DeviceNotFound, match="profile 'polar_h10_acc_ecg'"):
                async with _link_ingest(rig, [StrapConfig("polar_h10_acc_ecg")], scan_timeout=0.3):
                    pass

    _session(body)


def _link_ingest(rig: VirtualRig, configs: list[StrapConfig], **kwargs: Any) -> Ingest:
    return Ingest(
        configs,
        clock=rig.clock,
        scanner_backend=rig.link.scanner_backend,
        client_backend=rig.link.client_backend,
        **kwargs,
    )


# ---------------------------------------------------------------------------- MTU, refusals
def test_polar_mtu_too_small_or_refused_with_status_10(tmp_path: Path) -> None:
    async def body() -> None:
        async with virtual_rig((), session=SESSION) as rig:
            small = await rig.link.add_peripheral(
                VirtualPolar(SESSION, name="Polar H10 00000001", max_mtu=100)
            )
            tiny = await rig.link.add_peripheral(VirtualPolar(SESSION, name="Polar H10 00000002", max_mtu=60))
            kw: dict[str, Any] = dict(
                clock=rig.clock,
                scanner_backend=rig.link.scanner_backend,
                client_backend=rig.link.client_backend,
            )
            # The profile needs 232 bytes; the strap accepts 100: refused before any command.
            with pytest.raises(MtuTooSmall) as info:
                async with Ingest([StrapConfig("polar_h10_acc_ecg", device=small.address)], **kw):
                    pass
            assert (info.value.negotiated, info.value.needed) == (100, 232)
            assert "100" in str(info.value) and "232" in str(info.value)
            assert not small.is_connected and small.ledger.event_times("command") == []
            # A profile that claims less: the strap itself refuses with status 10, INVALID_MTU.
            text = load_profile("polar_h10_acc_ecg").source_text.replace("min_mtu = 232", "min_mtu = 23")
            path = tmp_path / "polar_small_mtu.toml"
            path.write_text(text, encoding="utf-8")
            with pytest.raises(CommandRefused) as refused:
                async with Ingest([StrapConfig(str(path), device=tiny.address)], **kw):
                    pass
            err = refused.value
            assert (err.status, err.status_name) == (10, "INVALID_MTU") and err.command[:2] == b"\x02\x02"
            assert "status 10 (INVALID_MTU)" in str(err) and err.device == tiny.name
            assert not tiny.is_connected

    _session(body)


# ---------------------------------------------------------------------------- clean stop
def test_clean_stop_sends_stop_writes_and_cancel_is_clean() -> None:
    async def body() -> None:
        async with virtual_rig(("ganglion", "polar_h10", "myo"), session=SESSION) as rig:
            sink = CollectingSink()
            ingest = rig.ingest([sink], reconnect=FAST)

            async def stream() -> None:
                async with ingest:
                    await ingest.run()  # until cancelled (Ctrl-C)

            task = asyncio.create_task(stream())
            await rig.clock.sleep(3.0)
            assert all(s.state == "streaming" for s in ingest.status())
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            stops = {
                "ganglion": [ganglion.STOP],
                "polar_h10": [pmd.stop_command(pmd.Measurement.ACC), pmd.stop_command(pmd.Measurement.ECG)],
                "myo": [myo.set_mode("off", "off"), myo.sleep_mode(never=False)],
            }
            for kind, strap in zip(rig.kinds, rig.straps, strict=True):
                commands = [d for _, k, d in strap.ledger.events if k == "command"]
                assert commands[-len(stops[kind]) :] == stops[kind], kind
                assert not any(src.active for src in strap.streams.values()), kind
                assert not strap.is_connected
            assert [s.state for s in ingest.status()] == ["stopped"] * 3
            assert sum(len(b) for b in sink.blocks["ganglion/emg"]) > 500

    _session(body)


# ---------------------------------------------------------------------------- reconnect gives up
def test_reconnect_gives_up_after_the_policy_and_run_raises() -> None:
    async def body() -> None:
        cond = LinkConditions(reconnect_hold_s=0.0)
        async with virtual_rig(("ganglion",), conditions=cond, session=SESSION) as rig:
            sink = CollectingSink()
            async with rig.ingest([sink], reconnect=FAST, connect_timeout=0.2) as ingest:
                await ingest.run(1.0)
                strap = rig.straps[0]
                await strap.drop_link("switched off")
                await rig.link.remove_peripheral(strap)
                with pytest.raises(ConnectionLost) as info, rig.clock.hold():  # back-off is real time
                    await ingest.run(60.0)
                assert info.value.attempts == 3 and info.value.device == "ganglion"
                assert [s.state for s in sink.statuses][-2:] == ["reconnecting", "failed"]
                assert ingest.status()[0].error is not None

    _session(body)


# ---------------------------------------------------------------------------- corrupt bytes
def test_corrupt_notifications_are_counted_and_skipped() -> None:
    decoder = StrapDecoder(load_profile("ganglion_fw3"), "g")
    good = [ganglion.encode(np.full((2, 4), 1000 * (k + 1)), k) for k in range(4)]
    out = decoder.feed(0.01, ganglion.NOTIFY, good[0])
    out += decoder.feed(0.02, ganglion.NOTIFY, b"\x05\x01")  # too short
    out += decoder.feed(0.03, ganglion.NOTIFY, bytes([250]) + bytes(19))  # unknown packet ID
    out += decoder.feed(0.04, "0000ffff-0000-1000-8000-00805f9b34fb", b"\x00")  # not a data char
    for k, packet in enumerate(good[1:], 1):
        out += decoder.feed(0.01 * (k + 4), ganglion.NOTIFY, packet)
    assert decoder.corrupt == 2 and decoder.stats()["emg"].corrupt == 2
    emg = [b for b in out if b.stream.name == "g/emg"]
    assert all(isinstance(b, Block) for b in emg)  # no gap invented
    assert [b.start_index for b in emg] == [0, 2, 4, 6]
    # A DIY packet whose rate or channel count contradicts the profile is corrupt, not data.
    from myoflow.devices.protocols.diy import codec as diy

    d = StrapDecoder(load_profile("diy_emg_2ch_1khz"), "d")
    assert (
        d.feed(
            0.1,
            diy.DATA,
            diy.encode(np.zeros((25, 2), int), block=0, t_first_us=0, fs_hz=500, uv_per_count=1.0),
        )
        == []
    )
    assert (
        d.feed(
            0.2,
            diy.DATA,
            diy.encode(np.zeros((25, 4), int), block=1, t_first_us=0, fs_hz=1000, uv_per_count=1.0),
        )
        == []
    )
    assert d.stats()["emg"].corrupt == 2
    assert (
        len(
            d.feed(
                0.3,
                diy.DATA,
                diy.encode(np.zeros((25, 2), int), block=2, t_first_us=0, fs_hz=1000, uv_per_count=1.0),
            )
        )
        == 1
    )


# ---------------------------------------------------------------------------- arguments
def test_invalid_arguments_name_the_parameter() -> None:
    profile = load_profile("ganglion_fw3")
    with pytest.raises(ValueError, match="placements for stream 'emg'.*expected 4"):
        StrapDecoder(profile, "g", {"emg": ("a", "b")})
    with pytest.raises(ValueError, match="unknown channel.*'ch9'"):
        StrapDecoder(profile, "g", {"emg": {"ch9": "glute_max_r"}})
    with pytest.raises(ValueError, match="placements name unknown stream.*'ecg'"):
        StrapDecoder(profile, "g", {"ecg": ("chest",)})
    with pytest.raises(ValueError, match="stream_options name unknown stream"):
        StrapDecoder(profile, "g", stream_options={"gyro": {"bin_s": 1.0}})
    placed = StrapDecoder(profile, "g", {"emg": {"ch2": "glute_max_l"}}).streams["emg"]
    assert placed.placements == ("unknown", "glute_max_l", "unknown", "unknown")
    with pytest.raises(ValueError, match="straps"):
        Ingest([])
    with pytest.raises(ValueError, match="sinks"):
        Ingest([StrapConfig("ganglion_fw3")], [object()])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="scan_timeout"):
        Ingest([StrapConfig("ganglion_fw3")], scan_timeout=0)
    with pytest.raises(ValueError, match="queue_size"):
        Ingest([StrapConfig("ganglion_fw3")], queue_size=0)
    for kwargs, name in (
        ({"initial_s": 0}, "initial_s"),
        ({"factor": 0.5}, "factor"),
        ({"max_attempts": 0}, "max_attempts"),
    ):
        with pytest.raises(ValueError, match=name):
            ReconnectPolicy(**kwargs)  # type: ignore[arg-type]
    policy = ReconnectPolicy(initial_s=0.1, factor=2.0, max_s=0.5)
    assert [policy.delay(k) for k in (1, 2, 3, 4, 5)] == [0.1, 0.2, 0.4, 0.5, 0.5]
    assert isinstance(MtuTooSmall("x", 23, 232), IngestError)


def test_a_failing_sink_stops_the_run_and_is_raised() -> None:
    class Broken(CollectingSink):
        def on_block(self, block: Block) -> None:
            super().on_block(block)
            if sum(len(b) for b in self.blocks[block.stream.name]) > 100:
                raise RuntimeError("disk full")

    async def body() -> None:
        async with virtual_rig(("ganglion",), session=SESSION) as rig:
            sink = Broken()
            with pytest.raises(RuntimeError, match="disk full"):
                async with rig.ingest([sink]) as ingest:
                    await ingest.run(30.0)
            assert rig.clock.now() < 2.0  # stopped at once, not after 30 s
            commands = [d for _, k, d in rig.straps[0].ledger.events if k == "command"]
            assert commands[-1] == ganglion.STOP and not rig.straps[0].is_connected  # a clean stop

    _session(body)


# ---------------------------------------------------------------------------- profile mismatch
def test_a_profile_that_does_not_fit_fails_its_strap_only_with_a_clear_error() -> None:
    """The virtual DIY strap sends 2 channels at 1 kHz; the 4-channel 2 kHz profile does not fit."""

    async def body() -> None:
        async with virtual_rig(("ganglion", "diy"), session=SESSION) as rig:
            ganglion_strap, diy_strap = rig.straps
            configs = [
                StrapConfig("ganglion_fw3", device=ganglion_strap.address),
                StrapConfig("diy_emg_4ch_2khz", device=diy_strap.address),
            ]
            sink = CollectingSink()
            async with _link_ingest(rig, configs, sinks=[sink], reconnect=FAST) as ingest:
                await ingest.run(3.0)
                by_name = {s.name: s for s in ingest.straps}
            failed = [s for s in by_name.values() if s.state == "failed"]
            assert len(failed) == 1 and isinstance(failed[0].error, ProfileMismatch)
            text = str(failed[0].error)
            assert "diy_emg_4ch_2khz" in text and "2000 Hz" in text and "1000 Hz" in text
            status = failed[0].status()
            assert set(status.discards) == {"does not fit the profile"}
            assert "discarded" in status.summary()
            emg = [n for n in sink.blocks if n.endswith("/emg")]
            assert len(emg) == 1 and len(sink.data(emg[0])) > 500  # the Ganglion went on streaming

    _session(body)


def test_a_single_strap_with_the_wrong_profile_ends_the_run_with_the_mismatch() -> None:
    async def body() -> None:
        async with virtual_rig(("diy",), session=SESSION) as rig:
            config = StrapConfig("diy_emg_4ch_2khz", device=rig.straps[0].address)
            with pytest.raises(ProfileMismatch, match="diy_emg_4ch_2khz"):
                async with _link_ingest(rig, [config], reconnect=FAST) as ingest:
                    await ingest.run(30.0)
            assert rig.clock.now() < 5.0  # at once, not after 30 s of an empty stream

    _session(body)
