"""Real straps for a session: their :class:`~myoflow.devices.ingest.StrapConfig` from device
and profile lists, and the ingest opener :func:`~myoflow.session.run.run_session` takes.

``myoflow record`` and ``myoflow dashboard`` (without ``--virtual``) both build their straps here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from myoflow.session.run import OpenIngest, ingest_of

if TYPE_CHECKING:
    from myoflow.devices.ingest import StrapConfig

__all__ = ["emg_channels", "real_ingest", "strap_configs"]


def strap_configs(
    devices: Sequence[str], profiles: Sequence[str], placements: Mapping[str, Mapping[str, str]]
) -> list[StrapConfig]:
    """One config per strap: ``devices`` (addresses or advertised names; none: the first strap
    of each profile found), each with its profile from ``profiles`` (shipped names or .toml
    paths; one for all is fine) and its channel ``placements`` by stream name.

    A strap is named after its profile (``"<profile>-2"`` for the second strap of a profile), so
    its streams are ``"<name>/<stream>"``. Raises ``ValueError`` naming the mismatch.
    """
    from myoflow.devices.ingest import StrapConfig
    from myoflow.devices.profiles import load_profile

    devices, profiles = list(devices), list(profiles)
    if devices and len(profiles) > 1 and len(profiles) != len(devices):
        raise ValueError(
            f"give one --profile per --device, or one for all: got {len(devices)} and {len(profiles)}"
        )
    if not profiles:
        raise ValueError(
            "give the --profile of each strap (a shipped name or a .toml path), or use --virtual"
        )
    if len(profiles) == 1 and len(devices) > 1:
        profiles = profiles * len(devices)
    loaded = [load_profile(p) for p in profiles]
    addresses: list[str | None] = list(devices) or [None] * len(loaded)
    configs = []
    for i, (device, profile) in enumerate(zip(addresses, loaded, strict=True)):
        repeated = i > 0 and profile.name in [p.name for p in loaded[:i]]
        name = f"{profile.name}-{i + 1}" if repeated else profile.name
        mine = {k.split("/", 1)[1]: dict(v) for k, v in placements.items() if k.split("/", 1)[0] == name}
        configs.append(StrapConfig(profile, device=device, name=name, placements=mine or None))
    names = {c.name for c in configs}
    unknown = sorted(k for k in placements if k.split("/", 1)[0] not in names)
    if unknown:
        raise ValueError(f"--placement names unknown stream(s) {unknown}; the straps are {sorted(names)}")
    return configs


def emg_channels(configs: Sequence[StrapConfig]) -> int:
    """How many EMG channels the straps' profiles stream in all."""
    profiles = [c.resolved_profile() for c in configs]
    return sum(len(s.channels) for p in profiles if p is not None for s in p.streams if s.kind == "emg")


def real_ingest(configs: Sequence[StrapConfig], scan_timeout: float = 10.0) -> OpenIngest:
    """The opener of an :class:`~myoflow.devices.ingest.Ingest` of ``configs`` over Bluetooth,
    finding the straps within ``scan_timeout`` seconds."""
    from myoflow.devices.ingest import Ingest

    return lambda sinks: ingest_of(lambda: Ingest(list(configs), sinks, scan_timeout=scan_timeout))
