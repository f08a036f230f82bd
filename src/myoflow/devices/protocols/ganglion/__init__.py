"""OpenBCI Ganglion, firmware 3: 4-ch ExG 200 Hz and an accelerometer (``protocol = "ganglion"``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from myoflow.devices._profile_rules import ProfileRules
from myoflow.devices.profile_types import StreamSpec
from myoflow.devices.protocols.contract import Assembler, BaseProtocol, StrapProtocol
from myoflow.devices.protocols.ganglion import codec
from myoflow.devices.protocols.ganglion.accel import GanglionAccel
from myoflow.devices.protocols.ganglion.timebase import GanglionTimebase
from myoflow.stream import StreamInfo

__all__ = ["PROTOCOL"]


class _Ganglion(BaseProtocol):
    def rules(self) -> ProfileRules:
        from myoflow.devices.protocols.ganglion import rules

        return rules.settings_rule, rules.streams_rule

    def assembler(self, spec: StreamSpec, info: StreamInfo) -> Assembler | None:
        # the accelerometer's axes ride one per EMG packet
        return GanglionAccel(info, spec.scale) if spec.kind == "acc" else None

    def identity_checks(self) -> Mapping[str, Callable[[bytes], None]]:
        # firmware 2 sends delta-compressed packets: refused by name (BrainFlow reads 0x2A28 too)
        return {codec.SOFTWARE_REVISION: codec.check_firmware}

    def virtual_straps(self) -> Mapping[str, Callable[..., Any]]:
        from myoflow.devices.protocols.ganglion.virtual import VIRTUAL_KINDS

        return VIRTUAL_KINDS


#: The Ganglion protocol, as the registry hands it out.
PROTOCOL: StrapProtocol = _Ganglion("ganglion", "OpenBCI", codec, GanglionTimebase)
