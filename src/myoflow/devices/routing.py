"""One route of a strap's decoder: a timebase, the packet kind it takes, the streams cut from it.

:class:`Route` checks that a decoded packet fits the profile's stream (rate, sample width,
channels), pushes it through the stream's :class:`~myoflow.devices.timebase.Timebase` and
splits the result into the streams that share it (columns of one packet kind), each with its
scale. It also keeps how late deliveries arrive. Used by
:class:`~myoflow.devices.decoding.StrapDecoder`.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from myoflow.devices.codec import Packet
from myoflow.devices.timebase import Timebase
from myoflow.stream import Block, Gap, StreamInfo

__all__ = ["Route"]

Output = list[Block | Gap]


class Route:
    """One timebase, the packet kind it takes, and the streams cut out of its blocks."""

    def __init__(
        self, timebase: Timebase, outputs: list[tuple[StreamInfo, np.ndarray | None, float]]
    ) -> None:
        self.timebase = timebase
        self.outputs = outputs  # (stream, columns or None, scale applied after the timebase)
        self.width = timebase.stream.n_channels
        self.max_bits: int | None = None  # widest sample the profile allows (None: any)
        self.gaps = 0
        self.ages: deque[tuple[float, float]] = deque(maxlen=4096)  # (host time, oldest sample's age)

    def delivery_s(self, window_s: float) -> float:
        """Largest age of a delivery's oldest sample over the last ``window_s`` host seconds."""
        if not self.ages:
            return 0.0
        since = self.ages[-1][0] - window_s
        return max(age for h, age in self.ages if h >= since)

    def misfit(self, packet: Packet) -> str | None:
        """How ``packet`` does not fit the profile's stream (None when it fits)."""
        stream = self.timebase.stream
        fs = packet.meta.get("fs_hz")  # a packet that states its rate must match the profile
        if fs is not None and fs != stream.rate:
            return f"expects {stream.rate:g} Hz, the strap sends {fs:g} Hz"
        bits = packet.meta.get("sample_bits")  # ... and its sample width
        if bits is not None and self.max_bits is not None and bits > self.max_bits:
            return f"expects {self.max_bits}-bit samples, the strap sends {bits}-bit samples"
        if packet.n_channels != self.width and (self.outputs[0][1] is None or packet.n_channels < self.width):
            return f"expects {self.width} channels, the strap sends {packet.n_channels}"
        return None

    def push(self, packet: Packet, host_time: float) -> Output:
        if packet.n_channels != self.width:
            packet = Packet(
                packet.kind, packet.samples[:, : self.width], packet.counter, packet.device_time_ns
            )
        out = self.timebase.push(packet, host_time)
        for item in out:
            if type(item) is Block:
                self.ages.append((host_time, host_time - float(item.times[0])))
                break
        if len(self.outputs) == 1 and self.outputs[0][1] is None:
            self.gaps += sum(isinstance(x, Gap) for x in out)
            return out
        split: Output = []
        for item in out:
            for stream, cols, scale in self.outputs:
                if isinstance(item, Gap):
                    split.append(
                        Gap(stream, item.start_index, item.n_missing, item.t_start, item.t_end, item.reason)
                    )
                else:
                    data = item.data if cols is None else item.data[:, cols]
                    split.append(Block(stream, data * np.float32(scale), item.times, item.start_index))
            self.gaps += isinstance(item, Gap)
        return split
