"""What the per-session analyses need of a rep: small structural types a ``RepResult`` satisfies,
and their per-set rows as the report writes them.

The ensemble, fatigue and symmetry analyses each read a few attributes of the rep results; the
attributes are declared once here and combined per need, so a caller may pass any object that
has them (a ``RepResult``, a test's dataclass, a row read back from a report).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any, Protocol

__all__ = ["NumberedRep", "PhasedRep", "TimedRep", "set_fields"]


class PhasedRep(Protocol):
    """A rep with its phase times."""

    @property
    def phases(self) -> Mapping[str, float]:
        """Phase name -> session time (s)."""


class NumberedRep(Protocol):
    """A rep with its place in the session."""

    @property
    def index(self) -> int:
        """1-based rep number."""

    @property
    def set_index(self) -> int:
        """0-based set number."""


class TimedRep(NumberedRep, PhasedRep, Protocol):
    """A rep with its place in the session and its phase times (fatigue, tempo)."""


def set_fields(rows: Iterable[Any], set_index: int) -> dict[str, dict[str, Any]]:
    """Muscle -> the fields of its per-set dataclass row in set ``set_index`` (without the
    ``set_index`` and ``muscle`` keys): the JSON of one set of fatigue or symmetry."""
    out = {}
    for row in rows:
        if row.set_index == set_index:
            d = asdict(row)
            del d["set_index"], d["muscle"]
            out[row.muscle] = d
    return out
