"""Typed reads of a profile's TOML values that fail with :class:`ProfileError` and the key path.

The building block of profile validation: :class:`Reader` fetches a value from a TOML table,
checks it with one of the small predicates below and, when it does not fit, raises
``ProfileError(source, "streams[1].rate", "expected ..., got ...")``. Unknown keys are errors
with a "did you mean" hint. Private to :mod:`myoflow.devices.profiles`: the section parsers
(``_profile_parse``) and the per-protocol rules (``_profile_rules``) are written with it.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn

from myoflow.devices.profile_types import Characteristic, ProfileError, normalise_uuid

_MISSING = object()
_HEX = re.compile(r"\s*[0-9a-fA-F]{2}(\s*[0-9a-fA-F]{2})*\s*")


class Reader:
    """Typed access to the TOML tables of one file, raising :class:`ProfileError` with the key path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ProfileError(self.source, key, problem)

    def table(self, value: Any, path: str, allowed: Iterable[str]) -> dict[str, Any]:
        allowed = sorted(allowed)
        if not isinstance(value, dict):
            self.fail(path, f"expected a table, got {show(value)}")
        for key in value:
            if key not in allowed:
                swapped = [a for a in allowed if sorted(a.split("_")) == sorted(key.split("_"))]
                close = swapped or difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.fail(join(path, key), f"unknown key; expected one of {', '.join(allowed)}{hint}")
        return value

    def get(
        self,
        table: dict[str, Any],
        key: str,
        path: str,
        expected: str,
        ok: Callable[[Any], bool],
        default: Any = _MISSING,
    ) -> Any:
        if key not in table:
            if default is _MISSING:
                self.fail(join(path, key), f"missing; expected {expected}")
            return default
        value = table[key]
        if not ok(value):
            self.fail(join(path, key), f"expected {expected}, got {show(value)}")
        return value

    def uuid(self, value: Any, key: str) -> str:
        try:
            return normalise_uuid(value)
        except ValueError:
            self.fail(key, f"expected a 16-, 32- or 128-bit UUID, got {show(value)}")

    def label(self, value: Any, key: str, chars: Mapping[str, Characteristic], roles: tuple) -> str:
        if value not in chars:
            known = ", ".join(repr(k) for k in chars)
            self.fail(key, f"expected a characteristic label ({known}), got {show(value)}")
        if chars[value].role not in roles:
            self.fail(
                key,
                f"expected a characteristic with role {' or '.join(roles)}, got {value!r} "
                f"(role {chars[value].role})",
            )
        return chars[value].uuid


def join(path: str, key: str | int) -> str:
    """The key path of ``key`` inside ``path``: ``streams[1]``, ``settings.acc``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def show(value: Any) -> str:
    """A TOML value as an error message shows it (TOML booleans, tables, long values cut)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ----------------------------------------------------------------- value checks for Reader.get
def is_text(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip())


def is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def is_positive(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0


def int_in(lo: int, hi: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def is_any(v: Any) -> bool:
    return True


def is_str(v: Any) -> bool:
    return isinstance(v, str)


def is_list(v: Any) -> bool:
    return isinstance(v, list)


def is_nonempty_list(v: Any) -> bool:
    return isinstance(v, list) and bool(v)


def is_index(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def is_hex(v: Any) -> bool:
    return isinstance(v, str) and bool(_HEX.fullmatch(v))


def one_of(options: Iterable[Any]) -> Callable[[Any], bool]:
    allowed = tuple(options)
    return lambda v: isinstance(v, (str, int)) and not isinstance(v, bool) and v in allowed


def are_texts(v: Any) -> bool:
    """A non-empty list of distinct non-blank strings."""
    return isinstance(v, list) and bool(v) and all(is_text(x) for x in v) and len(set(v)) == len(v)
