"""The one registry of exercises: the shipped files plus any user file given by path.

:func:`get_exercise` takes a name (``"clamshell"``), an alias (``"Copenhagen adduction"``,
``"RDL"``: case, spaces and hyphens do not matter) or a path to a ``.toml`` file; a user file
is validated, then registered under its name so that the live analysis, the dashboard and the
report can refer to it by name afterwards. Shipped files are read once, on first use.
"""

from __future__ import annotations

import difflib
import threading
from os import PathLike
from pathlib import Path

from myoflow.exercises.loader import load_exercise
from myoflow.exercises.schema import Exercise, ExerciseError

__all__ = [
    "DEFAULT_EXERCISE",
    "exercise_names",
    "find_exercise",
    "get_exercise",
    "register_exercise",
    "shipped_names",
]

#: The exercise a command uses when none is given.
DEFAULT_EXERCISE = "glute_bridge"

_DATA = Path(__file__).resolve().parent / "data"  # package data (pyproject)
_lock = threading.Lock()
_shipped: dict[str, Exercise] | None = None
_user: dict[str, Exercise] = {}
_table: dict[str, Exercise] | None = None  # normalised name or alias -> exercise
_by_name: dict[str, Exercise] = {}  # exact names and aliases already looked up


def _key(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").replace("_", " ").split())


def _load_shipped() -> dict[str, Exercise]:
    global _shipped
    with _lock:
        if _shipped is None:
            found: dict[str, Exercise] = {}
            for entry in sorted(_DATA.glob("*.toml")):
                ex = load_exercise(entry)
                if ex.name != entry.stem:
                    raise ExerciseError(f"{ex.source}: name {ex.name!r} must match the file name")
                found[ex.name] = ex
            _check_unique(found.values())
            _shipped = found
        return _shipped


def _check_unique(exercises: object) -> None:
    seen: dict[str, str] = {}
    for ex in exercises:  # type: ignore[attr-defined]
        for word in (ex.name, *ex.aliases):
            k = _key(word)
            if k in seen and seen[k] != ex.name:
                raise ExerciseError(f"{ex.source}: alias {word!r} is already used by exercise {seen[k]!r}")
            seen[k] = ex.name


def shipped_names() -> tuple[str, ...]:
    """Names of the exercises shipped with myoflow (sorted)."""
    return tuple(_load_shipped())


def exercise_names() -> tuple[str, ...]:
    """Names :func:`get_exercise` knows: the shipped ones, then user files registered so far."""
    return tuple(_load_shipped()) + tuple(n for n in _user if n not in _load_shipped())


def _all() -> dict[str, Exercise]:
    return {**_load_shipped(), **_user}


def _lookup_table() -> dict[str, Exercise]:
    global _table
    table = _table
    if table is None:
        table = {_key(w): ex for ex in _all().values() for w in (ex.name, *ex.aliases)}
        _table = table
        _by_name.update({ex.name: ex for ex in _all().values()})
    return table


def register_exercise(ex: Exercise) -> Exercise:
    """Make a user exercise known by name and aliases; an :class:`ExerciseError` when its name
    or an alias is a shipped exercise's (give it another name) or another user file's."""
    known = _all()
    old = known.get(ex.name)
    if old is not None and old != ex:
        owner = "a shipped exercise" if ex.name in _load_shipped() else f"the exercise from {old.source}"
        raise ExerciseError(f"{ex.source}: name {ex.name!r} is already {owner}; give the file another name")
    others = [e for n, e in known.items() if n != ex.name]
    _check_unique([*others, ex])
    global _table
    with _lock:
        _user[ex.name] = ex
        _table = None
        _by_name.clear()
    return ex


def _looks_like_path(text: str) -> bool:
    return text.endswith(".toml") or "/" in text or "\\" in text


def get_exercise(name_or_path: str | PathLike[str] | Exercise) -> Exercise:
    """The exercise for a name, an alias, a ``.toml`` path or an :class:`Exercise` (returned
    as is); an :class:`ExerciseError` naming the choices for an unknown one."""
    if isinstance(name_or_path, Exercise):
        return name_or_path
    if isinstance(name_or_path, PathLike):
        return register_exercise(load_exercise(name_or_path))
    if not isinstance(name_or_path, str) or not name_or_path.strip():
        raise ExerciseError(f"exercise must be a name or a path to a .toml file, got {name_or_path!r}")
    if _looks_like_path(name_or_path):
        return register_exercise(load_exercise(name_or_path))
    hit = _by_name.get(name_or_path)  # the common case: a known name, no string work
    if hit is not None:
        return hit
    key = _key(name_or_path)
    table = _lookup_table()
    if key in table:
        return table[key]
    close = difflib.get_close_matches(key, list(table), n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(sorted({table[c].name for c in close}))}?)" if close else ""
    raise ExerciseError(
        f"unknown exercise {name_or_path!r}{hint}; known: {', '.join(exercise_names())}, "
        "or give a path to an exercise .toml file"
    )


def find_exercise(name: str | None) -> Exercise | None:
    """The exercise a recording's stored name or alias means, or None for an empty or unknown
    one (a file from another tool may say ``"squat"``: its analysis then uses no exercise
    rules). Never reads a path."""
    if not name or not isinstance(name, str) or _looks_like_path(name):
        return None
    try:
        return get_exercise(name)
    except ExerciseError:
        return None
