"""What the per-session analyses need of a rep: small structural types a ``RepResult`` satisfies.

The ensemble, fatigue and symmetry analyses each read a few attributes of the rep results; the
attributes are declared once here and combined per need, so a caller may pass any object that
has them (a ``RepResult``, a test's dataclass, a row read back from a report).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

__all__ = ["NumberedRep", "PhasedRep"]


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
