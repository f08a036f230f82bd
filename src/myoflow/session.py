"""A recording session: straps (or virtual straps) -> ingest -> sinks, recorder and live analysis.

:func:`run_session` runs an :class:`~myoflow.devices.ingest.Ingest` on its own asyncio event
loop in a background thread (``myoflow-ingest``) while the calling thread stays free for the
console, the dashboard and Ctrl-C. What the straps deliver fans out (:class:`FanOut`) to every
sink on the ingest's loop; the :class:`RecorderSink` hands it to the HDF5
:class:`~myoflow.storage.writer.Recorder`, whose own writer thread does the disk I/O, so neither a
slow disk nor a slow analysis stalls the radio.

**Raw samples.** The recording keeps the samples as the device sent them (ints), with the
per-packet table (counter, device time, host receive time). Blocks carry physical values and no
packet information, so rather than dividing physical values by a scale (inexact for in-band
factors, and blind to counters and receive times), :class:`RecorderSink` taps each strap's
decoder: it sees every decoded packet with its notification time and the blocks and gaps it
produced, in the order the sinks get them. The conversion stored with a stream is the one the
live path applied: taken from the profile, the packet (DIY ``uv_per_count``) or the start answer
(Polar FACTOR), and chosen only if it reproduces the live float32 values of the stream's first
block bit for bit, so a replay hands the analysis exactly what the live run saw.

**Shutdown.** Ctrl-C in the calling thread, an exception in a sink, or the end of ``seconds``
all stop the straps cleanly (stop writes, disconnect), then the recorder writes what it queued
and finalises the file (compressed, verified, renamed). A crash of the process leaves the live
file with everything flushed (at most ``flush_interval`` lost): ``myoflow recover`` finalises it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from myoflow._checks import check_positive
from myoflow.stream import Block, Event, Gap

__all__ = [
    "FanOut",
    "RecorderSink",
    "SessionResult",
    "run_session",
    "stored_raw_dtype",
]

log = logging.getLogger(__name__)


_SINK_METHODS = ("on_block", "on_gap", "on_status", "on_event", "on_packet")


class FanOut:
    """One sink that forwards every call to several (methods a sink lacks are skipped)."""

    def __init__(self, sinks: Sequence[Any]) -> None:
        self.sinks: tuple[Any, ...] = ()
        for name in _SINK_METHODS:
            setattr(self, f"_{name}", [])
        self.add(*sinks)

    def add(self, *sinks: Any) -> None:
        """Forward to ``sinks`` too (on the ingest's loop, before data flows, or between calls)."""
        self.sinks += sinks
        for name in _SINK_METHODS:
            calls = [getattr(s, name) for s in sinks if callable(getattr(s, name, None))]
            setattr(self, f"_{name}", [*getattr(self, f"_{name}"), *calls])

    def on_block(self, block: Block) -> None:
        for call in self._on_block:  # type: ignore[attr-defined]
            call(block)

    def on_gap(self, gap: Gap) -> None:
        for call in self._on_gap:  # type: ignore[attr-defined]
            call(gap)

    def on_status(self, status: Any) -> None:
        for call in self._on_status:  # type: ignore[attr-defined]
            call(status)

    def on_event(self, event: Event) -> None:
        for call in self._on_event:  # type: ignore[attr-defined]
            call(event)

    def on_packet(self, strap: str, packet: Any, host_time: float, out: list[Block | Gap]) -> None:
        for call in self._on_packet:  # type: ignore[attr-defined]
            call(strap, packet, host_time, out)


def stored_raw_dtype(spec: Any, profile: Any) -> np.dtype:
    """Smallest signed integer dtype holding the samples of profile stream ``spec``.

    The DIY strap sends ``settings.sample_bits`` per sample whatever its ADC resolution.
    """
    bits = int(spec.resolution_bits)
    if profile.protocol == "diy":
        bits = max(bits, int(profile.settings.get("sample_bits", bits)))
    return np.dtype(np.int8 if bits <= 8 else np.int16 if bits <= 16 else np.int32)


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
                self._write(("gap", item))
                continue
            plan = self.plans[name]
            raw = self._raw(plan, packet, item)
            if plan.first is None:
                plan.first = (raw, item.data, dict(packet.meta) if packet is not None else {})
            counter = device_ns = None
            if packet is not None:
                counter, device_ns = packet.counter, packet.device_time_ns
            self._write(("block", name, raw, item.times, item.start_index, host_time, counter, device_ns))
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

    def close(self, finalise: bool = True) -> Path | None:
        """Write what is queued and (by default) finalise the file; None when nothing was planned.

        Call after the ingest stopped. A file is still created when no stream delivered data.
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
        return self.recorder.close(finalise=finalise)


def _conversion(plan: _Plan) -> float:
    """The float64 scale that turns the stored raw counts into the live float32 values."""
    spec = plan.spec
    candidates = [float(spec.scale), float(np.float32(spec.scale))]
    if plan.first is not None:
        meta = plan.first[2]
        if "uv_per_count" in meta:
            candidates.insert(0, float(meta["uv_per_count"]))
        tb = plan.strap.decoder.timebases.get(spec.name)
        factor = getattr(tb, "factor", None)
        if factor is not None:
            candidates[:0] = [float(factor), float(factor) / 1000.0, 1e-3, 1.0]
        raw, data, _ = plan.first
        exact = raw.astype(np.float64)
        for c in candidates:
            if np.array_equal((exact * c).astype(np.float32), data):
                return c
        nz = exact != 0
        if nz.any():
            estimate = float(np.median(data[nz] / exact[nz]))
            log.warning(
                "stream %r: no known conversion reproduces the live values; storing scale %.6g "
                "estimated from the data",
                plan.info.name,
                estimate,
            )
            return estimate
    return candidates[0]


# ---------------------------------------------------------------------- running a session


@dataclass
class SessionResult:
    """How a session ended.

    ``statuses``: the last :class:`~myoflow.devices.sinks.StrapStatus` of every strap;
    ``path``: the finalised recording (None without a recorder); ``interrupted``: stopped by
    Ctrl-C; ``streams``: the ingest's StreamInfos by name; ``host_start``: host-clock time the
    straps started streaming; ``packets``: packets recorded.
    """

    statuses: list[Any] = field(default_factory=list)
    path: Path | None = None
    interrupted: bool = False
    streams: dict[str, Any] = field(default_factory=dict)
    host_start: float = float("nan")
    packets: int = 0


def run_session(
    open_ingest: Callable[[Sequence[Any]], contextlib.AbstractAsyncContextManager[Any]],
    seconds: float | None,
    sinks: Sequence[Any] = (),
    *,
    recorder: RecorderSink | None = None,
    on_started: Callable[[Any], None] | None = None,
    late_sinks: Callable[[dict[str, Any]], Sequence[Any]] | None = None,
    on_tick: Callable[[], None] | None = None,
    tick_s: float = 0.2,
) -> SessionResult:
    """Stream for ``seconds`` of host-clock time (None: until Ctrl-C) into ``sinks``.

    Parameters
    ----------
    open_ingest
        ``open_ingest(sinks)`` returns an async context manager yielding a started
        :class:`~myoflow.devices.ingest.Ingest` over those sinks (see
        :func:`myoflow.demo.virtual_glute_ingest` for virtual straps, or
        ``lambda sinks: Ingest(configs, sinks)`` for real ones).
    seconds
        Host-clock seconds to stream (virtual seconds for a virtual clock).
    sinks
        Ingest sinks (analysis, console); ``on_event`` is used for events where they have it.
    recorder
        Records the session; closed (finalised) in every case before this returns or raises.
    late_sinks
        ``late_sinks(streams)`` builds sinks that need the ingest's StreamInfos (by name), e.g.
        :class:`~myoflow.analysis.live.LiveAnalysis`; called once the straps are connected,
        before any data is delivered.
    on_started
        Called on the ingest thread with the started ingest, before any data is delivered.
    on_tick
        Called on this thread every ``tick_s`` real seconds while streaming (console, polling
        the live analysis).

    Raises
    ------
    Exception
        What stopped the ingest (a failing sink, every strap lost, device not found...), after
        the straps were stopped and the recording finalised.
    """
    if seconds is not None:
        check_positive(seconds, "seconds", "s")
    check_positive(tick_s, "tick_s", "s")
    fan = FanOut([*sinks, recorder] if recorder is not None else sinks)  # the recorder from the first packet
    result = SessionResult()
    state: dict[str, Any] = {"error": None, "loop": None, "task": None}
    started = threading.Event()

    async def main() -> None:
        state["loop"] = asyncio.get_running_loop()
        state["task"] = asyncio.current_task()
        async with open_ingest([fan]) as ingest:
            result.host_start = float(ingest.clock())
            result.streams = dict(ingest.streams)
            if recorder is not None:
                recorder.attach(ingest)
            if late_sinks is not None:
                fan.add(*late_sinks(dict(ingest.streams)))
            if on_started is not None:
                on_started(ingest)
            started.set()
            try:
                await ingest.run(seconds)
            except asyncio.CancelledError:
                result.interrupted = True
            finally:
                result.statuses = ingest.status()
        result.statuses = ingest.status()  # after the stop: "stopped"

    def thread_main() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to the calling thread
            state["error"] = exc
        finally:
            started.set()

    thread = threading.Thread(target=thread_main, name="myoflow-ingest", daemon=True)
    thread.start()
    try:
        try:
            while thread.is_alive():
                thread.join(tick_s)
                if on_tick is not None and started.is_set() and state["error"] is None:
                    on_tick()
        except KeyboardInterrupt:
            result.interrupted = True
            _cancel(state)
            thread.join()
    finally:
        if thread.is_alive():  # an error in on_tick: stop the straps before finalising
            _cancel(state)
            thread.join()
        if recorder is not None:
            result.packets = recorder.packets
            result.path = recorder.close(finalise=True)
    if state["error"] is not None and not isinstance(state["error"], asyncio.CancelledError):
        raise state["error"]
    return result


def _cancel(state: dict[str, Any]) -> None:
    loop, task = state["loop"], state["task"]
    if loop is not None and task is not None:
        with contextlib.suppress(RuntimeError):  # the loop already closed
            loop.call_soon_threadsafe(task.cancel)


@contextlib.asynccontextmanager
async def ingest_of(factory: Callable[[], Any]) -> AsyncIterator[Any]:
    """``async with ingest_of(lambda: Ingest(...)) as ingest``: start it, stop it after."""
    ingest = factory()
    async with ingest:
        yield ingest
