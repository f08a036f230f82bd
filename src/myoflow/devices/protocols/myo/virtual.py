"""A virtual Thalmic Myo armband: raw EMG 8 x int8 at 200 Hz, IMU at 50 Hz, set-mode and sleep.

Behaviour (see ``PROTOCOLS.md`` and :mod:`myoflow.devices.protocols.myo.codec`):

* GATT: control service 0x0001 (advertised) with info 0x0101 (read, 20 bytes), firmware
  version 0x0201 (read, 4 x u16 LE) and command 0x0401 (write); IMU service 0x0002 with
  0x0402 (notify); EMG service 0x0005 with 0x0105..0x0405 (notify); battery 0x180F/0x2A19.
* Nothing streams until a set-mode command ``01 03 <emg> <imu> <classifier>``: EMG mode
  ``02`` or ``03`` streams 200 Hz EMG as 2 samples x 8 int8 per notification, round-robin over
  the four EMG characteristics by packet number (``02``, filtered, is simulated as raw;
  ``01``, the FV stream, is not simulated); IMU mode ``01``, ``03`` or ``04`` streams one
  ``myo.encode_imu`` record at 50 Hz. Mode ``00`` stops a stream.
* Streaming stops on disconnect, and every connection starts in normal sleep mode: unless
  ``09 01 01`` (never sleep) was written, the band drops the link ``sleep_after_s`` seconds of
  clock time after the connection (or after ``09 01 00``). The real band sleeps when it has
  been still for a while; the simulator measures from the connection instead.
* Malformed commands (length byte not matching) and unsimulated ones (vibrate, deep sleep,
  unlock, user action) are noted in the ledger and otherwise ignored.

Signal content: EMG channel ``j`` is session channel ``j % n`` in uV divided by
``uv_per_count`` (the Myo publishes no scale), rounded and clipped to int8; the IMU is the
session's ``segment`` IMU (sensor axes = segment axes) with the quaternion of the sagittal
segment angle (rotation by ``-phi`` about y), or a still, upright sensor if the session has no
IMU on that segment.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from myoflow._checks import check_positive
from myoflow.devices.protocols.myo import codec as myo
from myoflow.devices.virtual.base import SessionSignal, StreamSource, VirtualStrap
from myoflow.devices.virtual.peripheral import CharacteristicSpec, ServiceSpec

__all__ = ["VirtualMyo"]

#: What a strap that ends the link itself reports (bumble's HCI "remote user terminated").
USER_TERMINATED = 0x13
BATTERY_SERVICE, BATTERY_LEVEL = "180f", "2a19"
FIRMWARE = (1, 5, 1970, 2)  # major, minor, patch, hardware revision (Myo black)
_EMG_ON, _IMU_ON = (0x02, 0x03), (0x01, 0x03, 0x04)


def _info(serial: bytes) -> bytes:
    """``myohw_fw_info_t``: serial[6], unlock pose u16, classifier type/index, custom flag,
    stream indicating, SKU, 7 reserved bytes (20 bytes)."""
    return serial[:6] + bytes([0, 0, 0, 0, 0, 0, 1]) + bytes(7)


def _imu_table(session: Any, segment: str) -> SessionSignal:
    """The segment's IMU in Myo counts (quat w,x,y,z, acc, gyro) at the session's IMU rate,
    made from the rows read (acc, gyro and the segment angle side by side)."""
    if segment in session.imu and session.imu[segment][0].shape[0] >= 2:
        acc, gyro = session.imu[segment]
        angle = session.segment_angles[segment]
    else:
        n = max(len(session.imu_times), 2)
        acc, gyro, angle = np.tile([-1.0, 0.0, 0.0], (n, 1)), np.zeros((n, 3)), np.zeros(n)
    return SessionSignal((acc, gyro, angle), float(session.config.imu_rate), transform=_myo_counts)


def _myo_counts(rows: np.ndarray) -> np.ndarray:
    """``(k, 7)`` acc g, gyro deg/s, segment angle deg -> ``(k, 10)`` Myo quat, acc, gyro counts."""
    acc, gyro = rows[:, :3], rows[:, 3:6]
    half = -np.deg2rad(rows[:, 6]) / 2
    quat = np.stack([np.cos(half), np.zeros_like(half), np.sin(half), np.zeros_like(half)], 1)
    return np.hstack([quat * myo.QUAT_SCALE, acc * myo.ACC_SCALE, gyro * myo.GYRO_SCALE])


class VirtualMyo(VirtualStrap):
    """A simulated Myo armband driven by a synthetic session.

    Parameters
    ----------
    session : SyntheticSession
        EMG (uV) and IMU content.
    name : str
        Advertised name.
    uv_per_count : float
        Microvolts per int8 EMG count (the simulator's choice; no published scale).
    segment : str
        Session IMU segment the band is worn on.
    sleep_after_s : float
        Clock seconds after a connection until the band sleeps unless never-sleep is set.
    **kwargs
        ``clock``, ``conditions``, ``radio_id``, ``address``, ``max_mtu`` (see
        :class:`~myoflow.devices.virtual.straps.VirtualStrap`).
    """

    def __init__(
        self,
        session: Any,
        *,
        name: str = "Myo",
        uv_per_count: float = 4.0,
        segment: str = "thigh",
        sleep_after_s: float = 30.0,
        **kwargs: Any,
    ) -> None:
        services = [
            ServiceSpec(
                myo.CONTROL_SERVICE,
                (
                    CharacteristicSpec(myo.INFO, ("read",), _info(bytes.fromhex("c0ffee0a1b2c"))),
                    CharacteristicSpec(myo.FIRMWARE_VERSION, ("read",), np.array(FIRMWARE, "<u2").tobytes()),
                    CharacteristicSpec(myo.COMMAND, ("write",)),
                ),
            ),
            ServiceSpec(myo.IMU_SERVICE, (CharacteristicSpec(myo.IMU_DATA, ("notify",)),), advertised=False),
            ServiceSpec(
                myo.EMG_SERVICE,
                tuple(CharacteristicSpec(u, ("notify",)) for u in myo.EMG_DATA),
                advertised=False,
            ),
            ServiceSpec(
                BATTERY_SERVICE,
                (CharacteristicSpec(BATTERY_LEVEL, ("read", "notify"), b"\x5f"),),
                advertised=False,
            ),
        ]
        super().__init__(name, services, **kwargs)
        self.uv_per_count = check_positive(uv_per_count, "uv_per_count", "uV per count")
        self.sleep_after_s = check_positive(sleep_after_s, "sleep_after_s", "s")
        n_ch = session.emg.shape[1]
        self._emg = SessionSignal(session.emg, float(session.config.emg_rate), columns=np.arange(8) % n_ch)
        self._imu = _imu_table(session, segment)
        self.add_stream("emg", myo.FS_EMG, 2)
        self.add_stream("imu", myo.FS_IMU, 1)
        self.never_sleep = False
        self._sleeper: Any = None

    # ------------------------------------------------------------------ device state
    def reset_state(self) -> None:
        self.never_sleep = False
        self._arm_sleep()

    def _arm_sleep(self) -> None:
        if self._sleeper is not None:
            self._sleeper.cancel()
        self._sleeper = None if self.never_sleep else self.spawn(self._sleep())

    async def _sleep(self) -> None:
        await self.clock.sleep(self.sleep_after_s)
        await self.drop_link("sleep", USER_TERMINATED)

    async def handle_write(self, char_uuid: str, data: bytes) -> None:
        if char_uuid != myo.COMMAND:
            return
        now = self.clock.now()
        self.ledger.event(now, "command", data)
        if len(data) < 2 or data[1] != len(data) - 2:
            self.ledger.event(now, "refused", "malformed command")
            return
        cmd, payload = data[0], data[2:]
        if cmd == 0x01 and len(payload) == 3:
            self._set_stream("emg", payload[0] in _EMG_ON)
            self._set_stream("imu", payload[1] in _IMU_ON)
        elif cmd == 0x09 and len(payload) == 1:
            self.never_sleep = payload[0] == 0x01
            self._arm_sleep()
        else:
            self.ledger.event(now, "refused", f"command 0x{cmd:02x} not simulated")

    def _set_stream(self, name: str, on: bool) -> None:
        if on and not self.streams[name].active:
            self.start_stream(name)
        elif not on:
            self.stop_stream(name)

    # ------------------------------------------------------------------ encoding
    def encode(
        self, stream: StreamSource, first: int, true_time: np.ndarray, device_ns: np.ndarray
    ) -> list[tuple[str, bytes, np.ndarray, dict[str, Any]]]:
        t = self.session_time(true_time)
        if stream.name == "emg":
            counts = np.clip(np.rint(self._emg(t) / self.uv_per_count), -128, 127)
            values = counts.astype(np.int64).reshape(-1, 2, 8)
            seq0 = stream.next_seq
            return [(myo.EMG_DATA[(seq0 + j) % 4], myo.encode_emg(v), v, {}) for j, v in enumerate(values)]
        counts = np.clip(np.rint(self._imu(t)), -32768, 32767).astype(np.int64)
        return [(myo.IMU_DATA, myo.encode_imu(v), v[None, :], {}) for v in counts]


def _myo(session: Any, index: int, **common: Any) -> VirtualMyo:
    return VirtualMyo(session, name=f"Myo {index}", **common)


#: The virtual straps of this protocol by kind: ``factory(session, index, **common)``.
VIRTUAL_KINDS = {"myo": _myo}
