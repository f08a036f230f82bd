"""The currency every layer speaks: stream descriptions, blocks of samples, gaps and events.

Conventions (see docs/architecture.md):

* signals are arrays of shape ``(n_samples, n_channels)``, C-contiguous, float32 in flight;
* times are float64 seconds on the session's host monotonic clock;
* a :class:`Block` never spans a gap: lost samples are announced by a :class:`Gap`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

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
