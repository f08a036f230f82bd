"""Shared pieces of the protocol codecs: the decoded :class:`Packet`, :class:`DecodeError`,
loss reports and vectorised bit/byte helpers.

Every protocol module (``myo``, ``ganglion``, ``polar_pmd``, ``diy``) exposes a pure
``decode(data: bytes) -> Packet`` that does no I/O and keeps no state. Malformed bytes raise
:class:`DecodeError` (a ``ValueError``) naming the protocol, what was expected and what came;
the ingest counts and skips them. State that spans packets (expected counters, the previous
frame's time) lives in small tracker dataclasses beside each codec, which return :class:`Loss`.

The bit helpers read or write ``count`` fields of ``width`` bits from a byte buffer in one
vectorised step: each field's bytes are gathered into a 64-bit window (an index array that is
cached per layout), shifted and masked. Fields up to 57 bits wide are supported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "DecodeError",
    "Loss",
    "Packet",
    "as_buffer",
    "expect_length",
    "int24_le",
    "pack_bits",
    "sign_extend",
    "to_int24_le",
    "unpack_bits",
]

_MAX_WIDTH = 57


class DecodeError(ValueError):
    """Bytes that a codec cannot decode.

    Parameters
    ----------
    protocol
        Codec name, e.g. ``"ganglion"``.
    expected
        What the codec expected, e.g. ``"20"`` or ``"schema 0x01"``.
    got
        What came, e.g. ``"packet of 19 bytes"``.

    The message reads ``"<protocol>: <got>, expected <expected>"``, for example
    ``"ganglion: packet of 19 bytes, expected 20"``.
    """

    def __init__(self, protocol: str, expected: str, got: str) -> None:
        self.protocol = protocol
        self.expected = expected
        self.got = got
        super().__init__(f"{protocol}: {got}, expected {expected}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.protocol, self.expected, self.got))


class Loss(NamedTuple):
    """What a tracker learnt about lost data just before the packet it was given.

    ``packets`` and ``samples`` are ``None`` when the protocol cannot tell (the Myo has no
    counter; Polar frames have a time but no sequence number).
    """

    packets: int | None
    samples: int | None

    @property
    def any(self) -> bool:
        """True when a positive loss is known."""
        return bool(self.packets) or bool(self.samples)


_EMPTY_META: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, eq=False)
class Packet:
    """One decoded notification.

    Parameters
    ----------
    kind
        What the samples are: ``"emg"``, ``"ecg"``, ``"acc"``, ``"gyro"``, ``"imu"``, ``"fv"``,
        ``"impedance"``, ``"message"``, ... (see each codec).
    samples
        Shape ``(n_samples, n_channels)``, integer counts exactly as the device sent them
        (no scaling). Stored C-contiguous and read-only. May have zero rows for packets that
        carry no samples (Ganglion text messages).
    counter
        Packet/block counter when the protocol has one, else ``None``.
    device_time_ns
        Device time of the **last** sample in nanoseconds (protocol epoch), else ``None``.
    meta
        Protocol-specific extras (frame type, conversion factor, accelerometer axis, text).
    """

    kind: str
    samples: np.ndarray
    counter: int | None = None
    device_time_ns: int | None = None
    meta: Mapping[str, Any] = field(default_factory=lambda: _EMPTY_META)

    def __post_init__(self) -> None:
        arr = np.asarray(self.samples)
        if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(
                f"samples must be a 2-D integer array (n_samples, n_channels), "
                f"got shape {arr.shape} dtype {arr.dtype}"
            )
        arr = np.ascontiguousarray(arr).view()
        arr.flags.writeable = False
        object.__setattr__(self, "samples", arr)
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[0])

    @property
    def n_channels(self) -> int:
        return int(self.samples.shape[1])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Packet):
            return NotImplemented
        return (
            self.kind == other.kind
            and self.counter == other.counter
            and self.device_time_ns == other.device_time_ns
            and self.samples.shape == other.samples.shape
            and bool(np.array_equal(self.samples, other.samples))
            and dict(self.meta) == dict(other.meta)
        )

    __hash__ = None  # type: ignore[assignment]


def as_buffer(data: bytes | bytearray | memoryview) -> np.ndarray:
    """View notification bytes as a read-only ``uint8`` array without copying.

    Raises ``TypeError`` for anything that is not a bytes-like object (a programming error,
    not a malformed packet).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, bytearray or memoryview, got {type(data).__name__}")
    return np.frombuffer(data, dtype=np.uint8)


def expect_length(buf: np.ndarray, protocol: str, n: int, what: str = "packet") -> None:
    """Raise :class:`DecodeError` unless ``buf`` holds exactly ``n`` bytes."""
    if buf.size != n:
        raise DecodeError(protocol, str(n), f"{what} of {buf.size} bytes")


def sign_extend(values: np.ndarray, width: int) -> np.ndarray:
    """Interpret unsigned ``width``-bit integers as two's complement (returns ``int64``)."""
    v = np.asarray(values, dtype=np.int64)
    if width <= 0:
        return np.zeros_like(v)
    half = np.int64(1) << np.int64(width - 1)
    return (v ^ half) - half


@lru_cache(maxsize=256)
def _plan(width: int, count: int, bit_offset: int, msb_first: bool) -> tuple[np.ndarray, np.ndarray]:
    """Byte-gather index ``(count, 8)`` and per-field right shifts for one field layout."""
    starts = bit_offset + np.arange(count, dtype=np.int64) * width
    gather = (starts >> 3)[:, None] + np.arange(8, dtype=np.int64)
    shifts = 64 - (starts & 7) - width if msb_first else starts & 7
    return gather, shifts.astype(np.uint64)


def unpack_bits(
    buf: np.ndarray, width: int, count: int, bit_offset: int = 0, *, msb_first: bool
) -> np.ndarray:
    """Read ``count`` consecutive unsigned ``width``-bit fields from a byte buffer.

    Parameters
    ----------
    buf
        ``uint8`` array.
    width
        Bits per field, 0 to 57 (0 gives zeros).
    count
        Number of fields.
    bit_offset
        Bit position of the first field (bit 0 is the MSB of ``buf[0]`` when ``msb_first``,
        its LSB otherwise).
    msb_first
        ``True``: fields packed MSB-first, big-endian bit order (OpenBCI Ganglion).
        ``False``: LSB-first little-endian bit stream (Polar PMD deltas).

    Returns
    -------
    numpy.ndarray
        Shape ``(count,)``, ``int64``, each in ``[0, 2**width)``.

    Raises ``ValueError`` when the fields run past the end of ``buf``; codecs check lengths
    first and raise :class:`DecodeError` themselves.
    """
    if not 0 <= width <= _MAX_WIDTH:
        raise ValueError(f"width must be 0..{_MAX_WIDTH} bits, got {width}")
    end_bit = bit_offset + count * width
    if end_bit > 8 * buf.size:
        raise ValueError(
            f"{count} fields of {width} bits from bit {bit_offset} need "
            f"{(end_bit + 7) // 8} bytes, buffer has {buf.size}"
        )
    if width == 0 or count == 0:
        return np.zeros(count, dtype=np.int64)
    gather, shifts = _plan(width, count, bit_offset, msb_first)
    padded = np.zeros(buf.size + 8, dtype=np.uint8)
    padded[: buf.size] = buf
    windows = padded[gather].view(">u8" if msb_first else "<u8")[:, 0]
    mask = np.uint64((1 << width) - 1)
    return ((windows >> shifts) & mask).astype(np.int64)


def pack_bits(values: np.ndarray, width: int, *, msb_first: bool) -> bytes:
    """Pack integers as consecutive ``width``-bit fields (the inverse of :func:`unpack_bits`).

    Negative values are written in two's complement (only their low ``width`` bits are kept).
    The last byte is zero-padded.
    """
    if not 0 <= width <= _MAX_WIDTH:
        raise ValueError(f"width must be 0..{_MAX_WIDTH} bits, got {width}")
    v = np.asarray(values, dtype=np.int64).ravel()
    if width == 0 or v.size == 0:
        return b""
    u = (v & np.int64((1 << width) - 1)).astype(np.uint64)
    order = np.arange(width - 1, -1, -1) if msb_first else np.arange(width)
    bits = ((u[:, None] >> order.astype(np.uint64)) & np.uint64(1)).astype(np.uint8)
    return np.packbits(bits.ravel(), bitorder="big" if msb_first else "little").tobytes()


def int24_le(buf: np.ndarray) -> np.ndarray:
    """Little-endian signed 24-bit integers (``3 * n`` bytes) to ``int32`` of shape ``(n,)``."""
    b = np.asarray(buf, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
    v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
    return (v ^ 0x800000) - 0x800000


def to_int24_le(values: np.ndarray) -> bytes:
    """Signed integers in ``[-2**23, 2**23)`` to little-endian 24-bit bytes."""
    v = np.asarray(values, dtype=np.int64).ravel()
    if v.size and (v.min() < -(1 << 23) or v.max() >= (1 << 23)):
        raise ValueError(f"values must fit in 24 bits, got range [{v.min()}, {v.max()}]")
    u = (v & 0xFFFFFF).astype("<u4")
    return u.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
