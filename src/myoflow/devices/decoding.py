"""From notification bytes to :class:`Block` and :class:`Gap`: one strap's decoding, no I/O.

:class:`StrapDecoder` is what the ingest's consumer task calls for every notification it takes
from the queue: ``feed(host_time, char_uuid, data)`` decodes the bytes with the profile's codec,
routes the :class:`~myoflow.devices.codec.Packet` to the timebase of each stream it carries and
returns the blocks and gaps, already in physical units (the profile's ``scale``, or the codec's
own conversion when the device reports its factor in band). Malformed bytes are counted
(``Timebase.count_corrupt``) and skipped; they never raise.

Routing rules, from the profile:

* one :mod:`~myoflow.devices.timebase` per stream, of the protocol's class;
* streams that share a packet kind and pick ``columns`` of it (an IMU packet: quaternion,
  accel, gyro) share one timebase, so their blocks carry identical times and indices;
* a stream the protocol assembles from other packets (an accelerometer with one axis per
  EMG packet) gets the protocol's :class:`~myoflow.devices.protocols.contract.Assembler`.

Everything protocol-specific comes from the registry
(:func:`~myoflow.devices.protocols.get_protocol`): this module names no protocol.

Being a plain object with explicit state, it is tested and benchmarked without Bluetooth.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from myoflow.devices.codec import DecodeError, Packet
from myoflow.devices.discards import DiscardLog
from myoflow.devices.errors import ProfileMismatch
from myoflow.devices.profile_types import DeviceProfile, StreamSpec
from myoflow.devices.protocols import get_protocol
from myoflow.devices.protocols.contract import Assembler
from myoflow.devices.routing import Route
from myoflow.devices.timebase import Timebase
from myoflow.stream import Block, Gap, StreamInfo

__all__ = ["StrapDecoder", "StreamStats", "resolve_placements"]

Output = list[Block | Gap]
Placements = Mapping[str, Sequence[str] | Mapping[str, str]]


@dataclass(frozen=True)
class StreamStats:
    """What one stream delivered so far. Rates in Hz, loss in % of packets over the last 5 s."""

    stream: str
    nominal_rate: float
    effective_rate: float
    samples: int
    packets: int
    gaps: int
    lost_samples: int
    unknown_gaps: int
    corrupt: int
    loss_percent_5s: float
    #: Age of a delivery's oldest sample when it arrived, s: the largest over the last 5 s (how
    #: late the data are: a strap that sends long frames delivers its oldest sample late).
    delivery_s: float = 0.0
    #: Packets decoded but rejected: duplicates, stale or reordered, implausible counter/time.
    rejected: int = 0


def resolve_placements(
    spec: StreamSpec, given: Sequence[str] | Mapping[str, str] | None
) -> tuple[str, ...] | None:
    """One placement per channel of ``spec`` from a sequence, or a ``channel -> placement`` map.

    Channels a mapping leaves out are placed ``"unknown"``. Raises ``ValueError`` naming the
    stream and the channel labels when the placements do not fit.
    """
    if given is None:
        return None
    if isinstance(given, Mapping):
        unknown = sorted(set(given) - set(spec.channels))
        if unknown:
            raise ValueError(
                f"placements for stream {spec.name!r}: unknown channel(s) {unknown}; "
                f"its channels are {list(spec.channels)}"
            )
        return tuple(str(given.get(ch, "unknown")) for ch in spec.channels)
    out = tuple(str(p) for p in given)
    if len(out) != len(spec.channels):
        raise ValueError(
            f"placements for stream {spec.name!r}: expected {len(spec.channels)} (one per channel "
            f"{list(spec.channels)}), got {len(out)}"
        )
    return out


class StrapDecoder:
    """Decode one strap's notifications into blocks and gaps, per its profile.

    Parameters
    ----------
    profile
        The strap's :class:`~myoflow.devices.profiles.DeviceProfile`.
    device_name
        Prefix of the stream names (``"<device_name>/<stream>"``), unique within a session.
    placements
        Optional ``stream name -> placements``: a sequence with one placement per channel, or
        a mapping ``channel label -> placement`` (see :func:`resolve_placements`).
    stream_options
        Optional ``stream name -> timebase options`` that override ``timebase_options`` for
        that stream's timebase (e.g. ``window_s``; ``bin_s`` is a minimum, bins span five packets).
    **timebase_options
        Passed to every :class:`~myoflow.devices.timebase.Timebase` (``window_s``, ...).

    Attributes
    ----------
    streams : dict of str to StreamInfo
        The streams this strap delivers, by the profile's stream name.
    corrupt : int
        Notifications that failed to decode.
    """

    def __init__(
        self,
        profile: DeviceProfile,
        device_name: str,
        placements: Placements | None = None,
        stream_options: Mapping[str, Mapping[str, Any]] | None = None,
        **timebase_options: Any,
    ) -> None:
        placements = dict(placements or {})
        stream_options = dict(stream_options or {})
        names = [s.name for s in profile.streams]
        for what, given in (("placements", placements), ("stream_options", stream_options)):
            unknown = sorted(set(given) - set(names))
            if unknown:
                raise ValueError(
                    f"{what} name unknown stream(s) {unknown}; profile {profile.name!r} has {names}"
                )
        try:
            self.protocol = get_protocol(profile.protocol)
        except KeyError:
            raise ValueError(f"profile {profile.name!r}: no strap protocol {profile.protocol!r}") from None
        self.profile = profile
        self.streams = {
            s.name: s.stream_info(device_name, resolve_placements(s, placements.get(s.name)))
            for s in profile.streams
        }
        self.corrupt = 0
        #: Discards by kind, logged once per kind; the first-packets check against the profile.
        self.discards = DiscardLog(device_name, profile.name)
        self._last_h = -math.inf
        #: The packet the last :meth:`feed` decoded (``None`` if it decoded none).
        self.last_packet: Packet | None = None
        self._routes: dict[str, list[tuple[str, Route]]] = {}
        self._by_stream: dict[str, Route] = {}
        self._assembled: dict[str, tuple[Assembler, Route | None]] = {}
        self._control = {c.uuid for c in profile.characteristics if c.role == "control_point"}
        self._join = self.protocol.control_joiner()  # answers split over notifications, or None
        self._build(device_name, timebase_options, stream_options)

    # ------------------------------------------------------------------ set-up
    def _build(self, device_name: str, options: dict[str, Any], per_stream: dict[str, Any]) -> None:
        cls = self.protocol.timebase
        groups: dict[tuple[tuple[str, ...], str], list[StreamSpec]] = {}
        for spec in self.profile.streams:
            assembler = self.protocol.assembler(spec, self.streams[spec.name])
            if assembler is not None:
                self._assembled[spec.name] = (assembler, None)
                continue
            key = (
                (spec.characteristics, spec.packet_kind)
                if spec.columns is not None
                else (spec.characteristics, spec.name)
            )
            groups.setdefault(key, []).append(spec)
        for specs in groups.values():
            first = specs[0]
            if len(specs) == 1 and first.columns is None:
                info = self.streams[first.name]
                scale: float | None = None if first.in_band_scale else first.scale
                outputs: list[tuple[StreamInfo, np.ndarray | None, float]] = [(info, None, 1.0)]
            else:
                rates = {s.rate for s in specs}
                if len(rates) != 1:
                    raise ValueError(
                        f"profile {self.profile.name!r}: streams {[s.name for s in specs]} share "
                        f"{first.packet_kind!r} packets but have different rates {sorted(rates)}"
                    )
                width = 1 + max(max(s.columns or (0,)) for s in specs)
                info = StreamInfo(
                    f"{device_name}/{first.packet_kind}",
                    first.kind,
                    first.rate,
                    tuple(f"col{i}" for i in range(width)),
                    unit="count",
                )
                in_band = all(s.in_band_scale for s in specs)  # the codec converts, or counts
                scale = None if in_band else 1.0
                outputs = [
                    (self.streams[s.name], np.asarray(s.columns), 1.0 if s.in_band_scale else s.scale)
                    for s in specs
                ]
            timebase = cls(info, scale=scale, **{**options, **per_stream.get(first.name, {})})
            timebase.kinds = frozenset({first.packet_kind})
            route = Route(timebase, outputs)
            route.max_bits = self.protocol.stored_bits(self.profile, first)
            for s in specs:
                self._by_stream[s.name] = route
            for uuid in first.characteristics:
                self._routes.setdefault(uuid, []).append((first.packet_kind, route))
        # an assembled stream rides on the first route (its packets carry the parts)
        base = next(iter(self._by_stream.values()), None)
        self._assembled = {name: (a, base) for name, (a, _) in self._assembled.items()}

    # ------------------------------------------------------------------ public
    @property
    def data_characteristics(self) -> tuple[str, ...]:
        """UUIDs of the characteristics whose notifications carry samples."""
        return tuple(self._routes)

    @property
    def timebases(self) -> dict[str, Timebase]:
        """The timebase behind each stream (shared by streams cut from one packet kind)."""
        return {name: route.timebase for name, route in self._by_stream.items()}

    def feed(self, host_time: float, char_uuid: str, data: bytes | bytearray) -> Output:
        """Decode one notification received at ``host_time`` (host s) on ``char_uuid``.

        Returns the blocks and gaps it completes, in order (possibly none). A notification that
        does not decode or fit the profile, a duplicate, a stale packet or one whose counter or
        device time the host clock rules out is counted (:meth:`discarded`, logged once per kind)
        and gives nothing; no exception escapes for any bytes. Raises ``ValueError`` only when
        ``host_time`` goes back (a caller's error).
        """
        self.last_packet = None
        h = float(host_time)
        if not (math.isfinite(h) and h >= self._last_h):  # a caller's clock error, not a packet's
            raise ValueError(
                f"host_time must be finite and non-decreasing, got {host_time!r} after {self._last_h!r}"
            )
        self._last_h = h
        routes = self._routes.get(char_uuid)
        if not routes:
            if char_uuid in self._control:
                self._control_point(data)
            return []
        try:
            return self._feed(h, routes, data)
        except Exception as exc:  # a bug a hostile packet reached: count it, keep the strap alive
            self.discards.discard("internal error", f"{type(exc).__name__}: {exc}")
            return []

    def _feed(self, h: float, routes: list[tuple[str, Route]], data: bytes | bytearray) -> Output:
        try:
            packet = self.protocol.decode(data)
        except DecodeError as exc:
            self.corrupt += 1
            routes[0][1].timebase.count_corrupt()
            self.discards.discard("undecodable", str(exc))
            self.discards.first_packets(routes[0][1].timebase.stream.name, f"does not decode: {exc}")
            return []
        self.last_packet = packet
        out: Output = []
        for kind, route in routes:
            if packet.kind != kind:
                continue
            problem = route.misfit(packet)
            self.discards.first_packets(route.timebase.stream.name, problem)
            if problem is not None:
                route.timebase.count_corrupt()
                self.discards.discard(
                    "does not fit the profile", f"stream {route.timebase.stream.name!r} {problem}"
                )
                continue
            got = route.push(packet, h)
            out += got
            for assembler, base in self._assembled.values():
                if base is route:
                    out += assembler.update(packet, got)
        return out

    @property
    def mismatch(self) -> ProfileMismatch | None:
        """Set when the first packets of a stream did not fit the profile (the strap fails)."""
        return self.discards.mismatch

    def discarded(self) -> dict[str, int]:
        """Notifications discarded so far, by kind (decoder and timebases together)."""
        out = dict(self.discards.counts)
        for route in {id(r): r for r in self._by_stream.values()}.values():
            for kind, n in route.timebase.discarded.items():
                out[kind] = out.get(kind, 0) + n
        return out

    def _control_point(self, data: bytes | bytearray) -> None:
        """A control point answer that announces conversion factors sets them for their streams."""
        try:
            if self._join is not None:
                data = self._join(bytes(data))  # None until every part of an answer arrived
                if data is None:
                    return
            factors = self.protocol.in_band_factors(bytes(data))
        except DecodeError:
            self.corrupt += 1
            return
        for kind, factor in factors.items():
            self.set_factor(kind, factor)

    def restart(self, host_time: float) -> None:
        """The link came back at ``host_time``: the samples missed become one gap per stream."""
        self._last_h = max(self._last_h, float(host_time))
        for route in {id(r): r for r in self._by_stream.values()}.values():
            route.timebase.restart(host_time)

    def set_factor(self, packet_kind: str, factor: float) -> None:
        """Use the conversion ``factor`` the device announced for streams of ``packet_kind``."""
        for name, route in self._by_stream.items():
            if self.profile.stream(name).packet_kind == packet_kind:
                route.timebase.set_factor(float(factor))

    def scale(self, stream: str) -> float:
        """Physical units per count the live values of profile stream ``stream`` were made with.

        ``float32(raw_counts * scale)`` reproduces the blocks bit for bit: the profile's scale,
        or the one the device reported in band (in a packet header, or a control point answer) for
        the last packet.
        Before the first packet of an in-band stream, the profile's nominal scale.
        """
        spec = self.profile.stream(stream)
        route = self._by_stream.get(stream)
        if route is None:
            return float(spec.scale)
        if (len(route.outputs) == 1 and route.outputs[0][1] is None) or spec.in_band_scale:
            last = route.timebase.last_scale
            return float(spec.scale) if last is None else float(last)
        return float(np.float32(spec.scale))  # applied in float32 after the shared timebase

    def stats(self, window_s: float = 5.0) -> dict[str, StreamStats]:
        """Per-stream counts, rates and loss, by the profile's stream name."""
        out: dict[str, StreamStats] = {}
        for name, info in self.streams.items():
            route = self._by_stream.get(name)
            if route is None:
                out[name] = self._assembled_stats(name, info, window_s)
                continue
            tb = route.timebase
            out[name] = StreamStats(
                stream=info.name,
                nominal_rate=tb.nominal_rate,
                effective_rate=tb.effective_rate,
                samples=tb.received_samples,
                packets=tb.received_packets,
                gaps=route.gaps,
                lost_samples=tb.lost_samples,
                unknown_gaps=tb.unknown_gaps,
                corrupt=tb.corrupt_packets,
                loss_percent_5s=tb.loss_percent(window_s),
                delivery_s=route.delivery_s(window_s),
                rejected=tb.skipped_packets,
            )
        return out

    def _assembled_stats(self, name: str, info: StreamInfo, window_s: float) -> StreamStats:
        acc, base = self._assembled[name]
        assert base is not None
        emg = base.timebase
        return StreamStats(
            stream=info.name,
            nominal_rate=info.rate,
            effective_rate=emg.effective_rate / emg.nominal_rate * info.rate,
            samples=acc.samples,
            packets=acc.samples,
            gaps=acc.gaps,
            lost_samples=max(0, acc.next_index - acc.samples),
            unknown_gaps=0,
            corrupt=0,
            loss_percent_5s=emg.loss_percent(window_s),
            delivery_s=base.delivery_s(window_s),
        )
