"""Codec of the open myoflow DIY strap format (ESP32/nRF52 + MyoWare), schema 1.

The format is specified for firmware authors in ``docs/diy-strap-protocol.md``. Every
notification is self-describing: a 14-byte little-endian header, then interleaved samples.

=======  ====  =================  ==================================================
offset   size  field              meaning
=======  ====  =================  ==================================================
0        1     ``schema``         0x01 for this version
1        1     ``config``         bits 0-2 channels (1-4); bit 3 int24 samples (else
                                  int16); bit 4 clipped; bit 5 restart; bits 6-7 zero
2        2     ``block``          u16 block counter, +1 per notification, wraps
4        4     ``t_first_us``     u32 device time of the first sample, us, wraps
8        4     ``uv_per_count``   float32 microvolts per count (> 0)
12       2     ``fs_hz``          u16 sample rate in Hz (> 0)
14       ...   samples            n x channels, int16 or int24 LE, sample-major
=======  ====  =================  ==================================================

No CRC: the BLE link layer already checks every packet with a CRC-24 and retransmits until
acknowledged, so what reaches the host is either intact or missing; missing blocks show in the
counter and the timestamps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from myoflow._checks import check_positive
from myoflow.devices.codec import DecodeError, Loss, Packet, as_buffer, int24_le, to_int24_le

PROTOCOL = "diy"
SCHEMA = 0x01

#: 128-bit UUIDs: the tail spells "myoflow-diy1" in ASCII.
SERVICE = "00000001-6d79-6f66-6c6f-772d64697931"
DATA = "00000002-6d79-6f66-6c6f-772d64697931"
CONTROL = "00000003-6d79-6f66-6c6f-772d64697931"
#: Control writes (write with response) on :data:`CONTROL`.
START = b"\x01"
STOP = b"\x02"

HEADER_DTYPE = np.dtype(
    [
        ("schema", "u1"),
        ("config", "u1"),
        ("block", "<u2"),
        ("t_first_us", "<u4"),
        ("uv_per_count", "<f4"),
        ("fs_hz", "<u2"),
    ]
)
HEADER_BYTES = HEADER_DTYPE.itemsize  # 14
MAX_CHANNELS = 4
DEFAULT_MTU = 247

_F32_TINY = float(np.finfo(np.float32).smallest_normal)
_F32_MAX = float(np.finfo(np.float32).max)
_CH_MASK, _INT24, _CLIPPED, _RESTART, _RESERVED = 0x07, 0x08, 0x10, 0x20, 0xC0


def max_samples(n_channels: int, int24: bool = False, mtu: int = DEFAULT_MTU) -> int:
    """Most samples per notification for ``n_channels`` at an ATT ``mtu`` (payload mtu - 3)."""
    if n_channels not in range(1, MAX_CHANNELS + 1):
        raise ValueError(f"n_channels must be 1..{MAX_CHANNELS}, got {n_channels!r}")
    if mtu < 23:
        raise ValueError(f"mtu must be at least 23 (the BLE minimum), got {mtu!r}")
    return (mtu - 3 - HEADER_BYTES) // (n_channels * (3 if int24 else 2))


def decode(data: bytes | bytearray | memoryview) -> Packet:
    """Decode one DIY strap notification.

    Returns
    -------
    Packet
        ``kind="emg"``, samples ``(n, channels)`` (int16 or int32 for int24 packets),
        ``counter`` = block counter, ``device_time_ns`` of the last sample
        (``t_first_us * 1000 + round((n - 1) * 1e9 / fs_hz)``, wrapping with ``t_first_us``),
        ``meta`` with ``fs_hz``, ``uv_per_count`` (float), ``t_first_us``, ``sample_bits``,
        ``clipped`` and ``restart``.

    Raises
    ------
    DecodeError
        Short packet, unknown schema, reserved bits set, 0 or more than 4 channels, a
        non-positive or non-finite factor, a zero rate, or data that is not a whole number of
        samples.
    """
    buf = as_buffer(data)
    if buf.size < HEADER_BYTES:
        raise DecodeError(PROTOCOL, f"at least {HEADER_BYTES} bytes (header)", f"packet of {buf.size} bytes")
    head = buf[:HEADER_BYTES].view(HEADER_DTYPE)[0]
    if head["schema"] != SCHEMA:
        raise DecodeError(PROTOCOL, f"schema 0x{SCHEMA:02x}", f"schema 0x{int(head['schema']):02x}")
    config = int(head["config"])
    channels = config & _CH_MASK
    if config & _RESERVED or not 1 <= channels <= MAX_CHANNELS:
        raise DecodeError(PROTOCOL, "config with 1-4 channels and bits 6-7 clear", f"config 0x{config:02x}")
    factor = float(head["uv_per_count"])
    if not (math.isfinite(factor) and factor > 0):
        raise DecodeError(PROTOCOL, "a positive finite uV-per-count factor", f"factor {factor!r}")
    fs = int(head["fs_hz"])
    if fs == 0:
        raise DecodeError(PROTOCOL, "a sample rate of at least 1 Hz", "fs_hz 0")
    width = 3 if config & _INT24 else 2
    body = buf[HEADER_BYTES:]
    step = channels * width
    if body.size == 0 or body.size % step:
        raise DecodeError(
            PROTOCOL,
            f"a positive multiple of {step} sample bytes ({channels} ch x int{8 * width})",
            f"{body.size} sample bytes",
        )
    samples = (int24_le(body) if width == 3 else body.view("<i2")).reshape(-1, channels)
    n = samples.shape[0]
    t_first = int(head["t_first_us"])
    return Packet(
        "emg",
        samples,
        counter=int(head["block"]),
        device_time_ns=t_first * 1000 + round((n - 1) * 1e9 / fs),
        meta={
            "fs_hz": fs,
            "uv_per_count": factor,
            "t_first_us": t_first,
            "sample_bits": 8 * width,
            "clipped": bool(config & _CLIPPED),
            "restart": bool(config & _RESTART),
        },
    )


def encode(
    samples: np.ndarray,
    *,
    block: int,
    t_first_us: int,
    fs_hz: int,
    uv_per_count: float,
    int24: bool = False,
    clipped: bool = False,
    restart: bool = False,
    mtu: int = DEFAULT_MTU,
) -> bytes:
    """Build one notification (what the firmware sends; used by the simulators).

    Parameters
    ----------
    samples
        Shape ``(n, channels)`` integer counts, 1-4 channels, int16 or (``int24=True``) int24.
    block
        Block counter; taken modulo 65536.
    t_first_us
        Device time of ``samples[0]`` in us; taken modulo 2**32 like Arduino ``micros()``.
    fs_hz
        Sample rate in Hz, 1..65535.
    uv_per_count
        Microvolts per count, stored as float32.
    mtu
        ATT MTU; the packet must fit ``mtu - 3`` bytes.
    """
    s = np.asarray(samples)
    if (
        s.ndim != 2
        or not 1 <= s.shape[1] <= MAX_CHANNELS
        or s.shape[0] < 1
        or not np.issubdtype(s.dtype, np.integer)
    ):
        raise ValueError(
            f"samples must be integers of shape (n >= 1, 1..4 channels), got shape {s.shape} dtype {s.dtype}"
        )
    bits = 24 if int24 else 16
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if s.min() < lo or s.max() > hi:
        raise ValueError(f"samples must fit int{bits} [{lo}, {hi}], got [{s.min()}, {s.max()}]")
    if not isinstance(fs_hz, (int, np.integer)) or not 1 <= fs_hz <= 0xFFFF:
        raise ValueError(f"fs_hz must be an integer sample rate 1..65535 Hz, got {fs_hz!r}")
    factor = check_positive(uv_per_count, "uv_per_count", "uV per count")
    if not _F32_TINY <= factor <= _F32_MAX:
        raise ValueError(
            f"uv_per_count must be a positive float32 in [{_F32_TINY:g}, {_F32_MAX:g}] "
            f"uV per count, got {uv_per_count!r}"
        )
    if t_first_us < 0:
        raise ValueError(f"t_first_us must be a non-negative device time in us, got {t_first_us!r}")
    head = np.zeros(1, HEADER_DTYPE)
    head["schema"] = SCHEMA
    head["config"] = (
        s.shape[1] | (_INT24 if int24 else 0) | (_CLIPPED if clipped else 0) | (_RESTART if restart else 0)
    )
    head["block"] = int(block) % 0x10000
    head["t_first_us"] = int(t_first_us) % (1 << 32)
    head["uv_per_count"] = factor
    head["fs_hz"] = fs_hz
    body = to_int24_le(s) if int24 else s.astype("<i2").tobytes()
    out = head.tobytes() + body
    if len(out) > mtu - 3:
        raise ValueError(
            f"{s.shape[0]} samples x {s.shape[1]} channels make a {len(out)}-byte packet, "
            f"more than {mtu - 3} at mtu {mtu} (at most "
            f"{max_samples(s.shape[1], int24, mtu)} samples)"
        )
    return out


@dataclass
class DiyTracker:
    """Loss from the block counter and the device clock, and an unwrapped device time.

    :meth:`update` returns ``Loss(packets, samples)``: ``packets`` from the u16 counter
    (``(block - expected) mod 65536``), ``samples`` from the gap between the expected and the
    actual first-sample time (exact even when more than 65535 blocks were lost). A packet with
    the restart flag, or the first packet, starts afresh without counting loss.
    """

    expected_block: int | None = None
    next_t_us: int | None = None
    t_first_us: int | None = None
    restarts: int = 0
    lost_packets: int = 0
    lost_samples: int = 0
    _wraps: int = 0
    _last_raw_t: int = 0

    def update(self, packet: Packet) -> Loss:
        """Account for a decoded packet; returns the loss just before it."""
        raw_t = int(packet.meta["t_first_us"])
        fs = int(packet.meta["fs_hz"])
        if self.expected_block is None or self.next_t_us is None or packet.meta["restart"]:
            if self.expected_block is not None:
                self.restarts += 1
            self._wraps, lost = 0, Loss(0, 0)
        else:
            if raw_t < self._last_raw_t - (1 << 31):
                self._wraps += 1
            gap_us = raw_t + (self._wraps << 32) - self.next_t_us
            lost = Loss(
                (int(packet.counter or 0) - self.expected_block) % 0x10000,
                max(0, round(gap_us * fs / 1e6)),
            )
        self._last_raw_t = raw_t
        self.t_first_us = raw_t + (self._wraps << 32)
        self.next_t_us = self.t_first_us + round(packet.n_samples * 1e6 / fs)
        self.expected_block = (int(packet.counter or 0) + 1) % 0x10000
        self.lost_packets += lost.packets or 0
        self.lost_samples += lost.samples or 0
        return lost
