"""A virtual OpenBCI Ganglion, firmware 3: 4 channels at 200 Hz in 18/19-bit packets.

Behaviour (see ``PROTOCOLS.md`` and :mod:`myoflow.devices.protocols.ganglion.codec`):

* GATT: service ``fe84`` (advertised) with notify ``2d30c082`` and write ``2d30c083``
  (write without response); Device Information ``180a`` with Software Revision ``2a28`` =
  ``firmware`` (default ``"3.0.2"``) so a host can tell firmware 3 (``"2.0.1"`` makes a board
  that the ingest must refuse; its packets are still firmware 3's).
* ASCII commands, one per byte: ``b`` starts, ``s`` stops, ``n``/``N`` turn the accelerometer
  on/off (default off), ``z``/``Z`` impedance (noted in the ledger, not simulated); other bytes
  are ignored, as the firmware does.
* The board resets on every new connection: not streaming, accelerometer off, packet count 0.
* Two samples per notification (100 notifications/s). Packet IDs as firmware 3.0.2 numbers
  them: the first packet after ``b`` carries ID 255 (99 when the accelerometer is off), then
  ``count % 100``, plus 100 when the accelerometer is off (19-bit packets). Lost notifications
  leave holes in that sequence. With the accelerometer on, byte 19 carries the high byte of one
  axis chosen by ``ID % 10`` (1 -> x, 2 -> y, 3 -> z, other IDs 0), 0.016 g per count (+-2 g):
  each axis at 10 Hz.

Signal content: channel ``j`` is session channel ``j % n`` in uV over
:data:`~myoflow.devices.protocols.ganglion.codec.UV_PER_COUNT`, rounded and clipped to 24 bits;
the ledger holds
what the 18/19-bit packet carries (within ``ganglion.ERROR_BOUND`` of that). The accelerometer
reads the session's ``segment`` IMU (zeros without one).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from myoflow.devices.protocols.ganglion import codec as ganglion
from myoflow.devices.virtual.base import SessionSignal, StreamSource, VirtualStrap
from myoflow.devices.virtual.peripheral import CharacteristicSpec, ServiceSpec

__all__ = ["VirtualGanglion", "quantise"]

DEVICE_INFO, SOFTWARE_REVISION = "180a", "2a28"
FIRMWARE = b"3.0.2"
_AXIS = {1: 0, 2: 1, 3: 2}  # ID % 10 -> column of (x, y, z)
_LIMIT = (1 << 23) - 1


def quantise(values: np.ndarray, width: int) -> np.ndarray:
    """24-bit counts as a ``width``-bit Ganglion field carries them (what ``decode`` returns)."""
    v = np.asarray(values, dtype=np.int64)
    shift = 24 - width
    return (((v >> shift) & ~np.int64(1)) | (v < 0)) << shift


class VirtualGanglion(VirtualStrap):
    """A simulated Ganglion (firmware 3) driven by a synthetic session.

    Parameters
    ----------
    session : SyntheticSession
        EMG (uV) and IMU content.
    name : str
        Advertised name (real boards: ``Ganglion-xxxx``).
    segment : str
        Session IMU segment the board's accelerometer follows.
    firmware : bytes
        The Software Revision string the board reports (default ``b"3.0.2"``).
    **kwargs
        ``clock``, ``conditions``, ``radio_id``, ``address``, ``max_mtu``.
    """

    def __init__(
        self,
        session: Any,
        *,
        name: str = "Ganglion-1234",
        segment: str = "thigh",
        firmware: bytes = FIRMWARE,
        **kwargs: Any,
    ) -> None:
        services = [
            ServiceSpec(
                ganglion.SERVICE,
                (
                    CharacteristicSpec(ganglion.NOTIFY, ("notify",)),
                    CharacteristicSpec(ganglion.WRITE, ("write-without-response", "write")),
                ),
            ),
            ServiceSpec(
                DEVICE_INFO,
                (CharacteristicSpec(SOFTWARE_REVISION, ("read",), bytes(firmware)),),
                advertised=False,
            ),
        ]
        super().__init__(name, services, **kwargs)
        n_ch = session.emg.shape[1]
        self._emg = SessionSignal(session.emg, float(session.config.emg_rate), columns=np.arange(4) % n_ch)
        if segment in session.imu and session.imu[segment][0].shape[0] >= 2:
            self._acc: SessionSignal | None = SessionSignal(
                session.imu[segment][0], float(session.config.imu_rate)
            )
        else:
            self._acc = None
        self.add_stream("emg", ganglion.FS, 2)
        self.accel = False
        self.packet_count = 0

    def reset_state(self) -> None:
        self.accel, self.packet_count = False, 0

    async def handle_write(self, char_uuid: str, data: bytes) -> None:
        if char_uuid != ganglion.WRITE:
            return
        self.ledger.event(self.clock.now(), "command", data)
        for c in data:
            cmd = bytes([c])
            if cmd == ganglion.START and not self.streams["emg"].active:
                self.packet_count = 0
                self.start_stream("emg")
            elif cmd == ganglion.STOP:
                self.stop_stream("emg")
            elif cmd in (ganglion.ACCEL_ON, ganglion.ACCEL_OFF):
                self._catch_up(self.clock.now())  # packets made so far keep the old format
                self.accel = cmd == ganglion.ACCEL_ON
            elif cmd in (ganglion.IMPEDANCE_ON, ganglion.IMPEDANCE_OFF):
                self.ledger.event(self.clock.now(), "refused", "impedance not simulated")

    def encode(
        self, stream: StreamSource, first: int, true_time: np.ndarray, device_ns: np.ndarray
    ) -> list[tuple[str, bytes, np.ndarray, dict[str, Any]]]:
        t = self.session_time(true_time)
        counts = np.clip(np.rint(self._emg(t) / ganglion.UV_PER_COUNT), -_LIMIT - 1, _LIMIT)
        counts = counts.astype(np.int64).reshape(-1, 2, 4)
        width = 18 if self.accel else 19
        sent = quantise(counts, width)
        base = 0 if self.accel else 100
        if self.accel and self._acc is not None:
            acc = self._acc(t[1::2])  # one reading per packet, at its last sample
        else:
            acc = np.zeros((counts.shape[0], 3))
        out = []
        for j in range(counts.shape[0]):
            if self.packet_count == 0:  # the firmware's packet index starts at 0xFF
                pid = (ganglion.FIRST_PACKET_ID + base) & 0xFF
            else:
                pid = base + (self.packet_count - 1) % 100
            self.packet_count += 1
            axis = _AXIS.get(pid % 10) if self.accel else None
            raw = 0
            if axis is not None:
                raw = int(np.clip(np.rint(acc[j, axis] / ganglion.ACCEL_G_PER_COUNT), -128, 127))
            meta = {
                "packet_id": pid,
                "accel_axis": "xyz"[axis] if axis is not None else None,
                "accel_raw": raw if axis is not None else None,
            }
            out.append(
                (ganglion.NOTIFY, ganglion.encode(counts[j], pid, raw, accel=self.accel), sent[j], meta)
            )
        return out


def _ganglion(session: Any, index: int, **common: Any) -> VirtualGanglion:
    serial = 0x1A2B3C00 + index
    return VirtualGanglion(session, name=f"Ganglion-{serial & 0xFFFF:04X}", **common)


#: The virtual straps of this protocol by kind: ``factory(session, index, **common)``.
VIRTUAL_KINDS = {"ganglion": _ganglion}
