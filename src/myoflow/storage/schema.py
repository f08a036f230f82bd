"""The myoflow recording format: one module shared by the writer, the reader and recovery.

The names of the groups and datasets, the table dtypes, the format's limits, and what a session
and a stream are described by (:class:`SessionMetadata`, :class:`StreamSpec`, ...) live here;
:mod:`myoflow.storage._layout` creates and checks a file's layout from them, attribute by
attribute, in one place, so the writer and the reader cannot drift apart. The format itself is
described for people who never installed myoflow in ``docs/recording-format.md``.

Two index spaces are used throughout:

* a **row** is a position in a stream's ``raw`` dataset (only received samples are stored);
* a **sample index** counts every sample the device produced, lost ones included, as
  :attr:`myoflow.stream.Block.start_index` does. ``index = row + known samples lost before it``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from myoflow.stream import StreamInfo

FORMAT_NAME = "myoflow-recording"
#: Version of the layout written by this module; readers accept this version and older ones.
SCHEMA_VERSION = 1
#: Root attribute ``state``: written live, finalised at a clean close, or rebuilt by ``recover``.
STATES = ("live", "final", "recovered")

STREAMS = "streams"
SESSION = "session"
EVENTS = "events"
RAW, TIME_MAP, PACKETS, GAPS = "raw", "time_map", "packets", "gaps"
EVENT_TABLE, EVENT_JSON = "table", "json"

#: Fixed widths of the string columns (UTF-8 bytes); longer values are refused, never cut.
KIND_BYTES = 32
REASON_BYTES = 64
#: Reconstructed sample times match the times given to the writer to within this (s).
TIME_TOLERANCE_S = 1e-9
#: Sentinel in integer columns for "not known" (counters, device times, lost-sample counts).
UNKNOWN = -1

TIME_MAP_DTYPE = np.dtype([("row", "<i8"), ("time", "<f8")])
PACKET_DTYPE = np.dtype(
    [
        ("row", "<i8"),
        ("index", "<i8"),
        ("n_samples", "<i4"),
        ("counter", "<i8"),
        ("device_time_ns", "<i8"),
        ("host_time", "<f8"),
    ]
)
GAP_DTYPE = np.dtype(
    [
        ("index", "<i8"),
        ("row", "<i8"),
        ("n_missing", "<i8"),
        ("t_start", "<f8"),
        ("t_end", "<f8"),
        ("reason", f"S{REASON_BYTES}"),
    ]
)
EVENT_DTYPE = np.dtype([("time", "<f8"), ("kind", f"S{KIND_BYTES}"), ("offset", "<i8"), ("length", "<i8")])
TABLES = {TIME_MAP: TIME_MAP_DTYPE, PACKETS: PACKET_DTYPE, GAPS: GAP_DTYPE}


class RecordingError(Exception):
    """A recording that cannot be read or written; the message names the file and the problem.

    Attributes
    ----------
    path : str
        The file concerned.
    problem : str
        What is wrong, in words.
    """

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.problem))


@dataclass(frozen=True)
class DeviceInfo:
    """The strap a stream came from (empty strings when not known)."""

    model: str = ""
    firmware: str = ""
    address: str = ""


@dataclass(frozen=True)
class ClockAnchor:
    """The session's host monotonic clock anchored to UTC once.

    ``unix_s`` (seconds since 1970-01-01 UTC) was the wall time when the monotonic clock read
    ``monotonic_s``. Every time in a recording is on the monotonic clock; add
    ``unix_s - monotonic_s`` to get UTC.
    """

    monotonic_s: float
    unix_s: float


@dataclass(frozen=True)
class SessionMetadata:
    """What a session was: who (pseudonymously), which exercise, with which settings.

    Parameters
    ----------
    subject_id : pseudonymous id; no names are needed anywhere.
    exercise : e.g. ``"glute_bridge"``.
    notes : free text.
    profile_toml : the device profile TOML used, verbatim.
    filter_settings : JSON-serialisable settings of the signal pipeline.
    mvc_references : MVC reference per channel or muscle (uV RMS) when calibrated.
    extra : anything else JSON-serialisable.
    """

    subject_id: str = ""
    exercise: str = ""
    notes: str = ""
    profile_toml: str = ""
    filter_settings: dict[str, Any] = field(default_factory=dict)
    mvc_references: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def updated(self, changes: dict[str, Any]) -> SessionMetadata:
        """A copy with ``changes`` (field -> value) applied; unknown fields are a ValueError."""
        check_metadata_changes(changes)
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return SessionMetadata(**values)


#: :class:`SessionMetadata` fields stored as text attributes, and as JSON text.
METADATA_TEXT_FIELDS = ("subject_id", "exercise", "notes", "profile_toml")
METADATA_JSON_FIELDS = ("filter_settings", "mvc_references", "extra")


def check_metadata_changes(changes: dict[str, Any]) -> None:
    """Raise ValueError unless ``changes`` only sets known :class:`SessionMetadata` fields."""
    for key, value in changes.items():
        if key in METADATA_TEXT_FIELDS:
            if not isinstance(value, str):
                raise ValueError(f"metadata field {key!r} must be a string, got {value!r}")
        elif key in METADATA_JSON_FIELDS:
            if not isinstance(value, dict):
                raise ValueError(f"metadata field {key!r} must be a dict, got {value!r}")
            to_json(value, f"metadata field {key!r}")
        else:
            allowed = ", ".join(repr(k) for k in METADATA_TEXT_FIELDS + METADATA_JSON_FIELDS)
            raise ValueError(f"Invalid metadata field {key!r}: allowed fields are {allowed}")


@dataclass(frozen=True)
class StreamSpec:
    """How one stream is stored: its description, raw dtype and conversion to physical units.

    ``physical = raw * scale + offset`` per channel, in ``info.unit``.
    """

    info: StreamInfo
    raw_dtype: np.dtype
    scale: np.ndarray
    offset: np.ndarray
    device: DeviceInfo = DeviceInfo()


def make_stream_spec(
    info: StreamInfo,
    raw_dtype: Any,
    scale: float | np.ndarray = 1.0,
    offset: float | np.ndarray = 0.0,
    device: DeviceInfo | None = None,
) -> StreamSpec:
    """Validate and build a :class:`StreamSpec`; scale and offset broadcast to every channel."""
    if not isinstance(info, StreamInfo):
        raise ValueError(f"info must be a StreamInfo, got {type(info).__name__}")
    try:
        dtype = np.dtype(raw_dtype)
    except TypeError:
        raise ValueError(f"stream {info.name!r}: raw_dtype {raw_dtype!r} is not a numpy dtype") from None
    if dtype.kind not in "iuf":
        raise ValueError(f"stream {info.name!r}: raw_dtype must be an integer or float dtype, got {dtype}")
    conv = []
    for what, value in (("scale", scale), ("offset", offset)):
        arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (info.n_channels,)).copy()
        if not np.all(np.isfinite(arr)) or (what == "scale" and np.any(arr == 0)):
            raise ValueError(f"stream {info.name!r}: {what} must be finite (scale non-zero), got {value!r}")
        conv.append(arr)
    return StreamSpec(info, dtype.newbyteorder("<"), conv[0], conv[1], device or DeviceInfo())


def stream_key(name: str) -> str:
    """Group name of a stream under ``/streams`` (its real name is the ``name`` attribute)."""
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", name)


def to_json(value: Any, what: str) -> str:
    """Serialise ``value`` to JSON (numpy scalars and arrays allowed) or raise ValueError."""

    def _default(obj: Any) -> Any:
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        raise TypeError(type(obj).__name__)

    try:
        return json.dumps(value, default=_default, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be JSON-serialisable, got {value!r} ({exc})") from None


def encode_fixed(text: str, width: int, what: str) -> bytes:
    """UTF-8 bytes of ``text`` for a fixed-width column; refuses values that would be cut."""
    raw = str(text).encode("utf-8")
    if len(raw) > width:
        raise ValueError(f"{what} {text!r} is {len(raw)} bytes in UTF-8, at most {width} are stored")
    return raw
