"""Which channel is which muscle: placement strings such as ``glute_max_r`` and their roles.

A placement is ``<muscle>_<side>`` with side ``l`` or ``r`` (``glute_max_r``,
``biceps_femoris_l``). Other spellings of the same muscle are understood and normalised to
that one **canonical name** (:func:`canonical_placement`): Latin (SENIAM) names
(``gluteus_maximus_right``), abbreviations (``GMax_R``, ``BF_L``), sides written ``l``/``r``,
``L``/``R``, ``left``/``right``, ``lt``/``rt`` as first or last word, words separated by
``_``, ``-``, spaces or dots, any case. The vocabulary is in
:mod:`myoflow.analysis._placement_names`. The analysis needs each channel's *role*:

==================  =================================================================================
role                muscles (canonical stems)
==================  =================================================================================
``glute``           ``glute_max`` (gluteus maximus)
``hamstring``       ``biceps_femoris``, ``semitendinosus``, ``semimembranosus``, ``hamstring``
``abductor``        ``glute_med``, ``glute_min``, ``tfl`` (tensor fasciae latae)
``adductor``        ``adductor``, ``adductor_longus``, ``adductor_magnus``, ``gracilis``
``hip_flexor``      ``rectus_femoris``, ``iliopsoas``, ``psoas``, ``iliacus``, ``sartorius``
``knee_ext``        ``vastus_lateralis``, ``vastus_medialis``, ``vastus_intermedius``, ``quadriceps``
``trunk``           ``erector_spinae``, ``multifidus``, ``rectus_abdominis``, ``obliques``
``lower_leg``       ``tibialis_anterior``, ``gastrocnemius_*``, ``soleus``, ``peroneus``
``elbow_flexor``    ``biceps_brachii``, ``brachialis``, ``brachioradialis``
``elbow_ext``       ``triceps_brachii``, ``anconeus``
``wrist_flexor``    ``flexor_carpi_radialis``/``_ulnaris``, ``flexor_digitorum_superficialis``
``wrist_ext``       ``extensor_carpi_radialis``/``_ulnaris``, ``extensor_digitorum``
``shoulder``        ``deltoid_*``, ``trapezius_*``, ``pectoralis_major``, ``latissimus_dorsi``, ...
==================  =================================================================================

IMU and angle streams are placed on body segments or joints (``pelvis``, ``thigh_r``,
``knee_r``; ``sacrum`` and ``lumbar`` are the pelvis segment): :func:`segment_of`.

Antagonists (for the reciprocal-inhibition cue and default co-contraction pairs): the hip
extensors (``glute``, ``hamstring``) against ``hip_flexor``; ``abductor`` against ``adductor``;
``elbow_flexor`` against ``elbow_ext``; ``wrist_flexor`` against ``wrist_ext``.
An unknown name is kept as given (role ``"other"``) so that a recording with an unusual
placement still runs the metrics that do not need a role; :func:`placement_warning` says so
with the closest known names (import, record and analyze print it).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from myoflow.analysis._placement_names import MUSCLE_SYNONYMS, ROLES, SEGMENT_SYNONYMS, SIDES

_ROLE_OF = {muscle: role for role, muscles in ROLES.items() for muscle in muscles}


def _lookup(table: dict[str, tuple[str, ...]], extra: Sequence[str] = ()) -> dict[str, str]:
    out: dict[str, str] = {}
    for canon, synonyms in table.items():
        for word in (canon, *synonyms):
            out[word] = canon
            out[word.replace("_", "")] = canon
    for canon in extra:
        out.setdefault(canon, canon)
        out.setdefault(canon.replace("_", ""), canon)
    return out


_MUSCLES = _lookup(MUSCLE_SYNONYMS, list(_ROLE_OF))
_SEGMENTS = _lookup(SEGMENT_SYNONYMS)
#: Role -> roles acting against it (at the hip, elbow or wrist).
ANTAGONIST_ROLES: dict[str, tuple[str, ...]] = {
    "glute": ("hip_flexor",),
    "hamstring": ("hip_flexor",),
    "abductor": ("adductor",),
    "adductor": ("abductor",),
    "hip_flexor": ("glute", "hamstring"),
    "elbow_flexor": ("elbow_ext",),
    "elbow_ext": ("elbow_flexor",),
    "wrist_flexor": ("wrist_ext",),
    "wrist_ext": ("wrist_flexor",),
}


@dataclass(frozen=True)
class Placement:
    """One channel's placement: ``name`` as given, canonical ``muscle`` stem (or segment),
    ``side`` (``"l"``, ``"r"`` or ``""``), ``role`` and ``kind`` (``"muscle"``, ``"segment"``
    or ``"unknown"``)."""

    name: str
    muscle: str
    side: str
    role: str
    kind: str = "muscle"

    @property
    def canonical(self) -> str:
        """``<muscle>_<side>`` (or the stem alone without a side): the one name myoflow uses."""
        return f"{self.muscle}_{self.side}" if self.side else self.muscle

    @property
    def known(self) -> bool:
        """True for a muscle or segment of the vocabulary."""
        return self.kind != "unknown"


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[^0-9a-z]+", name.strip().lower()) if w]


def parse_placement(name: str) -> Placement:
    """Canonical muscle (or segment), side and role of a placement name (module docstring).

    A name without a side keeps side ``""``; an unknown name keeps its (lower-case) words as
    ``muscle``, role ``"other"``, kind ``"unknown"``. ``ValueError`` for an empty or
    non-string name.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"placement must be a non-empty string such as 'glute_max_r', got {name!r}")
    return _parse(name)


@lru_cache(maxsize=1024)
def _parse(name: str) -> Placement:
    """:func:`parse_placement` of a checked name (cached: the analysis asks for the same few
    names once per rep and metric)."""
    words = _words(name)
    side = ""
    if len(words) > 1 and words[-1] in SIDES:
        side, words = SIDES[words[-1]], words[:-1]
    elif len(words) > 1 and words[0] in SIDES:
        side, words = SIDES[words[0]], words[1:]
    stem = "_".join(words)
    for key in (stem, stem.replace("_", "")):
        if key in _MUSCLES:
            muscle = _MUSCLES[key]
            return Placement(name, muscle, side, _ROLE_OF.get(muscle, "other"), "muscle")
        if key in _SEGMENTS:
            return Placement(name, _SEGMENTS[key], side, "other", "segment")
    return Placement(name, stem or name.strip().lower(), side, "other", "unknown")


def canonical_placement(name: str) -> str:
    """The canonical name of a placement: ``"gluteus_maximus_right"`` and ``"GMax_R"`` ->
    ``"glute_max_r"``; a segment keeps its word in one spelling (``"Thigh R"`` ->
    ``"thigh_r"``, ``"sacrum"`` stays); an unknown name comes back as given."""
    p = parse_placement(name)
    if p.kind == "muscle":
        return p.canonical
    if p.kind == "segment":  # keep where it sits (sacrum, lumbar), in one spelling
        words = _words(name)
        if len(words) > 1 and words[-1] in SIDES:
            words = words[:-1]
        elif len(words) > 1 and words[0] in SIDES:
            words = words[1:]
        return "_".join(words) + (f"_{p.side}" if p.side else "")
    return name


def segment_of(name: str | None) -> tuple[str, str] | None:
    """``(segment, side)`` of an IMU/angle placement (``"sacrum"`` -> ``("pelvis", "")``), or
    None for no placement or a muscle: the one rule live and offline use to find the segments
    that make the movement angle."""
    if not name:
        return None
    p = parse_placement(name)
    return None if p.kind == "muscle" else (p.muscle, p.side)


#: Segments whose angles make the hip angle (``docs/conventions.md``), in this order.
ANGLE_SEGMENTS = ("pelvis", "thigh")


def dominant_side(emg_placements: Sequence[str | None]) -> str:
    """The side most EMG channels are on (``"l"``, ``"r"``), ``""`` when none says."""
    sides = [parse_placement(p).side for p in emg_placements if p]
    sides = [s for s in sides if s]
    return max(sorted(set(sides)), key=sides.count) if sides else ""


def angle_segments(placements: Sequence[str | None], side: str = "") -> dict[str, list[int]]:
    """The movement-angle planner live and offline share: for each segment of
    :data:`ANGLE_SEGMENTS`, the indices of ``placements`` on it (:func:`segment_of`: ``sacrum``
    is the pelvis), those on ``side`` (the EMG's) first, else in the given order."""
    out: dict[str, list[int]] = {}
    for i, place in enumerate(placements):
        seg = segment_of(place)
        if seg is not None and seg[0] in ANGLE_SEGMENTS:
            out.setdefault(seg[0], []).append(i)
    for idx in out.values():
        idx.sort(key=lambda i: bool(side) and (segment_of(placements[i]) or ("", ""))[1] not in (side, ""))
    return {seg: out[seg] for seg in ANGLE_SEGMENTS if seg in out}


def closest_names(name: str, kind: str = "emg", n: int = 3) -> list[str]:
    """Up to ``n`` known canonical names closest to ``name`` (for "did you mean")."""
    words = _words(name)
    if len(words) > 1 and (words[-1] in SIDES or words[0] in SIDES):
        side = SIDES[words[-1]] if words[-1] in SIDES else SIDES[words[0]]
        words = words[:-1] if words[-1] in SIDES else words[1:]
    else:
        side = ""
    stem = "_".join(words)
    table = _MUSCLES if kind in ("emg", "muscle") else _SEGMENTS
    hits = difflib.get_close_matches(stem, list(table), n=12, cutoff=0.5)
    canon = list(dict.fromkeys(table[h] for h in hits))[:n]
    if not canon and stem:  # an abbreviation: names starting with its letters
        canon = sorted({c for w, c in table.items() if w.startswith(stem[:2])})[:n]
    return [f"{c}_{side}" if side else c for c in canon]


def placement_warning(name: str, kind: str = "emg") -> str | None:
    """None when ``name`` is a known muscle (``kind`` ``"emg"``) or segment/joint (other
    kinds); else a sentence naming it and the closest known names."""
    p = parse_placement(name)
    want = "muscle" if kind in ("emg", "muscle") else "segment"
    if p.kind == want:
        return None
    what = "muscle" if want == "muscle" else "body segment or joint"
    near = closest_names(name, kind)
    hint = f"; closest known: {', '.join(near)}" if near else ""
    return (
        f"placement {name!r} is not a known {what}: it gets role 'other' and metrics that need "
        f"its role (handover, eccentric hold, co-contraction) will not use it{hint} "
        "(docs/metrics.md, Placement vocabulary)"
    )


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
    pick = next(iter(same_side or hits), None)
    return None if pick is None else pick.name


def channel_index(placements: Sequence[str], name: str, what: str) -> int:
    """Index of placement ``name``; ``ValueError`` naming ``what`` needs it and what exists."""
    if name not in placements:
        raise ValueError(f"{what} needs channel {name!r}; found: {describe(placements)}")
    return list(placements).index(name)
