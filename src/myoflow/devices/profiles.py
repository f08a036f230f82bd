"""Device profiles: one TOML file per strap and firmware setting, loaded and validated.

A profile says how to find a strap (advertised name and services), which GATT characteristics
to subscribe to and write, the exact start and stop command bytes, the firmware settings those
commands encode, and the streams that come out (kind, channels, rate, resolution, scale to
physical units). The schema is documented in ``docs/device-profiles.md``; the shipped profiles
live in the top-level ``firmware_configs/`` folder and are installed as the package data
``myoflow._profiles``.

Every problem raises :class:`ProfileError` naming the file, the key path (``streams[1].rate``)
and what was expected versus found. Unknown keys are errors, so a typo never passes silently.
The start and stop writes are checked against the protocol codec's command builders for the
declared ``[settings]`` (e.g. ``polar_pmd.start_command``): a profile cannot claim 100 Hz while
sending the 200 Hz command.
"""

from __future__ import annotations

import difflib
import importlib
import math
import os
import re
import tomllib
import uuid as _uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any, NoReturn

from myoflow.stream import KIND_UNITS, StreamInfo

__all__ = [
    "Characteristic",
    "DeviceProfile",
    "ProfileError",
    "StreamSpec",
    "Write",
    "load_profile",
    "normalise_uuid",
    "parse_profile",
    "profile_for_advertisement",
    "shipped_profiles",
]

SCHEMA_VERSION = 1
#: What a characteristic is for: ``data`` carries samples (notify), ``command`` takes writes,
#: ``control_point`` takes writes and answers with notifications/indications (Polar PMD).
ROLES = ("data", "command", "control_point")
#: Unit of a stream with no known physical scale (e.g. Myo EMG): samples stay in counts.
RAW_UNIT = "count"
_SIG_BASE = "-0000-1000-8000-00805f9b34fb"
_MISSING = object()


class ProfileError(ValueError):
    """A profile that cannot be used: ``"<file>: <key path>: <problem>"``.

    ``source`` is the file (or ``"<string>"``), ``key`` the key path such as ``streams[1].rate``
    (empty for whole-file problems: unreadable file, TOML syntax), ``problem`` what was expected
    and what was found.
    """

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source, self.key, self.problem = source, key, problem
        super().__init__(f"{source}: {key}: {problem}" if key else f"{source}: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.source, self.key, self.problem))


def normalise_uuid(value: str) -> str:
    """Lower-case 128-bit form of a UUID (``"FE84"`` -> ``"0000fe84-0000-1000-8000-..."``).

    Accepts 16- and 32-bit Bluetooth SIG short forms and any spelling :class:`uuid.UUID` reads.
    Raises ``ValueError`` for anything else.
    """
    text = str(value).strip().lower() if isinstance(value, str) else ""
    if re.fullmatch(r"[0-9a-f]{4}", text):
        text = "0000" + text
    if re.fullmatch(r"[0-9a-f]{8}", text):
        return text + _SIG_BASE
    try:
        return str(_uuid.UUID(text))
    except ValueError:
        raise ValueError(f"expected a 16-, 32- or 128-bit UUID, got {value!r}") from None


@dataclass(frozen=True)
class Characteristic:
    """A GATT characteristic the profile uses, under the ``label`` the TOML gives it."""

    label: str
    service: str
    uuid: str
    role: str


@dataclass(frozen=True)
class Write:
    """One write of the start or stop sequence: ``data`` to characteristic ``uuid``."""

    characteristic: str
    data: bytes
    response: bool


@dataclass(frozen=True)
class StreamSpec:
    """One stream a profile delivers.

    Parameters
    ----------
    name
        Stream name within the device, e.g. ``"emg"``.
    kind
        One of :data:`myoflow.stream.KIND_UNITS`.
    characteristics
        UUIDs of the characteristics whose notifications carry it.
    channels
        One label per channel.
    rate
        Nominal sample rate in Hz.
    resolution_bits
        Bits per sample as the device measures them.
    scale
        Physical units per count of the decoded samples: ``physical = counts * scale``.
    unit
        Physical unit after scaling: the kind's unit, or ``"count"`` when none is known.
    in_band_scale
        True when the device reports its own factor (DIY header, Polar FACTOR); the codec's
        conversion then wins and ``scale`` is the nominal value.
    packet_kind
        ``Packet.kind`` the codec gives this stream's packets.
    columns
        Columns of ``Packet.samples`` that form this stream, or ``None`` for all of them.
    description
        Free text (e.g. where a value does not come from the packet samples).
    """

    name: str
    kind: str
    characteristics: tuple[str, ...]
    channels: tuple[str, ...]
    rate: float
    resolution_bits: int
    scale: float
    unit: str
    in_band_scale: bool = False
    packet_kind: str = ""
    columns: tuple[int, ...] | None = None
    description: str = ""

    def stream_info(self, device_name: str, placements: Iterable[str] | None = None) -> StreamInfo:
        """The :class:`~myoflow.stream.StreamInfo` of this stream on device ``device_name``.

        The stream is named ``"<device_name>/<stream name>"``; ``placements`` gives one
        placement per channel (muscle or body segment).
        """
        if not isinstance(device_name, str) or not device_name.strip():
            raise ValueError(f"device_name must be a non-empty string, got {device_name!r}")
        return StreamInfo(
            name=f"{device_name}/{self.name}",
            kind=self.kind,
            rate=self.rate,
            channels=self.channels,
            placements=None if placements is None else tuple(placements),
            unit=self.unit,
        )


@dataclass(frozen=True)
class DeviceProfile:
    """A validated device profile; see ``docs/device-profiles.md`` for each field.

    ``source_text`` is the TOML exactly as read (recordings store it); ``settings`` is a
    read-only mapping of the firmware settings the start writes encode; ``subscribe`` lists the
    characteristic UUIDs to enable notifications on, in order, before the ``start`` writes.
    """

    name: str
    source: str
    source_text: str
    protocol: str
    model: str
    firmware: str
    description: str
    name_regex: re.Pattern[str] | None
    advertised_services: tuple[str, ...]
    characteristics: tuple[Characteristic, ...]
    mtu: int
    min_mtu: int
    settings: Mapping[str, Any]
    subscribe: tuple[str, ...]
    start: tuple[Write, ...]
    stop: tuple[Write, ...]
    streams: tuple[StreamSpec, ...]

    @property
    def codec(self) -> ModuleType:
        """The protocol codec module, ``myoflow.devices.<protocol>``."""
        return importlib.import_module(f"myoflow.devices.{self.protocol}")

    def characteristic(self, label: str) -> Characteristic:
        """The characteristic the TOML calls ``label``."""
        for c in self.characteristics:
            if c.label == label:
                return c
        raise KeyError(f"profile {self.name!r} has no characteristic labelled {label!r}")

    def stream(self, name: str) -> StreamSpec:
        """The stream called ``name``."""
        for s in self.streams:
            if s.name == name:
                return s
        raise KeyError(f"profile {self.name!r} has no stream {name!r}")

    def match_score(self, name: str | None, service_uuids: Iterable[str] = ()) -> int:
        """0 when an advertisement does not match, 1 for a name or service match, 2 for both.

        The name matches when :attr:`name_regex` finds a match in it (``re.search``); the
        services match when the advertisement lists any of :attr:`advertised_services`.
        """
        by_name = bool(name and self.name_regex is not None and self.name_regex.search(name))
        seen = {normalise_uuid(u) for u in service_uuids}
        return int(by_name) + int(bool(seen.intersection(self.advertised_services)))


# ------------------------------------------------------------------------------------ parsing
class _Reader:
    """Typed access to the TOML tables, raising :class:`ProfileError` with the key path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ProfileError(self.source, key, problem)

    def table(self, value: Any, path: str, allowed: Iterable[str]) -> dict[str, Any]:
        allowed = sorted(allowed)
        if not isinstance(value, dict):
            self.fail(path, f"expected a table, got {_show(value)}")
        for key in value:
            if key not in allowed:
                swapped = [a for a in allowed if sorted(a.split("_")) == sorted(key.split("_"))]
                close = swapped or difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.fail(_join(path, key), f"unknown key; expected one of {', '.join(allowed)}{hint}")
        return value

    def get(
        self,
        table: dict[str, Any],
        key: str,
        path: str,
        expected: str,
        ok: Callable[[Any], bool],
        default: Any = _MISSING,
    ) -> Any:
        if key not in table:
            if default is _MISSING:
                self.fail(_join(path, key), f"missing; expected {expected}")
            return default
        value = table[key]
        if not ok(value):
            self.fail(_join(path, key), f"expected {expected}, got {_show(value)}")
        return value

    def uuid(self, value: Any, key: str) -> str:
        try:
            return normalise_uuid(value)
        except ValueError:
            self.fail(key, f"expected a 16-, 32- or 128-bit UUID, got {_show(value)}")

    def label(self, value: Any, key: str, chars: Mapping[str, Characteristic], roles: tuple) -> str:
        if value not in chars:
            known = ", ".join(repr(k) for k in chars)
            self.fail(key, f"expected a characteristic label ({known}), got {_show(value)}")
        if chars[value].role not in roles:
            self.fail(
                key,
                f"expected a characteristic with role {' or '.join(roles)}, got {value!r} "
                f"(role {chars[value].role})",
            )
        return chars[value].uuid


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _text(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip())


def _bool(v: Any) -> bool:
    return isinstance(v, bool)


def _positive(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0


def _int_in(lo: int, hi: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _any(v: Any) -> bool:
    return True


def _str(v: Any) -> bool:
    return isinstance(v, str)


def _list(v: Any) -> bool:
    return isinstance(v, list)


def _nonempty_list(v: Any) -> bool:
    return isinstance(v, list) and bool(v)


def _index(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _hex(v: Any) -> bool:
    return isinstance(v, str) and bool(_HEX.fullmatch(v))


def _one_of(options: Iterable[Any]) -> Callable[[Any], bool]:
    allowed = tuple(options)
    return lambda v: isinstance(v, (str, int)) and not isinstance(v, bool) and v in allowed


def _texts(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(_text(x) for x in v) and len(set(v)) == len(v)


_HEX = re.compile(r"\s*[0-9a-fA-F]{2}(\s*[0-9a-fA-F]{2})*\s*")
_TOP = {
    "schema", "protocol", "model", "firmware", "description", "mtu", "min_mtu",
    "advertisement", "characteristics", "settings", "start", "stop", "streams",
}  # fmt: skip
_STREAM = {
    "name", "kind", "characteristic", "channels", "rate", "resolution_bits", "scale", "unit",
    "in_band_scale", "packet_kind", "columns", "description",
}  # fmt: skip


def parse_profile(text: str, *, name: str, source: str = "<string>") -> DeviceProfile:
    """Parse and validate the TOML ``text`` of a profile called ``name``.

    ``source`` names the file in error messages. Used by :func:`load_profile`, and to re-read
    the ``source_text`` a recording stored.
    """
    r = _Reader(source)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        r.fail("", f"not valid TOML: {exc}")
    r.table(doc, "", _TOP)
    r.get(doc, "schema", "", f"{SCHEMA_VERSION}", _int_in(SCHEMA_VERSION, SCHEMA_VERSION))
    protocols = ", ".join(_RULES)
    protocol = r.get(doc, "protocol", "", f"one of {protocols}", _one_of(_RULES))
    try:
        codec = importlib.import_module(f"myoflow.devices.{protocol}")
    except ImportError:
        r.fail("protocol", f"expected a codec module myoflow.devices.{protocol}, found none")
    if getattr(codec, "PROTOCOL", None) != protocol or not callable(getattr(codec, "decode", 0)):
        r.fail("protocol", f"expected myoflow.devices.{protocol} to be a codec with decode()")
    mtu = r.get(doc, "mtu", "", "an ATT MTU of 23..517 bytes", _int_in(23, 517))
    min_mtu = r.get(doc, "min_mtu", "", f"an ATT MTU of 23..{mtu} (mtu)", _int_in(23, mtu), mtu)
    regex, services = _advertisement(r, r.get(doc, "advertisement", "", "a table", _any))
    chars = _characteristics(r, r.get(doc, "characteristics", "", "a table", _any))
    settings_rule, streams_rule = _RULES[protocol]
    settings, start_expected, stop_expected = settings_rule(r, doc.get("settings", {}), codec)
    subscribe, start = _sequence(r, r.get(doc, "start", "", "a table", _any), "start", chars)
    _, stop = _sequence(r, r.get(doc, "stop", "", "a table", _any), "stop", chars)
    raw = r.get(doc, "streams", "", "an array of [[streams]] tables", _nonempty_list)
    streams = tuple(_stream(r, s, f"streams[{i}]", chars) for i, s in enumerate(raw))
    _cross_check(r, streams, subscribe, chars)
    roles = {c.uuid: c.role for c in chars.values()}
    _check_writes(r, "start.writes", start, roles, start_expected)
    _check_writes(r, "stop.writes", stop, roles, stop_expected)
    streams_rule(r, settings, streams, min_mtu, codec)
    return DeviceProfile(
        name=name,
        source=source,
        source_text=text,
        protocol=protocol,
        model=r.get(doc, "model", "", "a model name", _text),
        firmware=r.get(doc, "firmware", "", "a firmware version string", _text),
        description=r.get(doc, "description", "", "a string", _str, ""),
        name_regex=regex,
        advertised_services=services,
        characteristics=tuple(chars.values()),
        mtu=mtu,
        min_mtu=min_mtu,
        settings=_freeze(settings),
        subscribe=subscribe,
        start=start,
        stop=stop,
        streams=streams,
    )


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    return value


def _advertisement(r: _Reader, adv: Any) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    r.table(adv, "advertisement", {"name_regex", "service_uuids"})
    pattern = r.get(adv, "name_regex", "advertisement", "a regular expression", _text, None)
    regex = None
    if pattern is not None:
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            r.fail("advertisement.name_regex", f"expected a regular expression, got {pattern!r} ({exc})")
    uuids = r.get(adv, "service_uuids", "advertisement", "a list of UUIDs", _list, [])
    services = tuple(r.uuid(u, f"advertisement.service_uuids[{i}]") for i, u in enumerate(uuids))
    if regex is None and not services:
        r.fail("advertisement", "expected name_regex or service_uuids (or both), got neither")
    return regex, services


def _characteristics(r: _Reader, table: Any) -> dict[str, Characteristic]:
    if not isinstance(table, dict) or not table:
        r.fail("characteristics", f"expected a non-empty table, got {_show(table)}")
    out: dict[str, Characteristic] = {}
    for label, entry in table.items():
        path = f"characteristics.{label}"
        r.table(entry, path, {"service", "uuid", "role"})
        service = r.uuid(r.get(entry, "service", path, "a UUID", _any), f"{path}.service")
        uuid = r.uuid(r.get(entry, "uuid", path, "a UUID", _any), f"{path}.uuid")
        role = r.get(entry, "role", path, f"one of {', '.join(ROLES)}", _one_of(ROLES))
        out[label] = Characteristic(label, service, uuid, role)
    return out


def _sequence(
    r: _Reader, table: Any, key: str, chars: Mapping[str, Characteristic]
) -> tuple[tuple[str, ...], tuple[Write, ...]]:
    r.table(table, key, {"subscribe", "writes"} if key == "start" else {"writes"})
    subscribe: tuple[str, ...] = ()
    if key == "start":
        labels = r.get(table, "subscribe", key, "a list of characteristic labels", _texts)
        subscribe = tuple(
            r.label(lab, f"{key}.subscribe[{i}]", chars, ("data", "control_point"))
            for i, lab in enumerate(labels)
        )
    writes = []
    for i, entry in enumerate(r.get(table, "writes", key, "an array of tables", _nonempty_list)):
        path = f"{key}.writes[{i}]"
        r.table(entry, path, {"characteristic", "hex", "response"})
        label = r.get(entry, "characteristic", path, "a characteristic label", _text)
        target = r.label(label, f"{path}.characteristic", chars, ("command", "control_point"))
        hex_text = r.get(entry, "hex", path, "hex bytes such as '01 03 03 01 00'", _hex)
        response = r.get(entry, "response", path, "true (with response) or false", _bool)
        writes.append(Write(target, bytes.fromhex(re.sub(r"\s", "", hex_text)), response))
    return subscribe, tuple(writes)


def _stream(r: _Reader, entry: Any, path: str, chars: Mapping[str, Characteristic]) -> StreamSpec:
    r.table(entry, path, _STREAM)
    kind = r.get(entry, "kind", path, f"one of {', '.join(KIND_UNITS)}", _one_of(KIND_UNITS))
    labels = r.get(
        entry,
        "characteristic",
        path,
        "a characteristic label or a list of them",
        lambda v: _text(v) or _texts(v),
    )
    labels = [labels] if isinstance(labels, str) else labels
    channels = tuple(r.get(entry, "channels", path, "a list of distinct channel labels", _texts))
    n = len(channels)
    columns = r.get(
        entry,
        "columns",
        path,
        f"a list of {n} distinct column indices",
        lambda v: _list(v) and len(v) == n == len(set(v)) and all(map(_index, v)),
        None,
    )
    unit = r.get(
        entry,
        "unit",
        path,
        f"{KIND_UNITS[kind]!r} or {RAW_UNIT!r}",
        _one_of((KIND_UNITS[kind], RAW_UNIT)),
        KIND_UNITS[kind],
    )
    uuids = tuple(r.label(lab, f"{path}.characteristic", chars, ("data",)) for lab in labels)
    return StreamSpec(
        name=r.get(entry, "name", path, "a name without '/'", lambda v: _text(v) and "/" not in v),
        kind=kind,
        characteristics=uuids,
        channels=channels,
        rate=float(r.get(entry, "rate", path, "a positive number of Hz", _positive)),
        resolution_bits=r.get(entry, "resolution_bits", path, "bits 1..32", _int_in(1, 32)),
        scale=float(r.get(entry, "scale", path, f"a positive number of {unit}/count", _positive)),
        unit=unit,
        in_band_scale=r.get(entry, "in_band_scale", path, "true or false", _bool, False),
        packet_kind=r.get(entry, "packet_kind", path, "a codec packet kind", _text, kind),
        columns=None if columns is None else tuple(columns),
        description=r.get(entry, "description", path, "a string", _str, ""),
    )


def _cross_check(
    r: _Reader,
    streams: tuple[StreamSpec, ...],
    subscribe: tuple[str, ...],
    chars: Mapping[str, Characteristic],
) -> None:
    names = [s.name for s in streams]
    for i, s in enumerate(streams):
        if names.index(s.name) != i:
            r.fail(f"streams[{i}].name", f"expected a unique stream name, got {s.name!r} again")
        for uuid in s.characteristics:
            if uuid not in subscribe:
                label = next(c.label for c in chars.values() if c.uuid == uuid)
                r.fail(
                    "start.subscribe",
                    f"expected every characteristic a stream reads, "
                    f"missing {label!r} (read by stream {s.name!r})",
                )


def _check_writes(
    r: _Reader, path: str, writes: tuple[Write, ...], roles: Mapping[str, str], expected: _Expected
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


# ------------------------------------------------------------------------- per-protocol rules
# Each protocol has a settings rule (validate [settings]; return them with the writes they
# imply for start and stop, built with the codec's own command builders) and a streams rule
# (check the streams against the settings).
_Expected = list[tuple[str, bytes, str]]  # (characteristic role, bytes, what the write does)
_Settings = tuple[dict[str, Any], _Expected, _Expected]


def _setting(r: _Reader, t: dict, key: str, expected: str, ok: Callable[[Any], bool]) -> Any:
    return r.get(t, key, "settings", expected, ok)


def _myo_settings(r: _Reader, t: Any, codec: ModuleType) -> _Settings:
    r.table(t, "settings", {"emg_mode", "imu_mode", "classifier", "never_sleep"})
    emg = _setting(r, t, "emg_mode", f"one of {', '.join(codec.EMG_MODES)}", _one_of(codec.EMG_MODES))
    imu = _setting(r, t, "imu_mode", f"one of {', '.join(codec.IMU_MODES)}", _one_of(codec.IMU_MODES))
    clf = _setting(r, t, "classifier", "true or false", _bool)
    awake = _setting(r, t, "never_sleep", "true or false", _bool)
    start = [("command", codec.set_mode(emg, imu, clf), f"set mode emg={emg} imu={imu}")]
    if awake:
        start.append(("command", codec.sleep_mode(never=True), "never sleep"))
    stop = [("command", codec.set_mode("off", "off", False), "set mode off")]
    return {"emg_mode": emg, "imu_mode": imu, "classifier": clf, "never_sleep": awake}, start, stop


def _ganglion_settings(r: _Reader, t: Any, codec: ModuleType) -> _Settings:
    r.table(t, "settings", {"accelerometer"})
    acc = _setting(r, t, "accelerometer", "true or false", _bool)
    start = [
        ("command", codec.ACCEL_ON if acc else codec.ACCEL_OFF, f"accelerometer {_show(acc)}"),
        ("command", codec.START, "start streaming"),
    ]
    return {"accelerometer": acc}, start, [("command", codec.STOP, "stop streaming")]


def _fixed_rates(r: _Reader, streams: tuple, rates: Mapping[str, float | None]) -> None:
    """Each stream's packet kind must be one the codec delivers, at the firmware's fixed rate."""
    for i, s in enumerate(streams):
        if s.packet_kind not in rates:
            r.fail(f"streams[{i}].packet_kind", f"expected one of {', '.join(rates)}, got {s.packet_kind!r}")
        rate = rates[s.packet_kind]
        if rate is not None and s.rate != rate:
            r.fail(
                f"streams[{i}].rate",
                f"expected {rate:g} Hz (fixed by the firmware for "
                f"{s.packet_kind} packets), got {_show(s.rate)}",
            )


def _ganglion_streams(r: _Reader, settings: Mapping, streams: tuple, _: int, codec: Any) -> None:
    # The accelerometer: one axis per 18-bit packet, each axis every 10 packets of 2 samples.
    _fixed_rates(r, streams, {"emg": codec.FS, "acc": codec.FS / 20})
    acc = settings["accelerometer"]
    if acc != any(s.kind == "acc" for s in streams):
        r.fail(
            "streams",
            f"expected {'an' if acc else 'no'} acc stream with settings."
            f"accelerometer = {_show(acc)}, got {'none' if acc else 'one'}",
        )
    bits = 18 if acc else 19  # firmware 3: IDs 0-99 (accelerometer on) or 100-199
    for i, s in enumerate(streams):
        if s.kind == "emg" and s.resolution_bits != bits:
            r.fail(
                f"streams[{i}].resolution_bits",
                f"expected {bits} (the sample width with "
                f"settings.accelerometer = {_show(acc)}), got {s.resolution_bits}",
            )


def _polar_settings(r: _Reader, t: Any, codec: ModuleType) -> _Settings:
    kinds = {m.name.lower(): m for m in codec.Measurement}
    names = {s.name.lower(): s for s in codec.Setting if s is not codec.Setting.FACTOR}
    r.table(t, "settings", kinds)
    if not t:
        r.fail("settings", "expected measurement tables such as [settings.acc], got none")
    out: dict[str, Any] = {}
    start: _Expected = []
    stop: _Expected = []
    for kind, table in t.items():
        path = f"settings.{kind}"
        r.table(table, path, names)
        r.get(table, "sample_rate", path, "a sample rate in Hz", _any)
        out[kind] = {k: r.get(table, k, path, "a whole number", _int_in(0, 2**32 - 1)) for k in table}
        try:
            cmd = codec.start_command(kinds[kind], {names[k]: v for k, v in out[kind].items()})
        except ValueError as exc:
            r.fail(path, f"expected settings the start command can encode: {exc}")
        start.append(("control_point", cmd, f"start {kind}"))
        stop.append(("control_point", codec.stop_command(kinds[kind]), f"stop {kind}"))
    return out, start, stop


def _polar_streams(r: _Reader, settings: Mapping, streams: tuple, *_: Any) -> None:
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
                    f"expected {m[key]} (settings.{s.packet_kind}.{key}), got {_show(getattr(s, field))}",
                )
    for kind in settings:
        if not any(s.packet_kind == kind for s in streams):
            r.fail(f"settings.{kind}", f"expected a stream with packet_kind {kind!r}, found none")


def _diy_settings(r: _Reader, t: Any, codec: ModuleType) -> _Settings:
    r.table(t, "settings", {"channels", "sample_rate", "sample_bits", "samples_per_packet"})
    s = {
        "channels": _setting(r, t, "channels", "1..4", _int_in(1, codec.MAX_CHANNELS)),
        "sample_rate": _setting(r, t, "sample_rate", "whole Hz 1..65535", _int_in(1, 0xFFFF)),
        "sample_bits": _setting(r, t, "sample_bits", "16 or 24", _one_of((16, 24))),
        "samples_per_packet": _setting(r, t, "samples_per_packet", "1..4096", _int_in(1, 4096)),
    }
    return s, [("command", codec.START, "start")], [("command", codec.STOP, "stop")]


def _diy_streams(r: _Reader, settings: Mapping, streams: tuple, min_mtu: int, codec: Any) -> None:
    _fixed_rates(r, streams, {"emg": None})
    ch, fs, bits, n = (settings[k] for k in ("channels", "sample_rate", "sample_bits", "samples_per_packet"))
    for i, s in enumerate(streams):
        for field, want, got in (("channels", ch, len(s.channels)), ("rate", fs, s.rate)):
            if want != got:
                r.fail(f"streams[{i}].{field}", f"expected {want} (settings), got {_show(got)}")
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


def _myo_streams(r: _Reader, settings: Mapping, streams: tuple, _: int, codec: Any) -> None:
    _fixed_rates(r, streams, {"emg": codec.FS_EMG, "imu": codec.FS_IMU})


_RULES: dict[str, tuple[Callable[..., _Settings], Callable[..., None]]] = {
    "diy": (_diy_settings, _diy_streams),
    "ganglion": (_ganglion_settings, _ganglion_streams),
    "myo": (_myo_settings, _myo_streams),
    "polar_pmd": (_polar_settings, _polar_streams),
}


# ------------------------------------------------------------------------------------ loading
def _shipped_dir() -> Any:
    """Folder of the shipped profiles: package data, else the source checkout's folder."""
    try:
        return resources.files("myoflow._profiles")
    except ModuleNotFoundError:
        # A source checkout whose editable install predates the myoflow._profiles mapping.
        return Path(__file__).resolve().parents[3] / "firmware_configs"


@cache
def _shipped() -> tuple[DeviceProfile, ...]:
    folder = _shipped_dir()
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)
    return tuple(
        parse_profile(f.read_text(encoding="utf-8"), name=f.name[: -len(".toml")], source=str(f))
        for f in files
    )


def shipped_profiles() -> dict[str, DeviceProfile]:
    """The profiles that ship with myoflow, by name (the file name without ``.toml``)."""
    return {p.name: p for p in _shipped()}


def load_profile(path_or_name: str | os.PathLike[str]) -> DeviceProfile:
    """Load a shipped profile by name (``"ganglion_fw3"``) or a user's TOML file by path.

    A string that ends in ``.toml`` or contains a path separator, and any ``os.PathLike``, is a
    file path; the profile is then named after the file. Raises :class:`ProfileError` for an
    unknown name, a missing or unreadable file and every validation problem.
    """
    text = os.fspath(path_or_name)
    is_path = isinstance(path_or_name, os.PathLike) or text.endswith(".toml")
    if is_path or "/" in text or os.sep in text:
        path = Path(text)
        try:
            content = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ProfileError(str(path), "", "no such profile file") from None
        except UnicodeDecodeError as exc:
            raise ProfileError(str(path), "", f"not UTF-8 text ({exc.reason})") from None
        except OSError as exc:
            raise ProfileError(str(path), "", f"cannot be read ({exc.strerror})") from None
        return parse_profile(content, name=path.stem, source=str(path))
    profiles = shipped_profiles()
    if text not in profiles:
        known = ", ".join(sorted(profiles))
        raise ProfileError(
            text, "", f"no shipped profile of that name; expected one of {known} or the path of a .toml file"
        )
    return profiles[text]


def profile_for_advertisement(
    name: str | None,
    service_uuids: Iterable[str] = (),
    profiles: Iterable[DeviceProfile] | None = None,
) -> list[DeviceProfile]:
    """Profiles that match an advertisement, best first.

    Parameters
    ----------
    name
        Advertised local name, or ``None`` when the advertisement carried none.
    service_uuids
        Advertised service UUIDs, any spelling :func:`normalise_uuid` accepts.
    profiles
        Candidates; the shipped profiles by default.

    Returns
    -------
    list of DeviceProfile
        Every profile with a positive :meth:`DeviceProfile.match_score`, highest score first,
        then by profile name. Several profiles can match one strap (e.g. the DIY variants):
        the user then picks one with ``--profile``.
    """
    seen = tuple(service_uuids)
    pool = _shipped() if profiles is None else tuple(profiles)
    scored = [(p.match_score(name, seen), p) for p in pool]
    return [p for score, p in sorted(scored, key=lambda sp: (-sp[0], sp[1].name)) if score > 0]
