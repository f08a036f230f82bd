"""The myoflow recording format: one module shared by the writer, the reader and recovery.

Everything that names a group, dataset or attribute, fixes a dtype or checks a file lives here,
so the writer and the reader cannot drift apart. The format itself is described for people who
never installed myoflow in ``docs/recording-format.md``.

Two index spaces are used throughout:

* a **row** is a position in a stream's ``raw`` dataset (only received samples are stored);
* a **sample index** counts every sample the device produced, lost ones included, as
  :attr:`myoflow.stream.Block.start_index` does. ``index = row + known samples lost before it``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, fields
from datetime import UTC
from typing import Any

import numpy as np

from myoflow import __version__
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
    [("row", "<i8"), ("index", "<i8"), ("n_samples", "<i4"), ("counter", "<i8"),
     ("device_time_ns", "<i8"), ("host_time", "<f8")]
)
GAP_DTYPE = np.dtype(
    [("index", "<i8"), ("row", "<i8"), ("n_missing", "<i8"), ("t_start", "<f8"),
     ("t_end", "<f8"), ("reason", f"S{REASON_BYTES}")]
)
EVENT_DTYPE = np.dtype(
    [("time", "<f8"), ("kind", f"S{KIND_BYTES}"), ("offset", "<i8"), ("length", "<i8")]
)
TABLES = {TIME_MAP: TIME_MAP_DTYPE, PACKETS: PACKET_DTYPE, GAPS: GAP_DTYPE}

_TABLE_CHUNK = 1024
_RAW_CHUNK_BYTES = 64 * 1024
_JSON_CHUNK = 16 * 1024
_COMPRESSION = {"compression": "gzip", "compression_opts": 4, "shuffle": True}


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


_TEXT_FIELDS = ("subject_id", "exercise", "notes", "profile_toml")
_JSON_FIELDS = ("filter_settings", "mvc_references", "extra")


def check_metadata_changes(changes: dict[str, Any]) -> None:
    """Raise ValueError unless ``changes`` only sets known :class:`SessionMetadata` fields."""
    for key, value in changes.items():
        if key in _TEXT_FIELDS:
            if not isinstance(value, str):
                raise ValueError(f"metadata field {key!r} must be a string, got {value!r}")
        elif key in _JSON_FIELDS:
            if not isinstance(value, dict):
                raise ValueError(f"metadata field {key!r} must be a dict, got {value!r}")
            to_json(value, f"metadata field {key!r}")
        else:
            allowed = ", ".join(repr(k) for k in _TEXT_FIELDS + _JSON_FIELDS)
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
        raise ValueError(
            f"stream {info.name!r}: raw_dtype must be an integer or float dtype, got {dtype}"
        )
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


def raw_chunk_rows(n_channels: int, itemsize: int) -> int:
    """Rows per chunk of a ``raw`` dataset: about 64 KiB per chunk."""
    return max(256, _RAW_CHUNK_BYTES // (n_channels * itemsize))


# ---------------------------------------------------------------- creating a layout


def write_layout(
    f: Any,
    *,
    state: str,
    clock: ClockAnchor,
    metadata: SessionMetadata,
    specs: list[StreamSpec],
    sizes: dict[str, dict[str, int]] | None = None,
    effective_rates: dict[str, float] | None = None,
    myoflow_version: str = __version__,
) -> None:
    """Create every group, dataset and attribute of a recording in the open h5py file ``f``.

    ``sizes`` (stream name -> dataset -> rows, plus ``"__events__"``) gives the initial sizes
    for a final file, whose datasets are then compressed; without it every dataset starts
    empty, uncompressed, chunked and resizable, ready for SWMR appends.
    """
    compress = _COMPRESSION if sizes is not None else {}
    sizes = sizes or {}
    f.attrs["format"] = FORMAT_NAME
    f.attrs["schema_version"] = np.int64(SCHEMA_VERSION)
    f.attrs["myoflow_version"] = myoflow_version
    f.attrs["state"] = state
    f.attrs["start_utc"] = _iso_utc(clock.unix_s)
    f.attrs["clock_unix_s"] = np.float64(clock.unix_s)
    f.attrs["clock_monotonic_s"] = np.float64(clock.monotonic_s)
    session = f.create_group(SESSION)
    for name in _TEXT_FIELDS:
        session.attrs[name] = getattr(metadata, name)
    for name in _JSON_FIELDS:
        session.attrs[name] = to_json(getattr(metadata, name), f"metadata field {name!r}")
    ev_sizes = sizes.get("__events__", {})
    events = f.create_group(EVENTS)
    _table(events, EVENT_TABLE, EVENT_DTYPE, ev_sizes.get(EVENT_TABLE, 0), compress)
    events.create_dataset(EVENT_JSON, shape=(ev_sizes.get(EVENT_JSON, 0),), maxshape=(None,),
                          dtype=np.uint8, chunks=(_JSON_CHUNK,), **compress)
    streams = f.create_group(STREAMS, track_order=True)  # streams listed in declared order
    for spec in specs:
        info = spec.info
        g = streams.create_group(stream_key(info.name))
        g.attrs["name"] = info.name
        g.attrs["kind"] = info.kind
        g.attrs["unit"] = info.unit
        g.attrs["nominal_rate"] = np.float64(info.rate)
        g.attrs["channels"] = list(info.channels)
        if info.placements is not None:
            g.attrs["placements"] = list(info.placements)
        g.attrs["scale"] = spec.scale
        g.attrs["offset"] = spec.offset
        g.attrs["device_model"] = spec.device.model
        g.attrs["device_firmware"] = spec.device.firmware
        g.attrs["device_address"] = spec.device.address
        if effective_rates and info.name in effective_rates:
            g.attrs["effective_rate"] = np.float64(effective_rates[info.name])
        s = sizes.get(info.name, {})
        rows = raw_chunk_rows(info.n_channels, spec.raw_dtype.itemsize)
        g.create_dataset(RAW, shape=(s.get(RAW, 0), info.n_channels),
                         maxshape=(None, info.n_channels), dtype=spec.raw_dtype,
                         chunks=(rows, info.n_channels), **compress)
        for tname, tdtype in TABLES.items():
            _table(g, tname, tdtype, s.get(tname, 0), compress)


def _table(group: Any, name: str, dtype: np.dtype, n: int, compress: dict[str, Any]) -> None:
    group.create_dataset(name, shape=(n,), maxshape=(None,), dtype=dtype,
                         chunks=(_TABLE_CHUNK,), **compress)


def _iso_utc(unix_s: float) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(unix_s, tz=UTC).isoformat(timespec="microseconds")


# ---------------------------------------------------------------- reading and validating


@dataclass(frozen=True)
class FileHeader:
    """What the root and session attributes of a recording say."""

    schema_version: int
    myoflow_version: str
    state: str
    clock: ClockAnchor
    metadata: SessionMetadata


def read_header(f: Any, path: object) -> FileHeader:
    """Check that ``f`` is a myoflow recording this version can read; return its header.

    Raises :class:`RecordingError` naming ``path`` for a foreign file, a newer schema or a
    missing or malformed part.
    """
    attrs = f.attrs
    if _text(attrs.get("format")) != FORMAT_NAME:
        raise RecordingError(
            path, f"not a myoflow recording (root attribute 'format' is not {FORMAT_NAME!r})"
        )
    version = attrs.get("schema_version")
    if version is None or not np.issubdtype(np.asarray(version).dtype, np.integer):
        raise RecordingError(path, "root attribute 'schema_version' is missing or not an integer")
    version = int(version)
    if version > SCHEMA_VERSION:
        raise RecordingError(
            path,
            f"written with recording schema version {version} by myoflow "
            f"{_text(attrs.get('myoflow_version'))}; this myoflow reads versions up to "
            f"{SCHEMA_VERSION}: upgrade myoflow to read it",
        )
    state = _text(attrs.get("state"))
    if state not in STATES:
        raise RecordingError(path, f"root attribute 'state' must be one of {STATES}, got {state!r}")
    clock = ClockAnchor(_float_attr(attrs, "clock_monotonic_s", path),
                        _float_attr(attrs, "clock_unix_s", path))
    for name in (SESSION, STREAMS, f"{EVENTS}/{EVENT_TABLE}", f"{EVENTS}/{EVENT_JSON}"):
        if name not in f:
            raise RecordingError(path, f"required group or dataset '/{name}' is missing")
    _check_table(f[EVENTS][EVENT_TABLE], EVENT_DTYPE, path)
    s = f[SESSION].attrs
    values: dict[str, Any] = {name: _text(s.get(name, "")) for name in _TEXT_FIELDS}
    for name in _JSON_FIELDS:
        try:
            values[name] = json.loads(_text(s.get(name, "{}")) or "{}")
        except json.JSONDecodeError as exc:
            raise RecordingError(path, f"session attribute {name!r} is not valid JSON ({exc})") from None
    return FileHeader(version, _text(attrs.get("myoflow_version")), state, clock,
                      SessionMetadata(**values))


def read_stream_spec(g: Any, path: object) -> StreamSpec:
    """Validate one ``/streams/<key>`` group and return its :class:`StreamSpec`."""
    where = f"stream group '{g.name}'"
    a = g.attrs
    for name in ("name", "kind", "unit", "nominal_rate", "channels", "scale", "offset"):
        if name not in a:
            raise RecordingError(path, f"{where} lacks the attribute {name!r}")
    for name in (RAW, *TABLES):
        if name not in g:
            raise RecordingError(path, f"{where} lacks the dataset {name!r}")
    channels = tuple(_text(c) for c in np.atleast_1d(a["channels"]))
    placements = None
    if "placements" in a:
        placements = tuple(_text(c) for c in np.atleast_1d(a["placements"]))
    try:
        info = StreamInfo(_text(a["name"]), _text(a["kind"]), float(a["nominal_rate"]),
                          channels, placements, _text(a["unit"]))
    except (ValueError, TypeError) as exc:
        raise RecordingError(path, f"{where} has an invalid description: {exc}") from None
    raw = g[RAW]
    if raw.ndim != 2 or raw.shape[1] != info.n_channels or raw.dtype.kind not in "iuf":
        raise RecordingError(
            path, f"{where}: dataset 'raw' must be (n, {info.n_channels}) integers or floats, "
            f"got shape {raw.shape} dtype {raw.dtype}"
        )
    for tname, tdtype in TABLES.items():
        _check_table(g[tname], tdtype, path)
    device = DeviceInfo(*(_text(a.get(f"device_{k}", "")) for k in ("model", "firmware", "address")))
    try:
        return make_stream_spec(info, raw.dtype, np.asarray(a["scale"]), np.asarray(a["offset"]),
                                device)
    except ValueError as exc:
        raise RecordingError(path, f"{where}: {exc}") from None


def _check_table(ds: Any, dtype: np.dtype, path: object) -> None:
    if ds.ndim != 1 or ds.dtype.names != dtype.names:
        raise RecordingError(
            path, f"dataset '{ds.name}' must be a 1-D table with columns {dtype.names}, "
            f"got shape {ds.shape} columns {ds.dtype.names}"
        )


def _float_attr(attrs: Any, name: str, path: object) -> float:
    try:
        value = float(attrs[name])
    except (KeyError, TypeError, ValueError):
        raise RecordingError(path, f"root attribute {name!r} is missing or not a number") from None
    if not math.isfinite(value):
        raise RecordingError(path, f"root attribute {name!r} is not finite: {value}")
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value.item())
    return str(value)
