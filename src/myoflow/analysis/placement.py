"""Which channel is which muscle: placement strings such as ``glute_max_r`` and their roles.

A placement is ``<muscle>_<side>`` with side ``l`` or ``r`` (``glute_max_r``,
``biceps_femoris_l``). The analysis needs each channel's *role* for a metric:

=============  ==========================================================================
role           muscles (placement stems)
=============  ==========================================================================
``glute``      ``glute_max`` (gluteus maximus)
``hamstring``  ``biceps_femoris``, ``semitendinosus``, ``semimembranosus``, ``hamstring``
``abductor``   ``glute_med``, ``glute_min``, ``tfl`` (tensor fasciae latae)
``adductor``   ``adductor``, ``adductor_longus``, ``adductor_magnus``, ``gracilis``
``hip_flexor`` ``rectus_femoris``, ``iliopsoas``, ``psoas``, ``iliacus``, ``sartorius``
``knee_ext``   ``vastus_lateralis``, ``vastus_medialis``, ``quadriceps``
``trunk``      ``erector_spinae``, ``multifidus``, ``rectus_abdominis``, ``obliques``
=============  ==========================================================================

Antagonists (for the reciprocal-inhibition cue and default co-contraction pairs): the hip
extensors (``glute``, ``hamstring``) against ``hip_flexor``; ``abductor`` against ``adductor``.
Unknown muscle names are kept (role ``"other"``) so that a recording with an unusual placement
still runs the metrics that do not need a role.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

_ROLES: dict[str, tuple[str, ...]] = {
    "glute": ("glute_max",),
    "hamstring": ("biceps_femoris", "semitendinosus", "semimembranosus", "hamstring"),
    "abductor": ("glute_med", "glute_min", "tfl"),
    "adductor": ("adductor", "adductor_longus", "adductor_magnus", "gracilis"),
    "hip_flexor": ("rectus_femoris", "iliopsoas", "psoas", "iliacus", "sartorius"),
    "knee_ext": ("vastus_lateralis", "vastus_medialis", "quadriceps"),
    "trunk": ("erector_spinae", "multifidus", "rectus_abdominis", "obliques"),
}
_ROLE_OF = {muscle: role for role, muscles in _ROLES.items() for muscle in muscles}
#: Role -> roles acting against it at the hip.
ANTAGONIST_ROLES: dict[str, tuple[str, ...]] = {
    "glute": ("hip_flexor",),
    "hamstring": ("hip_flexor",),
    "abductor": ("adductor",),
    "adductor": ("abductor",),
    "hip_flexor": ("glute", "hamstring"),
}


@dataclass(frozen=True)
class Placement:
    """One channel's placement: ``name`` as given, ``muscle`` stem, ``side`` and ``role``."""

    name: str
    muscle: str
    side: str
    role: str


def parse_placement(name: str) -> Placement:
    """Split ``"<muscle>_<l|r>"`` into muscle, side and role.

    A name without a side suffix keeps side ``""``; an unknown muscle gets role ``"other"``.
    ``ValueError`` for an empty or non-string name.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"placement must be a non-empty string such as 'glute_max_r', got {name!r}")
    key = name.strip().lower()
    muscle, _, side = key.rpartition("_")
    if side not in ("l", "r") or not muscle:
        muscle, side = key, ""
    return Placement(name, muscle, side, _ROLE_OF.get(muscle, "other"))


def channels_with_role(placements: Sequence[str], role: str) -> list[int]:
    """Indices of the channels whose placement has ``role`` (see the module table)."""
    return [i for i, p in enumerate(placements) if parse_placement(p).role == role]


def describe(placements: Sequence[str]) -> str:
    """``"glute_max_r (glute), biceps_femoris_r (hamstring)"``: for error messages."""
    if not placements:
        return "no channels"
    return ", ".join(f"{p} ({parse_placement(p).role})" for p in placements)


def handover_channels(placements: Sequence[str]) -> tuple[list[int], list[int]]:
    """``(glute, hamstring)`` channel indices for the hip-extension handover.

    Raises ``ValueError`` naming what was found when either group is empty.
    """
    glute = channels_with_role(placements, "glute")
    hams = channels_with_role(placements, "hamstring")
    if not glute or not hams:
        raise ValueError(
            "handover needs a hamstring and a glute channel (e.g. 'biceps_femoris_r' and "
            f"'glute_max_r'); found: {describe(placements)}"
        )
    return glute, hams


def prime_movers(placements: Sequence[str]) -> list[int]:
    """Channels that drive hip extension (glute and hamstring); all channels when none is."""
    idx = channels_with_role(placements, "glute") + channels_with_role(placements, "hamstring")
    return sorted(idx) if idx else list(range(len(placements)))


def antagonist_of(placements: Sequence[str], agonist: str) -> str | None:
    """The first placed antagonist of ``agonist`` on the same side (or any side), else None."""
    if agonist not in placements:
        raise ValueError(f"agonist {agonist!r} is not among the placements: {describe(placements)}")
    me = parse_placement(agonist)
    wanted = ANTAGONIST_ROLES.get(me.role, ())
    others = [parse_placement(p) for p in placements if p != agonist]
    hits = [p for p in others if p.role in wanted]
    same_side = [p for p in hits if p.side == me.side]
    pick = (same_side or hits or [None])[0]
    return None if pick is None else pick.name


def channel_index(placements: Sequence[str], name: str, what: str) -> int:
    """Index of placement ``name``; ``ValueError`` naming ``what`` needs it and what exists."""
    if name not in placements:
        raise ValueError(f"{what} needs channel {name!r}; found: {describe(placements)}")
    return list(placements).index(name)
