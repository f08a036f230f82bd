"""The types of a device profile: plain frozen data, imported by everything that reads profiles.

A leaf module (it imports only :mod:`myoflow.stream`): the profile parser
(:mod:`myoflow.devices._profile_parse`), the protocol folders' profile rules and the public
:mod:`myoflow.devices.profiles` all build on it, so none of them needs another.
"""

from __future__ import annotations

import re
import uuid as _uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from myoflow.stream import StreamInfo

__all__ = [
    "RAW_UNIT",
    "ROLES",
    "SCHEMA_VERSION",
    "Characteristic",
    "DeviceProfile",
    "ProfileError",
    "StreamSpec",
    "Write",
    "normalise_uuid",
]

SCHEMA_VERSION = 1
#: What a characteristic is for: ``data`` carries samples (notify), ``command`` takes writes,
#: ``control_point`` takes writes and answers with notifications/indications (Polar PMD).
ROLES = ("data", "command", "control_point")
#: Unit of a stream with no known physical scale (e.g. Myo EMG): samples stay in counts.
RAW_UNIT = "count"
_SIG_BASE = "-0000-1000-8000-00805f9b34fb"


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
