"""Thalmic Myo armband: 8-ch EMG 200 Hz and IMU 50 Hz, no counter (``protocol = "myo"``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from myoflow.devices._profile_rules import ProfileRules
from myoflow.devices.protocols.contract import BaseProtocol, StrapProtocol
from myoflow.devices.protocols.myo import codec
from myoflow.devices.protocols.myo.timebase import MyoTimebase

__all__ = ["PROTOCOL"]


class _Myo(BaseProtocol):
    def rules(self) -> ProfileRules:
        from myoflow.devices.protocols.myo import rules

        return rules.settings_rule, rules.streams_rule

    def virtual_straps(self) -> Mapping[str, Callable[..., Any]]:
        from myoflow.devices.protocols.myo.virtual import VIRTUAL_KINDS

        return VIRTUAL_KINDS


#: The Myo protocol, as the registry hands it out.
PROTOCOL: StrapProtocol = _Myo("myo", "Thalmic Labs", codec, MyoTimebase)
