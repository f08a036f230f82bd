"""One conformance test that every protocol codec passes.

Each codec is described by a :class:`Case`: how to build a random valid packet (with the
sample values that went in), which byte strings have wrong lengths, a golden packet whose
values were worked out independently of the codec, and for codecs with a counter how to set
it and track loss. Then every codec gets the same checks: round trip, wrong lengths, golden
packet, counter wrap, loss counting, and fuzzing with random and mutated bytes, which may only
ever raise :class:`DecodeError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from myoflow.devices.codec import DecodeError, Loss, Packet, pack_bits, unpack_bits
from myoflow.devices.protocols.diy import codec as diy
from myoflow.devices.protocols.ganglion import codec as ganglion
from myoflow.devices.protocols.myo import codec as myo
from myoflow.devices.protocols.polar_pmd import codec as polar_pmd

Maker = Callable[[np.random.Generator], tuple[bytes, np.ndarray]]


@dataclass(frozen=True)
class Case:
    name: str
    decode: Callable[[bytes], Packet]
    random_packet: Maker
    tolerance: int
    bad_lengths: Callable[[bytes], list[bytes]]
    golden: bytes
    golden_samples: np.ndarray
    # Codecs with a packet counter:
    with_counter: Callable[[int], bytes] | None = None
    counter_range: tuple[int, int] | None = None  # first and last value before the wrap
    tracker: Callable[[], Callable[[Packet], Loss]] | None = None


# ----------------------------------------------------------------------------------- myo
def _myo_packet(rng: np.random.Generator) -> tuple[bytes, np.ndarray]:
    which = rng.integers(3)
    if which == 0:
        v = rng.integers(-128, 128, size=(2, 8))
        return myo.encode_emg(v), v
    if which == 1:
        v = rng.integers(-32768, 32768, size=(1, 10))
        return myo.encode_imu(v), v
    v = rng.integers(0, 65536, size=(1, 8))
    return myo.encode_fv(v, int(rng.integers(-128, 128))), v


MYO = Case(
    "myo",
    myo.decode,
    _myo_packet,
    0,
    bad_lengths=lambda b: [b""] + [bytes(n) for n in range(1, 40) if n not in (16, 17, 20)],
    golden=bytes([0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFE, 0x10, 0xF0] + list(range(8))),
    golden_samples=np.array([[0, 1, 127, -128, -1, -2, 16, -16], [0, 1, 2, 3, 4, 5, 6, 7]]),
)


# ------------------------------------------------------------------------------ ganglion
def _ganglion_packet(rng: np.random.Generator, packet_id: int | None = None) -> tuple[bytes, np.ndarray]:
    pid = int(rng.integers(200)) if packet_id is None else packet_id
    v = rng.integers(-(1 << 23), 1 << 23, size=(2, 4))
    return ganglion.encode(v, pid, int(rng.integers(-128, 128))), v


def _ganglion_golden() -> tuple[bytes, np.ndarray]:
    # Eight 18-bit fields written as a bit string by hand, independently of pack_bits.
    fields = [1, -1, (1 << 17) - 1, -(1 << 17), 0, 2, -2, 12345]
    bits = "".join(format(f & 0x3FFFF, "018b") for f in fields)
    body = int(bits, 2).to_bytes(18, "big")
    return bytes([10]) + body + bytes([0xF6]), np.array(fields).reshape(2, 4) * 64


_G_GOLDEN, _G_SAMPLES = _ganglion_golden()


def _ganglion_tracker() -> Callable[[Packet], Loss]:
    t = ganglion.GanglionTracker()
    return lambda p: t.update(int(p.counter))


GANGLION = Case(
    "ganglion",
    ganglion.decode,
    _ganglion_packet,
    127,
    bad_lengths=lambda b: [b[:n] for n in range(1, 20)] + [b + bytes(k) for k in (1, 2, 7)],
    golden=_G_GOLDEN,
    golden_samples=_G_SAMPLES,
    with_counter=lambda c: _ganglion_packet(np.random.default_rng(c), c)[0],
    counter_range=(0, 99),
    tracker=_ganglion_tracker,
)


# ----------------------------------------------------------------------------- polar pmd
def _polar_packet(rng: np.random.Generator) -> tuple[bytes, np.ndarray]:
    n = int(rng.integers(1, 80))
    t = int(rng.integers(0, 1 << 62))
    which = rng.integers(4)
    if which == 0:  # raw ACC, int8/int16/int24
        ftype = int(rng.integers(3))
        half = 1 << (8 * (ftype + 1) - 1)
        v = rng.integers(-half, half, size=(n, 3))
        return polar_pmd.encode_raw(polar_pmd.Measurement.ACC, v, t, ftype), v
    if which == 1:  # raw ECG int24
        v = rng.integers(-(1 << 23), 1 << 23, size=(n, 1))
        return polar_pmd.encode_raw(polar_pmd.Measurement.ECG, v, t, 0), v
    meas = polar_pmd.Measurement.ACC if which == 2 else polar_pmd.Measurement.GYRO
    steps = rng.integers(-(1 << int(rng.integers(1, 12))), 1 << 10, size=(n, 3))
    v = np.clip(np.cumsum(steps, axis=0), -32768, 32767)
    return polar_pmd.encode_compressed(meas, v, t, int(rng.integers(2))), v


def _polar_bad(b: bytes) -> list[bytes]:
    out = [b[:n] for n in range(0, 11)]  # shorter than header + 1 data byte
    raw_acc16 = polar_pmd.encode_raw(polar_pmd.Measurement.ACC, np.ones((4, 3), int), 5, 1)
    out += [raw_acc16[:-1], raw_acc16 + b"\x00", raw_acc16[:-3]]  # not whole samples
    comp = polar_pmd.encode_compressed(polar_pmd.Measurement.ACC, np.arange(30).reshape(10, 3), 5)
    out += [comp[:-1], comp + b"\x07", comp[:15]]  # block cut short, stray byte, cut reference
    return out


# Raw ACC frame type 1 (int16 milli-g), first two samples of the Polar BLE SDK's
# AccDataTest.kt "process acc raw data frame type 1"; the official compressed vector is
# checked in test_polar_pmd.py.
POLAR_RAW_HEX = "02 00 94 35 77 00 00 00 00 01 F7 FF FF FF E7 03 F8 FF FE FF E5 03"

POLAR = Case(
    "polar_pmd",
    polar_pmd.decode,
    _polar_packet,
    0,
    bad_lengths=_polar_bad,
    golden=bytes.fromhex(POLAR_RAW_HEX),
    golden_samples=np.array([[-9, -1, 999], [-8, -2, 997]]),
)


# ----------------------------------------------------------------------------------- diy
def _diy_packet(rng: np.random.Generator, block: int | None = None) -> tuple[bytes, np.ndarray]:
    ch = int(rng.integers(1, 5))
    int24 = bool(rng.integers(2))
    n = int(rng.integers(1, diy.max_samples(ch, int24) + 1))
    half = 1 << (23 if int24 else 15)
    v = rng.integers(-half, half, size=(n, ch))
    b = diy.encode(
        v,
        block=int(rng.integers(65536)) if block is None else block,
        t_first_us=int(rng.integers(1 << 32)),
        fs_hz=int(rng.integers(1, 2001)),
        uv_per_count=float(rng.uniform(0.01, 10)),
        int24=int24,
    )
    return b, v


# The worked example of docs/diy-strap-protocol.md.
DIY_EXAMPLE_HEX = "01 02 01 02 40 42 0f 00 00 00 00 3f e8 03 64 00 9c ff c8 00 38 ff ff ff 01 00 ff 7f 00 80"


def _diy_with_block(block: int) -> bytes:
    # Consecutive blocks of 10 samples at 1 kHz: device time advances 10 ms per block.
    return diy.encode(
        np.zeros((10, 2), int),
        block=block % 65536,
        t_first_us=10_000 * block,
        fs_hz=1000,
        uv_per_count=1.0,
    )


def _diy_tracker() -> Callable[[Packet], Loss]:
    return diy.DiyTracker().update


DIY = Case(
    "diy",
    diy.decode,
    _diy_packet,
    0,
    bad_lengths=lambda b: [b[:n] for n in range(0, 16)] + [b[:-1], b + b"\x00"],
    golden=bytes.fromhex(DIY_EXAMPLE_HEX),
    golden_samples=np.array([[100, -100], [200, -200], [-1, 1], [32767, -32768]]),
    with_counter=_diy_with_block,
    counter_range=(0, 65535),
    tracker=_diy_tracker,
)

CASES = [MYO, GANGLION, POLAR, DIY]
COUNTED = [c for c in CASES if c.with_counter is not None]
ids = [c.name for c in CASES]


def check_packet(p: Packet) -> None:
    """What every decoded packet must look like."""
    assert isinstance(p, Packet)
    assert p.samples.ndim == 2 and np.issubdtype(p.samples.dtype, np.integer)
    assert p.samples.flags.c_contiguous and not p.samples.flags.writeable


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_round_trip(case: Case) -> None:
    rng = np.random.default_rng(1)
    for _ in range(60):
        data, values = case.random_packet(rng)
        p = case.decode(data)
        check_packet(p)
        assert p.samples.shape == values.shape
        err = np.abs(p.samples.astype(np.int64) - values)
        assert err.max() <= case.tolerance


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_wrong_lengths_raise_decode_error(case: Case) -> None:
    data, _ = case.random_packet(np.random.default_rng(2))
    bad = case.bad_lengths(case.golden) + case.bad_lengths(data)
    assert bad
    for b in bad:
        with pytest.raises(DecodeError) as info:
            case.decode(b)
        assert info.value.protocol == case.name
        assert str(info.value).startswith(f"{case.name}: ")
        assert "expected" in str(info.value)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_golden_packet(case: Case) -> None:
    p = case.decode(case.golden)
    check_packet(p)
    k = case.golden_samples.shape[0]
    np.testing.assert_array_equal(p.samples[:k], case.golden_samples)


@pytest.mark.parametrize("case", COUNTED, ids=[c.name for c in COUNTED])
def test_counter_wraps_without_loss(case: Case) -> None:
    first, last = case.counter_range
    seq = [last - 2, last - 1, last, first, first + 1]
    track = case.tracker()
    losses = []
    for c in seq:
        p = case.decode(case.with_counter(c))
        assert p.counter == c
        losses.append(track(p))
    assert all(loss.packets == 0 and loss.samples == 0 for loss in losses)
    # Skipping the wrap itself (last -> first + 1) is one lost packet.
    track = case.tracker()
    track(case.decode(case.with_counter(last)))
    assert track(case.decode(case.with_counter(first + 1))).packets == 1


@pytest.mark.parametrize("case", COUNTED, ids=[c.name for c in COUNTED])
def test_loss_counting(case: Case) -> None:
    first, last = case.counter_range
    period = last - first + 1
    rng = np.random.default_rng(3)
    sent = [first + (i % period) for i in range(250)]
    keep = rng.random(len(sent)) > 0.1
    keep[0] = True
    track = case.tracker()
    losses = [track(case.decode(case.with_counter(c))) for c, k in zip(sent, keep, strict=True) if k]
    assert sum(loss.packets for loss in losses) == int((~keep).sum()) > 0


def _check_fuzz(decode: Callable[[bytes], Packet], data: bytes) -> None:
    try:
        p = decode(data)
    except DecodeError:
        return
    check_packet(p)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_fuzz_random_and_mutated(case: Case) -> None:
    rng = np.random.default_rng(4)
    for _ in range(400):  # random bytes of random length
        _check_fuzz(case.decode, rng.integers(0, 256, int(rng.integers(0, 300)), dtype=np.uint8).tobytes())
    seeds = [case.golden] + [case.random_packet(rng)[0] for _ in range(20)]
    for seed in seeds:  # mutations of valid packets
        for _ in range(40):
            b = bytearray(seed)
            op = rng.integers(4)
            if op == 0 and b:
                i = int(rng.integers(len(b)))
                b[i] ^= 1 << int(rng.integers(8))
            elif op == 1 and b:
                b[int(rng.integers(len(b)))] = int(rng.integers(256))
            elif op == 2:
                b = b[: int(rng.integers(len(b) + 1))]
            else:
                b += rng.integers(0, 256, int(rng.integers(1, 8)), dtype=np.uint8).tobytes()
            _check_fuzz(case.decode, bytes(b))
        _check_fuzz(case.decode, bytes([seed[0]]) + bytes(len(seed) - 1))  # zeroed body
        _check_fuzz(case.decode, bytes([seed[0]]) + b"\xff" * (len(seed) - 1))  # all ones


@pytest.mark.parametrize("case", CASES, ids=ids)
@given(data=st.binary(max_size=300))
def test_fuzz_hypothesis(case: Case, data: bytes) -> None:
    _check_fuzz(case.decode, data)


def test_decode_error_message_names_protocol_expected_and_actual() -> None:
    with pytest.raises(DecodeError, match=r"^ganglion: packet of 19 bytes, expected 20$"):
        ganglion.decode(bytes(19))
    assert isinstance(DecodeError("x", "a", "b"), ValueError)


@given(
    width=st.integers(1, 57),
    values=st.lists(st.integers(0, (1 << 57) - 1), min_size=1, max_size=40),
    msb_first=st.booleans(),
)
def test_bit_helpers_round_trip_and_match_a_bit_string(
    width: int, values: list[int], msb_first: bool
) -> None:
    v = np.array(values, dtype=np.int64) & ((1 << width) - 1)
    packed = pack_bits(v, width, msb_first=msb_first)
    assert len(packed) == (width * v.size + 7) // 8
    buf = np.frombuffer(packed, np.uint8)
    np.testing.assert_array_equal(unpack_bits(buf, width, v.size, msb_first=msb_first), v)
    # Independent reference: a string of bits, MSB-first, or LSB-first per byte.
    if msb_first:
        bits = "".join(format(int(x), f"0{width}b") for x in v)
        bits += "0" * (-len(bits) % 8)
        assert int(bits, 2).to_bytes(len(bits) // 8, "big") == packed
    else:
        total = sum(int(x) << (i * width) for i, x in enumerate(v))
        assert total.to_bytes(len(packed), "little") == packed
