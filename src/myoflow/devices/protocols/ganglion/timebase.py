"""OpenBCI Ganglion timebase: loss from the packet ID (+1 mod 100, 2 samples per packet)."""

from __future__ import annotations

import math

from myoflow.devices.codec import Packet
from myoflow.devices.protocols.ganglion import codec
from myoflow.devices.protocols.ganglion.codec import GanglionTracker
from myoflow.devices.timebase import Skip, Step, Timebase
from myoflow.stream import StreamInfo

__all__ = ["GanglionTimebase"]


class GanglionTimebase(Timebase):
    """OpenBCI Ganglion: loss from packet IDs (+1 mod 100, 2 samples per packet).

    A loss of 100 packets or more aliases in the ID; when the fitted clock says at least 80
    more packets went missing than the ID shows, whole cycles of 100 are added. The ID is
    cross-checked with the host clock: a packet whose ID claims more lost packets than can have
    been sent since the last one (a duplicate, a stale or swapped packet, a corrupted ID) is
    rejected and counted, and the ID sequence is not moved by it. After :meth:`restart` the
    board has reset and its IDs restart, so the gap's size is estimated from the host clock; the
    same happens when IDs keep being rejected (the sequence jumped for good).
    """

    kinds = frozenset({"emg"})

    def __init__(self, stream: StreamInfo, **kwargs) -> None:
        super().__init__(stream, **kwargs)
        self.tracker = GanglionTracker()

    def packet_scale(self, packet: Packet) -> float:
        return codec.UV_PER_COUNT

    def _id_gap(self, packet_id: int) -> int:
        """Packets missing before ``packet_id`` by the ID sequence (the tracker's rule, no update)."""
        expected = self.tracker.expected
        if expected is None or not 0 <= packet_id <= 199 or expected // 100 != packet_id // 100:
            return 0
        return (packet_id - expected) % 100

    def _account(self, packet: Packet, h: float) -> Step | Skip | None:
        n = packet.n_samples
        first = self._restart_pending or self.tracker.expected is None
        if first and packet.counter == codec.FIRST_PACKET_ID_19BIT:
            # ID 99 first: 19-bit samples with the accelerometer off, 18-bit with it on. The
            # codec cannot tell which, so these two samples are skipped rather than guessed.
            return Skip("first packet ID 99 (sample width unknown)")
        assert packet.counter is not None  # the Ganglion codec numbers every packet
        pid = int(packet.counter)
        if self._restart_pending or self._stuck(h):
            why = "reconnect (Ganglion IDs restart)"
            if not self._restart_pending:
                why = "resync (Ganglion IDs jumped)"
            self.tracker = GanglionTracker()
            self.tracker.update(pid)
            return Step(self._estimate_missing(h, n), False, 0.0, why, True)
        m = self._id_gap(pid)
        if self.fit.n_fits:
            by_clock = self._lateness(h, n) / (self.fit.slope * n)
            m += 100 * max(0, math.floor((by_clock - m + 20) / 100))
        if m * n > self._max_missing(h, n):
            return self._reject("duplicate" if m == 99 else "stale or implausible packet ID", h)
        self.tracker.update(pid)
        return Step(n * m, True, float(m), "packet loss (Ganglion packet ID)")
