"""The open myoflow DIY strap: EMG with block counter, device clock and in-band scale
(``protocol = "diy"``, see ``docs/diy-strap-protocol.md``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from myoflow.devices._profile_rules import ProfileRules
from myoflow.devices.profile_types import DeviceProfile, StreamSpec
from myoflow.devices.protocols.contract import BaseProtocol, StrapProtocol
from myoflow.devices.protocols.diy import codec
from myoflow.devices.protocols.diy.timebase import DiyTimebase

__all__ = ["PROTOCOL"]


class _Diy(BaseProtocol):
    def rules(self) -> ProfileRules:
        from myoflow.devices.protocols.diy import rules

        return rules.settings_rule, rules.streams_rule

    def stored_bits(self, profile: DeviceProfile, spec: StreamSpec) -> int:
        # the strap sends settings.sample_bits per sample whatever its ADC resolution
        return max(int(spec.resolution_bits), int(profile.settings.get("sample_bits", 0)))

    def virtual_straps(self) -> Mapping[str, Callable[..., Any]]:
        from myoflow.devices.protocols.diy.virtual import VIRTUAL_KINDS

        return VIRTUAL_KINDS


#: The DIY strap protocol, as the registry hands it out.
PROTOCOL: StrapProtocol = _Diy("diy", "DIY", codec, DiyTimebase)
