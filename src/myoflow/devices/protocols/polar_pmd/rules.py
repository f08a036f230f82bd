"""Profile rules of the Polar PMD: what its ``[settings]`` imply for the writes and streams."""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

from myoflow.devices._profile_reader import Reader, int_in, is_any, show
from myoflow.devices._profile_rules import Expected, SettingsResult


def settings_rule(r: Reader, t: Any, codec: ModuleType) -> SettingsResult:
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


def streams_rule(r: Reader, settings: Mapping, streams: tuple, *_: Any) -> None:
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
