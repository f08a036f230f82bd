"""OpenBCI Ganglion accelerometer: one ``(x, y, z)`` sample assembled from ten EMG packets.

The decoder's :class:`~myoflow.devices.protocols.contract.Assembler` for the ``acc`` stream of
a Ganglion profile: the axes ride one per 18-bit packet, chosen by the packet ID.
"""

from __future__ import annotations

import numpy as np

from myoflow.devices.codec import Packet
from myoflow.devices.protocols.ganglion import codec
from myoflow.stream import Block, Gap, StreamInfo

__all__ = ["GanglionAccel"]

Output = list[Block | Gap]


class GanglionAccel:
    """Ganglion accelerometer: axes x, y, z ride in packets with ID % 10 == 1, 2, 3 (firmware 3.0.2).

    A sample is emitted when the z axis arrives and x and y came in the two packets just before
    it; it takes the time of the last EMG sample of that packet and the index of its group of
    ten packets (20 EMG samples). Incomplete groups are lost samples: the next sample after them
    comes behind a :class:`Gap` (``n_missing=None`` if the EMG loss in between was unknown).
    """

    def __init__(self, stream: StreamInfo, scale: float) -> None:
        self.stream, self.scale = stream, float(scale)
        self._axes: dict[str, float] = {}
        self._group: int | None = None
        self._unknown = False
        self._last_t: float | None = None
        self.next_index = 0
        self.samples = self.gaps = 0

    def update(self, packet: Packet, emg: Output) -> Output:
        """The accelerometer sample ``packet`` completes, behind a gap after lost axes."""
        for item in emg:
            if isinstance(item, Gap) and item.n_missing is None:
                self._unknown = True
        axis = packet.meta.get("accel_axis")
        block = emg[-1] if emg and isinstance(emg[-1], Block) else None
        if axis is None or block is None or packet.counter is None:
            return []
        pos = int(packet.counter) % 10
        group = block.start_index - 2 * pos
        if group != self._group:
            self._group, self._axes = group, {}
        g = codec.accel_g(axis, int(packet.meta["accel_raw"])) / codec.ACCEL_G_PER_COUNT * self.scale
        self._axes[axis] = g
        if axis != "z" or len(self._axes) < 3:
            return []
        index = max(self.next_index, round(group / 20))
        t = float(block.times[-1])
        out: Output = []
        if index > self.next_index:
            t_start = self._last_t + 1.0 / self.stream.rate if self._last_t is not None else t
            n = None if self._unknown else index - self.next_index
            out.append(
                Gap(self.stream, self.next_index, n, min(t_start, t), t, "loss (Ganglion axis packets)")
            )
            self.gaps += 1
        self._unknown = False
        data = np.array([[self._axes["x"], self._axes["y"], self._axes["z"]]], dtype=np.float32)
        out.append(Block(self.stream, data, np.array([t]), index))
        self.next_index, self._last_t = index + 1, t
        self.samples += 1
        return out
