"""What a scan heard: :class:`SeenDevice` (a leaf module, so errors can list what was seen)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SeenDevice"]


@dataclass(frozen=True)
class SeenDevice:
    """One device heard while scanning: advertised ``name`` (or None), ``address``, RSSI in dBm,
    advertised service UUIDs, and the names of the profiles that match it, best first."""

    name: str | None
    address: str
    rssi: int | None
    service_uuids: tuple[str, ...]
    profiles: tuple[str, ...]

    def describe(self) -> str:
        """``'Polar H10 1A2B3C4D' C0:00:00:00:00:02 -60 dBm (polar_h10_acc_ecg)'``."""
        rssi = f" {self.rssi} dBm" if self.rssi is not None else ""
        matches = ", ".join(self.profiles) or "no known profile"
        return f"{self.name or '(no name)'!r} {self.address}{rssi} ({matches})"
