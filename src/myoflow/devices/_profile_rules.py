"""What every protocol's profile rules share: the rule types, typed setting reads, fixed rates,
and :func:`check_writes`.

Each protocol folder (``myoflow.devices.protocols.<p>/rules.py``) has a settings rule and a
streams rule, which the registry hands to the profile parser:

- ``settings_rule(reader, settings_table, codec) -> (settings, start, stop)`` validates
  ``[settings]`` and rebuilds the writes those settings imply with the codec's own command
  builders (e.g. ``polar_pmd.start_command``), as :data:`Expected` ``(role, bytes, what)``;
- ``streams_rule(reader, settings, streams, min_mtu, codec)`` checks the streams against the
  settings and the firmware: fixed rates (Myo, Ganglion), sample width (Ganglion), Polar
  measurements started and their rates, DIY channels, rate and the MTU one packet needs.

:func:`check_writes` then holds the profile's declared start and stop writes to the rebuilt
ones, so a profile cannot claim 100 Hz while sending the 200 Hz command.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from myoflow.devices._profile_reader import Reader, show
from myoflow.devices.profile_types import Write

__all__ = ["Expected", "ProfileRules", "SettingsResult", "check_writes", "fixed_rates", "setting"]

#: Writes a protocol's settings imply: (characteristic role, bytes, what the write does).
Expected = list[tuple[str, bytes, str]]
#: What a settings rule returns: (settings, start writes, stop writes).
SettingsResult = tuple[dict[str, Any], Expected, Expected]
#: ``(settings_rule, streams_rule)`` of one protocol.
ProfileRules = tuple[
    Callable[[Reader, Any, ModuleType], SettingsResult],
    Callable[[Reader, Mapping[str, Any], tuple, int, ModuleType], None],
]


def setting(r: Reader, t: dict, key: str, expected: str, ok: Callable[[Any], bool]) -> Any:
    """Read ``settings.<key>`` of table ``t``, checked by ``ok``."""
    return r.get(t, key, "settings", expected, ok)


def fixed_rates(r: Reader, streams: tuple, rates: Mapping[str, float | None]) -> None:
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
