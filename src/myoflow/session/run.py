"""A recording session: straps (or virtual straps) -> ingest -> sinks, recorder and live analysis.

:func:`run_session` runs an :class:`~myoflow.devices.ingest.Ingest` on its own asyncio event
loop in a background thread (``myoflow-ingest``) while the calling thread stays free for the
console, the dashboard and Ctrl-C. What the straps deliver fans out (:class:`FanOut`) to every
sink on the ingest's loop; the recorder sink hands it to the HDF5
:class:`~myoflow.storage.writer.Recorder`, whose own writer thread does the disk I/O, so neither a
slow disk nor a slow analysis stalls the radio.

The recorder (:class:`myoflow.session.recorder_sink.RecorderSink`) joins the fan-out before the straps
start and keeps the raw samples through the sinks' ``on_packet`` hook.

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
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from myoflow._checks import check_positive
from myoflow.session.recorder_sink import RecorderSink
from myoflow.stream import Block, Event, Gap, Sink, StreamInfo

if TYPE_CHECKING:
    from myoflow.devices.codec import Packet
    from myoflow.devices.ingest import Ingest
    from myoflow.devices.sinks import StrapStatus

__all__ = ["FanOut", "OpenIngest", "SessionResult", "ingest_of", "run_session"]

log = logging.getLogger(__name__)


#: ``open_ingest(sinks)``: an async context manager yielding a started ingest over ``sinks``.
OpenIngest = Callable[[Sequence[Sink]], contextlib.AbstractAsyncContextManager["Ingest"]]


def _bound(sinks: Sequence[object], name: str) -> list[Callable[..., None]]:
    """The ``name`` methods of ``sinks`` that have one."""
    return [m for m in (getattr(s, name, None) for s in sinks) if callable(m)]


class FanOut(Sink):
    """One sink that forwards every call to several (methods a sink lacks are skipped).

    ``sinks`` are :class:`~myoflow.stream.Sink` objects or any objects with some of its
    methods (duck-typed: a sink that only needs blocks has only ``on_block``).
    """

    def __init__(self, sinks: Sequence[Sink | object]) -> None:
        self.sinks: tuple[Sink | object, ...] = ()
        self._on_block: list[Callable[[Block], None]] = []
        self._on_gap: list[Callable[[Gap], None]] = []
        self._on_status: list[Callable[[StrapStatus], None]] = []
        self._on_event: list[Callable[[Event], None]] = []
        self._on_packet: list[Callable[[str, Packet | None, float, list[Block | Gap]], None]] = []
        self.add(*sinks)

    def add(self, *sinks: Sink | object) -> None:
        """Forward to ``sinks`` too (on the ingest's loop, before data flows, or between calls)."""
        self.sinks += sinks
        # New lists, not in-place appends: a call in progress on another thread keeps its list.
        self._on_block = [*self._on_block, *_bound(sinks, "on_block")]
        self._on_gap = [*self._on_gap, *_bound(sinks, "on_gap")]
        self._on_status = [*self._on_status, *_bound(sinks, "on_status")]
        self._on_event = [*self._on_event, *_bound(sinks, "on_event")]
        self._on_packet = [*self._on_packet, *_bound(sinks, "on_packet")]

    def on_block(self, block: Block) -> None:
        for call in self._on_block:
            call(block)

    def on_gap(self, gap: Gap) -> None:
        for call in self._on_gap:
            call(gap)

    def on_status(self, status: StrapStatus) -> None:
        for call in self._on_status:
            call(status)

    def on_event(self, event: Event) -> None:
        for call in self._on_event:
            call(event)

    def on_packet(self, strap: str, packet: Packet | None, host_time: float, out: list[Block | Gap]) -> None:
        for call in self._on_packet:
            call(strap, packet, host_time, out)


@dataclass
class SessionResult:
    """How a session ended.

    ``statuses``: the last :class:`~myoflow.devices.sinks.StrapStatus` of every strap;
    ``path``: the finalised recording (None without a recorder); ``interrupted``: stopped by
    Ctrl-C; ``streams``: the ingest's StreamInfos by name; ``host_start``: host-clock time the
    straps started streaming; ``packets``: packets recorded.
    """

    statuses: list[StrapStatus] = field(default_factory=list)
    path: Path | None = None
    interrupted: bool = False
    streams: dict[str, StreamInfo] = field(default_factory=dict)
    host_start: float = float("nan")
    packets: int = 0


def run_session(
    open_ingest: OpenIngest,
    seconds: float | None,
    sinks: Sequence[Sink | object] = (),
    *,
    recorder: RecorderSink | None = None,
    on_started: Callable[[Ingest], None] | None = None,
    late_sinks: Callable[[dict[str, StreamInfo]], Sequence[Sink | object]] | None = None,
    on_tick: Callable[[], None] | None = None,
    tick_s: float = 0.2,
    before_close: Callable[[], None] | None = None,
) -> SessionResult:
    """Stream for ``seconds`` of host-clock time (None: until Ctrl-C) into ``sinks``.

    Parameters
    ----------
    open_ingest
        ``open_ingest(sinks)`` returns an async context manager yielding a started
        :class:`~myoflow.devices.ingest.Ingest` over those sinks (see
        :func:`myoflow.rigs.virtual_glute.virtual_glute_ingest` for virtual straps, or
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
    before_close
        Called on this thread once the straps have stopped, before the recording is finalised
        (metadata found from the whole session); the file is finalised even if it raises.

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

    done = threading.Event()  # set when the ingest thread has finished (see _stop)

    def thread_main() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to the calling thread
            state["error"] = exc
        finally:
            started.set()
            done.set()

    thread = threading.Thread(target=thread_main, name="myoflow-ingest", daemon=True)
    thread.start()
    try:
        try:
            while not done.wait(tick_s):
                if on_tick is not None and started.is_set() and state["error"] is None:
                    on_tick()
        except KeyboardInterrupt:
            result.interrupted = True
            _stop(done, state)
    finally:
        if not done.is_set():  # an error in on_tick: stop the straps before finalising
            _stop(done, state)
        thread.join()  # done is set: the thread is returning
        try:
            if before_close is not None:
                before_close()
        finally:
            if recorder is not None:
                result.packets = recorder.packets
                result.path = recorder.close(finalise=True)
    if state["error"] is not None and not isinstance(state["error"], asyncio.CancelledError):
        raise state["error"]
    return result


def _stop(done: threading.Event, state: dict[str, Any]) -> None:
    """Cancel the ingest task and wait until its thread has finished (the straps stopped, every
    notification already received went to the sinks).

    Waits on an event, not on ``Thread.join``/``is_alive``: in CPython up to 3.12 a join that a
    signal handler interrupts (Ctrl-C, or SIGTERM/SIGHUP turned into KeyboardInterrupt) can mark
    a thread that is still running as finished (python/cpython#90882), and the recording was
    then finalised while the straps were still delivering - their last packets, or all of them
    when the signal came early, were lost.
    """
    _cancel(state)
    done.wait()


def _cancel(state: dict[str, Any]) -> None:
    loop, task = state["loop"], state["task"]
    if loop is not None and task is not None:
        with contextlib.suppress(RuntimeError):  # the loop already closed
            loop.call_soon_threadsafe(task.cancel)


@contextlib.asynccontextmanager
async def ingest_of(factory: Callable[[], Ingest]) -> AsyncIterator[Ingest]:
    """``async with ingest_of(lambda: Ingest(...)) as ingest``: start it, stop it after."""
    ingest = factory()
    async with ingest:
        yield ingest
