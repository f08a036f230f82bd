"""Thalmic Myo armband codec: raw EMG (8 x int8, 200 Hz), IMU (50 Hz), FV stream, commands.

Facts (see ``PROTOCOLS.md``; sources: ``myohw.h``, pyomyo, dl-myo):

* UUIDs are ``d506XXXX-a904-deb9-4748-2c7f4a124842``; commands are written to 0x0401.
* EMG notification, 16 bytes on any of 0x0105/0x0205/0x0305/0x0405: two consecutive samples
  of 8 x int8 counts (no published microvolt scale). 100 notifications/s are spread over the
  four characteristics. There is **no counter and no timestamp**: loss can only be seen as
  arrival gaps, so the timebase reports it as unknown.
* IMU notification, 20 bytes on 0x0402: 10 x int16 **little-endian** (every working decoder
  uses LE although ``myohw.h`` says big-endian): quaternion w, x, y, z / 16384; accelerometer
  x, y, z / 2048 -> g; gyroscope x, y, z / 16 -> deg/s.
* FV notification, 17 bytes on 0x0104 (undocumented, 50 Hz): ``<8HB``, eight rectified and
  smoothed values plus a mask byte, read **signed** as dl-myo reads it (``'<8Hb'``; pyomyo reads
  it unsigned).

``decode`` tells the three apart by length (16, 20, 17 bytes).
"""

from __future__ import annotations

import numpy as np

from myoflow._checks import check_option
from myoflow.devices.codec import DecodeError, Packet, as_buffer

__all__ = [
    "COMMAND",
    "EMG_DATA",
    "FS_EMG",
    "FS_IMU",
    "FV_DATA",
    "IMU_DATA",
    "IMU_DTYPE",
    "decode",
    "emg_characteristic_index",
    "encode_emg",
    "encode_fv",
    "encode_imu",
    "imu_to_physical",
    "myo_uuid",
    "set_mode",
    "sleep_mode",
    "start_raw_commands",
    "vibrate",
]

PROTOCOL = "myo"

#: Nominal rates in Hz.
FS_EMG = 200.0
FS_IMU = 50.0
FS_FV = 50.0

EMG_BYTES = 16
IMU_BYTES = 20
FV_BYTES = 17

#: One IMU notification as a declarative little-endian record.
IMU_DTYPE = np.dtype([("quat", "<i2", (4,)), ("acc", "<i2", (3,)), ("gyro", "<i2", (3,))])
FV_DTYPE = np.dtype([("values", "<u2", (8,)), ("mask", "i1")])

QUAT_SCALE = 16384.0  # counts per unit quaternion
ACC_SCALE = 2048.0  # counts per g
GYRO_SCALE = 16.0  # counts per deg/s


def myo_uuid(short: int) -> str:
    """Full 128-bit UUID string of a Myo attribute from its 16-bit short id (e.g. ``0x0401``)."""
    if not 0 <= short <= 0xFFFF:
        raise ValueError(f"short must be a 16-bit attribute id, got {short!r}")
    return f"d506{short:04x}-a904-deb9-4748-2c7f4a124842"


CONTROL_SERVICE = myo_uuid(0x0001)
INFO = myo_uuid(0x0101)
FIRMWARE_VERSION = myo_uuid(0x0201)
COMMAND = myo_uuid(0x0401)
IMU_SERVICE = myo_uuid(0x0002)
IMU_DATA = myo_uuid(0x0402)
EMG_SERVICE = myo_uuid(0x0005)
#: The four EMG data characteristics, in index order 0..3.
EMG_DATA: tuple[str, ...] = tuple(myo_uuid(s) for s in (0x0105, 0x0205, 0x0305, 0x0405))
FV_DATA = myo_uuid(0x0104)

EMG_MODES = {"off": 0x00, "fv": 0x01, "filtered": 0x02, "raw": 0x03}
IMU_MODES = {"off": 0x00, "data": 0x01, "events": 0x02, "all": 0x03, "raw": 0x04}
VIBRATIONS = {"short": 0x01, "medium": 0x02, "long": 0x03}


def _choice(value: str, name: str, table: dict[str, int]) -> int:
    return table[check_option(value, name, table)]


def set_mode(emg: str = "raw", imu: str = "data", classifier: bool = False) -> bytes:
    """Set-mode command ``01 03 <emg> <imu> <classifier>`` for the command characteristic.

    ``emg`` is one of ``"off"``, ``"fv"`` (undocumented 50 Hz FV stream), ``"filtered"``,
    ``"raw"``; ``imu`` one of ``"off"``, ``"data"``, ``"events"``, ``"all"``, ``"raw"``.
    """
    return bytes(
        [
            0x01,
            0x03,
            _choice(emg, "emg", EMG_MODES),
            _choice(imu, "imu", IMU_MODES),
            0x01 if classifier else 0x00,
        ]
    )


def sleep_mode(never: bool = True) -> bytes:
    """Sleep-mode command ``09 01 <mode>``: ``09 01 01`` keeps the band awake while connected."""
    return bytes([0x09, 0x01, 0x01 if never else 0x00])


def vibrate(duration: str = "short") -> bytes:
    """Vibrate command ``03 01 <1|2|3>`` (``"short"``, ``"medium"``, ``"long"``)."""
    return bytes([0x03, 0x01, _choice(duration, "duration", VIBRATIONS)])


def start_raw_commands(imu: str = "data") -> tuple[bytes, ...]:
    """Commands to write, in order, after enabling the four EMG (and IMU) notifications.

    Re-send after every reconnect: streaming stops on disconnect.
    """
    return (set_mode("raw", imu), sleep_mode(never=True))


def emg_characteristic_index(uuid: str) -> int:
    """Index 0..3 of an EMG data characteristic from its UUID (case-insensitive)."""
    try:
        return EMG_DATA.index(uuid.lower())
    except ValueError:
        raise ValueError(f"uuid {uuid!r} is not one of the Myo EMG characteristics {EMG_DATA}") from None


def decode(data: bytes | bytearray | memoryview) -> Packet:
    """Decode one Myo notification, told apart by its length.

    Returns
    -------
    Packet
        16 bytes: ``kind="emg"``, samples ``(2, 8)`` int8.
        20 bytes: ``kind="imu"``, samples ``(1, 10)`` int16 (quat w,x,y,z, acc x,y,z,
        gyro x,y,z; scale with :func:`imu_to_physical`).
        17 bytes: ``kind="fv"``, samples ``(1, 8)`` uint16, ``meta["mask"]`` (int8, -128..127).
        No counter and no device time (the protocol has neither).

    Raises
    ------
    DecodeError
        Any other length.
    """
    buf = as_buffer(data)
    if buf.size == EMG_BYTES:
        return Packet("emg", buf.view(np.int8).reshape(2, 8))
    if buf.size == IMU_BYTES:
        return Packet("imu", buf.view("<i2").reshape(1, 10))
    if buf.size == FV_BYTES:
        rec = buf.view(FV_DTYPE)[0]
        return Packet("fv", rec["values"].reshape(1, 8), meta={"mask": int(rec["mask"])})
    raise DecodeError(
        PROTOCOL,
        f"{EMG_BYTES} (EMG), {IMU_BYTES} (IMU) or {FV_BYTES} (FV)",
        f"notification of {buf.size} bytes",
    )


def _ints(samples: np.ndarray, shape: tuple[int, int], lo: int, hi: int, what: str) -> np.ndarray:
    arr = np.asarray(samples)
    if arr.size != shape[0] * shape[1] or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"{what} samples must be {shape[0] * shape[1]} integers "
            f"(shape {shape}), got shape {arr.shape} dtype {arr.dtype}"
        )
    if arr.size and (arr.min() < lo or arr.max() > hi):
        raise ValueError(f"{what} samples must lie in [{lo}, {hi}], got [{arr.min()}, {arr.max()}]")
    return arr.reshape(shape)


def encode_emg(samples: np.ndarray) -> bytes:
    """Encode two EMG samples, shape ``(2, 8)`` ints in [-128, 127], as a 16-byte notification."""
    return _ints(samples, (2, 8), -128, 127, "EMG").astype(np.int8).tobytes()


def encode_imu(samples: np.ndarray) -> bytes:
    """Encode one IMU record, 10 int16 counts (shape ``(1, 10)`` or ``(10,)``), as 20 bytes LE."""
    return _ints(samples, (1, 10), -32768, 32767, "IMU").astype("<i2").tobytes()


def encode_fv(values: np.ndarray, mask: int = 0) -> bytes:
    """Encode one FV record: 8 uint16 values and a signed mask byte (-128..127), 17 bytes."""
    rec = np.zeros(1, dtype=FV_DTYPE)
    rec["values"][0] = _ints(values, (1, 8), 0, 65535, "FV")[0]
    if not -128 <= mask <= 127:
        raise ValueError(f"mask must be a signed byte (-128..127), got {mask!r}")
    rec["mask"] = mask
    return rec.tobytes()


def imu_to_physical(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scale IMU counts, shape ``(n, 10)``, to physical units.

    Returns
    -------
    quat, acc, gyro
        float32 arrays of shape ``(n, 4)`` (unit quaternion w, x, y, z), ``(n, 3)`` in g and
        ``(n, 3)`` in deg/s.
    """
    s = np.asarray(samples)
    if s.ndim != 2 or s.shape[1] != 10:
        raise ValueError(f"samples must have shape (n, 10), got {s.shape}")
    rec = np.ascontiguousarray(s, dtype="<i2").view(IMU_DTYPE)[:, 0]
    return (
        (rec["quat"] / np.float32(QUAT_SCALE)).astype(np.float32),
        (rec["acc"] / np.float32(ACC_SCALE)).astype(np.float32),
        (rec["gyro"] / np.float32(GYRO_SCALE)).astype(np.float32),
    )
