"""Polar Measurement Data (H10, Verity Sense): ACC, GYRO, ECG frames and the PMD control point
(``protocol = "polar_pmd"``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from myoflow.devices._profile_rules import ProfileRules
from myoflow.devices.codec import DecodeError
from myoflow.devices.protocols.contract import BaseProtocol, ControlReply, StrapProtocol
from myoflow.devices.protocols.polar_pmd import codec
from myoflow.devices.protocols.polar_pmd.control import (
    ControlPointJoiner,
    ControlPointResponse,
    Measurement,
    Op,
    Setting,
    parse_control_point,
)
from myoflow.devices.protocols.polar_pmd.timebase import PolarTimebase

__all__ = ["PROTOCOL"]

#: Plausible FACTOR values (units per count): real ones are ~1e-4 (ACC g) to ~0.1 (GYRO deg/s).
_MIN_FACTOR, _MAX_FACTOR = 1e-9, 1e3


class _PolarPmd(BaseProtocol):
    def rules(self) -> ProfileRules:
        from myoflow.devices.protocols.polar_pmd import rules

        return rules.settings_rule, rules.streams_rule

    def control_reply(self, command: bytes, data: bytes) -> ControlReply | None:
        if len(command) < 2:
            return None
        try:
            answer = parse_control_point(data)
        except DecodeError:
            return None  # a malformed notification: the decoder counts it
        if not isinstance(answer, ControlPointResponse):
            return None  # an unsolicited "streams stopped"
        if answer.op != command[0] or answer.measurement != command[1] & 0x3F:
            return None  # an answer to something else
        refused = answer.status != 0 and answer.status_name != "ALREADY_IN_STATE"
        return ControlReply(answer.status, answer.status_name, refused)

    def in_band_factors(self, data: bytes) -> Mapping[str, float]:
        answer = parse_control_point(data)
        if not isinstance(answer, ControlPointResponse) or answer.op != Op.START or not answer.ok:
            return {}
        factor = answer.settings().get(Setting.FACTOR)
        if not factor or answer.measurement not in Measurement._value2member_map_:
            return {}
        value = float(factor[0])
        if not (math.isfinite(value) and _MIN_FACTOR <= value <= _MAX_FACTOR):
            raise DecodeError(
                self.name, f"a FACTOR in [{_MIN_FACTOR:g}, {_MAX_FACTOR:g}]", f"FACTOR {value!r}"
            )
        return {Measurement(answer.measurement).name.lower(): value}

    def control_joiner(self) -> Callable[[bytes], bytes | None]:
        joiner = ControlPointJoiner()

        def join(data: bytes) -> bytes | None:
            answer = joiner.feed(data)
            if not isinstance(answer, ControlPointResponse):
                return None if answer is None else data  # waiting for a part, or "streams stopped"
            head = bytes([0xF0, answer.op, answer.measurement, answer.status, 0])
            return head + answer.params

        return join

    def virtual_straps(self) -> Mapping[str, Callable[..., Any]]:
        from myoflow.devices.protocols.polar_pmd.virtual import VIRTUAL_KINDS

        return VIRTUAL_KINDS


#: The Polar PMD protocol, as the registry hands it out.
PROTOCOL: StrapProtocol = _PolarPmd("polar_pmd", "Polar Electro", codec, PolarTimebase)
