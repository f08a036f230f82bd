"""Packets a strap's decoder throws away: counted by kind, logged once per kind, and the first
packets held to the profile so that a profile that does not fit the strap is a clear error.

:class:`DiscardLog` is owned by one :class:`~myoflow.devices.decoding.StrapDecoder`. Kinds are
short phrases (``"undecodable"``, ``"does not fit the profile"``, ``"duplicate"``, ...); the
first of each kind is logged as a warning naming the strap and what was wrong, later ones are
only counted (a noisy link must not flood the log). :meth:`DiscardLog.first_packets` watches
the first :data:`FIRST_PACKETS` data packets of each stream: if none of them fits the profile
(none decodes, or each has other channels, rate or sample width than the profile says),
:attr:`DiscardLog.mismatch` becomes a :class:`~myoflow.devices.errors.ProfileMismatch` naming
the profile and the observed format; the strap then fails with it.
"""

from __future__ import annotations

import logging

from myoflow.devices.errors import ProfileMismatch

__all__ = ["FIRST_PACKETS", "DiscardLog"]

logger = logging.getLogger("myoflow.devices.decoding")

#: Data packets per stream checked against the profile before the stream is trusted.
FIRST_PACKETS = 5


class DiscardLog:
    """Discards of one strap by kind, and the first-packets check of its streams.

    Parameters
    ----------
    strap
        The strap's name in the session (for messages).
    profile
        The profile's name (for messages).
    """

    def __init__(self, strap: str, profile: str) -> None:
        self.strap, self.profile = strap, profile
        self.counts: dict[str, int] = {}
        self.mismatch: ProfileMismatch | None = None
        self._first: dict[str, list[str | None]] = {}  # stream -> problems of its first packets

    def discard(self, kind: str, detail: str = "") -> None:
        """Count one discarded notification of ``kind``; log the first of each kind."""
        n = self.counts.get(kind, 0)
        self.counts[kind] = n + 1
        if n == 0:
            more = f": {detail}" if detail else ""
            logger.warning(
                "%s: discarded a notification (%s)%s; further ones of this kind are only counted",
                self.strap,
                kind,
                more,
            )

    def first_packets(self, stream: str, problem: str | None) -> None:
        """Note whether one of the first packets of ``stream`` fits (``problem`` None) or not."""
        seen = self._first.setdefault(stream, [])
        if len(seen) >= FIRST_PACKETS or self.mismatch is not None:
            return
        seen.append(problem)
        if len(seen) == FIRST_PACKETS and all(p is not None for p in seen):
            self.mismatch = ProfileMismatch(self.strap, self.profile, stream, str(seen[-1]))

    @property
    def total(self) -> int:
        """Notifications discarded so far, all kinds."""
        return sum(self.counts.values())
