"""Virtual straps wired for the ingest: a link, a synthetic session, straps and their configs.

One rig, two presets, everything virtual goes through :func:`virtual_rig`:

* ``preset="kinds"`` (default): one virtual strap per entry of ``kinds`` with its shipped
  profile (``myoflow scan --virtual``, ``myoflow stream --virtual``, the ingest benchmark and
  the end-to-end tests; :data:`DEFAULT_KINDS` is Ganglion, Polar H10 and Myo);
* ``preset="glute"``: the glute-bridge rig of the demo, ``record --virtual`` and
  ``dashboard --virtual``: a DIY 4-channel EMG strap (glutes and hamstrings, at the session's
  EMG rate) and two Polar Verity Sense (ACC + GYRO) on pelvis and thigh, whose hip angle is
  thigh minus pelvis (:mod:`myoflow.rigs.virtual_glute` holds its session recipe).

Either way :func:`virtual_rig` builds the straps on a :class:`~myoflow.devices.virtual.VirtualLink`
inside a running loop, driven by one synthetic session, with the
:class:`~myoflow.devices.ingest.StrapConfig` that streams each of them::

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

from myoflow._checks import check_option
from myoflow.devices.ingest import Ingest, StrapConfig
from myoflow.devices.profiles import DeviceProfile, load_profile, parse_profile
from myoflow.devices.virtual import VirtualLink
from myoflow.devices.virtual.radio import LinkConditions, RealTimeClock, VirtualClock
from myoflow.devices.virtual.straps import KINDS, VirtualStrap, virtual_straps
from myoflow.rigs.names import EMG_CHANNELS, EMG_STRAP, EMG_STREAM, PELVIS_STRAP, THIGH_STRAP
from myoflow.stream import Sink

__all__ = [
    "DEFAULT_KINDS",
    "PRESETS",
    "PROFILE_OF_KIND",
    "VirtualRig",
    "emg_profile",
    "placements_for",
    "virtual_rig",
]

#: What :func:`virtual_rig` can build.
PRESETS = ("kinds", "glute")
_DIY_PER_PACKET = 20

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
    """A running virtual world: the link, its clock, the session, the straps (``kinds``: their
    names in the session) and the configs that stream them."""

    link: VirtualLink
    clock: VirtualClock | RealTimeClock
    session: Any
    kinds: tuple[str, ...]
    straps: list[VirtualStrap]
    configs: list[StrapConfig]

    def ingest(self, sinks: Sequence[Sink | object] = (), **kwargs: Any) -> Ingest:
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
    preset: str = "kinds",
    conditions: LinkConditions | Mapping[str, LinkConditions] | None = None,
    fast: bool = True,
    session: Any = None,
    seed: int = 0,
    placements: Mapping[str, Mapping[str, str]] | None = None,
) -> AsyncIterator[VirtualRig]:
    """Start a :class:`VirtualLink` with the straps of ``preset`` (module docstring).

    Parameters
    ----------
    kinds
        ``preset="kinds"``: any of :data:`~myoflow.devices.virtual.straps.KINDS`.
    preset
        One of :data:`PRESETS`.
    conditions
        Radio impairments for all straps, or per kind (see
        :class:`~myoflow.devices.virtual.radio.LinkConditions`).
    fast
        True: virtual time (tests, throughput); False: real time.
    session
        The synthetic session driving the straps (``"kinds"`` default: a 6-rep glute bridge,
        ``seed``; ``"glute"`` needs one, or the signals of an MVC trial followed by a session).
    seed
        Seed of the default session.
    placements
        ``preset="glute"``: channel placements by stream name that override the session's
        (``{"diy/emg": {"ch1": "glute_max_l"}}``).
    """
    check_option(preset, "preset", PRESETS)
    if preset == "kinds":
        for kind in kinds:
            if kind not in KINDS:
                known = ", ".join(KINDS)
                raise ValueError(f"kinds: unknown virtual strap {kind!r}; expected some of {known}")
    if session is None:
        if preset == "glute":
            raise ValueError("the glute preset needs its synthetic session")
        from myoflow.synth.session import glute_bridge_session

        session = glute_bridge_session(n_reps=6, emg_rate=1000.0, imu_rate=100.0, seed=seed)
    clock: VirtualClock | RealTimeClock = VirtualClock() if fast else RealTimeClock()
    if preset == "glute":
        names: tuple[str, ...] = (EMG_STRAP, PELVIS_STRAP, THIGH_STRAP)
        straps = _glute_straps(session, clock, conditions)
    else:
        names = tuple(kinds)
        straps = virtual_straps(session, tuple(kinds), conditions, clock)
    async with VirtualLink() as link:
        for strap in straps:
            await link.add_peripheral(strap)
        if preset == "glute":
            configs = _glute_configs(session, straps, placements)
        else:
            configs = [
                StrapConfig(
                    PROFILE_OF_KIND[kind],
                    device=strap.address,
                    name=kind,
                    placements=placements_for(kind, session),
                )
                for kind, strap in zip(kinds, straps, strict=True)
            ]
        yield VirtualRig(link, clock, session, names, straps, configs)


def emg_profile(rate: int) -> DeviceProfile:
    """The DIY 4-channel profile at ``rate`` Hz (shipped at 2 kHz; its rate changed otherwise)."""
    shipped = load_profile("diy_emg_4ch_2khz")
    rate = int(rate)
    if rate == 2000:
        return shipped
    text = shipped.source_text.replace("rate = 2000.0", f"rate = {rate}.0").replace(
        "sample_rate = 2000", f"sample_rate = {rate}"
    )
    # The same provenance line recordings have carried since the glute rig lived in virtual_glute.
    text = f"# generated by myoflow.rigs.virtual_glute from diy_emg_4ch_2khz: sample rate {rate} Hz\n" + text
    return parse_profile(text, name=f"diy_emg_4ch_{rate}hz", source="<myoflow.rigs.virtual_glute>")


def _glute_straps(
    session: Any, clock: VirtualClock | RealTimeClock, conditions: LinkConditions | Mapping[str, Any] | None
) -> list[VirtualStrap]:
    """The glute preset's straps: DIY EMG (radio 0), Verity Sense on pelvis (1) and thigh (2)."""
    from myoflow.devices.protocols.diy.virtual import VirtualDiyStrap
    from myoflow.devices.protocols.polar_pmd.virtual import VirtualPolar

    if isinstance(conditions, Mapping):
        raise ValueError("the glute preset takes one LinkConditions for all its straps")
    rate = int(session.config.emg_rate)
    common: dict[str, Any] = dict(clock=clock, conditions=conditions)
    return [
        VirtualDiyStrap(
            session,
            name="DIYemg-0",
            n_channels=EMG_CHANNELS,
            fs=rate,
            block_s=_DIY_PER_PACKET / rate,
            radio_id=0,
            **common,
        ),
        VirtualPolar(
            session, model="Sense", segment="pelvis", name="Polar Sense 1A2B3C01", radio_id=1, **common
        ),
        VirtualPolar(
            session, model="Sense", segment="thigh", name="Polar Sense 1A2B3C02", radio_id=2, **common
        ),
    ]


def _glute_configs(
    session: Any, straps: Sequence[VirtualStrap], placements: Mapping[str, Mapping[str, str]] | None
) -> list[StrapConfig]:
    """What streams the glute preset's straps: the session's muscles on the EMG channels (in
    order, repeated if fewer), the IMU axes on their segment, then ``placements`` on top."""
    given = {k: dict(v) for k, v in (placements or {}).items()}
    unknown = sorted(
        set(given) - {EMG_STREAM, *(f"{s}/{k}" for s in (PELVIS_STRAP, THIGH_STRAP) for k in ("acc", "gyro"))}
    )
    if unknown:
        raise ValueError(f"placements: unknown stream(s) {unknown} of the virtual straps")

    def placed(strap: str, stream: str, channels: Sequence[str], default: Sequence[str]) -> dict[str, str]:
        return {**dict(zip(channels, default, strict=True)), **given.get(f"{strap}/{stream}", {})}

    muscles = tuple(session.placements)
    emg = emg_profile(int(session.config.emg_rate))
    verity = load_profile("polar_verity_acc_gyro")
    return [
        StrapConfig(
            emg,
            device=straps[0].address,
            name=EMG_STRAP,
            placements={
                "emg": placed(
                    EMG_STRAP,
                    "emg",
                    emg.stream("emg").channels,
                    [muscles[j % len(muscles)] for j in range(EMG_CHANNELS)],
                )
            },
        ),
        *(
            StrapConfig(
                verity,
                device=s.address,
                name=seg,
                placements={k: placed(seg, k, ("x", "y", "z"), (seg,) * 3) for k in ("acc", "gyro")},
            )
            for s, seg in zip(straps[1:], (PELVIS_STRAP, THIGH_STRAP), strict=True)
        ),
    ]
