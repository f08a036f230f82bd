"""Polar Measurement Data (PMD) codec: H10 and Verity Sense ACC, GYRO and ECG data frames.

Facts (see ``PROTOCOLS.md``; source: polarofficial/polar-ble-sdk Android ``pmd`` package):

* Data ``FB005C82``: byte 0 measurement type (low 6 bits), bytes 1-8 u64 LE device time of the
  **last** sample in ns since 2000-01-01T00:00:00Z, byte 9 frame type (bit 7 = compressed).
  Raw ACC frame types 0/1/2: int8/int16/int24 LE x, y, z in milli-g; raw ECG type 0: int24 uV.
  Compressed frames: one reference sample (``channels x ceil(resolution / 8)`` bytes, signed
  LE), then blocks ``[bit width u8][count u8][deltas]``; deltas are read LSB-first from a
  little-endian bit stream, sign-extended and summed cumulatively.
  Compressed GYRO type 1 holds IEEE-754 float32 deg/s: 32-bit reference values and deltas added
  to the float's bit pattern as 32-bit integers (wrapping), as ``GyrData.kt`` does.
  Compressed MAG type 1 has 4 channels: x, y, z in milligauss and a calibration status.
* No sequence counter: the timebase finds loss from the frame times.

This module holds the GATT layout and the data frames (decode, encode for simulators,
physical units, per-sample times). The control point (``FB005C81``: commands, settings TLV,
responses, status names) is :mod:`myoflow.devices.protocols.polar_pmd.control`; its names are re-exported
here, so ``polar_pmd`` is the one module per protocol that the other codecs (``myo``,
``ganglion``, ``diy``) also are.
"""

from __future__ import annotations

import math

import numpy as np

from myoflow.devices.codec import (
    DecodeError,
    Packet,
    as_buffer,
    int24_le,
    pack_bits,
    sign_extend,
    to_int24_le,
    unpack_bits,
)
from myoflow.devices.protocols.polar_pmd.control import (
    PROTOCOL,
    STATUS_NAMES,
    ControlPointJoiner,
    ControlPointResponse,
    Measurement,
    Op,
    Setting,
    StreamsStopped,
    encode_settings,
    parse_control_point,
    parse_settings,
    settings_command,
    start_command,
    stop_command,
)

__all__ = [
    # GATT layout and frame constants
    "COMPRESSED_LAYOUT",
    "FLOAT_FRAMES",
    "CONTROL_POINT",
    "DATA",
    "EPOCH_UTC",
    "HEADER_BYTES",
    "PREFERRED_MTU",
    "PROTOCOL",
    "RAW_LAYOUT",
    "SERVICE",
    # data frames
    "decode",
    "encode_compressed",
    "encode_raw",
    "physical_scale",
    "to_physical",
    # control point, from myoflow.devices.protocols.polar_pmd.control
    "STATUS_NAMES",
    "ControlPointResponse",
    "Measurement",
    "Op",
    "Setting",
    "StreamsStopped",
    "ControlPointJoiner",
    "encode_settings",
    "parse_control_point",
    "parse_settings",
    "settings_command",
    "start_command",
    "stop_command",
]

SERVICE = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL_POINT = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
PREFERRED_MTU = 512

#: Device time epoch: ns since this instant are in every data frame.
EPOCH_UTC = "2000-01-01T00:00:00Z"
HEADER_BYTES = 10

_KIND = {0: "ecg", 1: "ppg", 2: "acc", 3: "ppi", 5: "gyro", 6: "mag"}
#: Raw frames: (measurement, frame type) -> (channels, bytes per value).
RAW_LAYOUT = {(2, 0): (3, 1), (2, 1): (3, 2), (2, 2): (3, 3), (0, 0): (1, 3)}
#: Compressed frames: (measurement, frame type) -> (channels, resolution in bits), as the Polar
#: SDK's AccData, GyrData and MagData parse them.
COMPRESSED_LAYOUT = {
    (2, 0): (3, 16),  # ACC type 0: int16 x FACTOR = g
    (2, 1): (3, 16),  # ACC type 1: int16 milli-g (x FACTOR when one is given)
    (5, 0): (3, 16),  # GYRO type 0: int16 x FACTOR = deg/s
    (5, 1): (3, 32),  # GYRO type 1: float32 deg/s (see FLOAT_FRAMES)
    (6, 0): (3, 16),  # MAG type 0: int16 x FACTOR
    (6, 1): (4, 16),  # MAG type 1: x, y, z milligauss and a calibration status
}
#: Compressed frames whose values are IEEE-754 float32 bit patterns.
FLOAT_FRAMES = frozenset({(5, 1)})
_NAMES = {0: "ECG", 1: "PPG", 2: "ACC", 3: "PPI", 5: "GYRO", 6: "MAG"}
_MAX_DELTA_BITS = 32
_I32 = (-(1 << 31), (1 << 31) - 1)


def decode(data: bytes | bytearray | memoryview) -> Packet:
    """Decode one PMD data notification (raw or delta-compressed frame).

    Returns
    -------
    Packet
        ``kind`` from the measurement (``"acc"``, ``"gyro"``, ``"ecg"``, ...), samples
        ``(n, channels)`` int32 counts before any FACTOR (raw ACC: milli-g; raw ECG: uV;
        compressed GYRO type 1: the float32 bit patterns, see :func:`to_physical`),
        ``device_time_ns`` of the last sample since 2000-01-01 UTC, no counter. ``meta`` holds
        ``"measurement"``, ``"frame_type"`` and ``"compressed"``, and ``"encoding": "float32"``
        for float frames.
    """
    buf = as_buffer(data)
    if buf.size < HEADER_BYTES + 1:
        raise DecodeError(
            PROTOCOL,
            f"at least {HEADER_BYTES + 1} bytes (header + data)",
            f"frame of {buf.size} bytes",
        )
    meas = int(buf[0]) & 0x3F
    time_ns = int(buf[1:9].view("<u8")[0])
    compressed = bool(buf[9] & 0x80)
    ftype = int(buf[9]) & 0x7F
    body = buf[HEADER_BYTES:]
    key = (meas, ftype)
    floats = key in FLOAT_FRAMES and compressed
    if compressed and key in COMPRESSED_LAYOUT:
        samples = _decode_compressed(body, *COMPRESSED_LAYOUT[key], wrap=floats)
    elif not compressed and key in RAW_LAYOUT:
        samples = _decode_raw(body, *RAW_LAYOUT[key])
    else:
        raise DecodeError(
            PROTOCOL, f"one of {supported_frames()}", f"{frame_name(meas, ftype, compressed)} frame"
        )
    return Packet(
        _KIND.get(meas, str(meas)),
        samples,
        device_time_ns=time_ns,
        meta={"measurement": meas, "frame_type": ftype, "compressed": compressed}
        | ({"encoding": "float32"} if floats else {}),
    )


def _decode_raw(body: np.ndarray, channels: int, nbytes: int) -> np.ndarray:
    step = channels * nbytes
    if body.size % step:
        raise DecodeError(
            PROTOCOL,
            f"a multiple of {step} data bytes ({channels} x int{8 * nbytes})",
            f"{body.size} data bytes",
        )
    if nbytes == 3:
        vals = int24_le(body)
    else:
        vals = body.view("i1" if nbytes == 1 else "<i2").astype(np.int32)
    return vals.reshape(-1, channels)


def frame_name(measurement: int, frame_type: int, compressed: bool) -> str:
    """``"GYRO compressed type 1"``: a frame type as people read it."""
    name = _NAMES.get(measurement, f"measurement {measurement}")
    return f"{name} {'compressed' if compressed else 'raw'} type {frame_type}"


def supported_frames() -> str:
    """The frame types :func:`decode` reads, as one line."""
    raw = [frame_name(m, t, False) for m, t in sorted(RAW_LAYOUT)]
    comp = [frame_name(m, t, True) for m, t in sorted(COMPRESSED_LAYOUT)]
    return ", ".join(raw + comp)


def _decode_compressed(body: np.ndarray, channels: int, resolution: int, wrap: bool = False) -> np.ndarray:
    ref_bytes = math.ceil(resolution / 8)
    if body.size < channels * ref_bytes:
        raise DecodeError(PROTOCOL, f"{channels * ref_bytes} reference bytes", f"{body.size} data bytes")
    ref = sign_extend(unpack_bits(body, 8 * ref_bytes, channels, msb_first=False), 8 * ref_bytes)
    blocks = [ref[None, :]]
    pos = channels * ref_bytes
    while pos < body.size:
        if pos + 2 > body.size:
            raise DecodeError(PROTOCOL, "[bit width, count] block header", f"1 trailing byte at {pos}")
        width, count = int(body[pos]), int(body[pos + 1])
        if not 1 <= width <= _MAX_DELTA_BITS:
            raise DecodeError(PROTOCOL, f"delta bit width 1..{_MAX_DELTA_BITS}", f"bit width {width}")
        nbytes = (width * count * channels + 7) // 8
        if pos + 2 + nbytes > body.size:
            raise DecodeError(
                PROTOCOL,
                f"{nbytes} bytes for {count} x {channels} deltas of {width} bits",
                f"{body.size - pos - 2} bytes",
            )
        chunk = body[pos + 2 : pos + 2 + nbytes]
        deltas = sign_extend(unpack_bits(chunk, width, count * channels, msb_first=False), width)
        blocks.append(deltas.reshape(count, channels))
        pos += 2 + nbytes
    samples = np.cumsum(np.concatenate(blocks), axis=0)
    if wrap:  # float32 bit patterns: 32-bit two's complement sums, as the SDK's Int arithmetic
        return (((samples & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000).astype(np.int32)
    if samples.min() < _I32[0] or samples.max() > _I32[1]:
        raise DecodeError(PROTOCOL, "samples within int32", "deltas summing past 32 bits")
    return samples.astype(np.int32)


def _header(measurement: int, time_ns: int, frame_type: int, compressed: bool) -> bytes:
    if not 0 <= time_ns < 1 << 64:
        raise ValueError(f"time_ns must be an unsigned 64-bit ns count, got {time_ns!r}")
    if not 0 <= frame_type <= 0x7F:
        raise ValueError(f"frame_type must be 0..127, got {frame_type!r}")
    return (
        bytes([int(measurement) & 0x3F])
        + int(time_ns).to_bytes(8, "little")
        + bytes([frame_type | (0x80 if compressed else 0)])
    )


def _as_samples(samples: np.ndarray, channels: int) -> np.ndarray:
    s = np.asarray(samples)
    if s.ndim != 2 or s.shape[1] != channels or s.shape[0] < 1 or not np.issubdtype(s.dtype, np.integer):
        raise ValueError(
            f"samples must be integers of shape (n >= 1, {channels}), got shape {s.shape} dtype {s.dtype}"
        )
    return s.astype(np.int64)


def encode_raw(measurement: int, samples: np.ndarray, time_ns: int, frame_type: int) -> bytes:
    """Raw data frame for a simulator; ``time_ns`` is the device time of the last sample."""
    key = (int(measurement), frame_type)
    if key not in RAW_LAYOUT:
        raise ValueError(f"(measurement, frame_type) must be one of {sorted(RAW_LAYOUT)}, got {key}")
    channels, nbytes = RAW_LAYOUT[key]
    s = _as_samples(samples, channels)
    lo, hi = -(1 << (8 * nbytes - 1)), (1 << (8 * nbytes - 1)) - 1
    if s.min() < lo or s.max() > hi:
        raise ValueError(f"samples must fit int{8 * nbytes} [{lo}, {hi}], got [{s.min()}, {s.max()}]")
    body = to_int24_le(s) if nbytes == 3 else s.astype("i1" if nbytes == 1 else "<i2").tobytes()
    return _header(measurement, time_ns, frame_type, False) + body


def encode_compressed(
    measurement: int,
    samples: np.ndarray,
    time_ns: int,
    frame_type: int = 0,
    width: int | None = None,
) -> bytes:
    """Delta-compressed data frame: reference sample, then blocks of at most 255 deltas.

    Each block uses the smallest bit width that holds its deltas, or ``width`` bits when given
    (a ``ValueError`` if some delta does not fit).
    """
    key = (int(measurement), frame_type)
    if key not in COMPRESSED_LAYOUT:
        raise ValueError(f"(measurement, frame_type) must be one of {sorted(COMPRESSED_LAYOUT)}, got {key}")
    channels, resolution = COMPRESSED_LAYOUT[key]
    s = _as_samples(samples, channels)
    ref_bits = 8 * math.ceil(resolution / 8)
    if s[0].min() < -(1 << (ref_bits - 1)) or s[0].max() >= 1 << (ref_bits - 1):
        raise ValueError(f"the first sample must fit {ref_bits}-bit signed, got {s[0].tolist()}")
    out = bytearray(_header(measurement, time_ns, frame_type, True))
    out += pack_bits(s[0], ref_bits, msb_first=False)
    deltas = np.diff(s, axis=0)
    for start in range(0, deltas.shape[0], 255):
        block = deltas[start : start + 255]
        need = int(np.where(block < 0, ~block, block).max()).bit_length() + 1
        bits = need if width is None else width
        if need > bits or not 1 <= bits <= _MAX_DELTA_BITS:
            raise ValueError(f"deltas need {need} bits; width must be {need}..{_MAX_DELTA_BITS}, got {bits}")
        out += bytes([bits, block.shape[0]]) + pack_bits(block, bits, msb_first=False)
    return bytes(out)


def needs_factor(packet: Packet) -> bool:
    """True for frames whose counts mean nothing without the FACTOR (compressed type 0)."""
    return bool(packet.meta.get("compressed")) and packet.meta.get("frame_type") == 0


def physical_scale(packet: Packet, factor: float | None = None) -> float:
    """Physical units per count of a decoded frame.

    ACC -> g: raw frames are milli-g; compressed type 0 counts times FACTOR are g; compressed type
    1 counts are milli-g (times FACTOR when one is given), as the Polar SDK's ``AccData`` reads
    them. GYRO -> deg/s and MAG type 0 -> gauss: times FACTOR; MAG type 1: milligauss (times
    FACTOR) / 1000. ECG -> uV. ``factor`` is the FACTOR setting of the start response, ``None``
    when it gave none (real Verity Sense start responses give none).

    Raises ``ValueError`` naming the frame for a compressed type 0 frame without a FACTOR (its
    counts cannot be scaled), for float32 frames (no linear scale: use :func:`to_physical`) and
    for a kind with no known physical scale.
    """
    kind, comp, ftype = packet.kind, packet.meta.get("compressed"), packet.meta.get("frame_type")
    name = frame_name(int(packet.meta.get("measurement", -1)), int(ftype or 0), bool(comp))
    if packet.meta.get("encoding") == "float32":
        raise ValueError(f"{PROTOCOL}: {name} holds float32 values, which have no scale per count")
    if needs_factor(packet) and factor is None:
        raise ValueError(
            f"{PROTOCOL}: {name} counts need the FACTOR of the start response, and none was given"
        )
    f = 1.0 if factor is None else float(factor)
    if kind == "acc":
        return (f if ftype == 0 else f / 1000.0) if comp else 1e-3
    if kind == "mag" and comp and ftype == 1:
        return f / 1000.0
    if kind in ("gyro", "mag"):
        return f
    if kind == "ecg":
        return 1.0
    raise ValueError(f"no physical scale known for PMD kind {kind!r}")


def to_physical(packet: Packet, factor: float | None = None) -> np.ndarray:
    """A decoded frame in physical units, float32 ``(n, channels)``.

    Linear frames are scaled by :func:`physical_scale`; float32 frames (compressed GYRO type 1)
    are their bit patterns read as float32, times ``factor`` when one is given; compressed MAG
    type 1 keeps its 4th column, the calibration status, as it is.
    """
    if packet.meta.get("encoding") == "float32":
        values = np.ascontiguousarray(packet.samples, dtype=np.int32).view(np.float32)
        return values if factor is None else (values * np.float32(factor)).astype(np.float32)
    out = packet.samples.astype(np.float64) * physical_scale(packet, factor)
    if packet.kind == "mag" and packet.n_channels == 4:
        out[:, 3] = packet.samples[:, 3]
    return out.astype(np.float32)
