"""Virtual straps wired for the ingest: a link, a synthetic session, straps and their configs.

``myoflow scan --virtual``, ``myoflow stream --virtual``, the ingest benchmark and the end-to-end
tests all need the same thing: virtual straps (:mod:`myoflow.devices.virtual`) on a
:class:`~myoflow.devices.virtual.VirtualLink`, driven by one synthetic glute-bridge session,
plus the :class:`~myoflow.devices.ingest.StrapConfig` that streams each of them with its shipped
profile and the session's placements. :func:`virtual_rig` builds that inside a running loop::

    async with virtual_rig(("ganglion", "polar_h10", "myo"), fast=True) as rig:
        async with rig.ingest([sink]) as ingest:
            await ingest.run(60.0)        # 60 s of virtual time, a few seconds of wall time
        rig.straps[0].ledger              # what the simulator sent, for comparison

``fast=True`` uses a :class:`~myoflow.devices.virtual.radio.VirtualClock` as the host clock
(nothing sleeps; see the ``radio`` module); ``fast=False`` runs in real time.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from myoflow.devices.ingest import Ingest, StrapConfig
from myoflow.devices.sinks import Sink
from myoflow.devices.virtual import VirtualLink
from myoflow.devices.virtual.radio import LinkConditions, RealTimeClock, VirtualClock
from myoflow.devices.virtual.straps import KINDS, VirtualStrap, virtual_straps

__all__ = ["DEFAULT_KINDS", "PROFILE_OF_KIND", "VirtualRig", "placements_for", "virtual_rig"]

#: The straps ``myoflow stream --virtual`` uses: Ganglion on glutes/hamstrings, H10 on the
#: pelvis, Myo on the thigh.
DEFAULT_KINDS = ("ganglion", "polar_h10", "myo")
#: The shipped profile that streams each virtual strap kind.
PROFILE_OF_KIND = {
    "ganglion": "ganglion_fw3",
    "polar_h10": "polar_h10_acc_ecg",
    "polar_verity": "polar_verity_acc_gyro",
    "myo": "myo_raw_emg",
    "diy": "diy_emg_2ch_1khz",
}
_SEGMENT = {"polar_h10": "pelvis", "polar_verity": "pelvis", "myo": "thigh", "ganglion": "thigh"}


@dataclass
class VirtualRig:
    """A running virtual world: the link, its clock, the session and one strap per kind."""

    link: VirtualLink
    clock: VirtualClock | RealTimeClock
    session: Any
    kinds: tuple[str, ...]
    straps: list[VirtualStrap]
    configs: list[StrapConfig]

    def ingest(self, sinks: Sequence[Sink] = (), **kwargs: Any) -> Ingest:
        """An :class:`Ingest` of every strap over this link, stamped with the rig's clock."""
        kwargs.setdefault("scan_timeout", 5.0)
        return Ingest(
            self.configs,
            sinks,
            clock=self.clock,
            scanner_backend=self.link.scanner_backend,
            client_backend=self.link.client_backend,
            **kwargs,
        )


def placements_for(kind: str, session: Any) -> dict[str, tuple[str, ...]]:
    """Placements of a virtual strap's streams: EMG channel ``j`` carries session channel
    ``j % n``; IMU axes sit on the strap's segment; the ECG on the chest."""
    muscles = tuple(session.config.placements)
    segment = _SEGMENT.get(kind, "thigh")
    if kind == "ganglion":
        return {"emg": tuple(muscles[j % len(muscles)] for j in range(4)), "acc": (segment,) * 3}
    if kind == "myo":
        imu = {name: (segment,) * n for name, n in (("quat", 4), ("acc", 3), ("gyro", 3))}
        return {"emg": tuple(muscles[j % len(muscles)] for j in range(8)), **imu}
    if kind == "polar_h10":
        return {"acc": (segment,) * 3, "ecg": ("chest",)}
    if kind == "polar_verity":
        return {"acc": (segment,) * 3, "gyro": (segment,) * 3}
    return {"emg": tuple(muscles[j % len(muscles)] for j in range(2))}


@contextlib.asynccontextmanager
async def virtual_rig(
    kinds: Sequence[str] = DEFAULT_KINDS,
    *,
    conditions: LinkConditions | Mapping[str, LinkConditions] | None = None,
    fast: bool = True,
    session: Any = None,
    seed: int = 0,
) -> AsyncIterator[VirtualRig]:
    """Start a :class:`VirtualLink` with one virtual strap per entry of ``kinds``.

    Parameters
    ----------
    kinds
        Any of :data:`~myoflow.devices.virtual.straps.KINDS`.
    conditions
        Radio impairments for all straps, or per kind (see
        :class:`~myoflow.devices.virtual.radio.LinkConditions`).
    fast
        True: virtual time (tests, throughput); False: real time.
    session
        The synthetic session driving the straps (default: a 6-rep glute bridge, ``seed``).
    seed
        Seed of the default session.
    """
    for kind in kinds:
        if kind not in KINDS:
            raise ValueError(f"kinds: unknown virtual strap {kind!r}; expected some of {', '.join(KINDS)}")
    if session is None:
        from myoflow.synth.session import glute_bridge_session

        session = glute_bridge_session(n_reps=6, emg_rate=1000.0, imu_rate=100.0, seed=seed)
    clock: VirtualClock | RealTimeClock = VirtualClock() if fast else RealTimeClock()
    straps = virtual_straps(session, tuple(kinds), conditions, clock)
    async with VirtualLink() as link:
        for strap in straps:
            await link.add_peripheral(strap)
        configs = [
            StrapConfig(
                PROFILE_OF_KIND[kind],
                device=strap.address,
                name=kind,
                placements=placements_for(kind, session),
            )
            for kind, strap in zip(kinds, straps, strict=True)
        ]
        yield VirtualRig(link, clock, session, tuple(kinds), straps, configs)
