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

This module holds the public side: the profile types, :func:`load_profile`,
:func:`shipped_profiles`, :func:`parse_profile` and :func:`profile_for_advertisement`. The
validation behind :func:`parse_profile` lives in private modules: ``_profile_reader`` (typed
reads with key-path errors), ``_profile_parse`` (the TOML sections) and ``_profile_rules``
(what each protocol's settings imply for the writes and streams).
"""

from __future__ import annotations

import importlib
import os
import re
import uuid as _uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

from myoflow.stream import StreamInfo

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
def parse_profile(text: str, *, name: str, source: str = "<string>") -> DeviceProfile:
    """Parse and validate the TOML ``text`` of a profile called ``name``.

    ``source`` names the file in error messages. Used by :func:`load_profile`, and to re-read
    the ``source_text`` a recording stored. Raises :class:`ProfileError` for the first problem
    found.
    """
    # The parser builds this module's types, so it imports them: import it here, not at the top.
    from myoflow.devices._profile_parse import parse_document

    return parse_document(text, name=name, source=source)


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
