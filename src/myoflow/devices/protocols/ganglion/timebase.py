"""OpenBCI Ganglion timebase: loss from the packet ID (+1 mod 100, 2 samples per packet)."""

from __future__ import annotations

import math

from myoflow.devices.codec import Packet
from myoflow.devices.protocols.ganglion import codec
from myoflow.devices.protocols.ganglion.codec import GanglionTracker
from myoflow.devices.timebase import Step, Timebase
from myoflow.stream import StreamInfo

__all__ = ["GanglionTimebase"]


class GanglionTimebase(Timebase):
    """OpenBCI Ganglion: loss from packet IDs (+1 mod 100, 2 samples per packet).

    A loss of 100 packets or more aliases in the ID; when the fitted clock says at least 80
    more packets went missing than the ID shows, whole cycles of 100 are added. An ID that the
    clock places in the past (a duplicate) is skipped. After :meth:`restart` the board has
    reset and its IDs restart, so the gap's size is estimated from the host clock.
    """

    kinds = frozenset({"emg"})

    def __init__(self, stream: StreamInfo, **kwargs) -> None:
        super().__init__(stream, **kwargs)
        self.tracker = GanglionTracker()

    def packet_scale(self, packet: Packet) -> float:
        return codec.UV_PER_COUNT

    def _account(self, packet: Packet, h: float) -> Step | None:
        n = packet.n_samples
        first = self._restart_pending or self.tracker.expected is None
        if first and packet.counter == codec.FIRST_PACKET_ID_19BIT:
            # ID 99 first: 19-bit samples with the accelerometer off, 18-bit with it on. The
            # codec cannot tell which, so these two samples are skipped rather than guessed.
            return None
        if self._restart_pending:
            self.tracker = GanglionTracker()
            self.tracker.update(int(packet.counter))
            return Step(self._estimate_missing(h, n), False, 0.0, "reconnect (Ganglion IDs restart)", True)
        m = int(self.tracker.update(int(packet.counter)).packets or 0)
        if self.fit.n_fits:
            by_clock = self._lateness(h, n) / (self.fit.slope * n)
            if m == 99 and by_clock < 50:
                return None  # the ID just seen again: a duplicate
            m += 100 * max(0, math.floor((by_clock - m + 20) / 100))
        return Step(n * m, True, float(m), "packet loss (Ganglion packet ID)")
