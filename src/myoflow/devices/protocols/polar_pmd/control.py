"""Polar Measurement Data (PMD) control point: measurement types, commands, settings, responses.

Facts (see ``PROTOCOLS.md``; source: polarofficial/polar-ble-sdk Android ``pmd`` package):

* Control point ``FB005C81``: commands ``[op, measurement, settings TLV...]`` (op 1 get
  settings, 2 start, 3 stop); responses ``F0 <op> <type> <status> <more> <params>``;
  unsolicited ``01 <types...>`` = the device stopped those streams by itself.
* Settings TLV ``[setting, count, count x value LE]``: 0 sample rate u16, 1 resolution u16,
  2 range u16, 3 range (milli-units) i32, 4 channels u8, 5 factor float32 (responses only),
  6 security (16 bytes). A parameter list of one byte or none holds no settings
  (``PmdSetting.kt``).
* An answer with ``more`` = 1 continues in the next notification: its parameters (after the
  5-byte header) are appended (``BlePMDClient.sendPmdCommand``); :class:`ControlPointJoiner`
  joins them before anything is parsed.

Pure functions of bytes, like the frame codec in :mod:`myoflow.devices.protocols.polar_pmd.codec`, which
re-exports everything here so that one module describes the whole protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from myoflow.devices.codec import DecodeError, as_buffer

#: Protocol name carried by every :class:`DecodeError` of the PMD control point and frames.
PROTOCOL = "polar_pmd"


class Measurement(IntEnum):
    """Measurement types, byte 1 of a command and the low 6 bits of byte 0 of a data frame."""

    ECG = 0
    PPG = 1
    ACC = 2
    PPI = 3
    GYRO = 5
    MAG = 6


class Op(IntEnum):
    """Control point op codes, byte 0 of a command."""

    GET_SETTINGS = 1
    START = 2
    STOP = 3


class Setting(IntEnum):
    """Setting ids of the settings TLV."""

    SAMPLE_RATE = 0
    RESOLUTION = 1
    RANGE = 2
    RANGE_MILLIUNIT = 3
    CHANNELS = 4
    FACTOR = 5
    SECURITY = 6


_SETTING_DTYPE = {0: "<u2", 1: "<u2", 2: "<u2", 3: "<i4", 4: "u1", 5: "<f4", 6: "V16"}

#: Control point status codes (PmdControlPointResponseCode in the Polar SDK).
_STATUS_WORDS = """
    SUCCESS INVALID_OP_CODE INVALID_MEASUREMENT_TYPE NOT_SUPPORTED INVALID_LENGTH
    INVALID_PARAMETER ALREADY_IN_STATE INVALID_RESOLUTION INVALID_SAMPLE_RATE INVALID_RANGE
    INVALID_MTU INVALID_NUMBER_OF_CHANNELS INVALID_STATE DEVICE_IN_CHARGER DISK_FULL
"""
STATUS_NAMES: dict[int, str] = dict(enumerate(_STATUS_WORDS.split()))


def encode_settings(settings: Mapping[int, int | float]) -> bytes:
    """Settings TLV for a start command, one value per setting: ``[setting, 1, value LE]``."""
    out = bytearray()
    for key, value in settings.items():
        key = int(key)
        if key not in _SETTING_DTYPE:
            raise ValueError(f"settings key must be one of {sorted(_SETTING_DTYPE)}, got {key!r}")
        dt = np.dtype(_SETTING_DTYPE[key])
        if dt.kind == "V":
            raw = bytes(value)  # type: ignore[arg-type]  # SECURITY: 16 bytes, not a number
            if len(raw) != dt.itemsize:
                raise ValueError(f"setting SECURITY must be {dt.itemsize} bytes, got {len(raw)}")
            out += bytes([key, 1]) + raw
            continue
        if dt.kind in "ui" and not np.iinfo(dt).min <= int(value) <= np.iinfo(dt).max:
            kind = "unsigned" if dt.kind == "u" else "signed"
            raise ValueError(
                f"setting {Setting(key).name} must fit {dt.itemsize} {kind} byte(s), got {value!r}"
            )
        out += bytes([key, 1]) + np.array([value], dtype=dt).tobytes()
    return bytes(out)


def parse_settings(params: bytes | bytearray | memoryview) -> dict[Setting, tuple[float, ...]]:
    """Parse a settings TLV (get-settings or start response) into ``{Setting: values}``.

    Integers come back as ``int`` (RANGE_MILLIUNIT signed), the FACTOR as ``float``, SECURITY as
    16 ``bytes``. A list of one byte or none holds no settings, as the Polar SDK reads it.
    Unknown setting ids raise :class:`DecodeError` (their field size is unknown, so nothing
    after them can be read).
    """
    buf = as_buffer(params)
    out: dict[Setting, tuple[float, ...]] = {}
    if buf.size <= 1:
        return out
    pos = 0
    while pos < buf.size:
        if pos + 2 > buf.size:
            raise DecodeError(PROTOCOL, "[setting, count] pair", f"1 trailing settings byte at {pos}")
        key, count = int(buf[pos]), int(buf[pos + 1])
        if key not in _SETTING_DTYPE:
            raise DecodeError(PROTOCOL, f"setting id in {sorted(_SETTING_DTYPE)}", f"setting id {key}")
        dt = np.dtype(_SETTING_DTYPE[key])
        end = pos + 2 + count * dt.itemsize
        if end > buf.size:
            raise DecodeError(
                PROTOCOL,
                f"{end - pos} bytes for {count} x {Setting(key).name}",
                f"{buf.size - pos} bytes",
            )
        chunk = buf[pos + 2 : end]
        if dt.kind == "V":
            out[Setting(key)] = tuple(
                chunk[i : i + dt.itemsize].tobytes()  # type: ignore[misc]  # SECURITY values are bytes
                for i in range(0, chunk.size, dt.itemsize)
            )
        else:
            values = chunk.view(dt)
            out[Setting(key)] = tuple(float(v) if dt.kind == "f" else int(v) for v in values)
        pos = end
    return out


def settings_command(measurement: int) -> bytes:
    """Get-settings command ``01 <measurement>``."""
    return bytes([Op.GET_SETTINGS, Measurement(measurement)])


def start_command(measurement: int, settings: Mapping[int, int | float]) -> bytes:
    """Start command ``02 <measurement> <settings TLV>``.

    ``start_command(Measurement.ACC, {Setting.SAMPLE_RATE: 200, Setting.RESOLUTION: 16,
    Setting.RANGE: 8})`` is the H10's ``02 02 00 01 C8 00 01 01 10 00 02 01 08 00``.
    """
    return bytes([Op.START, Measurement(measurement)]) + encode_settings(settings)


def stop_command(measurement: int) -> bytes:
    """Stop command ``03 <measurement>``."""
    return bytes([Op.STOP, Measurement(measurement)])


@dataclass(frozen=True)
class ControlPointResponse:
    """A control point response ``F0 <op> <measurement> <status> <more> <params>``."""

    op: int
    measurement: int
    status: int
    more: bool
    params: bytes

    @property
    def ok(self) -> bool:
        return self.status == 0

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, f"UNKNOWN_STATUS_{self.status}")

    def settings(self) -> dict[Setting, tuple[float, ...]]:
        """Parsed settings TLV of a successful get-settings or start response."""
        return parse_settings(self.params)


@dataclass(frozen=True)
class StreamsStopped:
    """Unsolicited ``01 <types...>``: the device stopped these measurements by itself."""

    measurements: tuple[int, ...]


def parse_control_point(
    data: bytes | bytearray | memoryview,
) -> ControlPointResponse | StreamsStopped:
    """Parse a control point notification (a response, or the device stopping streams)."""
    buf = as_buffer(data)
    if buf.size >= 1 and buf[0] == 0x01:
        return StreamsStopped(tuple(int(b) & 0x3F for b in buf[1:]))
    if buf.size < 4 or buf[0] != 0xF0:
        raise DecodeError(
            PROTOCOL,
            "response F0 <op> <type> <status>... or 01 <types>",
            f"control point bytes {bytes(buf[:8]).hex(' ')} ({buf.size} bytes)",
        )
    status = int(buf[3])
    more = bool(status == 0 and buf.size > 4 and buf[4] != 0)
    params = buf[5:].tobytes() if status == 0 else b""
    return ControlPointResponse(int(buf[1]), int(buf[2]) & 0x3F, status, more, params)


class ControlPointJoiner:
    """Joins control point answers that span several notifications (``more`` = 1).

    :meth:`feed` takes each control point notification in order and returns what is complete:
    a :class:`ControlPointResponse` whose ``params`` hold the parameters of every part (each
    part's own 5-byte header dropped, as the Polar SDK appends them), a :class:`StreamsStopped`,
    or ``None`` while an answer waits for its next part. A part that answers a different op or
    measurement than the one held starts over (the held part is dropped and counted in
    :attr:`dropped`).
    """

    def __init__(self) -> None:
        self._held: ControlPointResponse | None = None
        self.dropped = 0

    def feed(self, data: bytes | bytearray | memoryview) -> ControlPointResponse | StreamsStopped | None:
        """One control point notification; raises :class:`DecodeError` for a malformed one."""
        answer = parse_control_point(data)
        if isinstance(answer, StreamsStopped):
            return answer
        held, self._held = self._held, None
        if held is not None:
            if (held.op, held.measurement) == (answer.op, answer.measurement):
                answer = ControlPointResponse(
                    answer.op, answer.measurement, answer.status, answer.more, held.params + answer.params
                )
            else:
                self.dropped += 1
        if answer.more:
            self._held = answer
            return None
        return answer

    @property
    def pending(self) -> bool:
        """True while an answer waits for its next part."""
        return self._held is not None
