"""The open DIY strap format: the documented example, lossless round trips, rejects, tracking."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from myoflow.devices.codec import DecodeError, Loss
from myoflow.devices.protocols.diy import codec as diy

DOC = Path(__file__).resolve().parents[2] / "docs" / "diy-strap-protocol.md"
EXAMPLE_HEX = "01 02 01 02 40 42 0f 00 00 00 00 3f e8 03 64 00 9c ff c8 00 38 ff ff ff 01 00 ff 7f 00 80"


def test_documented_example() -> None:
    assert EXAMPLE_HEX in DOC.read_text(encoding="utf-8")
    p = diy.decode(bytes.fromhex(EXAMPLE_HEX))
    assert p.kind == "emg" and p.counter == 513
    assert p.samples.tolist() == [[100, -100], [200, -200], [-1, 1], [32767, -32768]]
    assert p.device_time_ns == 1_003_000_000
    assert p.meta == {
        "fs_hz": 1000,
        "uv_per_count": 0.5,
        "t_first_us": 1_000_000,
        "sample_bits": 16,
        "clipped": False,
        "restart": False,
    }
    samples = np.array(p.samples)
    assert diy.encode(
        samples, block=513, t_first_us=1_000_000, fs_hz=1000, uv_per_count=0.5
    ) == bytes.fromhex(EXAMPLE_HEX)


def test_documented_capacity_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    rows = {
        ("247 (244 B)", "int16"): [diy.max_samples(c, False, 247) for c in range(1, 5)],
        ("247 (244 B)", "int24"): [diy.max_samples(c, True, 247) for c in range(1, 5)],
        ("185 (182 B), common on phones", "int16"): [diy.max_samples(c, False, 185) for c in range(1, 5)],
    }
    for (mtu, fmt), counts in rows.items():
        assert f"| {mtu} | {fmt} | " + " | ".join(map(str, counts)) + " |" in text
    assert [diy.max_samples(c, False, 247) for c in range(1, 5)] == [115, 57, 38, 28]
    assert diy.max_samples(4, False, 23) == 0  # the doc's "does not fit"


@st.composite
def packets(draw: st.DrawFn) -> dict:
    ch = draw(st.integers(1, 4))
    int24 = draw(st.booleans())
    n = draw(st.integers(1, diy.max_samples(ch, int24)))
    half = 1 << (23 if int24 else 15)
    return {
        "samples": draw(hnp.arrays(np.int64, (n, ch), elements=st.integers(-half, half - 1))),
        "block": draw(st.integers(0, 65535)),
        "t_first_us": draw(st.integers(0, (1 << 32) - 1)),
        "fs_hz": draw(st.integers(1, 2000)),
        "uv_per_count": float(np.float32(draw(st.floats(1e-6, 1e6)))),
        "int24": int24,
        "clipped": draw(st.booleans()),
        "restart": draw(st.booleans()),
    }


@given(packets())
def test_round_trip_is_lossless(kw: dict) -> None:
    data = diy.encode(**kw)
    assert len(data) <= 244
    p = diy.decode(data)
    np.testing.assert_array_equal(p.samples, kw["samples"])
    n = kw["samples"].shape[0]
    assert p.counter == kw["block"]
    assert p.device_time_ns == kw["t_first_us"] * 1000 + round((n - 1) * 1e9 / kw["fs_hz"])
    assert p.meta == {
        "fs_hz": kw["fs_hz"],
        "uv_per_count": kw["uv_per_count"],
        "t_first_us": kw["t_first_us"],
        "sample_bits": 24 if kw["int24"] else 16,
        "clipped": kw["clipped"],
        "restart": kw["restart"],
    }
    assert (
        diy.decode(diy.encode(np.asarray(p.samples), **{k: v for k, v in kw.items() if k != "samples"})) == p
    )


def _header(**changes: int) -> bytearray:
    b = bytearray(bytes.fromhex(EXAMPLE_HEX))
    for offset, value in changes.items():
        b[int(offset[1:])] = value
    return b


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (bytes(_header(o0=0x02)), "schema 0x02, expected schema 0x01"),
        (bytes(_header(o1=0x42)), "config 0x42"),
        (bytes(_header(o1=0x00)), "config 0x00"),
        (bytes(_header(o1=0x05)), "config 0x05"),
        (bytes(_header(o11=0x00, o10=0x00, o9=0x00, o8=0x00)), "factor 0.0"),
        (bytes(_header(o11=0xFF, o10=0xC0)), "factor nan"),
        (bytes(_header(o11=0xBF)), "factor -0.5"),
        (bytes(_header(o12=0, o13=0)), "fs_hz 0"),
        (bytes.fromhex(EXAMPLE_HEX)[:14], "0 sample bytes"),
        (bytes.fromhex(EXAMPLE_HEX)[:-2], "14 sample bytes"),
        (bytes.fromhex(EXAMPLE_HEX)[:13], "packet of 13 bytes"),
    ],
)
def test_malformed_packets_raise_decode_error(data: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=re.escape(message)):
        diy.decode(data)


def test_int24_and_flags() -> None:
    v = np.array([[-(1 << 23), (1 << 23) - 1, 0, -1]])
    p = diy.decode(
        diy.encode(
            v,
            block=0,
            t_first_us=0,
            fs_hz=2000,
            uv_per_count=1.0,
            int24=True,
            clipped=True,
            restart=True,
        )
    )
    assert p.samples.dtype == np.int32 and p.samples.tolist() == v.tolist()
    assert p.meta["clipped"] and p.meta["restart"] and p.meta["sample_bits"] == 24


def test_encode_rejects_bad_arguments() -> None:
    ok = {"block": 0, "t_first_us": 0, "fs_hz": 1000, "uv_per_count": 1.0}
    with pytest.raises(ValueError, match="more than 244 at mtu 247.*at most 28 samples"):
        diy.encode(np.zeros((29, 4), int), **ok)
    with pytest.raises(ValueError, match="int16"):
        diy.encode(np.full((1, 1), 40000), **ok)
    with pytest.raises(ValueError, match="1..4 channels"):
        diy.encode(np.zeros((1, 5), int), **ok)
    with pytest.raises(ValueError, match="fs_hz"):
        diy.encode(np.zeros((1, 1), int), **{**ok, "fs_hz": 0})
    with pytest.raises(ValueError, match="uv_per_count"):
        diy.encode(np.zeros((1, 1), int), **{**ok, "uv_per_count": -1.0})
    with pytest.raises(ValueError, match="uv_per_count"):
        diy.encode(np.zeros((1, 1), int), **{**ok, "uv_per_count": 1e39})  # float32 overflow
    with pytest.raises(ValueError, match="n_channels"):
        diy.max_samples(0)


def _block(block: int, t_us: int, n: int = 20, fs: int = 1000, restart: bool = False) -> diy.Packet:
    return diy.decode(
        diy.encode(
            np.zeros((n, 1), int),
            block=block,
            t_first_us=t_us,
            fs_hz=fs,
            uv_per_count=1.0,
            restart=restart,
        )
    )


def test_tracker_counts_blocks_and_samples_across_both_wraps() -> None:
    t = diy.DiyTracker()
    step = 20_000  # 20 samples at 1 kHz
    t0 = (1 << 32) - 2 * step  # the u32 clock wraps after the second block
    assert t.update(_block(65534, t0)) == Loss(0, 0)
    assert t.update(_block(65535, t0 + step)) == Loss(0, 0)
    assert t.update(_block(0, (t0 + 2 * step) % (1 << 32))) == Loss(0, 0)
    assert t.t_first_us == t0 + 2 * step  # unwrapped past 2**32
    assert t.update(_block(3, (t0 + 5 * step) % (1 << 32))) == Loss(2, 40)
    assert (t.lost_packets, t.lost_samples) == (2, 40)


def test_tracker_counts_samples_when_the_counter_wrapped_unseen() -> None:
    t = diy.DiyTracker()
    t.update(_block(10, 0))
    # 65536 + 4 blocks later: the counter says 4 were lost, the clock says 65539 blocks.
    loss = t.update(_block(15, (65536 + 5) * 20_000 % (1 << 32)))
    assert loss.packets == 4 and loss.samples == (65536 + 4) * 20


def test_tracker_restart_flag_starts_afresh() -> None:
    t = diy.DiyTracker()
    t.update(_block(100, 5_000_000))
    assert t.update(_block(0, 7, restart=True)) == Loss(0, 0)
    assert t.restarts == 1
    assert t.update(_block(1, 7 + 20_000)) == Loss(0, 0)
