"""Where the ingest delivers: per-strap :class:`StrapStatus` and a ready-made sink.

The sink contract is :class:`myoflow.stream.Sink` (re-exported here). The ingest uses three of
its methods, called on the event loop by the ingest's consumer tasks, in order per
strap: ``on_block(block)`` for every :class:`~myoflow.stream.Block`, ``on_gap(gap)`` for every
:class:`~myoflow.stream.Gap` (always before the block that follows it), and
``on_status(status)`` when a strap changes state (connecting, streaming, reconnecting, ...).
They must be quick: a recorder hands blocks to its own thread, a live pipeline copies them into
ring buffers, a console only counts. An exception raised by a sink stops the ingest and is
re-raised by :meth:`Ingest.run <myoflow.devices.ingest.Ingest.run>`.

:class:`CollectingSink` keeps everything (tests, short sessions).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from myoflow.devices.decoding import StreamStats
from myoflow.stream import Block, Gap, Sink

__all__ = ["STATES", "CollectingSink", "Sink", "StrapStatus"]

#: States of a strap, in the order a session goes through them.
STATES = ("connecting", "streaming", "reconnecting", "stopping", "stopped", "failed")


@dataclass(frozen=True)
class StrapStatus:
    """A snapshot of one strap.

    Attributes
    ----------
    name
        The strap's name in the session (the prefix of its stream names).
    device, address
        Advertised name and BLE address.
    profile
        Profile name.
    state
        One of :data:`STATES`.
    connections, reconnects
        Connections made so far, and how many of them were reconnections after a drop.
    battery
        Battery level in % read at the last connection, or None when the strap has no battery
        service.
    mtu
        Negotiated ATT MTU in bytes (None: unknown).
    error
        Why the strap failed (state ``"failed"``), else None.
    streams
        Per-stream :class:`~myoflow.devices.decoding.StreamStats` by the profile's stream name.
    corrupt
        Notifications that did not decode.
    discards
        Notifications discarded, by kind: ``"undecodable"``, ``"does not fit the profile"``,
        ``"duplicate"``, ``"stale (reordered)"``, implausible counters or device times...
    overflow
        Notifications dropped because the consumer fell behind (queue full).
    cpu_s
        CPU time the consumer spent decoding, timing and delivering, s.
    """

    name: str
    device: str
    address: str
    profile: str
    state: str
    connections: int = 0
    reconnects: int = 0
    battery: int | None = None
    mtu: int | None = None
    error: str | None = None
    streams: dict[str, StreamStats] = field(default_factory=dict)
    corrupt: int = 0
    overflow: int = 0
    cpu_s: float = 0.0
    discards: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One compact line: state, then samples / loss % / effective rate of each stream."""
        parts = []
        for s in self.streams.values():
            short = s.stream.rsplit("/", 1)[-1]
            parts.append(f"{short} {s.samples} ({s.loss_percent_5s:.1f}% loss, {s.effective_rate:.2f} Hz)")
        extra = f" battery {self.battery}%" if self.battery is not None else ""
        again = f" reconnects {self.reconnects}" if self.reconnects else ""
        dropped = sum(self.discards.values())
        if dropped:
            parts.append(f"{dropped} discarded")
        return f"{self.name} [{self.state}{again}{extra}] " + "; ".join(parts)


class CollectingSink(Sink):
    """Keeps every block, gap and status; ``blocks[stream name]`` in arrival order."""

    def __init__(self) -> None:
        self.blocks: dict[str, list[Block]] = defaultdict(list)
        self.gaps: dict[str, list[Gap]] = defaultdict(list)
        self.statuses: list[StrapStatus] = []

    def on_block(self, block: Block) -> None:
        self.blocks[block.stream.name].append(block)

    def on_gap(self, gap: Gap) -> None:
        self.gaps[gap.stream.name].append(gap)

    def on_status(self, status: StrapStatus) -> None:
        self.statuses.append(status)

    def data(self, stream: str) -> np.ndarray:
        """All samples of ``stream`` in order, ``(n, channels)`` float32."""
        blocks = self.blocks.get(stream, [])
        return np.concatenate([b.data for b in blocks]) if blocks else np.zeros((0, 0), np.float32)

    def times(self, stream: str) -> np.ndarray:
        """Host times of all samples of ``stream``, ``(n,)`` float64 s."""
        blocks = self.blocks.get(stream, [])
        return np.concatenate([b.times for b in blocks]) if blocks else np.zeros(0)

    def indices(self, stream: str) -> np.ndarray:
        """Stream sample index of every sample of ``stream``, ``(n,)`` int64."""
        blocks = self.blocks.get(stream, [])
        if not blocks:
            return np.zeros(0, np.int64)
        return np.concatenate([np.arange(b.start_index, b.end_index) for b in blocks])
