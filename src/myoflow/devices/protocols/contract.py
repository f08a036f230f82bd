"""The contract a strap protocol folder fulfils: :class:`StrapProtocol`.

The transport (:mod:`myoflow.devices.ble`), the generic decoder (:mod:`myoflow.devices.decoding`),
the profile parser, the recorder and the virtual rigs never name a protocol: they look the
protocol up in the registry (:func:`myoflow.devices.protocols.get_protocol`) and call what this
contract declares. Each folder ``myoflow/devices/protocols/<name>/`` holds the same files:

=================  ============================================================================
``codec.py``       pure ``decode(bytes) -> Packet`` (raises only ``DecodeError``), encoders for
                   the simulators, command builders, constants
``timebase.py``    the protocol's :class:`~myoflow.devices.timebase.Timebase` subclass: what a
                   packet tells about loss and sample positions, and its in-band scale
``rules.py``       the profile rules: ``settings_rule`` and ``streams_rule``
``virtual.py``     the virtual strap (Bumble peripheral), loaded only when asked for
``__init__.py``    ``PROTOCOL``: one object that satisfies :class:`StrapProtocol`
=================  ============================================================================

:class:`BaseProtocol` gives the defaults (no control point, no in-band factor, no assembled
stream), so a simple protocol's ``__init__.py`` is a few lines. This module is a leaf below the
protocol folders: it imports no protocol and no Bluetooth library.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

from myoflow.devices._profile_rules import ProfileRules
from myoflow.devices.codec import Packet
from myoflow.devices.profile_types import DeviceProfile, StreamSpec
from myoflow.devices.timebase import Timebase
from myoflow.stream import Block, Gap, StreamInfo

__all__ = ["Assembler", "BaseProtocol", "ControlReply", "StrapProtocol"]

Output = list[Block | Gap]


@dataclass(frozen=True)
class ControlReply:
    """A control point's answer to one command: its status code and name, and whether it refused.

    ``refused`` is False for success and for "already in that state" (Polar status 6).
    """

    status: int
    status_name: str
    refused: bool


@runtime_checkable
class Assembler(Protocol):
    """A stream assembled from the packets of another stream (Ganglion accelerometer axes).

    The decoder calls :meth:`update` with every packet routed to the base stream and the blocks
    and gaps the base stream's timebase made of it. ``samples``, ``gaps`` and ``next_index``
    feed the stream's statistics.
    """

    stream: StreamInfo
    samples: int
    gaps: int
    next_index: int

    def update(self, packet: Packet, base_output: Output) -> Output:
        """Blocks and gaps of the assembled stream that ``packet`` completes (possibly none)."""
        ...


@runtime_checkable
class StrapProtocol(Protocol):
    """One strap protocol, as the transport, the decoder and the profile parser see it.

    Attributes
    ----------
    name
        The profile's ``protocol`` value, e.g. ``"polar_pmd"``; also the folder name.
    manufacturer
        Who makes straps that speak it (LSL metadata), ``""`` when unknown.
    codec
        The folder's ``codec`` module (decode, encoders, constants); profile rules get it.
    timebase
        The :class:`~myoflow.devices.timebase.Timebase` subclass for its streams.
    """

    name: str
    manufacturer: str
    codec: ModuleType
    timebase: type[Timebase]

    def decode(self, data: bytes | bytearray | memoryview) -> Packet:
        """Decode one data notification; raises only ``DecodeError``."""
        ...

    def rules(self) -> ProfileRules:
        """``(settings_rule, streams_rule)`` that validate a profile of this protocol."""
        ...

    def control_reply(self, command: bytes, data: bytes) -> ControlReply | None:
        """The answer ``data`` (a control point notification) gives to ``command``.

        ``None`` when ``data`` answers something else, is unsolicited or malformed, or when the
        protocol has no control point answers.
        """
        ...

    def in_band_factors(self, data: bytes) -> Mapping[str, float]:
        """Conversion factors by packet kind that a control point notification announces.

        Raises ``DecodeError`` when ``data`` is malformed; ``{}`` when it announces none.
        """
        ...

    def control_joiner(self) -> Callable[[bytes], bytes | None] | None:
        """A fresh per-strap joiner of control point answers that span several notifications.

        The decoder passes it every control point notification; it returns ``None`` while an
        answer waits for its next part, then the whole answer as one notification. ``None``: the
        protocol's answers always fit one notification.
        """
        ...

    def identity_checks(self) -> Mapping[str, Callable[[bytes], None]]:
        """Characteristics to read once connected, each with a check of what it holds.

        ``{uuid: check}``; ``check(value)`` raises ``DecodeError`` naming what is wrong (the
        Ganglion's Software Revision must say firmware 3). A strap without the characteristic
        is not checked.
        """
        ...

    def assembler(self, spec: StreamSpec, info: StreamInfo) -> Assembler | None:
        """An :class:`Assembler` for profile stream ``spec`` when it is not decoded directly."""
        ...

    def stored_bits(self, profile: DeviceProfile, spec: StreamSpec) -> int:
        """Bits per stored raw sample of ``spec`` (what the device sends, >= its resolution)."""
        ...

    def virtual_straps(self) -> Mapping[str, Callable[..., Any]]:
        """Virtual strap factories by kind (``"polar_h10"``...): ``factory(session, index, **common)``.

        Imports the folder's ``virtual.py`` (and Bumble) only when called.
        """
        ...


class BaseProtocol:
    """Defaults of :class:`StrapProtocol`: subclass it and set the four attributes.

    Parameters
    ----------
    name, manufacturer, codec, timebase
        See :class:`StrapProtocol`.
    """

    def __init__(self, name: str, manufacturer: str, codec: ModuleType, timebase: type[Timebase]) -> None:
        self.name, self.manufacturer, self.codec, self.timebase = name, manufacturer, codec, timebase

    def decode(self, data: bytes | bytearray | memoryview) -> Packet:
        return self.codec.decode(data)

    def rules(self) -> ProfileRules:
        raise NotImplementedError(f"protocol {self.name!r} has no profile rules")

    def control_reply(self, command: bytes, data: bytes) -> ControlReply | None:
        return None

    def in_band_factors(self, data: bytes) -> Mapping[str, float]:
        return {}

    def control_joiner(self) -> Callable[[bytes], bytes | None] | None:
        return None

    def identity_checks(self) -> Mapping[str, Callable[[bytes], None]]:
        return {}

    def assembler(self, spec: StreamSpec, info: StreamInfo) -> Assembler | None:
        return None

    def stored_bits(self, profile: DeviceProfile, spec: StreamSpec) -> int:
        return int(spec.resolution_bits)

    def virtual_straps(self) -> Mapping[str, Callable[..., Any]]:
        return {}

    def __repr__(self) -> str:
        return f"<StrapProtocol {self.name!r}>"
