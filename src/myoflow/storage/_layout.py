"""Creating and checking the layout of a recording file: groups, datasets and attributes.

:func:`write_layout` makes every group, dataset and attribute of a recording (live: empty,
chunked and resizable for SWMR appends; final: at their sizes, compressed); :func:`read_header`
and :func:`read_stream_spec` check an existing file against the same names and return what it
describes. Names, dtypes and the metadata classes are in :mod:`myoflow.storage.schema`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import numpy as np

from myoflow import __version__
from myoflow.storage.schema import (
    EVENT_DTYPE,
    EVENT_JSON,
    EVENT_TABLE,
    EVENTS,
    FORMAT_NAME,
    METADATA_JSON_FIELDS,
    METADATA_TEXT_FIELDS,
    RAW,
    SCHEMA_VERSION,
    SESSION,
    STATES,
    STREAMS,
    TABLES,
    ClockAnchor,
    DeviceInfo,
    RecordingError,
    SessionMetadata,
    StreamSpec,
    make_stream_spec,
    stream_key,
    to_json,
)
from myoflow.stream import StreamInfo

__all__ = ["FileHeader", "raw_chunk_rows", "read_header", "read_stream_spec", "write_layout"]

_TABLE_CHUNK = 1024
_RAW_CHUNK_BYTES = 64 * 1024
_JSON_CHUNK = 16 * 1024
_COMPRESSION = {"compression": "gzip", "compression_opts": 4, "shuffle": True}


def raw_chunk_rows(n_channels: int, itemsize: int) -> int:
    """Rows per chunk of a ``raw`` dataset: about 64 KiB per chunk."""
    return max(256, _RAW_CHUNK_BYTES // (n_channels * itemsize))


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
    for name in METADATA_TEXT_FIELDS:
        session.attrs[name] = getattr(metadata, name)
    for name in METADATA_JSON_FIELDS:
        session.attrs[name] = to_json(getattr(metadata, name), f"metadata field {name!r}")
    ev_sizes = sizes.get("__events__", {})
    events = f.create_group(EVENTS)
    _table(events, EVENT_TABLE, EVENT_DTYPE, ev_sizes.get(EVENT_TABLE, 0), compress)
    events.create_dataset(
        EVENT_JSON,
        shape=(ev_sizes.get(EVENT_JSON, 0),),
        maxshape=(None,),
        dtype=np.uint8,
        chunks=(_JSON_CHUNK,),
        **compress,
    )
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
        g.create_dataset(
            RAW,
            shape=(s.get(RAW, 0), info.n_channels),
            maxshape=(None, info.n_channels),
            dtype=spec.raw_dtype,
            chunks=(rows, info.n_channels),
            **compress,
        )
        for tname, tdtype in TABLES.items():
            _table(g, tname, tdtype, s.get(tname, 0), compress)


def _table(group: Any, name: str, dtype: np.dtype, n: int, compress: dict[str, Any]) -> None:
    group.create_dataset(name, shape=(n,), maxshape=(None,), dtype=dtype, chunks=(_TABLE_CHUNK,), **compress)


def _iso_utc(unix_s: float) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(unix_s, tz=UTC).isoformat(timespec="microseconds")


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
    clock = ClockAnchor(
        _float_attr(attrs, "clock_monotonic_s", path), _float_attr(attrs, "clock_unix_s", path)
    )
    for name in (SESSION, STREAMS, f"{EVENTS}/{EVENT_TABLE}", f"{EVENTS}/{EVENT_JSON}"):
        if name not in f:
            raise RecordingError(path, f"required group or dataset '/{name}' is missing")
    _check_table(f[EVENTS][EVENT_TABLE], EVENT_DTYPE, path)
    s = f[SESSION].attrs
    values: dict[str, Any] = {name: _text(s.get(name, "")) for name in METADATA_TEXT_FIELDS}
    for name in METADATA_JSON_FIELDS:
        try:
            values[name] = json.loads(_text(s.get(name, "{}")) or "{}")
        except json.JSONDecodeError as exc:
            raise RecordingError(path, f"session attribute {name!r} is not valid JSON ({exc})") from None
    return FileHeader(version, _text(attrs.get("myoflow_version")), state, clock, SessionMetadata(**values))


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
        info = StreamInfo(
            _text(a["name"]),
            _text(a["kind"]),
            float(a["nominal_rate"]),
            channels,
            placements,
            _text(a["unit"]),
        )
    except (ValueError, TypeError) as exc:
        raise RecordingError(path, f"{where} has an invalid description: {exc}") from None
    raw = g[RAW]
    if raw.ndim != 2 or raw.shape[1] != info.n_channels or raw.dtype.kind not in "iuf":
        raise RecordingError(
            path,
            f"{where}: dataset 'raw' must be (n, {info.n_channels}) integers or floats, "
            f"got shape {raw.shape} dtype {raw.dtype}",
        )
    for tname, tdtype in TABLES.items():
        _check_table(g[tname], tdtype, path)
    device = DeviceInfo(*(_text(a.get(f"device_{k}", "")) for k in ("model", "firmware", "address")))
    try:
        return make_stream_spec(info, raw.dtype, np.asarray(a["scale"]), np.asarray(a["offset"]), device)
    except ValueError as exc:
        raise RecordingError(path, f"{where}: {exc}") from None


def _check_table(ds: Any, dtype: np.dtype, path: object) -> None:
    if ds.ndim != 1 or ds.dtype.names != dtype.names:
        raise RecordingError(
            path,
            f"dataset '{ds.name}' must be a 1-D table with columns {dtype.names}, "
            f"got shape {ds.shape} columns {ds.dtype.names}",
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
