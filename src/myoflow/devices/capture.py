"""Raw notification captures: save what straps sent, with host times, and replay it.

A capture is a JSON-lines text file. Line 1 is the header; then one line per strap (its profile,
with the profile's TOML text so that the capture replays without the user's files); then one
line per notification, in the order the ingest took them from the straps' queues::

    {"format": "myoflow-capture", "version": 1, "clock": "host monotonic s", "utc_anchor": ...}
    {"strap": "polar_h10", "profile": "polar_h10_acc_ecg", "profile_toml": "...", "address": "..."}
    {"t": 12.003511, "s": "polar_h10", "c": "fb005c82-...", "x": "02a1b3..."}
    {"t": 14.250000, "s": "polar_h10", "restart": true}

``t`` is the host receive time in seconds (the ingest's clock), ``s`` the strap's session name,
``c`` the characteristic UUID and ``x`` the bytes in hex. ``restart`` marks a reconnect (the
decoder turns the samples missed into gaps, as live).

:class:`CaptureWriter` is an ingest sink: the strap's consumer hands it every raw notification
(``on_raw``) before decoding, control-point answers and bytes that fail to decode included.
:func:`replay_capture` feeds a capture through :class:`~myoflow.devices.decoding.StrapDecoder`,
the decoder a live strap uses, into the same sinks; so a user's capture of a real strap becomes a
regression test (``tests/devices/captures/``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from myoflow.devices.decoding import Placements, StrapDecoder
from myoflow.devices.profiles import DeviceProfile, parse_profile
from myoflow.devices.sinks import Sink
from myoflow.stream import Block

__all__ = ["Capture", "CaptureError", "CaptureWriter", "Notification", "read_capture", "replay_capture"]

FORMAT = "myoflow-capture"
VERSION = 1
RESTART = ""  # the characteristic of a restart marker, as in the strap's queue


class CaptureError(ValueError):
    """A capture file that cannot be read: names the file, the line (0: the whole file, not
    named in the message) and what is wrong."""

    def __init__(self, path: str, line: int, problem: str) -> None:
        self.path, self.line, self.problem = path, line, problem
        super().__init__(f"{path}, line {line}: {problem}" if line > 0 else f"{path}: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.line, self.problem))


@dataclass(frozen=True)
class Notification:
    """One captured notification (``uuid == ""`` and no data: a reconnect marker)."""

    host_time: float
    strap: str
    uuid: str
    data: bytes


@dataclass(frozen=True)
class Capture:
    """A capture read back: the header, each strap's profile (and address), the notifications."""

    path: str
    header: Mapping[str, Any]
    profiles: Mapping[str, DeviceProfile]
    addresses: Mapping[str, str | None]
    notifications: tuple[Notification, ...]

    @property
    def duration_s(self) -> float:
        """Host seconds from the first to the last notification (0 for fewer than two)."""
        if len(self.notifications) < 2:
            return 0.0
        return self.notifications[-1].host_time - self.notifications[0].host_time


class CaptureWriter(Sink):
    """An ingest sink that writes every raw notification to a capture file.

    Parameters
    ----------
    path
        The ``.jsonl`` file to create (an existing file is replaced).
    utc_anchor
        Optional ``(host_time, utc_iso)`` pair that ties the host clock to wall time.

    Call :meth:`add_strap` for each strap before its first notification (the ingest's straps
    are known once it has started), and :meth:`close` at the end (or use ``with``). Lines are
    flushed every ``flush_every`` notifications and on close, so a crash loses at most that many.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        utc_anchor: tuple[float, str] | None = None,
        flush_every: int = 200,
    ) -> None:
        self.path = Path(path)
        self._file: IO[str] | None = self.path.open("w", encoding="utf-8")
        self._straps: set[str] = set()
        self._flush_every = max(1, int(flush_every))
        self._pending = 0
        self.notifications = 0
        header: dict[str, Any] = {"format": FORMAT, "version": VERSION, "clock": "host monotonic s"}
        if utc_anchor is not None:
            header["utc_anchor"] = {"host_time": float(utc_anchor[0]), "utc": str(utc_anchor[1])}
        self._write(header)

    def add_strap(self, name: str, profile: DeviceProfile, address: str | None = None) -> None:
        """Declare strap ``name`` (its session name) with its profile and address."""
        if name in self._straps:
            return
        self._straps.add(name)
        self._write(
            {"strap": name, "profile": profile.name, "profile_toml": profile.source_text, "address": address}
        )

    def on_raw(self, strap: str, host_time: float, uuid: str, data: bytes) -> None:
        """One notification as the strap's queue held it (``uuid == ""``: a reconnect marker)."""
        if uuid == RESTART:
            self._write({"t": float(host_time), "s": strap, "restart": True})
        else:
            self._write({"t": float(host_time), "s": strap, "c": uuid, "x": bytes(data).hex()})
        self.notifications += 1
        self._pending += 1
        if self._pending >= self._flush_every:
            self.flush()

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()
            self._pending = 0

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _write(self, obj: Mapping[str, Any]) -> None:
        if self._file is None:
            raise ValueError(f"capture {self.path} is closed")
        self._file.write(json.dumps(obj, separators=(",", ":")) + "\n")


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise CaptureError(str(path), 0, f"cannot be read ({exc.strerror})") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                if line.endswith("\n"):
                    raise CaptureError(str(path), number, f"not JSON ({exc.msg})") from None
                return  # a last line cut by a crash: keep what came before it
            if not isinstance(obj, dict):
                raise CaptureError(str(path), number, f"expected a JSON object, got {type(obj).__name__}")
            yield number, obj


def read_capture(path: str | os.PathLike[str]) -> Capture:
    """Read a capture file; raises :class:`CaptureError` naming the line of the first problem."""
    path = Path(path)
    lines = _lines(path)
    first = next(lines, None)
    if first is None or first[1].get("format") != FORMAT:
        raise CaptureError(str(path), 1, f"not a {FORMAT} file (no header line with format {FORMAT!r})")
    header = first[1]
    if header.get("version") != VERSION:
        raise CaptureError(str(path), 1, f"version {header.get('version')!r}, expected {VERSION}")
    profiles: dict[str, DeviceProfile] = {}
    addresses: dict[str, str | None] = {}
    notes: list[Notification] = []
    for number, obj in lines:
        if "strap" in obj:
            name = str(obj["strap"])
            try:
                profiles[name] = parse_profile(
                    str(obj["profile_toml"]), name=str(obj["profile"]), source=f"{path}:{number}"
                )
            except (KeyError, ValueError) as exc:
                raise CaptureError(str(path), number, f"strap {name!r}: bad profile ({exc})") from None
            addresses[name] = obj.get("address")
            continue
        try:
            t, strap = float(obj["t"]), str(obj["s"])
            if obj.get("restart"):
                uuid, data = RESTART, b""
            else:
                uuid, data = str(obj["c"]), bytes.fromhex(str(obj["x"]))
        except (KeyError, ValueError, TypeError) as exc:
            raise CaptureError(
                str(path), number, f"expected a notification {{t, s, c, x}} or a restart, got {exc!r}"
            ) from None
        if strap not in profiles:
            raise CaptureError(str(path), number, f"notification of strap {strap!r} before its strap line")
        notes.append(Notification(t, strap, uuid, data))
    return Capture(str(path), header, profiles, addresses, tuple(notes))


def replay_capture(
    capture: Capture | str | os.PathLike[str],
    sinks: Sequence[Sink] = (),
    placements: Mapping[str, Placements] | None = None,
    **timebase_options: Any,
) -> dict[str, StrapDecoder]:
    """Feed a capture through the live decoding into ``sinks``; returns each strap's decoder.

    Every notification goes to its strap's :class:`~myoflow.devices.decoding.StrapDecoder` at its
    captured host time, in captured order; the blocks and gaps are delivered to the sinks as the
    ingest delivers them (``on_packet``, then ``on_block``/``on_gap``). A reconnect marker calls
    the decoder's ``restart``. ``placements`` maps a strap name to its placements.
    """
    if not isinstance(capture, Capture):
        capture = read_capture(capture)
    placements = dict(placements or {})
    decoders = {
        name: StrapDecoder(profile, name, placements.get(name), **timebase_options)
        for name, profile in capture.profiles.items()
    }
    on_packet = [s.on_packet for s in sinks]
    for note in capture.notifications:
        decoder = decoders[note.strap]
        if note.uuid == RESTART:
            decoder.restart(note.host_time)
            continue
        out = decoder.feed(note.host_time, note.uuid, note.data)
        if not out:
            continue
        for deliver in on_packet:
            deliver(note.strap, decoder.last_packet, note.host_time, out)
        _deliver(out, sinks)
    return decoders


def _deliver(out: Iterable[Any], sinks: Sequence[Sink]) -> None:
    for item in out:
        for sink in sinks:
            if type(item) is Block:
                sink.on_block(item)
            else:
                sink.on_gap(item)
