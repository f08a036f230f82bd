"""The recorder sink: what the straps deliver, kept as the device sent it, in an HDF5 recording.

**Raw samples.** The recording keeps the samples as the device sent them (ints), with the
per-packet table (counter, device time, host receive time). Blocks carry physical values and no
packet information, so rather than dividing physical values by a scale (inexact for in-band
factors, and blind to counters and receive times), :class:`RecorderSink` implements the sinks'
``on_packet`` hook: it sees every decoded packet with its notification time and the blocks and
gaps it produced, in the order the sinks get them. It joins the fan-out before the straps start
and holds packets until :meth:`RecorderSink.attach` has planned the streams. The conversion
stored with a stream is the one the live path applied, as the decoder reports it
(:meth:`~myoflow.devices.decoding.StrapDecoder.scale`: the profile's, or the device's in-band
one), checked to reproduce the live float32 values of the stream's first block bit for bit, so
a replay hands the analysis exactly what the live run saw. The HDF5
:class:`~myoflow.storage.writer.Recorder` does the disk I/O in its own thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from myoflow._checks import check_positive
from myoflow.stream import Block, Event, Gap

__all__ = ["RecorderSink", "StoredIndex", "stored_raw_dtype"]

log = logging.getLogger(__name__)


def stored_raw_dtype(spec: Any, profile: Any) -> np.dtype:
    """Smallest signed integer dtype holding the samples of profile stream ``spec``.

    The DIY strap sends ``settings.sample_bits`` per sample whatever its ADC resolution.
    """
    from myoflow.devices.protocols import get_protocol

    bits = get_protocol(profile.protocol).stored_bits(profile, spec)
    return np.dtype(np.int8 if bits <= 8 else np.int16 if bits <= 16 else np.int32)


class StoredIndex:
    """Timebase sample indices -> the recording's, per stream.

    A recording counts only *known* losses in its sample index (``index = row + known samples
    lost before``, docs/recording-format.md), so a gap of unknown size (``n_missing`` None: a
    Myo or Ganglion reconnect, a resync) moves it on by nothing. The timebase moves its index
    on by its estimate of the loss; without taking that back out, the writer refused the next
    block ("data starts at sample index 1402 but the stream is at index 1000") and
    ``myoflow record`` stopped at the strap's first reconnect.
    """

    def __init__(self) -> None:
        self._shift: dict[str, int] = {}  # samples estimated into unknown gaps so far
        self._open: dict[str, int] = {}  # stream -> where its latest unknown gap began

    def gap(self, gap: Gap) -> Gap:
        """``gap`` with its start on the recording's index."""
        name = gap.stream.name
        if gap.n_missing is None:
            self._open[name] = int(gap.start_index)
        shift = self._shift.get(name, 0)
        return replace(gap, start_index=int(gap.start_index) - shift) if shift else gap

    def block_start(self, name: str, start: int) -> int:
        """The recording's index of a block of stream ``name`` starting at timebase ``start``."""
        opened = self._open.pop(name, None)
        if opened is not None:
            self._shift[name] = self._shift.get(name, 0) + int(start) - opened
        return int(start) - self._shift.get(name, 0)


@dataclass
class _Plan:
    """How one stream is stored: the profile stream, the strap, and the conversion once known."""

    info: Any
    spec: Any
    profile: Any
    strap: Any
    scale: float | None = None
    first: tuple[np.ndarray, np.ndarray, dict[str, Any]] | None = None  # raw, data of block 1


class RecorderSink:
    """Record what an :class:`~myoflow.devices.ingest.Ingest` delivers, raw, to an HDF5 file.

    Call :meth:`attach` right after the ingest started (before the event loop runs again): it
    plans one recorded stream per ingest stream and taps every strap's decoder. The file is
    created once every stream delivered its first block (which fixes in-band conversions), or
    ``settle_s`` host seconds after :meth:`attach`, whichever comes first; what arrived before
    is kept in memory meanwhile. Events (:meth:`on_event`) and metadata changes may come from any
    thread.

    Parameters
    ----------
    path
        The recording to write (``.h5``).
    metadata
        :class:`~myoflow.storage.schema.SessionMetadata`; the profiles' TOML, device models and
        addresses are added by :meth:`attach`.
    overwrite
        Replace an existing file.
    settle_s
        Longest wait (host-clock s) for the first block of every stream before the file is
        created anyway (streams without data then get their profile's nominal scale).
    flush_interval
        Seconds between SWMR flushes of the live file (at most 0.5).
    """

    def __init__(
        self,
        path: str | Path,
        metadata: Any = None,
        *,
        overwrite: bool = False,
        settle_s: float = 2.0,
        flush_interval: float = 0.25,
    ) -> None:
        from myoflow.storage.schema import SessionMetadata

        self.path = Path(path)
        self.metadata = metadata if metadata is not None else SessionMetadata()
        self.overwrite = bool(overwrite)
        self.settle_s = check_positive(settle_s, "settle_s", "s")
        self.flush_interval = check_positive(flush_interval, "flush_interval", "s")
        self.recorder: Any = None
        self.plans: dict[str, _Plan] = {}
        self.packets = 0
        self._pending: list[tuple[Any, ...]] = []
        self._early: list[tuple[Any, ...]] | None = []  # packets before attach()
        self._lock = threading.RLock()
        self._clock: Callable[[], float] = time.monotonic
        self._t_attach = 0.0
        self._closed = False
        self._discards: dict[str, dict[str, int]] = {}  # strap -> discarded notifications by kind
        self._index = StoredIndex()

    # ------------------------------------------------------------------ set-up
    def attach(self, ingest: Any) -> None:
        """Plan the streams of a started ingest, add its profiles to the metadata, tap it."""
        from myoflow.storage.schema import DeviceInfo

        self._clock = ingest.clock
        self._t_attach = float(ingest.clock())
        profiles: dict[str, dict[str, str]] = {}
        for strap in ingest.straps:
            profile = strap.profile
            profiles[strap.name] = {"profile": profile.name, "toml": profile.source_text}
            status = strap.status()
            strap.device_info = DeviceInfo(profile.model, profile.firmware, status.address)
            for short, info in strap.decoder.streams.items():
                self.plans[info.name] = _Plan(info, profile.stream(short), profile, strap)
        texts = [p["toml"] for p in profiles.values()]
        toml = (
            texts[0]
            if len(set(texts)) == 1
            else "\n".join(
                f"# ---- strap {name!r}: profile {p['profile']!r} (verbatim below) ----\n{p['toml']}"
                for name, p in profiles.items()
            )
        )
        extra = {**self.metadata.extra, "profiles": profiles}
        self.metadata = self.metadata.updated({"profile_toml": toml, "extra": extra})
        early, self._early = self._early, None
        for args in early:  # packets that arrived while the straps were starting
            self._packet(*args)

    def on_packet(self, strap: str, packet: Any, host_time: float, out: list[Block | Gap]) -> None:
        """Every decoded notification (on the ingest's loop): raw samples, counters, device
        times and the blocks/gaps they made. Held until :meth:`attach` has planned the streams."""
        if self._early is not None:
            self._early.append((strap, packet, float(host_time), out))
        else:
            self._packet(strap, packet, float(host_time), out)

    # ------------------------------------------------------------------ on the ingest's loop
    def _packet(self, strap: Any, packet: Any, host_time: float, out: list[Block | Gap]) -> None:
        self.packets += 1
        for item in out:
            name = item.stream.name
            if isinstance(item, Gap):
                self._write(("gap", self._index.gap(item)))
                continue
            plan = self.plans[name]
            raw = self._raw(plan, packet, item)
            if plan.first is None:
                plan.first = (raw, item.data, dict(packet.meta) if packet is not None else {})
            counter = device_ns = None
            if packet is not None:
                counter, device_ns = packet.counter, packet.device_time_ns
            start = self._index.block_start(name, item.start_index)
            self._write(("block", name, raw, item.times, start, host_time, counter, device_ns))
        if self.recorder is None and self._ready():
            self._start()

    @staticmethod
    def _raw(plan: _Plan, packet: Any, block: Block) -> np.ndarray:
        spec = plan.spec
        if (
            packet is not None
            and packet.n_samples == len(block)
            and packet.kind == (spec.packet_kind or packet.kind)
        ):
            samples = packet.samples if spec.columns is None else packet.samples[:, list(spec.columns)]
            if samples.shape == block.data.shape:
                return samples
        # a stream assembled from several packets (Ganglion accelerometer): invert the scale
        return np.rint(block.data.astype(np.float64) / float(np.float32(spec.scale))).astype(np.int64)

    def _ready(self) -> bool:
        if all(p.first is not None for p in self.plans.values()):
            return True
        return float(self._clock()) - self._t_attach >= self.settle_s

    def _write(self, item: tuple[Any, ...]) -> None:
        with self._lock:
            if self.recorder is None:
                self._pending.append(item)
                return
        kind = item[0]
        if kind == "block":
            _, name, raw, times, index, host, counter, dev = item
            self.recorder.write_block(
                name, raw, times, start_index=index, host_time=host, counter=counter, device_time_ns=dev
            )
        elif kind == "gap":
            self.recorder.write_gap(item[1])
        elif kind == "event":
            self.recorder.write_event(item[1])
        else:
            self.recorder.update_metadata(time_s=item[1], **item[2])

    def _start(self) -> None:
        from myoflow.storage.schema import ClockAnchor
        from myoflow.storage.writer import Recorder

        with self._lock:
            if self.recorder is not None:
                return
            anchor = ClockAnchor(float(self._clock()), time.time())
            rec = Recorder(
                self.path,
                self.metadata,
                clock=anchor,
                overwrite=self.overwrite,
                flush_interval=self.flush_interval,
                queue_size=8192,
            )
            for plan in self.plans.values():
                plan.scale = _conversion(plan)
                rec.add_stream(
                    plan.info,
                    stored_raw_dtype(plan.spec, plan.profile),
                    plan.scale,
                    device=getattr(plan.strap, "device_info", None),
                )
            rec.start()
            self.recorder = rec
            pending, self._pending = self._pending, []
        for item in pending:
            self._write(item)

    # ------------------------------------------------------------------ from any thread
    def on_event(self, event: Event) -> None:
        """Record an event (rep, cue, marker, calibration)."""
        self._write(("event", event))

    def update_metadata(self, time_s: float | None = None, **changes: Any) -> None:
        """Change session metadata during the session (e.g. MVC references after calibrating)."""
        from myoflow.storage.schema import check_metadata_changes

        check_metadata_changes(changes)
        when = float(self._clock()) if time_s is None else float(time_s)
        self._write(("metadata", when, changes))

    def on_status(self, status: Any) -> None:
        """Keep each strap's discard counts; :meth:`close` stores them (``extra["discards"]``)."""
        self._discards[str(status.name)] = dict(getattr(status, "discards", {}) or {})

    def close(self, finalise: bool = True) -> Path | None:
        """Write what is queued and (by default) finalise the file; None when nothing was planned.

        Call after the ingest stopped. A file is still created when no stream delivered data.
        The notifications each strap discarded, by kind, go into the metadata's
        ``extra["discards"]``.
        """
        with self._lock:
            if self._closed:
                return self.path if self.recorder is not None else None
            self._closed = True
            if self.recorder is None:
                if not self.plans:
                    return None
                self._closed = False
                self._start()
                self._closed = True
        if self._discards:
            extra = {**self.metadata.extra, "discards": self._discards}
            self.metadata = self.metadata.updated({"extra": extra})
            self._write(("metadata", float(self._clock()), {"extra": extra}))
        return self.recorder.close(finalise=finalise)


def _conversion(plan: _Plan) -> float:
    """The float64 scale that turns the stored raw counts into the live float32 values.

    The decoder reports the scale it applied (the profile's, or the device's in-band one); it is
    checked against the stream's first block, and estimated from the data (with a warning) only
    if it does not reproduce the live values bit for bit.
    """
    scale = float(plan.strap.decoder.scale(plan.spec.name))
    if plan.first is None:
        return scale
    raw, data, _ = plan.first
    exact = raw.astype(np.float64)
    if np.array_equal((exact * scale).astype(np.float32), data):
        return scale
    nz = exact != 0
    if not nz.any():
        return scale
    estimate = float(np.median(data[nz] / exact[nz]))
    log.warning(
        "stream %r: the decoder's scale %.6g does not reproduce the live values; storing scale "
        "%.6g estimated from the data",
        plan.info.name,
        scale,
        estimate,
    )
    return estimate


# ---------------------------------------------------------------------- running a session
