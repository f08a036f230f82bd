"""Per-protocol consistency rules of a profile: settings, the writes they imply, the streams.

Each protocol has a settings rule and a streams rule, looked up in :data:`RULES` by the
profile's ``protocol``:

- ``settings_rule(reader, settings_table, codec) -> (settings, start, stop)`` validates
  ``[settings]`` and rebuilds the writes those settings imply with the codec's own command
  builders (e.g. ``polar_pmd.start_command``), as :data:`Expected` ``(role, bytes, what)``;
- ``streams_rule(reader, settings, streams, min_mtu, codec)`` checks the streams against the
  settings and the firmware: fixed rates (Myo, Ganglion), sample width (Ganglion), Polar
  measurements started and their rates, DIY channels, rate and the MTU one packet needs.

:func:`check_writes` then holds the profile's declared start and stop writes to the rebuilt
ones, so a profile cannot claim 100 Hz while sending the 200 Hz command. Private to
:mod:`myoflow.devices.profiles`; a new protocol adds its pair of rules here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from myoflow.devices._profile_reader import Reader, int_in, is_any, is_bool, one_of, show
from myoflow.devices.profiles import Write

#: Writes a protocol's settings imply: (characteristic role, bytes, what the write does).
Expected = list[tuple[str, bytes, str]]
_Settings = tuple[dict[str, Any], Expected, Expected]


def _setting(r: Reader, t: dict, key: str, expected: str, ok: Callable[[Any], bool]) -> Any:
    return r.get(t, key, "settings", expected, ok)


def _myo_settings(r: Reader, t: Any, codec: ModuleType) -> _Settings:
    r.table(t, "settings", {"emg_mode", "imu_mode", "classifier", "never_sleep"})
    emg = _setting(r, t, "emg_mode", f"one of {', '.join(codec.EMG_MODES)}", one_of(codec.EMG_MODES))
    imu = _setting(r, t, "imu_mode", f"one of {', '.join(codec.IMU_MODES)}", one_of(codec.IMU_MODES))
    clf = _setting(r, t, "classifier", "true or false", is_bool)
    awake = _setting(r, t, "never_sleep", "true or false", is_bool)
    start = [("command", codec.set_mode(emg, imu, clf), f"set mode emg={emg} imu={imu}")]
    if awake:
        start.append(("command", codec.sleep_mode(never=True), "never sleep"))
    stop = [("command", codec.set_mode("off", "off", False), "set mode off")]
    return {"emg_mode": emg, "imu_mode": imu, "classifier": clf, "never_sleep": awake}, start, stop


def _ganglion_settings(r: Reader, t: Any, codec: ModuleType) -> _Settings:
    r.table(t, "settings", {"accelerometer"})
    acc = _setting(r, t, "accelerometer", "true or false", is_bool)
    start = [
        ("command", codec.ACCEL_ON if acc else codec.ACCEL_OFF, f"accelerometer {show(acc)}"),
        ("command", codec.START, "start streaming"),
    ]
    return {"accelerometer": acc}, start, [("command", codec.STOP, "stop streaming")]


def _fixed_rates(r: Reader, streams: tuple, rates: Mapping[str, float | None]) -> None:
    """Each stream's packet kind must be one the codec delivers, at the firmware's fixed rate."""
    for i, s in enumerate(streams):
        if s.packet_kind not in rates:
            r.fail(f"streams[{i}].packet_kind", f"expected one of {', '.join(rates)}, got {s.packet_kind!r}")
        rate = rates[s.packet_kind]
        if rate is not None and s.rate != rate:
            r.fail(
                f"streams[{i}].rate",
                f"expected {rate:g} Hz (fixed by the firmware for "
                f"{s.packet_kind} packets), got {show(s.rate)}",
            )


def _ganglion_streams(r: Reader, settings: Mapping, streams: tuple, _: int, codec: Any) -> None:
    # The accelerometer: one axis per 18-bit packet, each axis every 10 packets of 2 samples.
    _fixed_rates(r, streams, {"emg": codec.FS, "acc": codec.FS / 20})
    acc = settings["accelerometer"]
    if acc != any(s.kind == "acc" for s in streams):
        r.fail(
            "streams",
            f"expected {'an' if acc else 'no'} acc stream with settings."
            f"accelerometer = {show(acc)}, got {'none' if acc else 'one'}",
        )
    bits = 18 if acc else 19  # firmware 3: IDs 0-99 (accelerometer on) or 100-199
    for i, s in enumerate(streams):
        if s.kind == "emg" and s.resolution_bits != bits:
            r.fail(
                f"streams[{i}].resolution_bits",
                f"expected {bits} (the sample width with "
                f"settings.accelerometer = {show(acc)}), got {s.resolution_bits}",
            )


def _polar_settings(r: Reader, t: Any, codec: ModuleType) -> _Settings:
    kinds = {m.name.lower(): m for m in codec.Measurement}
    names = {s.name.lower(): s for s in codec.Setting if s is not codec.Setting.FACTOR}
    r.table(t, "settings", kinds)
    if not t:
        r.fail("settings", "expected measurement tables such as [settings.acc], got none")
    out: dict[str, Any] = {}
    start: Expected = []
    stop: Expected = []
    for kind, table in t.items():
        path = f"settings.{kind}"
        r.table(table, path, names)
        r.get(table, "sample_rate", path, "a sample rate in Hz", is_any)
        out[kind] = {k: r.get(table, k, path, "a whole number", int_in(0, 2**32 - 1)) for k in table}
        try:
            cmd = codec.start_command(kinds[kind], {names[k]: v for k, v in out[kind].items()})
        except ValueError as exc:
            r.fail(path, f"expected settings the start command can encode: {exc}")
        start.append(("control_point", cmd, f"start {kind}"))
        stop.append(("control_point", codec.stop_command(kinds[kind]), f"stop {kind}"))
    return out, start, stop


def _polar_streams(r: Reader, settings: Mapping, streams: tuple, *_: Any) -> None:
    for i, s in enumerate(streams):
        m = settings.get(s.packet_kind)
        if m is None:
            r.fail(
                f"streams[{i}].packet_kind",
                f"expected a measurement started in "
                f"[settings] ({', '.join(settings)}), got {s.packet_kind!r}",
            )
        for key, field in (("sample_rate", "rate"), ("resolution", "resolution_bits")):
            if key in m and m[key] != getattr(s, field):
                r.fail(
                    f"streams[{i}].{field}",
                    f"expected {m[key]} (settings.{s.packet_kind}.{key}), got {show(getattr(s, field))}",
                )
    for kind in settings:
        if not any(s.packet_kind == kind for s in streams):
            r.fail(f"settings.{kind}", f"expected a stream with packet_kind {kind!r}, found none")


def _diy_settings(r: Reader, t: Any, codec: ModuleType) -> _Settings:
    r.table(t, "settings", {"channels", "sample_rate", "sample_bits", "samples_per_packet"})
    s = {
        "channels": _setting(r, t, "channels", "1..4", int_in(1, codec.MAX_CHANNELS)),
        "sample_rate": _setting(r, t, "sample_rate", "whole Hz 1..65535", int_in(1, 0xFFFF)),
        "sample_bits": _setting(r, t, "sample_bits", "16 or 24", one_of((16, 24))),
        "samples_per_packet": _setting(r, t, "samples_per_packet", "1..4096", int_in(1, 4096)),
    }
    return s, [("command", codec.START, "start")], [("command", codec.STOP, "stop")]


def _diy_streams(r: Reader, settings: Mapping, streams: tuple, min_mtu: int, codec: Any) -> None:
    _fixed_rates(r, streams, {"emg": None})
    ch, fs, bits, n = (settings[k] for k in ("channels", "sample_rate", "sample_bits", "samples_per_packet"))
    for i, s in enumerate(streams):
        for field, want, got in (("channels", ch, len(s.channels)), ("rate", fs, s.rate)):
            if want != got:
                r.fail(f"streams[{i}].{field}", f"expected {want} (settings), got {show(got)}")
        if s.resolution_bits > bits:
            r.fail(
                f"streams[{i}].resolution_bits",
                f"expected at most {bits} (settings.sample_bits), got {s.resolution_bits}",
            )
    need = 3 + codec.HEADER_BYTES + n * ch * bits // 8
    if min_mtu < need:
        r.fail(
            "min_mtu",
            f"expected at least {need} (3 + {codec.HEADER_BYTES}-byte header + "
            f"{n} samples x {ch} channels x {bits // 8} bytes), got {min_mtu}",
        )


def _myo_streams(r: Reader, settings: Mapping, streams: tuple, _: int, codec: Any) -> None:
    _fixed_rates(r, streams, {"emg": codec.FS_EMG, "imu": codec.FS_IMU})


RULES: dict[str, tuple[Callable[..., _Settings], Callable[..., None]]] = {
    "diy": (_diy_settings, _diy_streams),
    "ganglion": (_ganglion_settings, _ganglion_streams),
    "myo": (_myo_settings, _myo_streams),
    "polar_pmd": (_polar_settings, _polar_streams),
}


def check_writes(
    r: Reader, path: str, writes: tuple[Write, ...], roles: Mapping[str, str], expected: Expected
) -> None:
    """Each expected (role, bytes) write must appear among ``writes``, in the expected order."""
    got = [(roles[w.characteristic], w.data) for w in writes]
    pos = 0
    for role, data, why in expected:
        while pos < len(got) and got[pos] != (role, data):
            pos += 1
        if pos == len(got):
            sent = ", ".join(w.data.hex(" ") for w in writes)
            r.fail(
                path,
                f"expected a write of {data.hex(' ')} to the {role} characteristic "
                f"({why}), in this order among the writes, got {sent}",
            )
        pos += 1
