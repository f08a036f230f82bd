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

This module holds the public side: the profile types (defined in the leaf module
:mod:`myoflow.devices.profile_types`), :func:`load_profile`,
:func:`shipped_profiles`, :func:`parse_profile` and :func:`profile_for_advertisement`. The
validation behind :func:`parse_profile` lives in private modules: ``_profile_reader`` (typed
reads with key-path errors), ``_profile_parse`` (the TOML sections) and ``_profile_rules``
(what each protocol's settings imply for the writes and streams).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from myoflow.devices._profile_parse import parse_document
from myoflow.devices.profile_types import (
    Characteristic,
    DeviceProfile,
    ProfileError,
    StreamSpec,
    Write,
    normalise_uuid,
)

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


# ------------------------------------------------------------------------------------ parsing
def parse_profile(text: str, *, name: str, source: str = "<string>") -> DeviceProfile:
    """Parse and validate the TOML ``text`` of a profile called ``name``.

    ``source`` names the file in error messages. Used by :func:`load_profile`, and to re-read
    the ``source_text`` a recording stored. Raises :class:`ProfileError` for the first problem
    found.
    """
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
