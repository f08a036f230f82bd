"""Hostile input: no exception but DecodeError from any codec, nothing escapes the decode path,
no gap the host clock rules out, exact accounting on duplicates and reorders, and a profile that
does not fit the strap is a clear error. Bounded for CI; ``benchmarks/bench_fuzz.py`` runs
>= 1 M mutated payloads per profile.
"""

from __future__ import annotations

import numpy as np
import pytest
from fuzz_streams import MUTATIONS, PROFILES, clean_stream, feed, mutate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from myoflow.devices.codec import DecodeError
from myoflow.devices.decoding import StrapDecoder
from myoflow.devices.errors import ProfileMismatch
from myoflow.devices.profiles import load_profile
from myoflow.devices.protocols import NAMES, get_protocol
from myoflow.devices.protocols.diy import codec as diy
from myoflow.devices.protocols.polar_pmd import codec as pmd

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLEAN = {name: clean_stream(name, 6.0, seed=1) for name in PROFILES}


@pytest.mark.parametrize("name", NAMES)
@FAST
@given(data=st.binary(max_size=300))
def test_codecs_raise_only_decode_error(name: str, data: bytes) -> None:
    protocol = get_protocol(name)
    try:
        protocol.decode(data)
    except DecodeError:
        pass
    try:
        protocol.in_band_factors(data)
    except DecodeError:
        pass
    assert protocol.control_reply(bytes([2, 2]), data) is None or data[:1] == b"\xf0"


@pytest.mark.parametrize("name", PROFILES)
@SLOW
@given(seed=st.integers(0, 2**32 - 1), rate=st.sampled_from([0.02, 0.2, 0.6]))
def test_mutated_streams_never_escape_nor_invent_gaps(name: str, seed: int, rate: float) -> None:
    profile = load_profile(name)
    rng = np.random.default_rng(seed)
    items = [
        (h, u, mutate(p, MUTATIONS[int(rng.integers(len(MUTATIONS)))], rng) if rng.random() < rate else p)
        for h, u, p in CLEAN[name]
    ]
    res = feed(profile, items)
    assert res.escapes == [] and res.absurd == []
    assert "internal error" not in res.decoder.discarded()  # nothing even reached the safety net


def _totals(name: str, items: list) -> tuple[dict[str, int], dict[str, int], object]:
    res = feed(load_profile(name), items)
    return res.samples, res.lost, res


COUNTED = [p for p in PROFILES if not p.startswith("myo")]  # the Myo has no counter or clock


def _kinds(name: str, items: list) -> list[tuple[str, str, int] | None]:
    """(uuid, packet kind, samples) of each data notification, None for the others."""
    protocol = get_protocol(load_profile(name).protocol)
    out: list[tuple[str, str, int] | None] = []
    for _, u, p in items:
        try:
            packet = protocol.decode(p)
        except DecodeError:
            out.append(None)
            continue
        out.append((u, packet.kind, packet.n_samples) if packet.n_samples else None)
    return out


@pytest.mark.parametrize("name", COUNTED)
def test_duplicates_are_not_new_samples(name: str) -> None:
    clean = CLEAN[name]
    kinds = _kinds(name, clean)
    dup = {i for i in range(10, len(clean), max(3, len(clean) // 25)) if kinds[i] is not None}
    items = []
    for i, (h, u, p) in enumerate(clean):
        items.append((h, u, p))
        if i in dup:
            items.append((h, u, p))  # the same notification again, at once
    want, _, _ = _totals(name, clean)
    got, lost, res = _totals(name, items)
    assert len(dup) > 5 and got == want and lost == {} and res.unknown_gaps == 0
    assert res.decoder.discarded() == {"duplicate": len(dup)}


@pytest.mark.parametrize("name", COUNTED)
def test_swapped_pairs_book_exactly_what_was_not_delivered(name: str) -> None:
    clean = CLEAN[name]
    kinds = _kinds(name, clean)
    items = list(clean)
    swapped: dict[str, int] = {}
    i = 20
    while i < len(items) - 1:
        j = next((k for k in range(i + 1, min(i + 10, len(items))) if kinds[k] == kinds[i]), None)
        if kinds[i] is not None and j is not None:
            (h1, u1, p1), (h2, u2, p2) = items[i], items[j]
            items[i], items[j] = (h1, u2, p2), (h2, u1, p1)  # packet j arrives first
            kind, n = kinds[i][1], kinds[i][2]
            swapped[kind] = swapped.get(kind, 0) + n
            i = j + 50
        else:
            i += 1
    want, _, _ = _totals(name, clean)
    got, lost, res = _totals(name, items)
    assert sum(swapped.values()) > 0 and res.unknown_gaps == 0
    for stream, n in want.items():
        assert got.get(stream, 0) + lost.get(stream, 0) == n, stream  # nothing invented or unbooked
    for kind, n in swapped.items():  # the late packet of each pair is dropped, and booked lost
        assert lost[f"fuzz/{kind}"] == n, kind


def test_a_polar_frame_a_day_ahead_drops_only_itself() -> None:
    name = "polar_h10_acc_ecg"
    clean = CLEAN[name]
    i = next(k for k, (_, _, p) in enumerate(clean) if k > 30 and p[0] == 2)  # an ACC frame
    h, u, p = clean[i]
    t = int.from_bytes(p[1:9], "little") + 86_400 * 10**9
    items = [*clean[:i], (h, u, p[:1] + t.to_bytes(8, "little") + p[9:]), *clean[i + 1 :]]
    want, _, _ = _totals(name, clean)
    got, lost, res = _totals(name, items)
    frame = pmd.decode(p).n_samples
    assert got["fuzz/acc"] == want["fuzz/acc"] - frame and lost["fuzz/acc"] == frame
    assert got["fuzz/ecg"] == want["fuzz/ecg"] and res.absurd == []


@pytest.mark.parametrize("bit", [20, 26, 31])
def test_a_flipped_diy_time_bit_moves_no_later_time(bit: int) -> None:
    name = "diy_emg_2ch_1khz"
    clean = CLEAN[name]
    i = 200
    h, u, p = clean[i]
    b = bytearray(p)
    b[4 + bit // 8] ^= 1 << (bit % 8)  # t_first_us: bytes 4-7 of the header
    assert diy.decode(bytes(b)).meta["t_first_us"] != diy.decode(p).meta["t_first_us"]
    items = [*clean[:i], (h, u, bytes(b)), *clean[i + 1 :]]
    ref = StrapDecoder(load_profile(name), "fuzz")
    dec = StrapDecoder(load_profile(name), "fuzz")
    a = [x for h_, u_, p_ in clean for x in ref.feed(h_, u_, p_)]
    c = [x for h_, u_, p_ in items for x in dec.feed(h_, u_, p_)]
    times_a = np.concatenate([x.times for x in a if hasattr(x, "times")])
    times_c = np.concatenate([x.times for x in c if hasattr(x, "times")])
    assert times_c.size == times_a.size and not any(x.__class__.__name__ == "Gap" for x in c)
    assert np.max(np.abs(times_c - times_a)) < 0.01  # s: no 71-min gap, no 2,147 s shift


@pytest.mark.parametrize(("where", "field"), [(0, "time"), (150, "time"), (150, "counter")])
def test_a_corrupted_diy_reference_does_not_under_book_every_later_loss(where: int, field: str) -> None:
    """Regression (1 M-payload fuzz, 3 absurd gaps): a first packet with a flipped time bit (or a
    packet whose counter and time were both wrong) became the state every later packet was
    checked against; every packet after a loss then "disagreed" with it, the smaller loss (none) was
    taken, the sample index fell further behind with each loss, and a later corrupted time let
    the whole deficit be booked at once as one gap of 2,350-4,360 samples 7-23 ms after the
    previous packet. Now a packet that agrees with the one before it re-anchors the state."""
    name = "diy_emg_2ch_1khz"
    clean = CLEAN[name]
    per = diy.decode(clean[0][2]).n_samples
    b = bytearray(clean[where][2])
    if field == "time":
        b[4 + 25 // 8] ^= 1 << (25 % 8)  # t_first_us + 33.55 s (bytes 4-7 of the header)
    else:
        b[3] ^= 0x80  # the u16 block counter (bytes 2-3) + 32768
    items = [*clean[:where], (clean[where][0], clean[where][1], bytes(b)), *clean[where + 1 :]]
    lost = {k for k in range(where + 1, len(clean)) if (k - where) % 4 == 1}  # the next, every 4th
    items = [x for k, x in enumerate(items) if k not in lost]
    res = feed(load_profile(name), items)
    assert res.absurd == [] and res.escapes == []
    # every sample is either delivered or booked lost (to within the corrupted packet)
    assert abs(res.samples["fuzz/emg"] + res.lost["fuzz/emg"] - len(clean) * per) <= per + 1
    assert abs(res.lost["fuzz/emg"] - len(lost) * per) <= per + 1


def test_stale_ganglion_duplicates_book_no_loss() -> None:
    name = "ganglion_fw3"
    clean = CLEAN[name]
    items = list(clean)
    for i in range(100, len(items), 97):  # re-send a packet from 3 packets earlier
        h, u, _ = items[i]
        items.insert(i + 1, (h + 0.0005, u, items[i - 3][2]))
    want, _, _ = _totals(name, clean)
    got, lost, _ = _totals(name, items)
    assert got == want and lost == {}


def test_a_diy_strap_sending_24_bit_samples_on_a_16_bit_profile_is_a_clear_error() -> None:
    profile = load_profile("diy_emg_2ch_1khz")
    dec = StrapDecoder(profile, "left")
    for k in range(8):
        payload = diy.encode(np.ones((25, 2), int), block=k, t_first_us=k * 25_000, fs_hz=1000,
                             uv_per_count=1.0, int24=True)  # fmt: skip
        assert dec.feed(1.0 + k * 0.025, diy.DATA, payload) == []
    assert isinstance(dec.mismatch, ProfileMismatch)
    text = str(dec.mismatch)
    assert "diy_emg_2ch_1khz" in text and "24-bit" in text and "16-bit" in text
    assert dec.discarded() == {"does not fit the profile": 8}


def test_notifications_of_another_strap_are_a_clear_error() -> None:
    profile = load_profile("polar_h10_acc_ecg")
    dec = StrapDecoder(profile, "chest")
    for k in range(5):
        dec.feed(1.0 + k * 0.01, pmd.DATA, bytes([0xFF]) + bytes(19))
    assert isinstance(dec.mismatch, ProfileMismatch)
    assert "polar_h10_acc_ecg" in str(dec.mismatch) and "does not decode" in str(dec.mismatch)
