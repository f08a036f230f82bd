"""Virtual straps through the unmodified public bleak API, in fast (virtual-time) mode.

Each test runs one ``asyncio.run`` with its own :class:`VirtualLink`; notifications are stamped
with the straps' :class:`VirtualClock` (the "host clock" of fast mode), decoded with the codecs
and compared with each strap's ledger.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakGATTProtocolError

from myoflow.devices.protocols.diy import codec as diy
from myoflow.devices.protocols.diy.virtual import VirtualDiyStrap
from myoflow.devices.protocols.ganglion import codec as ganglion
from myoflow.devices.protocols.ganglion.virtual import VirtualGanglion
from myoflow.devices.protocols.myo import codec as myo
from myoflow.devices.protocols.myo.virtual import VirtualMyo
from myoflow.devices.protocols.polar_pmd import codec as pmd
from myoflow.devices.protocols.polar_pmd.codec import Measurement, Setting
from myoflow.devices.protocols.polar_pmd.virtual import VirtualPolar
from myoflow.devices.virtual import VirtualLink
from myoflow.devices.virtual.radio import LinkConditions, RealTimeClock, VirtualClock
from myoflow.devices.virtual.straps import KINDS, VirtualStrap, virtual_straps
from myoflow.synth.session import SessionConfig, generate_session

SESSION = generate_session(SessionConfig(n_reps=2, emg_rate=1000.0, imu_rate=100.0, seed=3))
H10_ACC = pmd.start_command(
    Measurement.ACC, {Setting.SAMPLE_RATE: 200, Setting.RESOLUTION: 16, Setting.RANGE: 8}
)
H10_ECG = pmd.start_command(Measurement.ECG, {Setting.SAMPLE_RATE: 130, Setting.RESOLUTION: 14})


class Arrivals:
    """Notify callback: (clock time, characteristic uuid, bytes) of every notification."""

    def __init__(self, clock: VirtualClock | RealTimeClock) -> None:
        self.clock, self.items = clock, []

    def __call__(self, char: object, data: bytearray) -> None:
        self.items.append((self.clock.now(), char.uuid, bytes(data)))  # type: ignore[attr-defined]

    def of(self, *uuids: str) -> list[tuple[float, str, bytes]]:
        return [x for x in self.items if x[1] in uuids]


async def _connect(
    link: VirtualLink, strap: VirtualStrap, *notify: str, **kwargs: object
) -> tuple[BleakClient, Arrivals]:
    """Scan for ``strap`` by name, connect, subscribe to ``notify`` (clock held meanwhile)."""
    with strap.clock.hold():
        device = await BleakScanner.find_device_by_name(strap.name, timeout=5, backend=link.scanner_backend)
        assert device is not None and device.address == strap.address
        client = BleakClient(device, backend=link.client_backend, **kwargs)  # type: ignore
        await client.connect()
        arrivals = Arrivals(strap.clock)
        for uuid in notify:
            await client.start_notify(uuid, arrivals)
    return client, arrivals


async def _polar_command(client: BleakClient, arrivals: Arrivals, data: bytes) -> pmd.ControlPointResponse:
    """Write a PMD command and return the control point response to it."""
    n = len(arrivals.of(pmd.CONTROL_POINT))
    await client.write_gatt_char(pmd.CONTROL_POINT, data, response=True)
    while len(arrivals.of(pmd.CONTROL_POINT)) == n:
        await asyncio.sleep(0)
    response = pmd.parse_control_point(arrivals.of(pmd.CONTROL_POINT)[-1][2])
    assert isinstance(response, pmd.ControlPointResponse)
    return response


def _check_arrivals_match_ledger(
    strap: VirtualStrap, got: list[tuple[float, str, bytes]], streams: tuple[str, ...]
) -> None:
    """What arrived is exactly the ledger's sent packets, in order, at their send times."""
    sent = [r for r in strap.ledger.records if r.fate == "sent" and r.stream in streams]
    assert [(r.char, r.payload) for r in sent] == [(u, p) for _, u, p in got]
    assert np.array_equal([r.sent_at for r in sent], [t for t, _, _ in got])


# ----------------------------------------------------------------------------------- scanning
def test_scan_finds_every_strap_by_name_and_advertised_service(on_link) -> None:
    advertised = {
        "myo": myo.CONTROL_SERVICE,
        "ganglion": ganglion.SERVICE,
        "polar_h10": "0000180d-0000-1000-8000-00805f9b34fb",
        "polar_verity": "0000180d-0000-1000-8000-00805f9b34fb",
        "diy": diy.SERVICE,
    }

    async def body(link: VirtualLink) -> None:
        straps = virtual_straps(SESSION, KINDS)
        assert len({s.name for s in straps}) == len(KINDS)
        for s in straps:
            await link.add_peripheral(s)
        assert len({s.address for s in straps}) == len(KINDS)
        for kind, strap in zip(KINDS, straps, strict=True):
            assert len(strap.advertising_data()) <= 31, kind  # fits a legacy advert
            found = await BleakScanner.find_device_by_filter(
                lambda d, adv, s=strap, k=kind: (
                    adv.local_name == s.name and advertised[k] in adv.service_uuids
                ),
                timeout=5,
                backend=link.scanner_backend,
            )
            assert found is not None and found.address == strap.address, kind
        # The PMD service is served but, as on the real straps, not advertised.
        client, _ = await _connect(link, straps[KINDS.index("polar_h10")])
        assert client.services.get_service(pmd.SERVICE) is not None
        assert await client.read_gatt_char(pmd.CONTROL_POINT) == bytes([0x0F, 0x05, 0x00])
        await client.disconnect()

    on_link(body)


# ----------------------------------------------------------------------------------- Myo
def test_myo_streams_only_after_set_mode_and_decodes_to_the_ledger(on_link) -> None:
    async def body(link: VirtualLink) -> None:
        strap = await link.add_peripheral(VirtualMyo(SESSION, name="Myo"))
        clock = strap.clock
        client, got = await _connect(link, strap, *myo.EMG_DATA, myo.IMU_DATA)
        assert await client.read_gatt_char(myo.FIRMWARE_VERSION) == bytes.fromhex("01000500b2070200")
        await clock.sleep(1.0)
        assert got.items == []  # nothing streams before set-mode
        for cmd in myo.start_raw_commands():
            await client.write_gatt_char(myo.COMMAND, cmd, response=True)
        t0 = clock.now()
        await clock.sleep(3.0)
        await client.write_gatt_char(myo.COMMAND, myo.set_mode("off", "off"), response=True)
        await clock.sleep(0.5)
        await client.disconnect()

        _check_arrivals_match_ledger(strap, got.items, ("emg", "imu"))
        emg = [(u, myo.decode(p)) for _, u, p in got.of(*myo.EMG_DATA)]
        ledger = strap.ledger.samples("emg")
        assert np.array_equal(np.concatenate([p.samples for _, p in emg]), ledger.values)
        assert np.array_equal(ledger.index, np.arange(ledger.index.size))  # no loss, in order
        # 200 Hz as 2-sample notifications, round-robin over the four characteristics
        assert abs(ledger.index.size - 600) <= 4
        assert [u for u, _ in emg] == [myo.EMG_DATA[k % 4] for k in range(len(emg))]
        assert np.allclose(np.diff(ledger.true_time), 1 / 200)
        assert ledger.true_time[0] >= t0 and ledger.true_time[-1] <= t0 + 3.0
        assert ledger.sent_at[-1] <= t0 + 3.0 + 0.015  # the last burst: next connection event
        # EMG content: session uV / 4 uV per count, clipped to int8
        expected = np.interp(ledger.true_time, SESSION.emg_times, SESSION.emg[:, 1]) / 4.0
        assert np.all(np.abs(ledger.values[:, 1] - np.clip(expected, -128, 127)) <= 0.5 + 1e-9)
        assert np.ptp(ledger.values) > 20
        imu = np.concatenate([myo.decode(p).samples for _, _, p in got.of(myo.IMU_DATA)])
        assert abs(imu.shape[0] - 150) <= 2
        _, acc, _ = myo.imu_to_physical(imu)
        t_imu = strap.ledger.samples("imu").true_time
        ref = np.interp(t_imu, SESSION.imu_times, SESSION.imu["thigh"][0][:, 0])
        assert np.allclose(acc[:, 0], ref, atol=1 / 2048)

    on_link(body)


def test_myo_sleeps_without_never_sleep_and_stays_awake_with_it(on_link) -> None:
    async def body(link: VirtualLink) -> None:
        strap = await link.add_peripheral(VirtualMyo(SESSION, sleep_after_s=2.0))
        clock, dropped = strap.clock, asyncio.Event()
        client, got = await _connect(
            link, strap, myo.EMG_DATA[0], disconnected_callback=lambda _c: dropped.set()
        )
        t_connect = clock.now()
        await client.write_gatt_char(myo.COMMAND, myo.set_mode("raw", "off"), response=True)
        await dropped.wait()
        assert strap.ledger.event_times("drop") == [t_connect + 2.0]
        assert not client.is_connected and not strap.streams["emg"].active
        assert got.items and max(t for t, _, _ in got.items) <= t_connect + 2.0

        # Streaming stopped with the link; never-sleep keeps the band awake.
        client, got = await _connect(link, strap, myo.EMG_DATA[0])
        await clock.sleep(1.0)
        assert got.items == []
        for cmd in myo.start_raw_commands("off"):
            await client.write_gatt_char(myo.COMMAND, cmd, response=True)
        await clock.sleep(6.0)
        assert client.is_connected and len(strap.ledger.event_times("drop")) == 1
        assert abs(len(got.items) - 6.0 * 100 / 4) <= 2  # one of four EMG characteristics
        await client.disconnect()

    on_link(body)


# ----------------------------------------------------------------------------------- Ganglion
def test_ganglion_commands_packet_ids_and_reset_on_reconnect(on_link) -> None:
    async def body(link: VirtualLink) -> None:
        strap = await link.add_peripheral(VirtualGanglion(SESSION))
        clock = strap.clock
        client, got = await _connect(link, strap, ganglion.NOTIFY)
        assert await client.read_gatt_char("2a28") == b"3.0.2"
        await client.write_gatt_char(ganglion.WRITE, ganglion.START, response=False)
        await clock.sleep(2.0)
        await client.write_gatt_char(ganglion.WRITE, ganglion.ACCEL_ON, response=False)
        await clock.sleep(2.0)
        await client.write_gatt_char(ganglion.WRITE, ganglion.STOP, response=False)
        await clock.sleep(1.0)
        _check_arrivals_match_ledger(strap, got.items, ("emg",))
        # the first packet after 'b' carries ID 99 with the accelerometer off (firmware 3.0.2)
        packets = [
            ganglion.decode(p, accel=False if i == 0 else None) for i, (_, _, p) in enumerate(got.items)
        ]
        ids = np.array([p.counter for p in packets])
        assert abs(ids.size - 400) <= 3  # 100 packets/s for 4 s
        assert ids[0] == 99 and packets[0].meta["bits"] == 19
        n19 = 1 + int(np.sum(ids[1:] >= 100))
        assert np.array_equal(ids[1:n19], 100 + np.arange(n19 - 1) % 100)  # 19-bit, then from 100
        assert np.array_equal(ids[n19:], (n19 - 1 + np.arange(ids.size - n19)) % 100)  # 18-bit
        ledger = strap.ledger.samples("emg")
        decoded = np.concatenate([p.samples for p in packets])
        assert np.array_equal(decoded, ledger.values)
        # Values are the session's uV in counts, within the 18/19-bit quantisation bound
        ref = np.interp(ledger.true_time, SESSION.emg_times, SESSION.emg[:, 2])
        err = np.abs(decoded[:, 2] - ref / ganglion.UV_PER_COUNT)
        assert err.max() <= ganglion.ERROR_BOUND[18] + 0.5
        axes = [(p.meta["accel_axis"], p.meta["accel_raw"]) for p in packets[n19:]]
        x = [ganglion.accel_g(a, r) for a, r in axes if a == "x"]
        assert len(x) >= 15 and abs(np.mean(x) - SESSION.imu["thigh"][0][:, 0].mean()) < 0.1

        # A new connection resets the board: nothing until 'b', and IDs start afresh.
        await client.disconnect()
        client, got = await _connect(link, strap, ganglion.NOTIFY)
        await clock.sleep(1.0)
        assert got.items == []
        await client.write_gatt_char(ganglion.WRITE, ganglion.START, response=False)
        await clock.sleep(0.5)
        assert [ganglion.decode(p).counter for _, _, p in got.items[:3]] == [99, 100, 101]
        await client.disconnect()

    on_link(body)


# ----------------------------------------------------------------------------------- Polar
def test_polar_control_point_state_machine(on_link) -> None:
    async def body(link: VirtualLink) -> None:
        strap = await link.add_peripheral(VirtualPolar(SESSION, model="H10"))
        # Without an MTU exchange (23 bytes) a start is refused with INVALID_MTU.
        client, got = await _connect(link, strap, pmd.CONTROL_POINT, pmd.DATA, mtu=None)
        assert (await _polar_command(client, got, H10_ACC)).status == 10
        await client.disconnect()

        client, got = await _connect(link, strap, pmd.CONTROL_POINT)  # data CCCD still off
        assert client.mtu_size == 232
        with pytest.raises(BleakGATTProtocolError) as info:
            await client.write_gatt_char(pmd.CONTROL_POINT, H10_ACC, response=True)
        assert info.value.code == 0xFD
        await client.start_notify(pmd.DATA, got)
        settings = (await _polar_command(client, got, pmd.settings_command(2))).settings()
        assert settings[Setting.SAMPLE_RATE] == (25, 50, 100, 200)
        assert settings[Setting.RANGE] == (2, 4, 8)
        started = await _polar_command(client, got, H10_ACC)
        assert (started.op, started.measurement, started.status) == (2, 2, 0)
        assert started.settings()[Setting.FACTOR] == (1.0,)
        assert (await _polar_command(client, got, H10_ACC)).status == 6  # already streaming
        assert (await _polar_command(client, got, pmd.stop_command(2))).status == 0
        assert (await _polar_command(client, got, pmd.stop_command(2))).status == 6
        bad_rate = pmd.start_command(2, {Setting.SAMPLE_RATE: 52, Setting.RESOLUTION: 16, Setting.RANGE: 8})
        assert (await _polar_command(client, got, bad_rate)).status == 8
        bad_range = pmd.start_command(
            2, {Setting.SAMPLE_RATE: 200, Setting.RESOLUTION: 16, Setting.RANGE: 16}
        )
        assert (await _polar_command(client, got, bad_range)).status == 9
        assert (await _polar_command(client, got, pmd.settings_command(5))).status == 3
        assert (await _polar_command(client, got, bytes([0x07, 0x02]))).status == 1
        assert (await _polar_command(client, got, H10_ECG)).status == 0
        await client.disconnect()

    on_link(body)


def test_polar_frames_decode_to_the_ledger_with_device_times(on_link) -> None:
    async def body(link: VirtualLink) -> None:
        h10 = await link.add_peripheral(VirtualPolar(SESSION, model="H10"))
        client, got = await _connect(link, h10, pmd.CONTROL_POINT, pmd.DATA)
        for cmd in (H10_ACC, H10_ECG):
            assert (await _polar_command(client, got, cmd)).ok
        await h10.clock.sleep(5.0)
        await client.disconnect()  # the H10 streams until told to stop (or the link drops)
        frames = got.of(pmd.DATA)
        _check_arrivals_match_ledger(h10, frames, ("acc", "ecg"))
        for kind, fs, per in (("acc", 200, 34), ("ecg", 130, 73)):  # fit MTU 232
            packets = [pmd.decode(p) for _, _, p in frames if pmd.decode(p).kind == kind]
            ledger = h10.ledger.samples(kind)
            assert np.array_equal(np.concatenate([p.samples for p in packets]), ledger.values)
            assert {p.n_samples for p in packets} == {per}
            ends = np.array([p.device_time_ns for p in packets])
            assert np.array_equal(ends, ledger.device_time_ns[per - 1 :: per])
            assert np.all(np.abs(np.diff(ends) - per * 1e9 / fs) <= 1)  # nominal device period
            assert abs(ledger.index.size - 5 * fs) <= per
        acc_g = pmd.to_physical(pmd.decode(frames[1][2]), 1.0)  # compressed type 1: mg x 1.0
        assert acc_g.shape[1] == 3 and np.all(np.abs(acc_g) < 2000)
        ecg = h10.ledger.samples("ecg").values[:, 0]
        assert 1000 < ecg.max() < 1400 and ecg.min() < -100  # R peaks and S waves

    on_link(body)


def test_polar_verity_gyro_and_acc_with_factor(on_link) -> None:
    async def body(link: VirtualLink) -> None:
        sense = await link.add_peripheral(VirtualPolar(SESSION, model="Sense"))
        client, got = await _connect(link, sense, pmd.CONTROL_POINT, pmd.DATA, mtu=512)  # as the profile
        assert (await _polar_command(client, got, H10_ECG)).status == 3  # no ECG on the Sense
        factors = {}
        for m, rng in ((Measurement.ACC, 8), (Measurement.GYRO, 2000)):
            cmd = pmd.start_command(
                m, {Setting.SAMPLE_RATE: 52, Setting.RESOLUTION: 16, Setting.RANGE: rng, Setting.CHANNELS: 3}
            )
            response = await _polar_command(client, got, cmd)
            factors[m] = response.settings().get(Setting.FACTOR, (None,))[0]
        # as a real Verity Sense: ACC (compressed type 1, milli-g) without FACTOR (issue 443)
        assert factors == {Measurement.ACC: None, Measurement.GYRO: 2000 / 32768}
        await sense.clock.sleep(6.0)
        await client.disconnect()
        for m, kind, col, tol in (
            (Measurement.ACC, "acc", 0, 1e-3),
            (Measurement.GYRO, "gyro", 1, 2000 / 32768),
        ):
            packets = [pmd.decode(p) for _, _, p in got.of(pmd.DATA)]
            mine = [p for p in packets if p.kind == kind]
            assert {p.n_samples for p in mine} == {71}  # the Verity's 1.37 s batches
            phys = np.concatenate([pmd.to_physical(p, factors[m]) for p in mine])
            ledger = sense.ledger.samples(kind)
            assert phys.shape[0] == ledger.index.size == 4 * 71  # 6 s at 52 Hz: 4 whole frames
            ref = np.interp(ledger.true_time, SESSION.imu_times, SESSION.imu["pelvis"][col][:, 1])
            assert np.allclose(phys[:, 1], ref, atol=tol)

    on_link(body)


def test_polar_clock_skew_shows_in_device_timestamps(on_link) -> None:
    slopes = {}
    for ppm in (0.0, 250.0):
        clock = VirtualClock()

        async def body(link: VirtualLink, ppm: float = ppm, clock: VirtualClock = clock) -> None:
            cond = LinkConditions(clock_ppm=ppm, jitter_s=0.004, connection_interval_s=0.0075)
            h10 = await link.add_peripheral(VirtualPolar(SESSION, clock=clock, conditions=cond))
            client, got = await _connect(link, h10, pmd.CONTROL_POINT, pmd.DATA)
            assert (await _polar_command(client, got, H10_ACC)).ok
            await clock.sleep(60.0)
            await client.disconnect()
            frames = got.of(pmd.DATA)
            host = np.array([t for t, _, _ in frames])  # arrival on the host clock
            dev = np.array([pmd.decode(p).device_time_ns for _, _, p in frames], float) / 1e9
            slopes[ppm] = np.polyfit(host - host[0], dev - dev[0], 1)[0]
            # In truth the strap samples at 200 * (1 + ppm 1e-6) Hz
            true_time = h10.ledger.samples("acc").true_time
            assert np.allclose(np.diff(true_time), 1 / (200 * (1 + ppm * 1e-6)), rtol=1e-9)

        on_link(body)
    assert abs(slopes[0.0] - 1.0) < 30e-6
    assert abs(slopes[250.0] - 1.0 - 250e-6) < 30e-6


# ----------------------------------------------------------------------------------- DIY
def test_diy_strap_blocks_counter_times_and_restart(on_link) -> None:
    async def body(link: VirtualLink) -> None:
        strap = await link.add_peripheral(VirtualDiyStrap(SESSION, n_channels=4, fs=2000, block_s=0.01))
        client, got = await _connect(link, strap, diy.DATA)
        await client.write_gatt_char(diy.CONTROL, diy.START, response=True)
        await strap.clock.sleep(2.0)
        await client.write_gatt_char(diy.CONTROL, diy.START, response=True)  # restart
        await strap.clock.sleep(1.0)
        await client.write_gatt_char(diy.CONTROL, diy.STOP, response=True)
        await strap.clock.sleep(0.5)
        await client.disconnect()
        _check_arrivals_match_ledger(strap, got.items, ("emg",))
        packets = [diy.decode(p) for _, _, p in got.items]
        assert {p.n_samples for p in packets} == {20}  # 10 ms at 2 kHz
        blocks = np.array([p.counter for p in packets])
        restarts = [i for i, p in enumerate(packets) if p.meta["restart"]]
        assert restarts == [0, 200]
        assert np.array_equal(blocks, np.r_[np.arange(200), np.arange(len(packets) - 200)])
        ledger = strap.ledger.samples("emg")
        assert np.array_equal(np.concatenate([p.samples for p in packets]), ledger.values)
        last = ledger.device_time_ns[19::20]
        assert np.all(np.abs(np.array([p.device_time_ns for p in packets]) - last) < 1000)
        assert packets[0].meta["fs_hz"] == 2000 and packets[0].meta["uv_per_count"] == 0.5
        uv = ledger.values[:, 3] * 0.5
        ref = np.interp(ledger.true_time, SESSION.emg_times, SESSION.emg[:, 3])
        assert np.all(np.abs(uv - ref) <= 0.25 + 1e-6)

    on_link(body)


# ----------------------------------------------------------------------------------- radio
def test_drops_are_in_the_ledger_and_match_the_codec_trackers(on_link) -> None:
    async def body(link: VirtualLink) -> None:
        cond = LinkConditions(drop_prob=0.05, seed=11)
        clock = VirtualClock()
        g = await link.add_peripheral(VirtualGanglion(SESSION, clock=clock, conditions=cond))
        d = await link.add_peripheral(VirtualDiyStrap(SESSION, clock=clock, conditions=cond))
        cg, got_g = await _connect(link, g, ganglion.NOTIFY)
        cd, got_d = await _connect(link, d, diy.DATA)
        with clock.hold():
            await cg.write_gatt_char(ganglion.WRITE, ganglion.START, response=False)
            await cd.write_gatt_char(diy.CONTROL, diy.START, response=True)
        await clock.sleep(10.0)
        for client in (cg, cd):
            await client.disconnect()
        for strap, got, track in ((g, got_g, ganglion.GanglionTracker()), (d, got_d, diy.DiyTracker())):
            _check_arrivals_match_ledger(strap, got.items, ("emg",))
            dropped = strap.ledger.packets("emg", "dropped")
            sent = strap.ledger.packets("emg", "sent")
            assert 0.02 < len(dropped) / (len(dropped) + len(sent)) < 0.09
            last_sent = max(r.seq for r in sent)
            lost = 0
            for _, _, p in got.items:
                packet = ganglion.decode(p) if strap is g else diy.decode(p)
                loss = track.update(packet.counter if strap is g else packet)
                lost += loss.packets
            assert lost == sum(r.seq < last_sent for r in dropped)
            # every sample index is accounted for exactly once: sent or dropped
            idx = np.sort(
                np.r_[strap.ledger.samples("emg").index, strap.ledger.samples("emg", "dropped").index]
            )
            assert np.array_equal(idx, np.arange(idx.size))

    on_link(body)


def test_forced_disconnect_fires_callback_and_reconnect_restarts(on_link) -> None:
    async def body(link: VirtualLink) -> None:
        cond = LinkConditions(disconnect_every_s=2.0, disconnect_at_s=(3.0,))
        strap = await link.add_peripheral(VirtualDiyStrap(SESSION, conditions=cond))
        clock, drops = strap.clock, []
        for expected in (2.0, 3.0, 4.0):
            dropped = asyncio.Event()

            def on_drop(c: BleakClient, ev: asyncio.Event = dropped) -> None:
                drops.append(clock.now())
                ev.set()

            client, got = await _connect(link, strap, diy.DATA, disconnected_callback=on_drop)
            await client.write_gatt_char(diy.CONTROL, diy.START, response=True)
            await dropped.wait()
            assert drops[-1] == expected and not client.is_connected
            assert got.items and got.items[-1][0] <= expected
        assert strap.ledger.event_times("drop") == [2.0, 3.0, 4.0]
        # Packets still queued at a drop are flushed, never sent; nothing else is lost.
        records = strap.ledger.packets("emg")
        assert {r.fate for r in records} == {"sent", "flushed"}
        assert all(r.sent_at is None for r in records if r.fate == "flushed")
        idx = np.sort(np.r_[strap.ledger.samples("emg").index, strap.ledger.samples("emg", "flushed").index])
        assert np.array_equal(idx, np.arange(idx.size))

    on_link(body)


START = {
    "ganglion": [(ganglion.WRITE, ganglion.START)],
    "polar_h10": [(pmd.CONTROL_POINT, H10_ACC)],
    "myo": [(myo.COMMAND, c) for c in myo.start_raw_commands()],
}
NOTIFY = {
    "ganglion": (ganglion.NOTIFY,),
    "polar_h10": (pmd.CONTROL_POINT, pmd.DATA),
    "myo": (*myo.EMG_DATA, myo.IMU_DATA),
}


def test_three_straps_reconnecting_central_gets_exactly_the_ledger(on_link) -> None:
    """A central that reconnects and re-sends its start commands after every forced drop."""
    kinds = ("ganglion", "polar_h10", "myo")

    async def body(link: VirtualLink) -> None:
        cond = LinkConditions(drop_prob=0.02, disconnect_every_s=2.5, jitter_s=0.005, seed=9)
        clock = VirtualClock()
        straps = virtual_straps(SESSION, kinds, cond, clock)
        for s in straps:
            await link.add_peripheral(s)
        received: dict[str, list[tuple[float, str, bytes]]] = {k: [] for k in kinds}

        async def central(kind: str, strap: VirtualStrap) -> None:
            for _ in range(4):  # drops at 2.5, 5, 7.5 and 10 s
                down = asyncio.Event()
                client = BleakClient(
                    strap.address,
                    backend=link.client_backend,
                    disconnected_callback=lambda _c, ev=down: ev.set(),
                )
                with clock.hold():
                    await client.connect()
                    arrivals = Arrivals(clock)
                    arrivals.items = received[kind]
                    for uuid in NOTIFY[kind]:
                        await client.start_notify(uuid, arrivals)
                    for uuid, cmd in START[kind]:
                        await client.write_gatt_char(uuid, cmd, response=kind != "ganglion")
                await down.wait()
            last = BleakClient(strap.address, backend=link.client_backend)
            await last.connect()  # a strap dropped by the simulator holds the clock till then
            await last.disconnect()

        await asyncio.gather(*(central(k, s) for k, s in zip(kinds, straps, strict=True)))
        for kind, strap in zip(kinds, straps, strict=True):
            assert strap.ledger.event_times("drop") == [2.5, 5.0, 7.5, 10.0], kind
            got = [x for x in received[kind] if x[1] != pmd.CONTROL_POINT]
            _check_arrivals_match_ledger(strap, got, tuple(strap.streams))
            fates = {r.fate for r in strap.ledger.records}
            assert fates <= {"sent", "dropped", "flushed"} and "dropped" in fates, kind
            for name in strap.streams:  # every sample produced: sent, dropped or flushed
                idx = np.sort(strap.ledger.samples(name, ("sent", "dropped", "flushed")).index)
                assert np.array_equal(idx, np.arange(idx.size)), (kind, name)

    on_link(body)


def test_connection_interval_batches_and_jitter_bounds(on_link) -> None:
    async def body(link: VirtualLink) -> None:
        cond = LinkConditions(connection_interval_s=0.03, jitter_s=0.006, seed=5)
        strap = await link.add_peripheral(VirtualGanglion(SESSION, conditions=cond))
        client, got = await _connect(link, strap, ganglion.NOTIFY)
        anchor = strap.ledger.event_times("connect")[-1]
        await client.write_gatt_char(ganglion.WRITE, ganglion.START, response=False)
        await strap.clock.sleep(3.0)
        await client.disconnect()
        sent = strap.ledger.packets("emg", "sent")
        arrival = np.array([t for t, _, _ in got.items])
        ready = np.array([r.ready_at for r in sent])
        event = anchor + np.ceil((ready - anchor) / 0.03 - 1e-9) * 0.03
        assert np.all(arrival >= event - 1e-9) and np.all(arrival <= event + 0.006 + 1e-9)
        assert np.all(np.diff(arrival) >= 0)
        bursts = np.unique(np.round(arrival, 9), return_counts=True)[1]
        assert bursts.max() >= 3 and abs(bursts.mean() - 3) < 0.3  # 100 packets/s, 30 ms
        assert np.std(arrival - event) > 0.001  # jitter is there

    on_link(body)


def test_max_per_event_backlog_makes_late_bunched_arrivals(on_link) -> None:
    async def body(link: VirtualLink) -> None:
        cond = LinkConditions(connection_interval_s=0.03, max_per_event=2)
        strap = await link.add_peripheral(VirtualGanglion(SESSION, conditions=cond))
        client, got = await _connect(link, strap, ganglion.NOTIFY)
        await client.write_gatt_char(ganglion.WRITE, ganglion.START, response=False)
        await strap.clock.sleep(3.0)
        await client.disconnect()
        _check_arrivals_match_ledger(strap, got.items, ("emg",))
        arrival = np.array([t for t, _, _ in got.items])
        assert np.unique(np.round(arrival, 9), return_counts=True)[1].max() == 2
        assert abs(arrival.size - 2 * 3.0 / 0.03) <= 2  # the link carries 66.7 of 100 packets/s
        late = arrival - np.array([r.ready_at for r in strap.ledger.packets("emg", "sent")])
        assert late[-1] > 0.9 and np.all(np.diff(late[::2]) >= -1e-9)  # the backlog grows
        flushed = strap.ledger.packets("emg", "flushed")  # the queue at the disconnect
        assert abs(len(flushed) - 100) <= 3
        seqs = [r.seq for r in strap.ledger.packets("emg")]
        assert seqs == list(range(len(seqs)))  # sent in order, then the flushed tail

    on_link(body)


def test_diy_device_clock_wraps_like_micros(on_link) -> None:
    async def body(link: VirtualLink) -> None:
        strap = await link.add_peripheral(
            VirtualDiyStrap(SESSION, boot_us=2**32 - 500_000, conditions=LinkConditions(clock_ppm=100))
        )
        client, got = await _connect(link, strap, diy.DATA)
        await client.write_gatt_char(diy.CONTROL, diy.START, response=True)
        await strap.clock.sleep(1.0)
        await client.disconnect()
        packets = [diy.decode(p) for _, _, p in got.items]
        t_first = np.array([p.meta["t_first_us"] for p in packets])
        assert t_first[0] >= 2**32 - 500_000 and t_first[-1] < 600_000  # wrapped once
        tracker = diy.DiyTracker()
        unwrapped = []
        for p in packets:
            assert tracker.update(p) == (0, 0)
            unwrapped.append(tracker.t_first_us)
        ledger = strap.ledger.samples("emg")
        assert np.array_equal(np.array(unwrapped) * 1000, ledger.device_time_ns[::20])
        # device time runs 100 ppm fast against the true (clock) time
        span_dev = (ledger.device_time_ns[-1] - ledger.device_time_ns[0]) / 1e9
        span_true = ledger.true_time[-1] - ledger.true_time[0]
        assert abs(span_dev / span_true - 1 - 100e-6) < 1e-9

    on_link(body)


def _scenario(seed: int, on_link) -> tuple[list[bytes], list[float], list[str]]:
    out: tuple[list[bytes], list[float], list[str]] = ([], [], [])

    async def body(link: VirtualLink) -> None:
        cond = LinkConditions(drop_prob=0.1, jitter_s=0.01, clock_ppm=-40, seed=seed)
        clock = VirtualClock()
        g, h = virtual_straps(SESSION, ("ganglion", "polar_h10"), cond, clock)
        for s in (g, h):
            await link.add_peripheral(s)
        cg, got_g = await _connect(link, g, ganglion.NOTIFY)
        ch, got_h = await _connect(link, h, pmd.CONTROL_POINT, pmd.DATA)
        with clock.hold():
            await cg.write_gatt_char(ganglion.WRITE, ganglion.START, response=False)
            assert (await _polar_command(ch, got_h, H10_ACC)).ok
        await clock.sleep(3.0)
        for c in (cg, ch):
            await c.disconnect()
        for got, strap in ((got_g, g), (got_h, h)):
            out[0].extend(p for _, _, p in got.items)
            out[1].extend(t for t, _, _ in got.items)
            out[2].extend(r.fate for r in strap.ledger.records)

    on_link(body)
    return out


def test_same_seed_same_bytes_times_and_losses(on_link) -> None:
    a, b, c = _scenario(1, on_link), _scenario(1, on_link), _scenario(2, on_link)
    assert a == b
    assert a[2] != c[2] and "dropped" in a[2]


def test_real_time_clock_paces_notifications(on_link) -> None:
    async def body(link: VirtualLink) -> None:
        clock = RealTimeClock()
        strap = await link.add_peripheral(VirtualGanglion(SESSION, clock=clock))
        client, got = await _connect(link, strap, ganglion.NOTIFY)
        await client.write_gatt_char(ganglion.WRITE, ganglion.START, response=False)
        t0 = clock.now()
        await asyncio.sleep(0.25)
        await client.disconnect()
        times = np.array([t for t, _, _ in got.items])
        assert 15 <= times.size <= 27  # 100 packets/s
        assert times[-1] - t0 > 0.1 and np.all(np.diff(times) >= 0)

    on_link(body)


# ----------------------------------------------------------------------------------- clock
def test_virtual_clock_orders_wakeups_and_holds() -> None:
    async def main() -> None:
        clock, woke = VirtualClock(), []

        async def sleeper(t: float) -> None:
            await clock.sleep_until(t)
            woke.append((t, clock.now()))

        hold = clock.hold()
        tasks = [asyncio.create_task(sleeper(t)) for t in (3.0, 1.0, 2.0, 1.0)]
        await asyncio.sleep(0.01)
        assert clock.now() == 0.0 and woke == []  # held
        hold.release()
        await asyncio.gather(*tasks)
        assert woke == [(1.0, 1.0), (1.0, 1.0), (2.0, 2.0), (3.0, 3.0)]
        await clock.sleep_until(0.5)  # the past: at once
        assert clock.now() == 3.0

    asyncio.run(main())


def test_invalid_arguments_name_the_parameter() -> None:
    for kwargs, name in (
        ({"connection_interval_s": 0.005}, "connection_interval_s"),
        ({"drop_prob": 1.0}, "drop_prob"),
        ({"clock_ppm": 5000}, "clock_ppm"),
        ({"disconnect_every_s": 0.01}, "disconnect_every_s"),
        ({"disconnect_at_s": (-1.0,)}, "disconnect_at_s"),
        ({"max_per_event": 0}, "max_per_event"),
        ({"seed": -1}, "seed"),
    ):
        with pytest.raises(ValueError, match=name):
            LinkConditions(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fs"):
        VirtualDiyStrap(SESSION, fs=4000)
    with pytest.raises(ValueError, match="n_channels"):
        VirtualDiyStrap(SESSION, n_channels=5)
    with pytest.raises(ValueError, match="model"):
        VirtualPolar(SESSION, model="H9")
    with pytest.raises(ValueError, match="kinds"):
        virtual_straps(SESSION, ("muse",))
    with pytest.raises(ValueError, match="sleep_after_s"):
        VirtualMyo(SESSION, sleep_after_s=0)
