"""The BLE ingest: several straps at once, on one host clock, into sinks.

Usage::

    straps = [StrapConfig("ganglion_fw3", placements={"emg": ("glute_max_r", ...)}),
              StrapConfig("polar_h10_acc_ecg", device="Polar H10")]
    sink = CollectingSink()
    async with Ingest(straps, [sink]) as ingest:    # scan, connect, subscribe, start
        await ingest.run(60.0)                      # 60 s on the host clock
        print(ingest.status())
    # leaving the block sends the stop writes, unsubscribes and disconnects every strap

:class:`Ingest` finds every strap in one scan (:func:`~myoflow.devices.ble.find_devices`),
connects them concurrently, then runs one :class:`~myoflow.devices.strap.Strap` per device:
its own queue, consumer and reconnect loop. All notifications are stamped with the same
``clock`` (default ``time.monotonic``); pass the virtual straps' clock to run a session in fast
(virtual) time. ``scanner_backend`` / ``client_backend`` are bleak's ``backend=`` arguments
(``link.scanner_backend`` / ``link.client_backend`` for the virtual straps).

Errors: :class:`~myoflow.devices.errors.AdapterUnavailable`,
:class:`~myoflow.devices.errors.DeviceNotFound`, :class:`~myoflow.devices.errors.MtuTooSmall` and
:class:`~myoflow.devices.errors.CommandRefused` are raised by :meth:`Ingest.start`; after a drop a
strap reconnects on its own and only its status shows a failure, unless every strap failed, which
:meth:`Ingest.run` raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from myoflow._checks import check_positive
from myoflow.devices.ble import DeviceQuery, find_devices
from myoflow.devices.decoding import Placements
from myoflow.devices.errors import IngestError
from myoflow.devices.profiles import DeviceProfile, load_profile, shipped_profiles
from myoflow.devices.sinks import Sink, StrapStatus
from myoflow.devices.strap import ReconnectPolicy, Strap
from myoflow.stream import StreamInfo

__all__ = ["Ingest", "ReconnectPolicy", "StrapConfig"]

Clock = Callable[[], float]


@dataclass(frozen=True)
class StrapConfig:
    """One strap to stream.

    Parameters
    ----------
    profile
        A :class:`~myoflow.devices.profiles.DeviceProfile`, a shipped profile name or the path of
        a profile TOML; None: inferred from the advertisement (must be unambiguous).
    device
        Address or advertised name (a prefix is enough); None: the first strap the profile
        matches.
    name
        The strap's name in the session, the prefix of its stream names (default: the profile
        name, made unique with ``-2``, ``-3``...).
    placements
        ``stream name -> placements``: one per channel, or ``{channel label: placement}``.
    timebase_options
        ``stream name -> timebase options`` for this strap, over the session-wide ones.
    """

    profile: DeviceProfile | str | os.PathLike[str] | None = None
    device: str | None = None
    name: str | None = None
    placements: Placements | None = None
    timebase_options: Mapping[str, Mapping[str, Any]] | None = None

    def resolved_profile(self) -> DeviceProfile | None:
        """The profile, loaded when given by name or path."""
        if self.profile is None or isinstance(self.profile, DeviceProfile):
            return self.profile
        return load_profile(self.profile)


class Ingest:
    """Stream several straps at once into sinks; an async context manager.

    Parameters
    ----------
    straps
        What to connect to, one :class:`StrapConfig` each.
    sinks
        :class:`~myoflow.devices.sinks.Sink` objects receiving every block, gap and status.
    clock
        Host clock in seconds stamping every notification (default ``time.monotonic``). A clock
        with ``sleep(dt)`` (the virtual straps' clocks) also paces :meth:`run`; one with
        ``hold()`` is held while straps connect and stop.
    scanner_backend, client_backend
        bleak ``backend=`` arguments (None: the platform's Bluetooth).
    client_kwargs
        Extra keyword arguments for every ``BleakClient``.
    scan_timeout, connect_timeout
        Seconds to find every strap, and to connect one.
    reconnect
        Back-off after a drop (default :class:`ReconnectPolicy`).
    timebase_options
        Passed to every timebase (``window_s``, ``max_slew``...).
    queue_size
        Notifications a strap may have queued before new ones are dropped (and counted).
    """

    def __init__(
        self,
        straps: Sequence[StrapConfig],
        sinks: Sequence[Sink] = (),
        *,
        clock: Clock = time.monotonic,
        scanner_backend: type | None = None,
        client_backend: type | None = None,
        client_kwargs: dict[str, Any] | None = None,
        scan_timeout: float = 10.0,
        connect_timeout: float = 20.0,
        reconnect: ReconnectPolicy | None = None,
        timebase_options: dict[str, Any] | None = None,
        queue_size: int = 10_000,
    ) -> None:
        self.configs = tuple(straps)
        if not self.configs or not all(isinstance(c, StrapConfig) for c in self.configs):
            raise ValueError(f"straps must be a non-empty sequence of StrapConfig, got {straps!r}")
        for sink in sinks:
            if not all(callable(getattr(sink, m, None)) for m in ("on_block", "on_gap", "on_status")):
                raise ValueError(f"sinks must have on_block, on_gap and on_status methods, got {sink!r}")
        if not callable(clock):
            raise ValueError(f"clock must be a callable returning seconds, got {clock!r}")
        if isinstance(queue_size, bool) or not isinstance(queue_size, int) or queue_size < 1:
            raise ValueError(f"queue_size must be a positive integer, got {queue_size!r}")
        self.sinks = tuple(sinks)
        self.clock = clock
        self.scanner_backend, self.client_backend = scanner_backend, client_backend
        self.scan_timeout = check_positive(scan_timeout, "scan_timeout", "s")
        self._strap_args: dict[str, Any] = dict(
            clock=clock,
            sinks=self.sinks,
            backend=client_backend,
            client_kwargs=client_kwargs,
            connect_timeout=check_positive(connect_timeout, "connect_timeout", "s"),
            reconnect=reconnect or ReconnectPolicy(),
            queue_size=queue_size,
            timebase_options=timebase_options,
        )
        self._profiles = [c.resolved_profile() for c in self.configs]
        self.straps: list[Strap] = []
        self._wake = asyncio.Event()
        self._fatal: BaseException | None = None
        self._started = False

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Find, connect and start every strap; on any error, close what was opened and raise."""
        if self._started:
            raise RuntimeError("this Ingest is already started")
        self._started = True
        hold = getattr(self.clock, "hold", None)
        with hold() if hold is not None else contextlib.nullcontext():
            queries = [DeviceQuery(c.device, p) for c, p in zip(self.configs, self._profiles, strict=True)]
            found = await find_devices(queries, self.scan_timeout, backend=self.scanner_backend)
            taken: set[str] = set()
            for config, profile, (device, seen) in zip(self.configs, self._profiles, found, strict=True):
                profile = profile or _infer_profile(seen)
                name = _unique(config.name or profile.name, taken)
                strap = Strap(
                    profile,
                    device,
                    name,
                    placements=config.placements,
                    stream_options=config.timebase_options,
                    **self._strap_args,
                )
                strap.on_failed = self._strap_failed
                self.straps.append(strap)
            results = await asyncio.gather(*(s.connect() for s in self.straps), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            for strap, result in zip(self.straps, results, strict=True):
                if not isinstance(result, BaseException) and strap.link is not None:
                    await strap.link.close(send_stop=True)
            self.straps.clear()
            raise next((e for e in errors if isinstance(e, IngestError)), errors[0])
        for strap in self.straps:
            strap.start()
            assert strap._consumer is not None
            strap._consumer.add_done_callback(self._consumer_done)

    async def stop(self) -> None:
        """Stop every strap cleanly (stop writes, unsubscribe, disconnect); idempotent."""
        straps, self.straps = self.straps, []
        hold = getattr(self.clock, "hold", None)
        try:
            with hold() if hold is not None else contextlib.nullcontext():  # time stops here
                results = await asyncio.gather(*(s.stop() for s in straps), return_exceptions=True)
        except asyncio.CancelledError:
            await asyncio.gather(*(s.abort() for s in straps), return_exceptions=True)
            raise
        self.straps = straps
        errors = [r for r in results if isinstance(r, Exception)]
        if self._fatal is None and errors:
            raise errors[0]

    async def __aenter__(self) -> Ingest:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def run(self, seconds: float | None = None) -> None:
        """Stream for ``seconds`` of host-clock time (None: until cancelled).

        Returns early and raises when a sink or decoder raised, or when every strap failed.
        """
        waiters = [asyncio.ensure_future(self._wake.wait())]
        if seconds is not None:
            check_positive(seconds, "seconds", "s")
            sleep = getattr(self.clock, "sleep", None)
            waiters.append(asyncio.ensure_future(sleep(seconds) if sleep else asyncio.sleep(seconds)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
        if self._fatal is not None:
            raise self._fatal
        if self.straps and all(s.state == "failed" for s in self.straps):
            raise self.straps[0].error or IngestError("every strap failed", reason="failed")

    # ------------------------------------------------------------------ what it delivers
    @property
    def streams(self) -> dict[str, StreamInfo]:
        """Every stream of the session by its full name (``"<strap>/<stream>"``)."""
        return {info.name: info for s in self.straps for info in s.decoder.streams.values()}

    def status(self) -> list[StrapStatus]:
        """A snapshot of every strap."""
        return [s.status() for s in self.straps]

    def latencies(self) -> np.ndarray:
        """Notification-to-Block latencies of every strap, s on the host clock (recent ones)."""
        return np.concatenate(
            [np.asarray(s.latencies, dtype=np.float64) for s in self.straps] or [np.zeros(0)]
        )

    @property
    def cpu_s(self) -> float:
        """CPU time the consumers spent so far (decode, timebase, sinks), s."""
        return sum(s.cpu_s for s in self.straps)

    # ------------------------------------------------------------------ internal
    def _consumer_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None and self._fatal is None:
            self._fatal = task.exception()
            self._wake.set()

    def _strap_failed(self, _strap: Strap) -> None:
        if all(s.state == "failed" for s in self.straps):
            self._wake.set()


def _infer_profile(seen: Any) -> DeviceProfile:
    """The one shipped profile an advertisement matches best (ambiguity is an error)."""
    names = list(seen.profiles)
    if not names:
        raise IngestError(
            f"no profile matches {seen.describe()}; pass one with --profile", reason="no_profile"
        )
    if len(names) > 1:
        raise IngestError(
            f"{seen.describe()} matches several profiles ({', '.join(names)}); choose one with --profile",
            reason="ambiguous_profile",
        )
    return shipped_profiles()[names[0]]


def _unique(name: str, taken: set[str]) -> str:
    out, k = name, 1
    while out in taken:
        k += 1
        out = f"{name}-{k}"
    taken.add(out)
    return out
