"""Device profiles: shipped TOMLs agree with the codecs, matching, user files, broken files."""

from __future__ import annotations

import pickle
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from myoflow.devices.profiles import (
    DeviceProfile,
    ProfileError,
    load_profile,
    normalise_uuid,
    parse_profile,
    profile_for_advertisement,
    shipped_profiles,
)
from myoflow.devices.protocols.diy import codec as diy
from myoflow.devices.protocols.ganglion import codec as ganglion
from myoflow.devices.protocols.myo import codec as myo
from myoflow.devices.protocols.polar_pmd import codec as polar_pmd
from myoflow.devices.protocols.polar_pmd.codec import Measurement, Setting
from myoflow.stream import KIND_UNITS

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "firmware_configs"
REQUIRED = {
    "myo_raw_emg",
    "ganglion_fw3",
    "polar_h10_acc_ecg",
    "polar_verity_acc_gyro",
    "diy_emg_2ch_1khz",
    "diy_emg_4ch_2khz",
}
UUID128 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _uuids(p: DeviceProfile) -> dict[str, str]:
    return {c.label: c.uuid for c in p.characteristics}


# --------------------------------------------------------------------------- shipped profiles
def test_the_required_profiles_ship_and_match_the_folder() -> None:
    profiles = shipped_profiles()
    assert REQUIRED <= set(profiles)
    assert set(profiles) == {f.stem for f in CONFIGS.glob("*.toml")}
    for name, p in profiles.items():
        assert p.source_text == (CONFIGS / f"{name}.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_shipped_profile_is_consistent(name: str) -> None:
    p = load_profile(name)
    assert p is shipped_profiles()[name]
    # What a recording stores reads back as the same profile.
    assert parse_profile(p.source_text, name=name, source=p.source) == p
    every_uuid = [*p.advertised_services, *p.subscribe, *(w.characteristic for w in p.start)]
    every_uuid += [u for c in p.characteristics for u in (c.service, c.uuid)]
    assert all(UUID128.fullmatch(u) for u in every_uuid)
    assert 23 <= p.min_mtu <= p.mtu <= 517
    for s in p.streams:
        assert s.kind in KIND_UNITS and s.unit in (KIND_UNITS[s.kind], "count")
        assert set(s.characteristics) <= set(p.subscribe)
        info = s.stream_info("left_thigh")
        assert (info.name, info.rate, info.channels, info.unit) == (
            f"left_thigh/{s.name}",
            s.rate,
            s.channels,
            s.unit,
        )


def test_myo_profile_matches_the_codec() -> None:
    p = load_profile("myo_raw_emg")
    u = _uuids(p)
    assert u["command"] == myo.COMMAND and u["imu"] == myo.IMU_DATA
    assert tuple(u[f"emg{i}"] for i in range(4)) == myo.EMG_DATA
    assert p.characteristic("emg2").service == myo.EMG_SERVICE
    assert p.characteristic("command").service == myo.CONTROL_SERVICE
    assert p.advertised_services == (myo.CONTROL_SERVICE,)
    assert set(p.subscribe) == {*myo.EMG_DATA, myo.IMU_DATA}
    assert tuple(w.data for w in p.start) == myo.start_raw_commands("data")
    assert all(w.characteristic == myo.COMMAND and w.response for w in p.start + p.stop)
    assert p.stop[0].data == myo.set_mode("off", "off")
    emg = p.stream("emg")
    assert (emg.rate, len(emg.channels), emg.unit) == (myo.FS_EMG, 8, "count")
    assert set(emg.characteristics) == set(myo.EMG_DATA)
    # The IMU streams' columns and scales reproduce the codec's own conversion.
    counts = np.array([[16384, -8192, 3, -4, 2048, -4096, 7, 16, -32, 5]])
    packet = myo.decode(myo.encode_imu(counts))
    for stream, expected in zip(("quat", "acc", "gyro"), myo.imu_to_physical(packet.samples), strict=True):
        s = p.stream(stream)
        assert s.packet_kind == packet.kind and s.rate == myo.FS_IMU
        got = packet.samples[:, list(s.columns)] * s.scale
        np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_ganglion_profile_matches_the_codec() -> None:
    p = load_profile("ganglion_fw3")
    assert _uuids(p) == {"data": ganglion.NOTIFY, "command": ganglion.WRITE}
    assert {c.service for c in p.characteristics} == {ganglion.SERVICE}
    assert p.advertised_services == (ganglion.SERVICE,)
    assert [w.data for w in p.start] == [ganglion.ACCEL_ON, ganglion.START]
    assert [w.data for w in p.stop] == [ganglion.STOP]
    assert not any(w.response for w in p.start + p.stop)  # write without response
    emg = p.stream("emg")
    assert emg.rate == ganglion.FS and len(emg.channels) == ganglion.N_CHANNELS
    assert emg.scale == pytest.approx(ganglion.UV_PER_COUNT, rel=1e-12)
    assert p.stream("acc").scale == ganglion.ACCEL_G_PER_COUNT
    # Accelerometer on means 18-bit packets, the width the profile declares.
    packet = ganglion.decode(ganglion.encode(np.zeros((2, 4), np.int64), packet_id=7))
    assert packet.meta["bits"] == emg.resolution_bits == 18


def test_polar_h10_profile_matches_the_codec_and_the_sdk_vectors() -> None:
    p = load_profile("polar_h10_acc_ecg")
    assert _uuids(p) == {"control": polar_pmd.CONTROL_POINT, "data": polar_pmd.DATA}
    assert {c.service for c in p.characteristics} == {polar_pmd.SERVICE}
    assert p.subscribe == (polar_pmd.CONTROL_POINT, polar_pmd.DATA)
    acc = polar_pmd.start_command(
        Measurement.ACC, {Setting.SAMPLE_RATE: 200, Setting.RESOLUTION: 16, Setting.RANGE: 8}
    )
    ecg = polar_pmd.start_command(Measurement.ECG, {Setting.SAMPLE_RATE: 130, Setting.RESOLUTION: 14})
    assert [w.data for w in p.start] == [acc, ecg]
    assert acc == bytes.fromhex("02 02 00 01 C8 00 01 01 10 00 02 01 08 00")
    assert ecg == bytes.fromhex("02 00 00 01 82 00 01 01 0E 00")
    assert [w.data for w in p.stop] == [
        polar_pmd.stop_command(Measurement.ACC),
        polar_pmd.stop_command(Measurement.ECG),
    ]
    assert all(w.response for w in p.start + p.stop) and p.mtu == polar_pmd.PREFERRED_MTU
    assert dict(p.settings["acc"]) == {"sample_rate": 200, "resolution": 16, "range": 8}
    # The declared scales give what the codec gives for raw frames.
    xyz = np.array([[1000, -250, 3]])
    frame = polar_pmd.decode(polar_pmd.encode_raw(Measurement.ACC, xyz, 10**18, 1))
    np.testing.assert_allclose(frame.samples * p.stream("acc").scale, polar_pmd.to_physical(frame))
    uv = np.array([[-1200], [35]])
    frame = polar_pmd.decode(polar_pmd.encode_raw(Measurement.ECG, uv, 10**18, 0))
    np.testing.assert_allclose(frame.samples * p.stream("ecg").scale, polar_pmd.to_physical(frame))


def test_polar_verity_profile_matches_the_codec() -> None:
    p = load_profile("polar_verity_acc_gyro")
    assert _uuids(p) == {"control": polar_pmd.CONTROL_POINT, "data": polar_pmd.DATA}
    common = {Setting.SAMPLE_RATE: 52, Setting.RESOLUTION: 16}
    assert [w.data for w in p.start] == [
        polar_pmd.start_command(Measurement.ACC, {**common, Setting.RANGE: 8}),
        polar_pmd.start_command(Measurement.GYRO, {**common, Setting.RANGE: 2000}),
    ]
    assert [w.data for w in p.stop] == [bytes([3, Measurement.ACC]), bytes([3, Measurement.GYRO])]
    assert {s.name: (s.rate, s.in_band_scale) for s in p.streams} == {
        "acc": (52.0, True),
        "gyro": (52.0, True),
    }
    assert p.stream("gyro").scale == pytest.approx(2000 / 32768)


@pytest.mark.parametrize(
    ("name", "channels", "fs"), [("diy_emg_2ch_1khz", 2, 1000), ("diy_emg_4ch_2khz", 4, 2000)]
)
def test_diy_profiles_match_the_codec(name: str, channels: int, fs: int) -> None:
    p = load_profile(name)
    assert _uuids(p) == {"data": diy.DATA, "control": diy.CONTROL}
    assert p.advertised_services == (diy.SERVICE,)
    assert [(w.data, w.response) for w in p.start] == [(diy.START, True)]
    assert [(w.data, w.response) for w in p.stop] == [(diy.STOP, True)]
    emg = p.stream("emg")
    assert (len(emg.channels), emg.rate, emg.in_band_scale) == (channels, fs, True)
    n = p.settings["samples_per_packet"]
    # min_mtu is exactly what one packet of the declared size needs.
    assert diy.max_samples(channels, False, p.min_mtu) == n
    assert diy.max_samples(channels, False, p.min_mtu - 1) < n
    packet = diy.encode(
        np.ones((n, channels), np.int16), block=0, t_first_us=0, fs_hz=fs,
        uv_per_count=emg.scale, mtu=p.min_mtu,
    )  # fmt: skip
    decoded = diy.decode(packet)
    assert decoded.meta["fs_hz"] == emg.rate and decoded.n_channels == len(emg.channels)


# ------------------------------------------------------------------------------- advertisement
@pytest.mark.parametrize(
    ("name", "services", "expected"),
    [
        ("Ganglion-1a2b", [], ["ganglion_fw3"]),
        ("Simblee", [], ["ganglion_fw3"]),
        (None, ["FE84"], ["ganglion_fw3"]),
        ("my arm", ["D5060001-A904-DEB9-4748-2C7F4A124842"], ["myo_raw_emg"]),
        ("Polar H10 1A2B3C4D", ["180d"], ["polar_h10_acc_ecg"]),
        ("Polar Sense 1A2B3C4D", [], ["polar_verity_acc_gyro"]),
        ("Polar H9 1A2B3C4D", ["180d"], []),
        (None, [diy.SERVICE], ["diy_emg_2ch_1khz", "diy_emg_4ch_2khz"]),
        ("Heart rate", ["180d", "feee"], []),
        (None, [], []),
    ],
)
def test_profile_for_advertisement(name: str | None, services: list[str], expected: list[str]) -> None:
    assert [p.name for p in profile_for_advertisement(name, services)] == expected


def test_a_match_on_name_and_service_ranks_first() -> None:
    myo_profile = load_profile("myo_raw_emg")
    text = myo_profile.source_text.replace("^Myo", "^My").replace(myo.CONTROL_SERVICE, "180f", 1)
    by_name = parse_profile(text, name="a_by_name")
    both = profile_for_advertisement("Myo", [myo.CONTROL_SERVICE], [by_name, myo_profile])
    assert [p.name for p in both] == ["myo_raw_emg", "a_by_name"]
    assert myo_profile.match_score("Myo", [myo.CONTROL_SERVICE]) == 2
    assert myo_profile.match_score("Myo", []) == 1 and myo_profile.match_score("x", []) == 0


def test_normalise_uuid() -> None:
    assert normalise_uuid("FE84") == "0000fe84-0000-1000-8000-00805f9b34fb"
    assert normalise_uuid("0000180F") == "0000180f-0000-1000-8000-00805f9b34fb"
    assert normalise_uuid(polar_pmd.SERVICE.upper()) == polar_pmd.SERVICE
    for bad in ("fe8", "xyz", "", 0x180D):
        with pytest.raises(ValueError, match="UUID"):
            normalise_uuid(bad)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------- user files
def _write(tmp_path: Path, base: str, edits: list[tuple[str, str]], name: str = "mine") -> Path:
    text = (CONFIGS / f"{base}.toml").read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, f"edit {old!r} must hit exactly once in {base}"
        text = text.replace(old, new)
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_user_profile_file_loads_by_path(tmp_path: Path) -> None:
    # Ganglion with the accelerometer off: 19-bit packets, 'N' then 'b', no acc stream.
    path = _write(tmp_path, "ganglion_fw3", [
        ("accelerometer = true", "accelerometer = false"),
        ('hex = "6e"', 'hex = "4E"'),
        ("resolution_bits = 18", "resolution_bits = 19"),
        ('name = "acc"', 'name = "acc"\n#'),
    ], name="ganglion_no_accel")  # fmt: skip
    text = path.read_text().split("[[streams]]")
    path.write_text("[[streams]]".join(text[:2]))  # drop the acc stream
    for arg in (path, str(path)):
        p = load_profile(arg)
        assert p.name == "ganglion_no_accel" and p.source == str(path)
        assert [w.data for w in p.start] == [ganglion.ACCEL_OFF, ganglion.START]
        assert [s.name for s in p.streams] == ["emg"] and p.settings["accelerometer"] is False


def test_the_documented_h10_edit_loads_and_forgetting_the_bytes_is_caught(tmp_path: Path) -> None:
    settings = [("sample_rate = 200 ", "sample_rate = 50 "), ("range = 8 ", "range = 4 "),
                ("rate = 200.0", "rate = 50.0")]  # fmt: skip
    new_bytes = ("02 02 00 01 C8 00 01 01 10 00 02 01 08 00", "02 02 00 01 32 00 01 01 10 00 02 01 04 00")
    p = load_profile(_write(tmp_path, "polar_h10_acc_ecg", [*settings, new_bytes], name="h10_50"))
    assert p.start[0].data == polar_pmd.start_command(
        Measurement.ACC, {Setting.SAMPLE_RATE: 50, Setting.RESOLUTION: 16, Setting.RANGE: 4}
    )
    assert p.stream("acc").rate == 50.0 and p.settings["acc"]["range"] == 4
    with pytest.raises(ProfileError, match=f"start.writes: expected a write of {new_bytes[1].lower()}"):
        load_profile(_write(tmp_path, "polar_h10_acc_ecg", settings, name="h10_stale"))


def test_unknown_name_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="no shipped profile.*ganglion_fw3"):
        load_profile("ganglion_fw9")
    missing = tmp_path / "nope.toml"
    with pytest.raises(ProfileError, match="no such profile file") as err:
        load_profile(missing)
    assert err.value.source == str(missing)


def test_profile_error_is_a_value_error_that_pickles() -> None:
    err = ProfileError("a.toml", "streams[0].rate", "expected a positive number of Hz, got 'x'")
    assert isinstance(err, ValueError)
    again = pickle.loads(pickle.dumps(err))
    assert (again.source, again.key, str(again)) == (err.source, err.key, str(err))


# The documented errors: (base profile, edits, key path, message fragment).
BROKEN = [
    ("polar_h10_acc_ecg", [("rate = 130.0", 'rate = "fast"')], "streams[1].rate",
     "expected a positive number of Hz, got 'fast'"),
    ("polar_h10_acc_ecg", [("resolution_bits = 14", "resolution_bit = 14")],
     "streams[1].resolution_bit", "unknown key; expected one of"),
    ("polar_h10_acc_ecg", [("mtu = 512", "mtu = 512\nmtu_min = 232")], "mtu_min",
     "did you mean 'min_mtu'?"),
    ("polar_h10_acc_ecg", [('uuid = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"', 'uuid = "fb005c82-x"')],
     "characteristics.data.uuid", "expected a 16-, 32- or 128-bit UUID, got 'fb005c82-x'"),
    ("polar_h10_acc_ecg", [('hex = "03 02"', 'hex = "3 02"')], "stop.writes[0].hex",
     "expected hex bytes such as '01 03 03 01 00', got '3 02'"),
    ("polar_h10_acc_ecg", [("sample_rate = 200 ", "sample_rate = 100 ")], "start.writes",
     "expected a write of 02 02 00 01 64 00 01 01 10 00 02 01 08 00 to the control_point"),
    ("polar_h10_acc_ecg", [("rate = 200.0", "rate = 100.0")], "streams[0].rate",
     "expected 200 (settings.acc.sample_rate), got 100.0"),
    ("polar_h10_acc_ecg", [('kind = "ecg"', 'kind = "ekg"')], "streams[1].kind",
     "expected one of emg, ecg, acc, gyro, quat, angle, got 'ekg'"),
    ("polar_h10_acc_ecg", [('protocol = "polar_pmd"', 'protocol = "polar"')], "protocol",
     "expected one of diy, ganglion, myo, polar_pmd, got 'polar'"),
    ("polar_h10_acc_ecg", [('model = "Polar H10"', 'model = "Polar H10')], "", "not valid TOML"),
    ("polar_h10_acc_ecg", [('model = "Polar H10"\n', "")], "model", "missing; expected"),
    ("polar_h10_acc_ecg", [('characteristic = "control", hex = "03 02"',
                            'characteristic = "ctrl", hex = "03 02"')],
     "stop.writes[0].characteristic", "expected a characteristic label ('control', 'data')"),
    ("polar_h10_acc_ecg", [('characteristic = "control", hex = "03 00"',
                            'characteristic = "data", hex = "03 00"')],
     "stop.writes[1].characteristic", "role command or control_point, got 'data' (role data)"),
    ("polar_h10_acc_ecg", [(r"'^Polar H10\b'", "'^Polar (H10'")], "advertisement.name_regex",
     "expected a regular expression"),
    ("polar_h10_acc_ecg", [("schema = 1", "schema = 2")], "schema", "expected 1, got 2"),
    ("polar_h10_acc_ecg", [("response = true },  # start ACC", 'response = "yes" },')],
     "start.writes[0].response", "expected true (with response) or false, got 'yes'"),
    ("polar_h10_acc_ecg", [("[settings.ecg]", "[settings.ekg]")], "settings.ekg",
     "unknown key; expected one of acc, ecg, gyro, mag, ppg, ppi"),
    ("polar_verity_acc_gyro", [('name = "gyro"', 'name = "acc"')], "streams[1].name",
     "expected a unique stream name, got 'acc' again"),
    ("ganglion_fw3", [("accelerometer = true", "accelerometer = false")], "start.writes",
     "expected a write of 4e to the command characteristic"),
    ("diy_emg_2ch_1khz", [("min_mtu = 117", "min_mtu = 100")], "min_mtu",
     "expected at least 117"),
    ("diy_emg_2ch_1khz", [("channels = 2", "channels = 3")], "streams[0].channels",
     "expected 3 (settings), got 2"),
    ("myo_raw_emg", [('emg_mode = "raw"', 'emg_mode = "rawest"')], "settings.emg_mode",
     "expected one of off, fv, filtered, raw, got 'rawest'"),
    ("myo_raw_emg", [('"emg3", "imu"]', '"emg3"]')], "start.subscribe",
     "missing 'imu' (read by stream 'quat')"),
    ("myo_raw_emg", [('unit = "count"', 'unit = "mV"')], "streams[0].unit",
     "expected 'uV' or 'count', got 'mV'"),
    ("myo_raw_emg", [("columns = [0, 1, 2, 3]", "columns = [0, 1, 2]")], "streams[1].columns",
     "expected a list of 4 distinct column indices"),
    ("myo_raw_emg", [('packet_kind = "imu"\ncolumns = [4', 'packet_kind = "acc"\ncolumns = [4')],
     "streams[2].packet_kind", "expected one of emg, imu, got 'acc'"),
    ("ganglion_fw3", [("rate = 200.0", "rate = 250.0")], "streams[0].rate",
     "expected 200 Hz (fixed by the firmware for emg packets), got 250.0"),
    ("myo_raw_emg", [('hex = "09 01 01"', 'hex = "09 01 00"')], "start.writes",
     "expected a write of 09 01 01 to the command characteristic (never sleep)"),
]  # fmt: skip


@pytest.mark.parametrize(("base", "edits", "key", "fragment"), BROKEN)
def test_broken_profile_names_file_key_and_expectation(
    tmp_path: Path, base: str, edits: list[tuple[str, str]], key: str, fragment: str
) -> None:
    path = _write(tmp_path, base, edits)
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    assert err.value.source == str(path) and err.value.key == key
    assert str(err.value).startswith(f"{path}: {key}: " if key else f"{path}: ")
    assert fragment in str(err.value)


ODD_VALUES = ['"x"', "-1", "0", "1.5", "nan", "true", "[]", "{}", '[1, "a"]', '"FE84"', "{ a = 1 }"]


@given(
    st.sampled_from(sorted(REQUIRED)),
    st.integers(0, 10**6),
    st.sampled_from(ODD_VALUES),
)
def test_any_odd_value_gives_a_profile_error_never_a_crash(name: str, pick: int, value: str) -> None:
    lines = (CONFIGS / f"{name}.toml").read_text(encoding="utf-8").splitlines()
    assignments = [i for i, line in enumerate(lines) if re.match(r"\s*\w+ = ", line)]
    i = assignments[pick % len(assignments)]
    key = lines[i].split("=")[0]
    lines[i] = f"{key}= {value}"
    try:
        parse_profile("\n".join(lines), name=name, source="mutant.toml")
    except ProfileError as exc:
        assert str(exc).startswith("mutant.toml: ")


# ------------------------------------------------------------------------------------ packaging
def test_an_explicit_package_list_in_pyproject_names_every_package() -> None:
    """Shipping firmware_configs/ as myoflow._profiles needs an explicit package list; a
    subpackage left out of it would silently be missing from the wheel."""
    tool = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = tool.get("packages")
    if not isinstance(listed, list):
        pytest.skip("pyproject finds packages automatically")
    src = REPO / "src"
    found = {".".join(d.relative_to(src).parts) for d in src.rglob("*") if (d / "__init__.py").is_file()}
    assert found <= set(listed), f"add {sorted(found - set(listed))} to [tool.setuptools] packages"
    assert tool["package-dir"].get("myoflow._profiles") == "firmware_configs"


def test_a_profile_nested_thousands_deep_is_a_profile_error_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text('protocol = "diy"\nv = ' + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ProfileError, match="deep.toml.*nested thousands of levels deep"):
        load_profile(path)


@pytest.mark.parametrize("pattern", ["^(a+)+$", r"^(\\w*)*x", "(Myo{1,})+"])
def test_a_name_regex_with_nested_quantifiers_is_refused(tmp_path: Path, pattern: str) -> None:
    # such a pattern can backtrack for seconds on a hostile advertised name, blocking the scan
    edit = ('name_regex = "^Myo"', f'name_regex = "{pattern}"')
    path = _write(tmp_path, "myo_raw_emg", [edit], name="nested")
    with pytest.raises(ProfileError, match="name_regex.*exponential time"):
        load_profile(path)
