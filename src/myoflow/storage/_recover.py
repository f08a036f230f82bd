"""Finalise a recording atomically, and recover one left by a killed recorder.

:func:`finalise` reads a recording (finalised, live or crashed) through the reader, which keeps
only what is consistent on disk, and writes a compressed copy next to the destination:
``<out>.finalising``. It then reopens the copy and checks it against the source - sample
counts and a BLAKE2b checksum of every raw dataset, and equality of every table, event and
metadata field - fsyncs it and renames it over ``out``. A crash at any step leaves either the
old file or the new one, never half of one.

:func:`recover` is :func:`finalise` for a file left by a killed writer (state
``"recovered"``): everything flushed before the kill is kept.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from myoflow.storage import schema
from myoflow.storage._layout import write_layout
from myoflow.storage.reader import Recording, open_recording
from myoflow.storage.schema import RecordingError

__all__ = ["finalise", "recover"]

_COPY_ROWS = 1 << 18


def recover(broken: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """Write a valid finalised recording from a file left by a killed or failed recorder.

    Parameters
    ----------
    broken
        The file the recorder was writing (it may still be marked open for writing).
    out
        Where to write the recovered recording; may equal ``broken`` (replaced atomically).

    Returns
    -------
    Path
        ``out``. The file's ``state`` attribute is ``"recovered"``.
    """
    return finalise(broken, out, state="recovered")


def finalise(source: str | os.PathLike[str], out: str | os.PathLike[str], *, state: str = "final") -> Path:
    """Write ``source`` as a compressed, verified recording at ``out``, atomically.

    Raises :class:`~myoflow.storage.schema.RecordingError` naming the file when the source
    cannot be read or the copy cannot be written or does not verify; ``out`` is then left as
    it was.
    """
    from myoflow._checks import check_option

    check_option(state, "state", ("final", "recovered"))
    source, out = Path(source), Path(out)
    tmp = out.with_name(out.name + ".finalising")
    with open_recording(source) as src:
        try:
            sums = _write_copy(src, tmp, state)
            with open_recording(tmp) as copy:
                _verify(src, copy, sums, tmp)
            _fsync(tmp)
            os.replace(tmp, out)
            _fsync(out.parent)
        except BaseException as exc:
            tmp.unlink(missing_ok=True)
            if isinstance(exc, RecordingError):
                raise
            if isinstance(exc, OSError):
                raise RecordingError(
                    out, f"cannot write the finalised recording ({exc}); the source {source} is unchanged"
                ) from exc
            raise
    return out


def _write_copy(src: Recording, tmp: Path, state: str) -> dict[str, str]:
    import h5py

    tables = {
        name: {
            t: getattr(v, attr)
            for t, attr in (
                (schema.TIME_MAP, "time_map"),
                (schema.PACKETS, "packets"),
                (schema.GAPS, "gap_table"),
            )
        }
        for name, v in src.streams.items()
    }
    ev_table, ev_json = src.event_table
    sizes: dict[str, dict[str, int]] = {
        name: {schema.RAW: v.n_samples, **{t: len(a) for t, a in tables[name].items()}}
        for name, v in src.streams.items()
    }
    sizes["__events__"] = {schema.EVENT_TABLE: len(ev_table), schema.EVENT_JSON: len(ev_json)}
    rates = {name: v.effective_rate for name, v in src.streams.items()}
    sums = {}
    with h5py.File(tmp, "w") as f:
        write_layout(
            f,
            state=state,
            clock=src.clock,
            metadata=src.metadata,
            specs=[v.spec for v in src.streams.values()],
            sizes=sizes,
            effective_rates=rates,
            myoflow_version=src.myoflow_version,
        )
        ev = f[schema.EVENTS]
        ev[schema.EVENT_TABLE][:] = ev_table
        ev[schema.EVENT_JSON][:] = ev_json
        for name, view in src.streams.items():
            g = f[schema.STREAMS][schema.stream_key(name)]
            for t, arr in tables[name].items():
                g[t][:] = arr
            digest = hashlib.blake2b(digest_size=16)
            for r0 in range(0, view.n_samples, _COPY_ROWS):
                chunk = view.raw(r0, min(r0 + _COPY_ROWS, view.n_samples))
                g[schema.RAW][r0 : r0 + len(chunk)] = chunk
                digest.update(np.ascontiguousarray(chunk).tobytes())
            sums[name] = digest.hexdigest()
    return sums


def _raw_digest(view: Any) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for r0 in range(0, view.n_samples, _COPY_ROWS):
        digest.update(np.ascontiguousarray(view.raw(r0, min(r0 + _COPY_ROWS, view.n_samples))).tobytes())
    return digest.hexdigest()


def _verify(src: Recording, copy: Recording, sums: dict[str, str], tmp: Path) -> None:
    def fail(what: str) -> None:
        raise RecordingError(tmp, f"the finalised copy of {src.path} does not match it: {what}")

    if list(copy.streams) != list(src.streams):
        fail(f"streams {list(copy.streams)} instead of {list(src.streams)}")
    if copy.metadata != src.metadata or copy.clock != src.clock:
        fail("session metadata or clock anchor differ")
    if copy.events != src.events:
        fail("events differ")
    for name, a in src.streams.items():
        b = copy.streams[name]
        if b.n_samples != a.n_samples:
            fail(f"stream {name!r} has {b.n_samples} samples instead of {a.n_samples}")
        if b.spec.raw_dtype != a.spec.raw_dtype or b.info != a.info:
            fail(f"stream {name!r} description or raw dtype differ")
        if not (np.array_equal(b.scale, a.scale) and np.array_equal(b.offset, a.offset)):
            fail(f"stream {name!r} scale or offset differ")
        for attr in ("time_map", "packets", "gap_table"):
            if not np.array_equal(getattr(b, attr), getattr(a, attr)):
                fail(f"stream {name!r} table {attr!r} differs")
        if _raw_digest(b) != sums[name]:
            fail(f"stream {name!r} raw samples differ (checksum)")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
