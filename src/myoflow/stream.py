"""The currency every layer speaks: stream descriptions, blocks of samples, gaps and events,
and the two contracts that carry them: :class:`Sink` (where they are delivered) and
:class:`Clock` (what stamps them).

Conventions (see docs/architecture.md):

* signals are arrays of shape ``(n_samples, n_channels)``, C-contiguous, float32 in flight;
* times are float64 seconds on the session's host monotonic clock;
* a :class:`Block` never spans a gap: lost samples are announced by a :class:`Gap`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:  # annotations only: this module imports nothing of myoflow at run time
    from myoflow.devices.codec import Packet
    from myoflow.devices.sinks import StrapStatus

#: Kinds of stream a strap can deliver, with the physical unit their samples are converted to.
KIND_UNITS: dict[str, str] = {
    "emg": "uV",
    "ecg": "uV",
    "acc": "g",
    "gyro": "deg/s",
    "quat": "1",
    "angle": "deg",
}


@dataclass(frozen=True)
class StreamInfo:
    """What one stream of a strap is.

    Parameters
    ----------
    name
        Unique within a session, e.g. ``"ganglion/emg"``.
    kind
        One of :data:`KIND_UNITS` (``"emg"``, ``"acc"``, ...).
    rate
        Nominal sample rate in Hz.
    channels
        One label per channel.
    placements
        Where each channel sits (muscle and side for EMG, body segment for IMUs),
        e.g. ``("glute_max_r", "biceps_femoris_r")``; ``None`` when not known.
    unit
        Physical unit of the samples; defaults to the kind's unit.
    """

    name: str
    kind: str
    rate: float
    channels: tuple[str, ...]
    placements: tuple[str, ...] | None = None
    unit: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KIND_UNITS:
            allowed = ", ".join(repr(k) for k in KIND_UNITS)
            raise ValueError(f"stream {self.name!r}: kind must be one of {allowed}, got {self.kind!r}")
        if not (isinstance(self.rate, (int, float)) and math.isfinite(self.rate) and self.rate > 0):
            raise ValueError(f"stream {self.name!r}: rate must be a positive number of Hz, got {self.rate!r}")
        object.__setattr__(self, "channels", tuple(self.channels))
        if not self.channels:
            raise ValueError(f"stream {self.name!r}: needs at least one channel label")
        if self.placements is not None:
            object.__setattr__(self, "placements", tuple(self.placements))
            if len(self.placements) != len(self.channels):
                raise ValueError(
                    f"stream {self.name!r}: {len(self.placements)} placements for "
                    f"{len(self.channels)} channels"
                )
        if not self.unit:
            object.__setattr__(self, "unit", KIND_UNITS[self.kind])

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return len(self.channels)


@dataclass(frozen=True)
class Block:
    """Consecutive samples of one stream, with no gap inside.

    Parameters
    ----------
    stream
        The stream these samples belong to.
    data
        Shape ``(n_samples, stream.n_channels)``, float32, physical units.
    times
        Shape ``(n_samples,)``, float64 host-clock seconds of each sample.
    start_index
        Stream sample index of ``data[0]``; lost samples are counted, so after a gap the
        index jumps by the gap's size.
    """

    stream: StreamInfo
    data: np.ndarray
    times: np.ndarray
    start_index: int

    def __post_init__(self) -> None:
        data = np.ascontiguousarray(self.data, dtype=np.float32)
        if data.ndim != 2 or data.shape[1] != self.stream.n_channels:
            raise ValueError(
                f"stream {self.stream.name!r}: block data must have shape (n, "
                f"{self.stream.n_channels}), got {self.data.shape}"
            )
        times = np.ascontiguousarray(self.times, dtype=np.float64)
        if times.shape != (data.shape[0],):
            raise ValueError(
                f"stream {self.stream.name!r}: {data.shape[0]} samples but times has shape {times.shape}"
            )
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "times", times)

    def __len__(self) -> int:
        return self.data.shape[0]

    @property
    def end_index(self) -> int:
        """Stream sample index one past the last sample of this block."""
        return self.start_index + len(self)


@dataclass(frozen=True)
class Gap:
    """Samples of a stream that were lost (radio loss, disconnect, queue overflow).

    ``n_missing`` is ``None`` when the protocol cannot tell how many samples were lost
    (the Myo has no packet counter): the loss is then known only as a time span.
    """

    stream: StreamInfo
    start_index: int
    n_missing: int | None
    t_start: float
    t_end: float
    reason: str = "loss"


@dataclass(frozen=True)
class Event:
    """Something that happened at a time: a rep boundary, a cue, a marker, a calibration step."""

    time: float
    kind: str
    label: str = ""
    stream: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


#: The methods of a :class:`Sink`, in the order of the class.
SINK_METHODS = ("on_block", "on_gap", "on_status", "on_event", "on_packet")


@runtime_checkable
class Clock(Protocol):
    """A time source: ``clock()`` is the current time in seconds, monotonic.

    ``time.monotonic`` is the host clock; the virtual straps' clocks
    (:mod:`myoflow.devices.virtual.radio`) and :class:`~myoflow.storage.replay.ManualClock`
    fit too. A clock that also has ``sleep(seconds)`` paces what it drives (the ingest awaits
    it, a replay calls it).
    """

    def __call__(self) -> float:
        """The current time, s."""
        ...


class Sink(Protocol):
    """Where straps (the ingest), a replay and a session fan-out deliver, one contract for all.

    Every method does nothing here: subclass ``Sink`` and override the ones you need, or write
    any class with the methods (a replay and :class:`~myoflow.session.run.FanOut` skip the ones
    a sink lacks; the ingest needs ``on_block``, ``on_gap`` and ``on_status``). The methods are
    called in order per stream on the delivering thread (the ingest's event loop, the replay's
    thread) and must be quick: hand heavy work to another thread.

    One more hook is optional and deliberately not declared here (a no-op would be called for
    every notification): ``on_raw(strap, host_time, char_uuid, data)`` sees every notification
    as the strap's queue held it, before decoding (``char_uuid == ""``: a reconnect marker); see
    :class:`myoflow.devices.capture.CaptureWriter`.
    """

    def on_block(self, block: Block) -> None:
        """A block of new samples of one stream (never spanning a gap)."""
        return None

    def on_gap(self, gap: Gap) -> None:
        """Samples of one stream that were lost; the stream's next block follows it."""
        return None

    def on_status(self, status: StrapStatus) -> None:
        """A strap changed state (connecting, streaming, reconnecting, ...)."""
        return None

    def on_event(self, event: Event) -> None:
        """A recorded or live event (rep boundary, phase, cue, marker, calibration, metadata)."""
        return None

    def on_packet(self, strap: str, packet: Packet | None, host_time: float, out: list[Block | Gap]) -> None:
        """One decoded notification of ``strap``, received at ``host_time`` (host s), with the
        blocks and gaps it produced (``out``, delivered to ``on_block``/``on_gap`` right after).
        For recorders that keep what the device sent: raw samples, counters, device times.
        ``packet`` is ``None`` when ``out`` comes from a restart marker."""
        return None
