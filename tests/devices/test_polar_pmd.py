"""Polar PMD codec: the official SDK vector, raw and compressed frames, control point, times."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from myoflow.devices.codec import DecodeError
from myoflow.devices.protocols.polar_pmd import codec as pmd

M, S = pmd.Measurement, pmd.Setting

# The official vector: Polar BLE SDK (polarofficial/polar-ble-sdk) Android test AccDataTest.kt,
# "process acc compressed data type 0": the 10-byte header and all 218 content bytes exactly as
# listed there (nothing completed by us). The SDK asserts the reference sample, the first delta,
# 57 samples, and every sample x factor 2.44e-4 x 1000 within the +-8 g range (milli-g).
OFFICIAL_HEX = (
    "02 00 94 35 77 00 00 00 00 80 "
    "71 07 F0 6A 9E 8D 0A 38 BE 5C BE BA 2F 96 B3 EE 4B E5 AD FB 42 B9 EB BE 4C FE BA 2F 92 BF "
    "EE 4B E4 B1 FB 12 B9 EC BD 3C 3E BB 2F 8F D3 DE 4B E3 B5 F7 D2 B8 ED BD 30 7E 7B 2F 8B E3 "
    "CE 8B E2 BA F7 A2 B8 EE BC 20 BE 7B 2F 88 F3 CE CB E1 BD EF 52 F8 EF BC 18 FE 3B 2F 84 03 "
    "BF CB E0 C2 EF 32 B8 F0 BB 04 4E BC 2E 81 13 AF 0B E0 C6 EF F2 F7 F1 B9 FC 7D BC 2E 7D 27 "
    "9F 4B DF CA EB C2 F7 F2 B8 EC CD 7C 2E 7B 37 8F 4B DE CE E3 92 F7 F3 B8 E0 0D FD 2D 77 4B "
    "7F CB DD D2 DF 62 37 F5 B7 D4 4D BD 2D 74 5B 6F CB DC D7 D7 32 37 F6 B5 C8 8D 7D 2D 71 6B "
    "4F 4B DC DC D3 F2 36 F7 B4 BC DD FD 2C 6F 7B 3F 4B DB E0 CF D2 36 F8 B2 B0 2D BE 2C 6C 8F "
    "1F CB DA E3 C7 A2 76 F9"
)


def test_official_sdk_vector() -> None:
    frame = bytes.fromhex(OFFICIAL_HEX)
    assert frame[10:16] == bytes.fromhex("71 07 F0 6A 9E 8D")  # reference sample
    assert frame[16:18] == bytes.fromhex("0A 38")  # first block: 10-bit deltas x 56 samples
    assert len(frame) == 10 + 6 + 2 + (10 * 56 * 3 + 7) // 8  # the block fills the frame
    p = pmd.decode(frame)
    assert p.kind == "acc" and p.meta == {"measurement": 2, "frame_type": 0, "compressed": True}
    assert p.device_time_ns == 2_000_000_000
    assert p.samples.shape == (57, 3)
    assert p.samples[0].tolist() == [1905, 27376, -29282]
    assert (p.samples[1] - p.samples[0]).tolist() == [190, -105, -85]
    factor = 2.44e-4
    milli_g = pmd.to_physical(p, factor) * 1000
    assert np.abs(milli_g).max() <= 8000
    # The SDK's expected first sample, (factor * value * 1000).toInt() in float32.
    expected = (np.float32(factor) * p.samples[0].astype(np.float32) * np.float32(1000)).astype(int)
    np.testing.assert_array_equal(milli_g[0].astype(int), expected)
    # Our encoder reproduces the frame byte for byte at the same bit width.
    assert pmd.encode_compressed(M.ACC, p.samples, p.device_time_ns, 0, width=10) == frame


def test_official_compressed_type1_vector() -> None:
    # AccDataTest.kt "process acc compressed data type 1": 6-bit deltas, one delta sample.
    frame = bytes.fromhex("02 65 00 00 00 00 00 00 00 81 F1 FF 14 00 F0 03 06 01 7B 0F 08")
    p = pmd.decode(frame)
    assert p.samples.tolist() == [[-15, 20, 1008], [-20, 17, 1008]]
    assert p.device_time_ns == 101 and p.meta["frame_type"] == 1


def test_raw_ecg_int24() -> None:
    head = bytes.fromhex("00 00 94 35 77 00 00 00 00 00")
    p = pmd.decode(head + bytes.fromhex("FF FF FF 00 00 80 FF FF 7F 2C 01 00"))
    assert p.kind == "ecg" and p.samples.shape == (4, 1)
    assert p.samples[:, 0].tolist() == [-1, -(1 << 23), (1 << 23) - 1, 300]
    np.testing.assert_allclose(pmd.to_physical(p), p.samples)  # already uV


@given(st.data())
def test_raw_round_trip_is_lossless(data: st.DataObject) -> None:
    meas, ftype = data.draw(st.sampled_from(sorted(pmd.RAW_LAYOUT)))
    channels, nbytes = pmd.RAW_LAYOUT[(meas, ftype)]
    half = 1 << (8 * nbytes - 1)
    n = data.draw(st.integers(1, 60))
    values = data.draw(hnp.arrays(np.int64, (n, channels), elements=st.integers(-half, half - 1)))
    t = data.draw(st.integers(0, (1 << 64) - 1))
    p = pmd.decode(pmd.encode_raw(meas, values, t, ftype))
    np.testing.assert_array_equal(p.samples, values)
    assert p.device_time_ns == t and p.meta["compressed"] is False


@given(st.data())
def test_compressed_round_trip_is_lossless(data: st.DataObject) -> None:
    meas, ftype = data.draw(st.sampled_from(sorted(pmd.COMPRESSED_LAYOUT)))
    n = data.draw(st.integers(1, 600))  # over 255 deltas -> several blocks
    channels = pmd.COMPRESSED_LAYOUT[(meas, ftype)][0]  # MAG type 1: x, y, z and a status
    values = data.draw(hnp.arrays(np.int64, (n, channels), elements=st.integers(-32768, 32767)))
    p = pmd.decode(pmd.encode_compressed(meas, values, 123, ftype))
    np.testing.assert_array_equal(p.samples, values)
    assert p.meta["compressed"] is True and p.kind == {2: "acc", 5: "gyro", 6: "mag"}[meas]


def test_compressed_encoder_picks_the_smallest_width() -> None:
    values = np.array([[0, 0, 0], [3, -4, 0], [3, -4, 1]])
    frame = pmd.encode_compressed(M.ACC, values, 0)
    assert frame[16:18] == bytes([3, 2])  # deltas within [-4, 3] need 3 bits
    with pytest.raises(ValueError, match="width"):
        pmd.encode_compressed(M.ACC, values, 0, width=2)


def test_start_stop_and_settings_commands() -> None:
    acc = pmd.start_command(M.ACC, {S.SAMPLE_RATE: 200, S.RESOLUTION: 16, S.RANGE: 8})
    assert acc == bytes.fromhex("02 02 00 01 C8 00 01 01 10 00 02 01 08 00")
    ecg = pmd.start_command(M.ECG, {S.SAMPLE_RATE: 130, S.RESOLUTION: 14})
    assert ecg == bytes.fromhex("02 00 00 01 82 00 01 01 0E 00")
    assert pmd.stop_command(M.ACC) == bytes.fromhex("03 02")
    assert pmd.settings_command(M.GYRO) == bytes.fromhex("01 05")
    with pytest.raises(ValueError, match="SAMPLE_RATE"):
        pmd.encode_settings({S.SAMPLE_RATE: 70000})
    with pytest.raises(ValueError, match="settings key"):
        pmd.encode_settings({9: 1})


def test_settings_parse_multi_values_and_factor() -> None:
    factor = np.float32(2.44e-4).tobytes()
    params = (
        bytes.fromhex("00 04 19 00 32 00 64 00 C8 00  01 01 10 00  02 03 02 00 04 00 08 00 04 01 03")
        + bytes([5, 1])
        + factor
    )
    parsed = pmd.parse_settings(params)
    assert parsed[S.SAMPLE_RATE] == (25, 50, 100, 200)
    assert parsed[S.RESOLUTION] == (16,) and parsed[S.RANGE] == (2, 4, 8) and parsed[S.CHANNELS] == (3,)
    assert parsed[S.FACTOR][0] == pytest.approx(2.44e-4, rel=1e-6)
    assert pmd.parse_settings(bytes([0])) == {}  # a list of one byte holds no settings (Polar SDK)
    for bad in (bytes([0, 1]), bytes([0, 2, 1, 0]), bytes([7, 1, 0])):
        with pytest.raises(DecodeError, match="polar_pmd"):
            pmd.parse_settings(bad)


def test_control_point_responses_and_status_names() -> None:
    r = pmd.parse_control_point(bytes.fromhex("F0 02 02 00 00") + bytes([5, 1]) + np.float32(0.5).tobytes())
    assert isinstance(r, pmd.ControlPointResponse)
    assert r.ok and r.op == 2 and r.measurement == 2 and not r.more
    assert r.settings()[S.FACTOR] == (0.5,)
    names = {
        code: pmd.parse_control_point(bytes([0xF0, 2, 2, code, 1])).status_name for code in (6, 10, 13, 99)
    }
    assert names == {
        6: "ALREADY_IN_STATE",
        10: "INVALID_MTU",
        13: "DEVICE_IN_CHARGER",
        99: "UNKNOWN_STATUS_99",
    }
    failed = pmd.parse_control_point(bytes([0xF0, 2, 0, 10, 1, 9, 9]))
    assert not failed.ok and not failed.more and failed.params == b""
    more = pmd.parse_control_point(bytes.fromhex("F0 01 02 00 01 00 01 C8 00"))
    assert more.more and more.settings() == {S.SAMPLE_RATE: (200,)}
    assert pmd.parse_control_point(bytes([0x01, 0, 2])) == pmd.StreamsStopped((0, 2))
    for bad in (b"", bytes([0xF0, 2, 2]), bytes([0x02, 2, 2, 0])):
        with pytest.raises(DecodeError, match="control point"):
            pmd.parse_control_point(bad)


def test_unsupported_frame_types_raise() -> None:
    with pytest.raises(
        DecodeError, match="ACC raw type 5 frame, expected one of ECG raw type 0, ACC raw type 0"
    ):
        pmd.decode(bytes.fromhex("02 00 00 00 00 00 00 00 00 05 00 00"))
    with pytest.raises(DecodeError, match="bit width 0"):
        pmd.decode(bytes.fromhex("02 00 00 00 00 00 00 00 00 80 00 00 00 00 00 00 00 05"))


def test_to_physical_units() -> None:
    raw = pmd.decode(pmd.encode_raw(M.ACC, np.array([[1000, -500, 0]]), 0, 1))
    np.testing.assert_allclose(pmd.to_physical(raw), [[1.0, -0.5, 0.0]])
    comp1 = pmd.decode(pmd.encode_compressed(M.ACC, np.array([[1000, 0, 0]]), 0, 1))
    np.testing.assert_allclose(pmd.to_physical(comp1, 2.0), [[2.0, 0.0, 0.0]])  # mg x factor
    gyro = pmd.decode(pmd.encode_compressed(M.GYRO, np.array([[100, 0, -100]]), 0, 0))
    np.testing.assert_allclose(pmd.to_physical(gyro, 0.5), [[50.0, 0.0, -50.0]])
