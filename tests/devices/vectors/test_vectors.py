"""Conformance: other people's bytes through myoflow's codecs.

Each JSON file beside this module holds bytes and expected values taken from one public source
(see README.md there: repository, path, commit, license). The tests below only read those files
and call the codecs; nothing here derives an expected value from myoflow's own encoders.
"""

from __future__ import annotations

import importlib
import json
import struct
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from myoflow.devices.codec import DecodeError, Packet
from myoflow.stream import StreamInfo

HERE = Path(__file__).parent


def _load(name: str) -> dict[str, Any]:
    return json.loads((HERE / name).read_text())


def _codec(protocol: str) -> ModuleType:
    """The protocol's codec module, wherever the package keeps it."""
    for path in (f"myoflow.devices.protocols.{protocol}.codec", f"myoflow.devices.{protocol}"):
        try:
            return importlib.import_module(path)
        except ModuleNotFoundError:
            continue
    raise ModuleNotFoundError(f"no codec module for protocol {protocol!r}")


def _bytes(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


POLAR = _load("polar_ble_sdk.json")
POLAR_ISSUES = _load("polar_issues.json")
GANGLION = _load("openbci_ganglion.json")
MYO = _load("myo_dl_myo.json")


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [str(it.get("name", i)) for i, it in enumerate(items)]


# ----------------------------------------------------------------------------- Polar PMD
@pytest.mark.parametrize("vec", POLAR["data_frames"], ids=_ids(POLAR["data_frames"]))
def test_polar_sdk_data_frame(vec: dict[str, Any]) -> None:
    pmd = _codec("polar_pmd")
    packet = pmd.decode(_bytes(vec["hex"]))
    assert packet.kind == vec["kind"]
    assert packet.device_time_ns == vec["device_time_ns"]
    assert packet.meta["frame_type"] == vec["frame_type"]
    assert packet.meta["compressed"] == vec["compressed"]
    assert packet.n_samples == vec["n_samples"]
    if "head" in vec:
        head = np.array(vec["head"])
        np.testing.assert_array_equal(packet.samples[: len(head)], head)
    if "head_float32_bits" in vec:
        bits = np.array(vec["head_float32_bits"], dtype=np.int64)
        np.testing.assert_array_equal(packet.samples[: len(bits)].astype(np.int64), bits)
        phys = pmd.to_physical(packet)
        want = np.array([[struct.unpack("<f", struct.pack("<i", int(b)))[0] for b in row] for row in bits])
        np.testing.assert_array_equal(phys[: len(want)], want.astype(np.float32))
    if "head_float" in vec:
        np.testing.assert_allclose(pmd.to_physical(packet)[:2], np.array(vec["head_float"]), rtol=1e-7)
    if "physical_milli_g_head" in vec:
        g = pmd.to_physical(packet, factor=vec["factor"])
        milli_g = np.trunc(g[: len(vec["physical_milli_g_head"])].astype(np.float64) * 1000)
        np.testing.assert_allclose(milli_g, vec["physical_milli_g_head"], atol=1)
    if "physical_gauss_head" in vec:
        phys = pmd.to_physical(packet)
        np.testing.assert_allclose(phys[:2, :3], vec["physical_gauss_head"], rtol=1e-6)
        np.testing.assert_array_equal(phys[:2, 3], vec["calibration_status"])


def test_polar_raw_acc_is_milli_g() -> None:
    """AccDataTest raw type 1: z = 999 counts at rest is 0.999 g."""
    pmd = _codec("polar_pmd")
    vec = POLAR["data_frames"][0]
    g = pmd.to_physical(pmd.decode(_bytes(vec["hex"])))
    assert g[0, 2] == pytest.approx(0.999)


@pytest.mark.parametrize("vec", POLAR["settings"], ids=_ids(POLAR["settings"]))
def test_polar_sdk_settings(vec: dict[str, Any]) -> None:
    pmd = _codec("polar_pmd")
    got = pmd.parse_settings(_bytes(vec["hex"]))
    named = {k.name: [v.hex() if isinstance(v, bytes) else v for v in vals] for k, vals in got.items()}
    assert named == vec["expect"]


@pytest.mark.parametrize("vec", POLAR["control_point"], ids=_ids(POLAR["control_point"]))
def test_polar_sdk_control_point(vec: dict[str, Any]) -> None:
    pmd = _codec("polar_pmd")
    joiner = pmd.ControlPointJoiner()
    answers = [joiner.feed(_bytes(part)) for part in vec["parts"]]
    assert answers[:-1] == [None] * (len(answers) - 1)  # parts with more = 1 are held back
    answer, want = answers[-1], vec["expect"]
    assert (answer.op, answer.measurement, answer.status, answer.more) == (
        want["op"],
        want["measurement"],
        want["status"],
        want["more"],
    )
    assert answer.params == _bytes(want["params"])
    if "status_name" in want:
        assert answer.status_name == want["status_name"]
    if "settings" in want:
        assert {k.name: list(v) for k, v in answer.settings().items()} == want["settings"]


@pytest.mark.parametrize("vec", POLAR["frame_times"], ids=_ids(POLAR["frame_times"]))
def test_polar_sdk_frame_times(vec: dict[str, Any]) -> None:
    """Per-sample device times of a frame: spread since the previous frame, else at the rate."""
    timebase = importlib.import_module("myoflow.devices.protocols.polar_pmd.timebase")
    tb = timebase.PolarTimebase(StreamInfo("polar/acc", "acc", vec["fs"], ("x", "y", "z")))
    if vec["previous_ns"] is not None:
        tb._account(Packet("acc", np.zeros((1, 3), np.int32), device_time_ns=vec["previous_ns"]), 0.0)
    n, t = vec["n"], vec["frame_ns"]
    step = tb._account(Packet("acc", np.zeros((n, 3), np.int32), device_time_ns=t), 1.0)
    assert step.missing == 0
    device_ns = t + (np.asarray(step.x) - step.x[-1]) * 1e9  # positions are device seconds
    np.testing.assert_allclose(device_ns, vec["times_ns"], rtol=0, atol=1.0)


@pytest.mark.parametrize("vec", POLAR_ISSUES["captures"], ids=["issue443", "issue186"])
def test_polar_real_verity_frames(vec: dict[str, Any]) -> None:
    """Frames pasted from real Verity Sense sensors decode to about 1 g at rest or slow motion."""
    pmd = _codec("polar_pmd")
    packet = pmd.decode(_bytes(vec["hex"]))
    assert (packet.kind, packet.meta["frame_type"], packet.meta["compressed"]) == (
        vec["kind"],
        vec["frame_type"],
        vec["compressed"],
    )
    assert packet.n_samples == vec["n_samples"]
    np.testing.assert_array_equal(packet.samples[0], vec["reference"])
    g = pmd.to_physical(packet, factor=vec.get("factor", 1.0))
    lo, hi = vec["gravity_g"]
    assert lo < float(np.median(np.linalg.norm(g, axis=1))) < hi


def test_polar_verity_start_response_has_no_factor() -> None:
    """Issue 443: a real Verity start response carries no FACTOR; its ACC counts are milli-g."""
    pmd = _codec("polar_pmd")
    vec = POLAR_ISSUES["captures"][0]
    answer = pmd.parse_control_point(_bytes(vec["start_response"]))
    assert answer.ok and answer.settings() == {}


def test_polar_compressed_type0_acc_without_factor_is_refused() -> None:
    """Type 0 counts are g only times FACTOR: without one, scaling must refuse, not guess."""
    pmd = _codec("polar_pmd")
    packet = pmd.decode(_bytes(POLAR_ISSUES["captures"][1]["hex"]))
    with pytest.raises(ValueError, match="FACTOR"):
        pmd.to_physical(packet)


# ------------------------------------------------------------------------------ Ganglion
def test_ganglion_firmware_first_packet_and_accel_axes() -> None:
    """Firmware 3.0.2: first ID 255, then 0, 1, ...; X, Y, Z on IDs ending 1, 2, 3; 0.016 g."""
    gan = _codec("ganglion")
    vec = GANGLION["firmware_stream"]
    packets = [gan.decode(_bytes(h)) for h in vec["packets"]]
    want = np.array(vec["values_24bit"])
    tracker = gan.GanglionTracker()
    for p in packets:
        assert p.kind == "emg" and p.meta["bits"] == 18
        assert np.abs(p.samples.astype(np.int64) - want).max() <= vec["error_bound_counts"]
        assert not tracker.update(p.counter).any
    axes = {p.meta["accel_axis"]: p.meta["accel_raw"] for p in packets if p.meta["accel_axis"]}
    assert axes == vec["accel_counts"]
    g = {a: gan.accel_g(a, raw) for a, raw in axes.items()}
    assert g == pytest.approx({a: c * vec["accel_g_per_count"] for a, c in vec["accel_counts"].items()})


def test_ganglion_first_packet_in_19bit_mode() -> None:
    """With the accelerometer off the first packet carries ID 99 and 19-bit samples."""
    gan = _codec("ganglion")
    vec = GANGLION["firmware_19bit_first"]
    want = np.array(vec["values_24bit"])
    for h in vec["packets"]:
        p = gan.decode(_bytes(h), accel=False)
        assert p.meta["bits"] == 19
        assert np.abs(p.samples.astype(np.int64) - want).max() <= vec["error_bound_counts"]


@pytest.mark.parametrize("case", GANGLION["field_layout"]["cases"], ids=lambda c: f"{c['bits']}bit")
def test_ganglion_field_layout(case: dict[str, Any]) -> None:
    """The JavaScript utilities' raw fields sit where the codec reads them (MSB-first)."""
    gan = _codec("ganglion")
    bits = case["bits"]
    pid = 1 if bits == 18 else 101
    data = bytes([pid]) + _bytes(case["body"]) + (b"\x00" if bits == 18 else b"")
    p = gan.decode(data)
    fields = (p.samples.astype(np.int64) >> (24 - bits)) & ((1 << bits) - 1)
    np.testing.assert_array_equal(fields, case["fields"])


@pytest.mark.parametrize("vec", GANGLION["captured"]["packets"], ids=lambda v: v["hex"][:2])
def test_ganglion_captured_packets(vec: dict[str, Any]) -> None:
    gan = _codec("ganglion")
    p = gan.decode(_bytes(vec["hex"]))
    assert p.kind == vec["kind"]
    if vec["kind"] == "emg":
        assert (p.counter, p.meta["bits"], p.samples.shape) == (vec["counter"], vec["bits"], (2, 4))
    elif vec["kind"] == "impedance":
        assert (p.meta["channel"], int(p.samples[0, 0])) == (vec["channel"], vec["value"])
    else:
        assert (p.meta["text"], p.meta["final"]) == (vec["text"], vec["final"])


@pytest.mark.parametrize("case", GANGLION["software_revision"]["cases"], ids=lambda c: c["text"])
def test_ganglion_firmware_from_software_revision(case: dict[str, Any]) -> None:
    gan = _codec("ganglion")
    assert gan.firmware_from_revision(case["text"].encode()) == case["firmware"]
    if case["firmware"] == 3:
        gan.check_firmware(case["text"].encode())
    else:
        with pytest.raises(DecodeError, match=r"firmware 2.*3\.x"):
            gan.check_firmware(case["text"].encode())


# ----------------------------------------------------------------------------------- Myo
@pytest.mark.parametrize("vec", MYO["emg"], ids=lambda v: v["hex"][:8])
def test_myo_recorded_emg(vec: dict[str, Any]) -> None:
    p = _codec("myo").decode(_bytes(vec["hex"]))
    assert p.kind == "emg"
    np.testing.assert_array_equal(p.samples.ravel(), vec["samples"])


@pytest.mark.parametrize("vec", MYO["fv"], ids=lambda v: v["hex"][:8] + v["hex"][-2:])
def test_myo_recorded_fv(vec: dict[str, Any]) -> None:
    p = _codec("myo").decode(_bytes(vec["hex"]))
    assert p.kind == "fv"
    np.testing.assert_array_equal(p.samples.ravel(), vec["values"])
    assert p.meta["mask"] == vec["mask"]


@pytest.mark.parametrize("vec", MYO["imu"], ids=lambda v: v["hex"][:8])
def test_myo_recorded_imu(vec: dict[str, Any]) -> None:
    myo = _codec("myo")
    p = myo.decode(_bytes(vec["hex"]))
    quat, acc, gyro = myo.imu_to_physical(p.samples)
    np.testing.assert_array_equal(quat[0], np.float32(vec["quat"]))
    np.testing.assert_array_equal(acc[0], np.float32(vec["acc"]))
    np.testing.assert_array_equal(gyro[0], np.float32(vec["gyro"]))


def test_every_vector_file_is_described() -> None:
    """Each vector file names its source in README.md (repository, commit, license)."""
    readme = (HERE / "README.md").read_text()
    for path in HERE.glob("*.json"):
        assert path.name in readme, f"{path.name} is not described in README.md"


# -------------------------------------------- Polar frames through the live decoding path
CP = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"


def _verity_decoder() -> Any:
    from myoflow.devices.decoding import StrapDecoder
    from myoflow.devices.profiles import load_profile

    return StrapDecoder(load_profile("polar_verity_acc_gyro"), "verity")


def test_live_decoder_joins_a_factor_split_over_two_notifications() -> None:
    """A start answer whose FACTOR comes in its second part (more = 1) still scales the frames."""
    dec = _verity_decoder()
    factor = np.float32(2.44e-4).tobytes()
    assert dec.feed(0.0, CP, bytes.fromhex("F0 02 02 00 01")) == []
    assert dec.feed(0.01, CP, bytes.fromhex("F0 02 02 00 00 05 01") + factor) == []
    frame = _bytes(POLAR_ISSUES["captures"][1]["hex"])  # a real type 0 frame (issue 186)
    blocks = dec.feed(1.0, DATA, frame)
    g = np.concatenate([b.data for b in blocks])
    assert g.shape == (63, 3) and dec.corrupt == 0
    assert 0.8 < float(np.median(np.linalg.norm(g, axis=1))) < 1.2  # about 1 g


def test_live_decoder_refuses_frames_it_cannot_scale_by_name(caplog) -> None:
    """Type 0 ACC with no FACTOR known, and float32 GYRO frames: counted, logged, never guessed."""
    dec = _verity_decoder()
    with caplog.at_level("ERROR"):
        assert dec.feed(0.0, DATA, _bytes(POLAR_ISSUES["captures"][1]["hex"])) == []
        gyro = next(v for v in POLAR["data_frames"] if v["name"] == "gyro_compressed_type1_float")
        assert dec.feed(0.1, DATA, _bytes(gyro["hex"])) == []
    text = caplog.text
    assert "ACC compressed type 0 counts need the FACTOR of the start response" in text
    assert "GYRO compressed type 1 holds float32 values" in text
    stats = dec.stats()
    assert stats["acc"].corrupt == 1 and stats["gyro"].corrupt == 1 and stats["acc"].samples == 0
