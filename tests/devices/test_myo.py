"""Thalmic Myo codec: EMG/IMU/FV notifications, scaling, commands, characteristic tracking."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from myoflow.devices.codec import DecodeError
from myoflow.devices.protocols.myo import codec as myo


@given(hnp.arrays(np.int64, (2, 8), elements=st.integers(-128, 127)))
def test_emg_round_trip_is_lossless(values: np.ndarray) -> None:
    p = myo.decode(myo.encode_emg(values))
    assert p.kind == "emg" and p.samples.dtype == np.int8
    np.testing.assert_array_equal(p.samples, values)
    assert p.counter is None and p.device_time_ns is None


@given(hnp.arrays(np.int64, (1, 10), elements=st.integers(-32768, 32767)))
def test_imu_round_trip_is_lossless(values: np.ndarray) -> None:
    p = myo.decode(myo.encode_imu(values))
    assert p.kind == "imu"
    np.testing.assert_array_equal(p.samples, values)


@given(hnp.arrays(np.int64, (1, 8), elements=st.integers(0, 65535)), st.integers(-128, 127))
def test_fv_round_trip_is_lossless(values: np.ndarray, mask: int) -> None:
    p = myo.decode(myo.encode_fv(values, mask))
    assert p.kind == "fv" and p.meta["mask"] == mask
    np.testing.assert_array_equal(p.samples, values)


def test_imu_is_little_endian_and_scaled() -> None:
    # w = 1.0, x = -0.5; acc z = 1 g; gyro x = -2 deg/s, written little-endian by hand.
    data = bytes.fromhex("0040 00e0 0000 0000 0000 0000 0008 e0ff 0000 0000".replace(" ", ""))
    p = myo.decode(data)
    assert p.samples.tolist() == [[16384, -8192, 0, 0, 0, 0, 2048, -32, 0, 0]]
    quat, acc, gyro = myo.imu_to_physical(p.samples)
    assert quat.dtype == acc.dtype == gyro.dtype == np.float32
    np.testing.assert_allclose(quat, [[1.0, -0.5, 0.0, 0.0]])
    np.testing.assert_allclose(acc, [[0.0, 0.0, 1.0]])
    np.testing.assert_allclose(gyro, [[-2.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match=r"shape \(n, 10\)"):
        myo.imu_to_physical(np.zeros((1, 9)))


def test_emg_samples_are_two_time_slices_of_eight_channels() -> None:
    data = bytes(range(8)) + bytes([0x80 + i for i in range(8)])
    p = myo.decode(data)
    assert p.samples.shape == (2, 8)
    assert p.samples[0].tolist() == list(range(8))
    assert p.samples[1].tolist() == [-128 + i for i in range(8)]


def test_commands_bytes() -> None:
    assert myo.set_mode("raw", "data") == bytes.fromhex("0103030100")
    assert myo.set_mode("fv", "off", classifier=True) == bytes.fromhex("0103010001")
    assert myo.sleep_mode() == bytes.fromhex("090101")
    assert myo.sleep_mode(never=False) == bytes.fromhex("090100")
    assert [myo.vibrate(d) for d in ("short", "medium", "long")] == [
        bytes.fromhex("030101"),
        bytes.fromhex("030102"),
        bytes.fromhex("030103"),
    ]
    assert myo.start_raw_commands() == (bytes.fromhex("0103030100"), bytes.fromhex("090101"))
    with pytest.raises(ValueError, match="'emg'.*'loud'"):
        myo.set_mode("loud")
    with pytest.raises(ValueError, match="duration"):
        myo.vibrate("forever")


def test_uuids() -> None:
    assert myo.COMMAND == "d5060401-a904-deb9-4748-2c7f4a124842"
    assert myo.IMU_DATA == "d5060402-a904-deb9-4748-2c7f4a124842"
    assert [myo.emg_characteristic_index(u.upper()) for u in myo.EMG_DATA] == [0, 1, 2, 3]
    assert myo.EMG_DATA[2] == "d5060305-a904-deb9-4748-2c7f4a124842"
    with pytest.raises(ValueError, match="not one of the Myo EMG"):
        myo.emg_characteristic_index(myo.IMU_DATA)
    with pytest.raises(ValueError, match="short"):
        myo.myo_uuid(0x10000)


def test_decode_error_names_the_three_lengths() -> None:
    with pytest.raises(DecodeError, match=r"^myo: notification of 18 bytes, expected 16 \(EMG\), 20"):
        myo.decode(bytes(18))


def test_encoders_reject_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"\[-128, 127\]"):
        myo.encode_emg(np.full((2, 8), 128))
    with pytest.raises(ValueError, match="16 integers"):
        myo.encode_emg(np.zeros((2, 7), int))
    with pytest.raises(ValueError, match="mask"):
        myo.encode_fv(np.zeros(8, int), 256)
