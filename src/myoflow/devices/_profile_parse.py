"""Turn a profile's TOML text into a :class:`DeviceProfile`: each section, then the cross-checks.

:func:`parse_document` is the body of :func:`myoflow.devices.profiles.parse_profile`: it reads
the top-level keys, ``[advertisement]``, ``[characteristics]``, ``[start]``/``[stop]`` and the
``[[streams]]`` tables with a :class:`~myoflow.devices._profile_reader.Reader`, checks that the
sections agree with one another (unique stream names, every stream's characteristic
subscribed), and hands the protocol-specific checks to the rules in ``_profile_rules``.
Private to :mod:`myoflow.devices.profiles`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from myoflow.devices._profile_reader import (
    Reader,
    are_texts,
    int_in,
    is_any,
    is_bool,
    is_hex,
    is_index,
    is_list,
    is_nonempty_list,
    is_positive,
    is_str,
    is_text,
    one_of,
    show,
)
from myoflow.devices._profile_rules import check_writes
from myoflow.devices.profile_types import (
    RAW_UNIT,
    ROLES,
    SCHEMA_VERSION,
    Characteristic,
    DeviceProfile,
    StreamSpec,
    Write,
)
from myoflow.devices.protocols import NAMES, get_protocol
from myoflow.stream import KIND_UNITS

_TOP = {
    "schema", "protocol", "model", "firmware", "description", "mtu", "min_mtu",
    "advertisement", "characteristics", "settings", "start", "stop", "streams",
}  # fmt: skip
_STREAM = {
    "name", "kind", "characteristic", "channels", "rate", "resolution_bits", "scale", "unit",
    "in_band_scale", "packet_kind", "columns", "description",
}  # fmt: skip


def parse_document(text: str, *, name: str, source: str) -> DeviceProfile:
    """Parse and validate the TOML ``text`` of a profile called ``name`` read from ``source``.

    Raises :class:`~myoflow.devices.profiles.ProfileError` for the first problem found.
    """
    r = Reader(source)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        r.fail("", f"not valid TOML: {exc}")
    except RecursionError:  # tomllib recurses once per nesting level
        r.fail("", "not a readable profile: arrays or tables nested thousands of levels deep")
    r.table(doc, "", _TOP)
    r.get(doc, "schema", "", f"{SCHEMA_VERSION}", int_in(SCHEMA_VERSION, SCHEMA_VERSION))
    protocols = ", ".join(NAMES)
    protocol = r.get(doc, "protocol", "", f"one of {protocols}", one_of(NAMES))
    strap_protocol = get_protocol(protocol)
    codec = strap_protocol.codec
    mtu = r.get(doc, "mtu", "", "an ATT MTU of 23..517 bytes", int_in(23, 517))
    min_mtu = r.get(doc, "min_mtu", "", f"an ATT MTU of 23..{mtu} (mtu)", int_in(23, mtu), mtu)
    regex, services = _advertisement(r, r.get(doc, "advertisement", "", "a table", is_any))
    chars = _characteristics(r, r.get(doc, "characteristics", "", "a table", is_any))
    settings_rule, streams_rule = strap_protocol.rules()
    settings, start_expected, stop_expected = settings_rule(r, doc.get("settings", {}), codec)
    subscribe, start = _sequence(r, r.get(doc, "start", "", "a table", is_any), "start", chars)
    _, stop = _sequence(r, r.get(doc, "stop", "", "a table", is_any), "stop", chars)
    raw = r.get(doc, "streams", "", "an array of [[streams]] tables", is_nonempty_list)
    streams = tuple(_stream(r, s, f"streams[{i}]", chars) for i, s in enumerate(raw))
    _cross_check(r, streams, subscribe, chars)
    roles = {c.uuid: c.role for c in chars.values()}
    check_writes(r, "start.writes", start, roles, start_expected)
    check_writes(r, "stop.writes", stop, roles, stop_expected)
    streams_rule(r, settings, streams, min_mtu, codec)
    return DeviceProfile(
        name=name,
        source=source,
        source_text=text,
        protocol=protocol,
        model=r.get(doc, "model", "", "a model name", is_text),
        firmware=r.get(doc, "firmware", "", "a firmware version string", is_text),
        description=r.get(doc, "description", "", "a string", is_str, ""),
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


#: A group ending in a quantifier, itself quantified: ``(a+)+``, ``(\\w*)*``, ``(x{2,})+``...
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*(?:[+*]|\{\d*,?\d*\})\)(?:[+*]|\{\d*,?\d*\})")


def _advertisement(r: Reader, adv: Any) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    r.table(adv, "advertisement", {"name_regex", "service_uuids"})
    pattern = r.get(adv, "name_regex", "advertisement", "a regular expression", is_text, None)
    regex = None
    if pattern is not None:
        if _NESTED_QUANTIFIER.search(pattern):
            r.fail(
                "advertisement.name_regex",
                f"{pattern!r} repeats a group that itself repeats (as in '(a+)+'): matching it can "
                "take exponential time on a hostile advertised name; write it without the nesting",
            )
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            r.fail("advertisement.name_regex", f"expected a regular expression, got {pattern!r} ({exc})")
    uuids = r.get(adv, "service_uuids", "advertisement", "a list of UUIDs", is_list, [])
    services = tuple(r.uuid(u, f"advertisement.service_uuids[{i}]") for i, u in enumerate(uuids))
    if regex is None and not services:
        r.fail("advertisement", "expected name_regex or service_uuids (or both), got neither")
    return regex, services


def _characteristics(r: Reader, table: Any) -> dict[str, Characteristic]:
    if not isinstance(table, dict) or not table:
        r.fail("characteristics", f"expected a non-empty table, got {show(table)}")
    out: dict[str, Characteristic] = {}
    for label, entry in table.items():
        path = f"characteristics.{label}"
        r.table(entry, path, {"service", "uuid", "role"})
        service = r.uuid(r.get(entry, "service", path, "a UUID", is_any), f"{path}.service")
        uuid = r.uuid(r.get(entry, "uuid", path, "a UUID", is_any), f"{path}.uuid")
        role = r.get(entry, "role", path, f"one of {', '.join(ROLES)}", one_of(ROLES))
        out[label] = Characteristic(label, service, uuid, role)
    return out


def _sequence(
    r: Reader, table: Any, key: str, chars: Mapping[str, Characteristic]
) -> tuple[tuple[str, ...], tuple[Write, ...]]:
    r.table(table, key, {"subscribe", "writes"} if key == "start" else {"writes"})
    subscribe: tuple[str, ...] = ()
    if key == "start":
        labels = r.get(table, "subscribe", key, "a list of characteristic labels", are_texts)
        subscribe = tuple(
            r.label(lab, f"{key}.subscribe[{i}]", chars, ("data", "control_point"))
            for i, lab in enumerate(labels)
        )
    writes = []
    for i, entry in enumerate(r.get(table, "writes", key, "an array of tables", is_nonempty_list)):
        path = f"{key}.writes[{i}]"
        r.table(entry, path, {"characteristic", "hex", "response"})
        label = r.get(entry, "characteristic", path, "a characteristic label", is_text)
        target = r.label(label, f"{path}.characteristic", chars, ("command", "control_point"))
        hex_text = r.get(entry, "hex", path, "hex bytes such as '01 03 03 01 00'", is_hex)
        response = r.get(entry, "response", path, "true (with response) or false", is_bool)
        writes.append(Write(target, bytes.fromhex(re.sub(r"\s", "", hex_text)), response))
    return subscribe, tuple(writes)


def _stream(r: Reader, entry: Any, path: str, chars: Mapping[str, Characteristic]) -> StreamSpec:
    r.table(entry, path, _STREAM)
    kind = r.get(entry, "kind", path, f"one of {', '.join(KIND_UNITS)}", one_of(KIND_UNITS))
    labels = r.get(
        entry,
        "characteristic",
        path,
        "a characteristic label or a list of them",
        lambda v: is_text(v) or are_texts(v),
    )
    labels = [labels] if isinstance(labels, str) else labels
    channels = tuple(r.get(entry, "channels", path, "a list of distinct channel labels", are_texts))
    n = len(channels)
    columns = r.get(
        entry,
        "columns",
        path,
        f"a list of {n} distinct column indices",
        lambda v: is_list(v) and len(v) == n == len(set(v)) and all(map(is_index, v)),
        None,
    )
    unit = r.get(
        entry,
        "unit",
        path,
        f"{KIND_UNITS[kind]!r} or {RAW_UNIT!r}",
        one_of((KIND_UNITS[kind], RAW_UNIT)),
        KIND_UNITS[kind],
    )
    uuids = tuple(r.label(lab, f"{path}.characteristic", chars, ("data",)) for lab in labels)
    return StreamSpec(
        name=r.get(entry, "name", path, "a name without '/'", lambda v: is_text(v) and "/" not in v),
        kind=kind,
        characteristics=uuids,
        channels=channels,
        rate=float(r.get(entry, "rate", path, "a positive number of Hz", is_positive)),
        resolution_bits=r.get(entry, "resolution_bits", path, "bits 1..32", int_in(1, 32)),
        scale=float(r.get(entry, "scale", path, f"a positive number of {unit}/count", is_positive)),
        unit=unit,
        in_band_scale=r.get(entry, "in_band_scale", path, "true or false", is_bool, False),
        packet_kind=r.get(entry, "packet_kind", path, "a codec packet kind", is_text, kind),
        columns=None if columns is None else tuple(columns),
        description=r.get(entry, "description", path, "a string", is_str, ""),
    )


def _cross_check(
    r: Reader,
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
