"""What a virtual strap samples, and what became of every sample.

:class:`StreamSource` is a stream's sample clock and packetisation: while it runs, the device
samples on a grid of nominal period ``1 / fs`` in *device* time; the device clock runs at
``skew = 1 + clock_ppm * 1e-6`` times true time, so sample ``i`` after a start at device time
``d0`` is taken at true time ``origin + (d0 + i * 1e9 / fs) / (1e9 * skew)``. Packets are
filled in order; a packet is *ready* when its last sample is taken. :class:`SessionSignal`
reads a synthetic session's signal at those instants.

The :class:`Ledger` keeps every packet produced with its fate. End-to-end tests hold the
ingest's output against it: every sample in a ``"sent"`` packet must arrive exactly once, in
order, with its values and time; the packets of every other fate (``"dropped"`` by the radio
model, ``"flushed"`` from the queue at a disconnect, ``"interrupted"`` by a disconnect mid-send,
``"unsubscribed"`` because the central had not enabled the characteristic) must show up as
gaps, and nothing else may.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from myoflow._checks import check_rate
from myoflow.rows import rows_of

__all__ = ["FATES", "Ledger", "LedgerSamples", "PacketRecord", "SessionSignal", "StreamSource"]

FATES = ("sent", "dropped", "unsubscribed", "flushed", "interrupted")


@dataclass(eq=False)
class PacketRecord:
    """One packet a strap produced. Times in s on the clock; device times in ns.

    ``values`` ``(n, channels)`` int64 are the counts exactly as a perfect decoder reads them
    from ``payload``; ``true_time`` the true instants the ``n`` samples were taken and
    ``device_time_ns`` the device clock then (ns since the device epoch); ``index`` the stream's
    sample index of the first sample; ``ready_at`` when the packet was complete; ``sent_at``
    when it left (for ``"dropped"``: when it would have).
    """

    stream: str
    seq: int
    char: str
    payload: bytes
    index: int
    values: np.ndarray
    true_time: np.ndarray
    device_time_ns: np.ndarray
    ready_at: float
    meta: Mapping[str, Any] = field(default_factory=dict)
    fate: str = "queued"
    sent_at: float | None = None

    @property
    def n(self) -> int:
        """Samples in the packet."""
        return int(self.values.shape[0])


class LedgerSamples(NamedTuple):
    """Samples of one stream, concatenated in send order; arrays of length ``n``."""

    index: np.ndarray  # int64 sample index in the stream
    values: np.ndarray  # (n, channels) int64 counts
    true_time: np.ndarray  # float64 s, when each sample was taken
    device_time_ns: np.ndarray  # int64 device clock
    sent_at: np.ndarray  # float64 s, when its packet left
    packet: np.ndarray  # int64 packet seq


class Ledger:
    """What a strap produced over the last ``history_s``: packets with their fate, and events.

    Bounded, so an hour of virtual streaming keeps memory flat: packets completed more than
    ``history_s`` (clock s) before the newest one are forgotten (counted in :attr:`forgotten`),
    and at most ``max_events`` events are kept.

    Parameters
    ----------
    history_s
        How far back packets are kept, s of clock time (``None``: forever).
    max_events
        Most recent link and command events kept.

    Attributes
    ----------
    records : deque of PacketRecord
        In the order their fate was decided (for sent packets: the send order).
    events : deque of (time s, kind, detail)
        ``"connect"``, ``"disconnect"`` (detail: HCI reason), ``"drop"`` (detail: why the
        simulator dropped the link), ``"start"``/``"stop"`` (stream name), ``"command"``
        (bytes written), ``"refused"`` (why a command was refused).
    forgotten : int
        Packets dropped from :attr:`records` because they were older than ``history_s``.
    """

    def __init__(self, history_s: float | None = 120.0, max_events: int = 10_000) -> None:
        self.history_s = None if history_s is None else float(history_s)
        self.records: deque[PacketRecord] = deque()
        self.events: deque[tuple[float, str, Any]] = deque(maxlen=max_events)
        self.forgotten = 0

    def add(self, record: PacketRecord) -> None:
        """Keep ``record`` (its fate decided); forget those older than ``history_s``."""
        records = self.records
        records.append(record)
        if self.history_s is not None:
            oldest = record.ready_at - self.history_s
            while records[0].ready_at < oldest:
                records.popleft()
                self.forgotten += 1

    def event(self, t: float, kind: str, detail: Any = None) -> None:
        """Note a link or command event at clock time ``t``."""
        self.events.append((float(t), kind, detail))

    def packets(
        self, stream: str | None = None, fate: str | Iterable[str] | None = None
    ) -> list[PacketRecord]:
        """Records of ``stream`` (all if None) whose fate is ``fate`` (any if None)."""
        fates = {fate} if isinstance(fate, str) else None if fate is None else set(fate)
        return [
            r
            for r in self.records
            if (stream is None or r.stream == stream) and (fates is None or r.fate in fates)
        ]

    def samples(self, stream: str, fate: str | Iterable[str] = "sent") -> LedgerSamples:
        """The samples of ``stream`` in packets of ``fate``, concatenated."""
        recs = self.packets(stream, fate)
        if not recs:
            empty_i = np.zeros(0, np.int64)
            return LedgerSamples(
                empty_i, np.zeros((0, 0), np.int64), np.zeros(0), empty_i, np.zeros(0), empty_i
            )
        counts = [r.n for r in recs]
        return LedgerSamples(
            np.concatenate([r.index + np.arange(r.n) for r in recs]),
            np.concatenate([r.values for r in recs]),
            np.concatenate([r.true_time for r in recs]),
            np.concatenate([r.device_time_ns for r in recs]),
            np.repeat([r.sent_at if r.sent_at is not None else np.nan for r in recs], counts),
            np.repeat([r.seq for r in recs], counts),
        )

    def count(self, stream: str, fate: str) -> int:
        """Samples of ``stream`` in packets of ``fate``."""
        return sum(r.n for r in self.packets(stream, fate))

    def event_times(self, kind: str) -> list[float]:
        """Clock times of every event of ``kind``."""
        return [t for t, k, _ in self.events if k == kind]


class SessionSignal:
    """A sampled signal read at any time by linear interpolation, repeating cyclically.

    The samples are read when asked for (only the two around each time), so ``data`` may be a
    lazily synthesised :class:`~myoflow.rows.Rows` as well as an array.

    Parameters
    ----------
    data : array or Rows, shape (n, channels), or a tuple of them
        Samples at ``fs`` Hz, the first at t = 0; a tuple is read side by side (columns
        concatenated; a 1-D part is one column).
    fs : float
        Sample rate in Hz.
    columns : int array, optional
        Columns of ``data`` to give (repeats allowed), after ``transform``.
    transform : callable, optional
        Applied to the rows read (float64 ``(k, width)`` -> ``(k, width')``) before the
        interpolation, as if the whole table had been transformed first.
    """

    def __init__(
        self,
        data: Any,
        fs: float,
        columns: np.ndarray | None = None,
        transform: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        parts = tuple(data) if isinstance(data, tuple) else (data,)
        n = parts[0].shape[0] if parts else 0
        bad = any(p.shape[0] != n or len(p.shape) not in (1, 2) for p in parts)
        if bad or n < 2 or len(parts[0].shape) != 2:
            shapes = [tuple(p.shape) for p in parts]
            raise ValueError(f"data must have shape (n >= 2, channels), got {shapes}")
        self.parts, self.n, self.fs = parts, n, check_rate(fs)
        self.columns = None if columns is None else np.asarray(columns, dtype=np.intp)
        self.transform = transform
        self.duration = n / self.fs

    def rows(self, idx: np.ndarray) -> np.ndarray:
        """Samples ``idx`` (ints in ``[0, n)``) as float64 ``(len(idx), channels)``."""
        cols = []
        for part in self.parts:
            got = np.asarray(rows_of(part, idx), dtype=np.float64)
            cols.append(got[:, None] if got.ndim == 1 else got)
        out = cols[0] if len(cols) == 1 else np.hstack(cols)
        if self.transform is not None:
            out = self.transform(out)
        return out if self.columns is None else out[:, self.columns]

    def __call__(self, t: np.ndarray) -> np.ndarray:
        """Values at times ``t`` (s, any shape ``(m,)``), shape ``(m, channels)`` float64."""
        x = np.mod(np.asarray(t, dtype=np.float64), self.duration) * self.fs
        i0 = np.floor(x).astype(np.int64)
        frac = (x - i0)[:, None]
        n = self.n
        return self.rows(i0 % n) * (1.0 - frac) + self.rows((i0 + 1) % n) * frac


class StreamSource:
    """The sample clock and packetisation of one stream of a strap.

    Parameters
    ----------
    name : str
        Stream name in the ledger (``"emg"``, ``"imu"``, ``"acc"``, ...).
    fs : float
        Nominal sample rate in Hz (device time).
    per_packet : int
        Samples per packet (may be changed at each start).
    skew : float
        Device clock rate relative to true time.
    origin : float
        Clock time where the device clock reads 0 ns.
    """

    def __init__(self, name: str, fs: float, per_packet: int, skew: float, origin: float) -> None:
        self.name, self.fs = name, check_rate(fs)
        self.per_packet, self.skew, self.origin = int(per_packet), float(skew), float(origin)
        self.period_ns = 1e9 / self.fs
        self.active = False
        self.next_index = 0  # stream sample index of the next sample to take
        self.next_seq = 0  # packet seq of the next packet
        self._d0 = 0  # device ns of sample 0 of the current run
        self._i = 0  # samples taken (and packetised) in the current run

    def device_ns(self, t: float) -> int:
        """Device clock at clock time ``t``, ns since the device epoch."""
        return int(round((t - self.origin) * self.skew * 1e9))

    def true_time(self, i: np.ndarray | int) -> np.ndarray:
        """Clock time of sample ``i`` of the current run."""
        return self.origin + (self._d0 + np.asarray(i) * self.period_ns) / (1e9 * self.skew)

    def start(
        self, t: float, per_packet: int | None = None, align_ns: int = 1, fs: float | None = None
    ) -> None:
        """Start sampling at clock time ``t`` (first sample at the next ``align_ns`` tick),
        optionally with a new packet size and nominal rate ``fs`` (Hz)."""
        if per_packet is not None:
            self.per_packet = int(per_packet)
        if fs is not None:
            self.fs = check_rate(fs)
            self.period_ns = 1e9 / self.fs
        d = self.device_ns(t)
        self._d0 = -(-d // align_ns) * align_ns
        self._i, self.active = 0, True

    def stop(self) -> None:
        """Stop sampling; a partly filled packet is discarded."""
        self.active = False

    def next_ready(self) -> float:
        """Clock time the next packet is complete (inf when stopped)."""
        if not self.active:
            return float("inf")
        return float(self.true_time(self._i + self.per_packet - 1))

    def take(self, until: float) -> tuple[int, np.ndarray, np.ndarray, np.ndarray] | None:
        """Every whole packet complete by clock time ``until``.

        Returns ``(first stream index, sample indices in run, true times, device ns)`` for
        ``k * per_packet`` samples, or None when no packet is complete.
        """
        if not self.active:
            return None
        taken = np.floor(((until - self.origin) * 1e9 * self.skew - self._d0) / self.period_ns + 1e-6) + 1
        k = (int(taken) - self._i) // self.per_packet
        if k <= 0:
            return None
        i = self._i + np.arange(k * self.per_packet)
        first = self.next_index
        self._i += i.size
        self.next_index += i.size
        dev = self._d0 + np.rint(i * self.period_ns).astype(np.int64)
        return first, i, self.true_time(i), dev
