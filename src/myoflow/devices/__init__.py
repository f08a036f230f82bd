"""BLE ingest layer: device profiles, pure protocol codecs, bleak transport, timebase, virtual straps.

The public API here is the device profiles (TOML files that describe a strap); streaming and
recording straps is the command line's job (``myoflow scan/stream/record``, needs
``pip install 'myoflow[ble]'``). The names below are imported on first use; the modules behind
them are internal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from myoflow._lazy import lazy_exports

__all__ = [
    "DeviceProfile",
    "ProfileError",
    "load_profile",
    "parse_profile",
    "profile_for_advertisement",
    "shipped_profiles",
]

if TYPE_CHECKING:
    from myoflow.devices.profiles import (
        DeviceProfile,
        ProfileError,
        load_profile,
        parse_profile,
        profile_for_advertisement,
        shipped_profiles,
    )

__getattr__, __dir__ = lazy_exports(__name__, __file__)
