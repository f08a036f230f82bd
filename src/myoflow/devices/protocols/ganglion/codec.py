"""OpenBCI Ganglion codec, firmware 3: 4 channels at 200 Hz, packed 18/19-bit samples, accel.

Facts (see ``PROTOCOLS.md``; sources: OpenBCI docs and Ganglion library, BrainFlow
``ganglion_native.cpp``, OpenBCI_GUI ``PacketLossTracker.pde``):

* Sample notifications are 20 bytes; byte 0 is the packet ID.
  IDs 0-99: eight 18-bit fields plus byte 19, one accelerometer axis.
  IDs 100-199: eight 19-bit fields, no accelerometer.
  IDs 201-205: impedance of channel 1-4 / reference, ASCII digits ending in ``Z``.
  IDs 206/207: ASCII text message (206: part, 207: last part).
* The fields after byte 0 are packed MSB-first: sample A ch1..4, then sample B ch1..4. Each
  field holds bits 23..(24-N) of the 24-bit ADC value, its LSB overwritten by the sign bit.

Sign convention
---------------
:func:`decode` reads each field as plain N-bit two's complement and shifts it left by
``24 - N`` (6 for 18-bit, 5 for 19-bit). BrainFlow's decoder returns one less (in field units)
for negative fields, i.e. 64 (18-bit) or 32 (19-bit) counts lower after the shift; we keep the
two's complement reading because with it ``decode(encode(v))`` stays within the bound below for
both signs. The error versus the original 24-bit value is at most 127 counts (18-bit) and
63 counts (19-bit).

Scales: :data:`UV_PER_COUNT` = 0.001869917138805 uV per count, OpenBCI's documented value
(15686 uV full scale / 8388607); BrainFlow's formula 1.2e6 / (8388607 x 1.5 x 51) gives a value
1.7e-5 (relative) higher.
Accelerometer: byte 19 of an 18-bit packet holds the high byte of one axis of the LIS2DH, chosen
by ``ID % 10`` as firmware 3.0.2 sends it (1 -> x, 2 -> y, 3 -> z; IDs ending 0 repeat a stale
byte, other IDs carry none) at :data:`ACCEL_G_PER_COUNT` = 0.016 g per count: the firmware sets
+-2 g in high-resolution mode (CTRL_REG4 = 0x08), and the library's own constant is 0.016.
BrainFlow maps 0 -> z (inverted), 1 -> y, 2 -> x instead (a rotated frame); the OpenBCI docs'
0.032 g/count is for +-4 g.

First packet: the firmware starts its packet index at 0xFF, so the first packet after ``b``
carries ID 255 (18-bit samples), then 0, 1, ...; with the accelerometer off it carries
(255 + 100) & 0xFF = 99 with 19-bit samples, which only the caller can tell apart from an 18-bit
packet 99 (``decode(data, accel=False)``).

Firmware 2 sends delta-compressed packets with other IDs; :func:`check_firmware` refuses it from
the Software Revision string (characteristic 0x2A28), as BrainFlow detects it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from myoflow.devices.codec import (
    DecodeError,
    Loss,
    Packet,
    as_buffer,
    expect_length,
    pack_bits,
    sign_extend,
    unpack_bits,
)

__all__ = [
    "ACCEL_G_PER_COUNT",
    "ACCEL_OFF",
    "ACCEL_ON",
    "IMPEDANCE_OFF",
    "IMPEDANCE_ON",
    "START",
    "STOP",
    "FS",
    "GanglionTracker",
    "NOTIFY",
    "SERVICE",
    "UV_PER_COUNT",
    "WRITE",
    "accel_g",
    "decode",
    "encode",
    "encode_impedance",
    "encode_message",
    "check_firmware",
    "firmware_from_revision",
    "FIRST_PACKET_ID",
    "SOFTWARE_REVISION",
]

PROTOCOL = "ganglion"

SERVICE = "0000fe84-0000-1000-8000-00805f9b34fb"
NOTIFY = "2d30c082-f39f-4ce6-923f-3484ea480596"
WRITE = "2d30c083-f39f-4ce6-923f-3484ea480596"

#: ASCII commands for the write characteristic (write without response).
START = b"b"
STOP = b"s"
ACCEL_ON = b"n"
ACCEL_OFF = b"N"
IMPEDANCE_ON = b"z"
IMPEDANCE_OFF = b"Z"

FS = 200.0
N_CHANNELS = 4
PACKET_BYTES = 20
#: OpenBCI's documented scale, 15686 uV full scale / 8388607 = 0.001869917138805 uV per count.
#: (The formula 1.2e6 / (8388607 x 1.5 x 51) that BrainFlow uses gives 0.00186995, 1.7e-5 higher.)
UV_PER_COUNT = 15686 / 8388607
ACCEL_G_PER_COUNT = 0.016

#: Device Information: Software Revision String ("3.0.2" on firmware 3).
SOFTWARE_REVISION = "00002a28-0000-1000-8000-00805f9b34fb"
#: ID of the first packet after ``b`` with the accelerometer on (firmware 3.0.2).
FIRST_PACKET_ID = 255
#: ID of the first packet with the accelerometer off: (255 + 100) & 0xFF, 19-bit samples.
FIRST_PACKET_ID_19BIT = 99

#: Largest |decode(encode(v)) - v| in counts, by field width.
ERROR_BOUND = {18: 127, 19: 63}

_ACCEL_AXIS = {1: "x", 2: "y", 3: "z"}
_INT24_MIN, _INT24_MAX = -(1 << 23), (1 << 23) - 1


def _width(packet_id: int) -> int:
    return 18 if packet_id < 100 or packet_id == FIRST_PACKET_ID else 19


def decode(data: bytes | bytearray | memoryview, *, accel: bool | None = None) -> Packet:
    """Decode one Ganglion firmware-3 notification.

    ``accel=False`` says the accelerometer is off (19-bit packets): a packet with ID 99 is then
    the first packet after start and holds 19-bit samples. Otherwise ID 99 is an 18-bit packet.

    Returns
    -------
    Packet
        IDs 0-199 and 255 (the first packet): ``kind="emg"``, samples ``(2, 4)`` int32 counts
        (24-bit scale, multiply by :data:`UV_PER_COUNT` for uV), ``counter`` = packet ID,
        ``meta`` with ``"bits"`` (18 or 19), ``"accel_axis"`` (``"x"``, ``"y"``, ``"z"`` or
        ``None``) and ``"accel_raw"`` (int8 counts or ``None``).
        IDs 201-205: ``kind="impedance"``, samples ``(1, 1)`` with the value the board printed
        (the firmware prints kilo-ohms; unconfirmed), ``meta["channel"]`` 1-4 or 5 (reference).
        IDs 206/207: ``kind="message"``, no samples, ``meta["text"]`` and ``meta["final"]``.

    Raises
    ------
    DecodeError
        Wrong length for the packet ID, an ID outside the documented ranges, or a malformed
        impedance value.
    """
    buf = as_buffer(data)
    if buf.size == 0:
        raise DecodeError(PROTOCOL, str(PACKET_BYTES), "packet of 0 bytes")
    pid = int(buf[0])
    if pid < 200 or pid == FIRST_PACKET_ID:
        expect_length(buf, PROTOCOL, PACKET_BYTES)
        width = 19 if accel is False and pid == FIRST_PACKET_ID_19BIT else _width(pid)
        fields = sign_extend(unpack_bits(buf, width, 8, 8, msb_first=True), width)
        samples = (fields << (24 - width)).astype(np.int32).reshape(2, N_CHANNELS)
        axis = _ACCEL_AXIS.get(pid % 10) if width == 18 else None
        raw = int(buf[19].astype(np.int8)) if axis is not None else None
        return Packet("emg", samples, counter=pid, meta={"bits": width, "accel_axis": axis, "accel_raw": raw})
    if 201 <= pid <= 205:
        return _decode_impedance(buf, pid)
    if pid in (206, 207):
        if buf.size > PACKET_BYTES:
            raise DecodeError(PROTOCOL, f"at most {PACKET_BYTES}", f"message of {buf.size} bytes")
        text = buf[1:].tobytes().rstrip(b"\x00").decode("ascii", errors="replace")
        return Packet("message", np.zeros((0, 1), np.int32), meta={"text": text, "final": pid == 207})
    raise DecodeError(
        PROTOCOL, "0-199 or 255 (samples), 201-205 (impedance) or 206-207 (message)", f"packet ID {pid}"
    )


def _decode_impedance(buf: np.ndarray, pid: int) -> Packet:
    body = buf[1:].tobytes()
    if len(body) > PACKET_BYTES - 1:
        raise DecodeError(PROTOCOL, f"at most {PACKET_BYTES}", f"impedance packet of {buf.size} bytes")
    end = body.find(b"Z")
    digits = body[:end] if end >= 0 else b""
    if end <= 0 or not digits.isdigit() or len(digits) > 9:
        raise DecodeError(PROTOCOL, "ASCII digits ending in 'Z'", f"impedance bytes {body!r}")
    return Packet("impedance", np.array([[int(digits)]], np.int32), counter=None, meta={"channel": pid - 200})


def encode(values: np.ndarray, packet_id: int, accel_raw: int = 0, *, accel: bool | None = None) -> bytes:
    """Encode two samples of 4 channels, as firmware 3 does, into a 20-byte notification.

    Parameters
    ----------
    values
        Shape ``(2, 4)`` integers, 24-bit ADC counts in ``[-2**23, 2**23 - 1]``.
    packet_id
        0-99 or 255 (18-bit fields, ``accel_raw`` goes to byte 19) or 100-199 (19-bit fields);
        99 with ``accel=False`` is the first 19-bit packet after start.
    accel_raw
        int8 accelerometer counts for byte 19 (18-bit packets only).

    Each field keeps bits 23..(24-N) of the value with its LSB replaced by the sign bit, so
    ``decode`` returns the value within :data:`ERROR_BOUND` counts.
    """
    v = np.asarray(values)
    if v.shape != (2, N_CHANNELS) or not np.issubdtype(v.dtype, np.integer):
        raise ValueError(f"values must be integers of shape (2, 4), got shape {v.shape} dtype {v.dtype}")
    v = v.astype(np.int64)
    if v.min() < _INT24_MIN or v.max() > _INT24_MAX:
        raise ValueError(
            f"values must be 24-bit counts in [{_INT24_MIN}, {_INT24_MAX}], got [{v.min()}, {v.max()}]"
        )
    if not (
        isinstance(packet_id, (int, np.integer)) and (0 <= packet_id <= 199 or packet_id == FIRST_PACKET_ID)
    ):
        raise ValueError(f"packet_id must be 0..199 or 255 for a sample packet, got {packet_id!r}")
    if not -128 <= accel_raw <= 127:
        raise ValueError(f"accel_raw must be int8 counts in [-128, 127], got {accel_raw!r}")
    width = 19 if accel is False and packet_id == FIRST_PACKET_ID_19BIT else _width(int(packet_id))
    shifted = v.ravel() >> (24 - width)
    fields = (shifted & ~np.int64(1)) | (v.ravel() < 0)
    body = pack_bits(fields, width, msb_first=True)
    tail = bytes([accel_raw & 0xFF]) if width == 18 else b""
    return bytes([int(packet_id)]) + body + tail


def encode_impedance(channel: int, value: int) -> bytes:
    """Impedance notification of ``channel`` 1-4 or 5 (reference): ID, ASCII digits, ``Z``."""
    if channel not in (1, 2, 3, 4, 5):
        raise ValueError(f"channel must be 1..4 or 5 (reference), got {channel!r}")
    if not 0 <= value < 10**9:
        raise ValueError(f"value must be a non-negative integer below 1e9, got {value!r}")
    return bytes([200 + channel]) + str(int(value)).encode("ascii") + b"Z"


def encode_message(text: str, final: bool = True) -> bytes:
    """ASCII message notification (ID 206, or 207 for the last part), at most 19 characters."""
    raw = text.encode("ascii")
    if len(raw) > PACKET_BYTES - 1:
        raise ValueError(f"text must be at most {PACKET_BYTES - 1} ASCII characters, got {len(raw)}")
    return bytes([207 if final else 206]) + raw


def accel_g(axis: str, raw: int) -> float:
    """One accelerometer axis in g from ``meta["accel_axis"]``/``meta["accel_raw"]``.

    The LIS2DH's own axes at +-2 g: 0.016 g per count of the high byte (no axis is inverted).
    """
    if axis not in ("x", "y", "z"):
        raise ValueError(f"axis must be 'x', 'y' or 'z', got {axis!r}")
    return raw * ACCEL_G_PER_COUNT


def firmware_from_revision(revision: bytes | bytearray | str) -> int:
    """Firmware generation from the Software Revision string (0x2A28): 3 for ``"3..."``, else 2.

    BrainFlow's rule: the first character ``'3'`` means firmware 3; anything else firmware 2.
    """
    text = (
        revision.decode("ascii", errors="replace") if isinstance(revision, (bytes, bytearray)) else revision
    )
    return 3 if text.strip().startswith("3") else 2


def check_firmware(revision: bytes | bytearray | str) -> None:
    """Raise :class:`DecodeError` unless the Software Revision says firmware 3.

    Firmware 2 sends delta-compressed packets (ID 0 uncompressed, 1-100 18-bit and 101-200
    19-bit deltas) that this codec would decode silently wrong, so it is refused by name.
    """
    text = (
        revision.decode("ascii", errors="replace") if isinstance(revision, (bytes, bytearray)) else revision
    )
    if firmware_from_revision(text) != 3:
        raise DecodeError(
            PROTOCOL,
            "firmware 3.x (update the board's firmware; firmware 2 is not supported)",
            f"firmware 2 (Software Revision {text.strip()!r}: delta-compressed packets)",
        )


@dataclass
class GanglionTracker:
    """Packet loss from the packet ID sequence: +1 mod 100 within each range (0-99, 100-199).

    A switch between ranges (accelerometer turned on or off) restarts the sequence without
    counting loss, as does the first packet. Impedance and message packets are ignored.
    """

    expected: int | None = None
    received: int = 0
    lost: int = 0

    def update(self, packet_id: int) -> Loss:
        """Account for a received packet ID; returns the packets (and samples) lost before it.

        ID 255 (the first packet after start) restarts the 18-bit sequence at 0.
        """
        if packet_id == FIRST_PACKET_ID:
            self.expected = 0
            self.received += 1
            return Loss(0, 0)
        if not 0 <= packet_id <= 199:
            return Loss(0, 0)
        base = 0 if packet_id < 100 else 100
        missing = 0
        if self.expected is not None and self.expected // 100 == base // 100:
            missing = (packet_id - self.expected) % 100
        self.expected = base + (packet_id - base + 1) % 100
        self.received += 1
        self.lost += missing
        return Loss(missing, 2 * missing)
