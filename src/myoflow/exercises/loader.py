"""Read one exercise TOML file into an :class:`~myoflow.exercises.schema.Exercise`.

Every problem is one :class:`~myoflow.exercises.schema.ExerciseError` line that names the file
and the field (``clamshell.toml: movement.family must be one of ...; got 'twist'``). Muscle and
segment names must be canonical placement stems (:func:`myoflow.analysis.placement.parse_placement`
knows them; the import is deferred so this package stays below the analysis layer).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any, TypeVar

from myoflow.exercises.schema import (
    MOVEMENT_FAMILIES,
    MOVEMENT_SEGMENTS,
    PHASE_KINDS,
    RELAXATION_KINDS,
    STRAP_KINDS,
    STRAP_SIDES,
    Exercise,
    ExerciseError,
    Metrics,
    Movement,
    Muscles,
    Phases,
    Strap,
    Targets,
)

__all__ = ["load_exercise", "parse_exercise"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TABLES = ("movement", "phases", "muscles", "metrics", "targets", "cues", "straps")
_TOP = ("name", "title", "aliases", "description", *_TABLES)
_MAX_BYTES = 256 * 1024
_T = TypeVar("_T")


class _Fields:
    """Typed reads from one table, each failure naming the file and the dotted field."""

    def __init__(self, file: str, table: Mapping[str, Any], prefix: str = "") -> None:
        self.file, self.table, self.prefix = file, table, prefix

    def fail(self, key: str, msg: str) -> ExerciseError:
        return ExerciseError(f"{self.file}: {self.prefix}{key} {msg}")

    def known(self, keys: tuple[str, ...]) -> None:
        extra = sorted(set(self.table) - set(keys))
        if extra:
            raise self.fail(extra[0], f"is not a known field; known here: {', '.join(keys)}")

    def get(self, key: str, kind: type[_T], what: str, default: Any = ...) -> _T:
        if key not in self.table:
            if default is ...:
                raise self.fail(key, f"is missing ({what})")
            return default
        value = self.table[key]
        ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise self.fail(key, f"must be {what}; got {value!r}")
        return value

    def text(self, key: str, default: Any = ...) -> str:
        value = self.get(key, str, "a string", default)
        if isinstance(value, str) and not value.strip():
            raise self.fail(key, "must not be empty")
        return value

    def option(self, key: str, allowed: tuple[str, ...], default: Any = ...) -> str:
        value = self.get(key, str, "a string", default)
        if value not in allowed:
            raise self.fail(key, f"must be one of {', '.join(allowed)}; got {value!r}")
        return value

    def number(self, key: str, lo: float, hi: float, unit: str, default: Any = ...) -> float:
        value = self.get(key, float, f"a number in [{lo}, {hi}] {unit}".rstrip(), default)
        if value is None:
            return value
        if not (math.isfinite(value) and lo <= value <= hi):
            raise self.fail(key, f"must be in [{lo}, {hi}] {unit}; got {value!r}".replace(" ;", ";"))
        return value

    def names(self, key: str, check: Callable[[str], str | None], default: Any = ...) -> tuple[str, ...]:
        values = self.get(key, list, "a list of names", default)
        out = []
        for i, v in enumerate(values):
            if not isinstance(v, str) or not v.strip():
                raise self.fail(f"{key}[{i}]", f"must be a non-empty string; got {v!r}")
            problem = check(v)
            if problem:
                raise self.fail(f"{key}[{i}]", problem)
            out.append(v)
        return tuple(out)

    def pair(
        self, key: str, lo: float, hi: float, unit: str, integer: bool = False, default: Any = ...
    ) -> Any:
        values = self.get(key, list, f"[low, high] {unit}".rstrip(), default)
        if values is None:
            return None
        kinds = (int,) if integer else (int, float)
        if (
            len(values) != 2
            or any(isinstance(v, bool) or not isinstance(v, kinds) for v in values)
            or not all(math.isfinite(v) and lo <= v <= hi for v in values)
            or values[0] > values[1]
        ):
            raise self.fail(
                key, f"must be [low, high] with {lo} <= low <= high <= {hi} {unit}; got {values!r}"
            )
        return (int(values[0]), int(values[1])) if integer else (float(values[0]), float(values[1]))

    def sub(self, key: str, required: bool = True) -> _Fields:
        value = self.table.get(key, {} if not required else None)
        if value is None:
            raise self.fail(key, "table is missing")
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table; got {type(value).__name__}")
        return _Fields(self.file, value, f"{self.prefix}{key}.")


def _muscle_problem(name: str) -> str | None:
    from myoflow.analysis.placement import parse_placement  # deferred: see module docstring

    p = parse_placement(name)
    if p.kind != "muscle":
        return (
            f"is not a known muscle ({name!r}); use a canonical stem such as glute_max, "
            "glute_med, adductor_longus"
        )
    if p.side or p.muscle != name:
        return f"must be the canonical stem without a side ({p.muscle!r}), got {name!r}"
    return None


def _placement_problem(name: str) -> str | None:
    from myoflow.analysis.placement import parse_placement

    p = parse_placement(name)
    if p.kind == "segment":
        return (
            None
            if (not p.side and p.muscle == name)
            else f"must be the segment word {p.muscle!r}, got {name!r}"
        )
    return _muscle_problem(name)


def _alias_problem(name: str) -> str | None:
    return None if name.strip() == name else f"must have no leading or trailing spaces; got {name!r}"


def parse_exercise(data: Mapping[str, Any], file: str = "<exercise>") -> Exercise:
    """An :class:`Exercise` from a parsed TOML mapping; ``file`` names it in errors."""
    top = _Fields(file, data)
    top.known(_TOP)
    name = top.text("name")
    if not _NAME.match(name):
        raise top.fail("name", f"must be snake_case (a-z, 0-9, _; starting with a letter); got {name!r}")
    mv = top.sub("movement")
    family = mv.option("family", MOVEMENT_FAMILIES)
    segment = mv.option("segment", MOVEMENT_SEGMENTS)
    options = {k: mv.number(k, -1e6, 1e6, "") for k in mv.table if k not in ("family", "segment")}
    ph = top.sub("phases")
    kind = ph.option("kind", PHASE_KINDS)
    if kind == "isometric":
        ph.known(("kind", "hold_s"))
        phases = Phases(kind, hold_s=ph.number("hold_s", 1.0, 3600.0, "s"))
    else:
        ph.known(("kind", "concentric_s", "top_s", "eccentric_s", "bottom_s"))
        phases = Phases(
            kind,
            *(ph.number(k, 0.0, 60.0, "s") for k in ("concentric_s", "top_s", "eccentric_s", "bottom_s")),
        )
    if (family == "isometric_hold") != (kind == "isometric"):
        raise ph.fail(
            "kind", f"must be 'isometric' exactly when movement.family is 'isometric_hold'; got {kind!r}"
        )
    mu = top.sub("muscles")
    mu.known(("prime_movers", "synergists", "antagonists"))
    muscles = Muscles(
        mu.names("prime_movers", _muscle_problem),
        mu.names("synergists", _muscle_problem, []),
        mu.names("antagonists", _muscle_problem, []),
    )
    if not muscles.prime_movers:
        raise mu.fail("prime_movers", "must name at least one muscle")
    me = top.sub("metrics")
    me.known(("relaxation", "handover", "eccentric_hold", "antagonist_assist", "relax_targets"))
    metrics = Metrics(
        me.option("relaxation", RELAXATION_KINDS),
        me.get("handover", bool, "true or false", False),
        me.get("eccentric_hold", bool, "true or false", False),
        me.get("antagonist_assist", bool, "true or false", False),
        me.names("relax_targets", _muscle_problem, []),
    )
    if metrics.antagonist_assist and not muscles.antagonists:
        raise me.fail("antagonist_assist", "needs muscles.antagonists")
    ta = top.sub("targets")
    ta.known(("mvc_pct", "reps", "sets", "rest_between_sets_s"))
    sets = ta.get("sets", int, "a whole number of sets", None)
    if sets is not None and not 1 <= sets <= 20:
        raise ta.fail("sets", f"must be in [1, 20]; got {sets}")
    targets = Targets(
        ta.pair("mvc_pct", 0.0, 200.0, "% MVC"),
        ta.pair("reps", 1, 200, "reps", integer=True, default=None),
        sets,
        ta.number("rest_between_sets_s", 0.0, 3600.0, "s", None),
    )
    cu = top.sub("cues", required=False)
    cues = {k: cu.text(k) for k in cu.table}
    straps_raw = top.get("straps", list, "an array of [[straps]] tables")
    straps = []
    for i, s in enumerate(straps_raw):
        if not isinstance(s, dict):
            raise top.fail(f"straps[{i}]", "must be a table")
        st = _Fields(file, s, f"straps[{i}].")
        st.known(("kind", "placement", "side", "where", "required"))
        strap_kind = st.option("kind", STRAP_KINDS)
        placement = st.text("placement")
        problem = _placement_problem(placement) if strap_kind == "imu" else _muscle_problem(placement)
        if problem:
            raise st.fail("placement", problem)
        straps.append(
            Strap(
                strap_kind,
                placement,
                st.option("side", STRAP_SIDES),
                st.text("where"),
                st.get("required", bool, "true or false", True),
            )
        )
    if not any(s.kind == "imu" and s.placement == segment for s in straps):
        raise top.fail("straps", f"must include the {segment!r} IMU that movement.segment names")
    return Exercise(
        name=name,
        title=top.text("title"),
        aliases=top.names("aliases", _alias_problem, []),
        description=top.text("description", ""),
        movement=Movement(family, segment, options),
        phases=phases,
        muscles=muscles,
        metrics=metrics,
        targets=targets,
        cues=cues,
        straps=tuple(straps),
        source=file,
    )


def load_exercise(path: str | PathLike[str]) -> Exercise:
    """Read and validate one exercise TOML file (``ExerciseError`` naming file and field)."""
    p = Path(path)
    label = str(p)
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise ExerciseError(f"{label}: cannot read the exercise file ({err.strerror or err})") from None
    if len(raw) > _MAX_BYTES:
        raise ExerciseError(f"{label}: {len(raw)} bytes is too large for an exercise file (max {_MAX_BYTES})")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise ExerciseError(f"{label}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    except tomllib.TOMLDecodeError as err:
        raise ExerciseError(f"{label}: not valid TOML ({err})") from None
    except RecursionError:
        raise ExerciseError(f"{label}: not valid TOML (nested too deeply)") from None
    return parse_exercise(data, label)
