"""Export a myoflow recording to NWB 2 with ``pynwb`` (``pip install myoflow[nwb]``).

Mapping (all times in seconds from ``session_start_time``, the UTC time of the earliest
sample of the recording):

* EMG/ECG streams in a voltage unit -> ``ElectricalSeries`` in ``acquisition``, the stored raw
  samples as data (ints stay ints) with ``channel_conversion`` = per-channel scale and
  ``conversion`` to volts (``offset`` when the channels share one); one ``ElectrodeGroup`` per
  stream on a ``Device`` (the strap), one electrode per channel whose **location is the
  muscle** (placement, or the channel label when unknown);
* every other stream (IMU: acc, gyro, quat, angle; EMG in counts) -> ``TimeSeries`` with the
  stream's unit, ``conversion``/``offset`` when shared by all channels (else physical float32),
  placements and channels in ``description`` and ``comments``;
* ``timestamps`` per sample when a stream has gaps or is not on one straight line, else
  ``starting_time`` and the effective ``rate``;
* reps -> ``trials``: with ``analysis`` (the analysis report, :mod:`myoflow.storage.nwb_trials`)
  one trial per analysed rep with its phase times, verdicts and peaks, sets as ``epochs`` and
  the envelopes (``processed``) in the ``myoflow`` processing module; without it, each
  ``rep_start`` event paired with the next ``rep_end`` (columns ``label`` and ``stream``), or
  when there are none, ``phase`` events with a ``duration_s`` or ``end`` in their data;
* gaps -> ``invalid_times`` (``stream``, ``n_missing``, ``reason``);
* every event -> a ``TimeIntervals`` table ``events`` (start = stop = event time, ``kind``,
  ``label``, ``stream``, ``data_json``);
* session metadata -> ``subject`` (pseudonymous id), ``session_description``, ``notes``.

The file is written as ``.<name>.part.nwb`` by a forked child process and renamed to the
output only when complete: HDF5 can crash a process whose write fails half-way (a full disk),
and the child takes that crash; the caller gets a one-line :class:`RecordingError` naming the
output, and no partial file is left.

Samples and timestamps are read and written :data:`ROWS_PER_BUFFER` rows at a time (HDF5
chunks of :data:`ROWS_PER_CHUNK` rows), so memory stays bounded for hour-long recordings.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from myoflow.storage.nwb_trials import add_analysis

__all__ = ["ROWS_PER_BUFFER", "ROWS_PER_CHUNK", "export_nwb"]

_VOLTS = {"uV": 1e-6, "mV": 1e-3, "V": 1.0}
#: Rows of one HDF5 chunk of an exported series.
ROWS_PER_CHUNK = 1 << 13
#: Rows read from the recording and written at once (a whole number of chunks).
ROWS_PER_BUFFER = 4 * ROWS_PER_CHUNK


def export_nwb(
    recording: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    pseudonymise: Any = None,
    analysis: Mapping[str, Any] | None = None,
    processed: Sequence[Mapping[str, Any]] = (),
) -> Path:
    """Write ``recording`` as an NWB file at ``out``; returns the path.

    ``analysis`` is the analysis report's JSON document of this recording
    (:meth:`~myoflow.analysis.report.Report.to_dict`) and ``processed`` its arrays (``name``,
    ``data``, ``rate``, ``start_s``, ``unit``, ``description``): reps become trials, sets epochs,
    the arrays processed data (:mod:`myoflow.storage.nwb_trials`).

    Raises
    ------
    ImportError
        pynwb is not installed (``pip install 'myoflow[nwb]'``).
    ValueError
        ``out`` exists and ``overwrite`` is False.

    ``pseudonymise`` (a :class:`~myoflow.storage.pseudonymise.Pseudonymiser`) hashes the
    subject id and drops BLE addresses, notes and the source file name from the NWB file.
    """
    from myoflow._extras import require

    require("pynwb", "exporting NWB")
    from myoflow.storage.reader import open_recording

    out = Path(out)
    if out.exists() and not overwrite:
        raise ValueError(f"out: {out} already exists; pass overwrite=True (--overwrite) to replace it")
    with open_recording(recording):  # a damaged recording: its one-line error, before any writing
        pass
    tmp = out.with_name(f".{out.stem}.part.nwb")
    try:
        _in_child(out, _write, recording, tmp, pseudonymise, analysis, list(processed))
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _in_child(out: Path, target: Any, *args: Any) -> None:
    """Run ``target(*args)`` in a forked child process (in this one where fork is unavailable).

    The HDF5 library can crash the process when a write fails half-way (a full disk): the
    child takes the crash and this process reports it as a :class:`RecordingError` naming
    ``out``. An exception in the child is raised here again.
    """
    import multiprocessing as mp
    import pickle

    from myoflow.storage.schema import RecordingError

    if "fork" not in mp.get_all_start_methods():
        target(*args)
        return
    ctx = mp.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def child() -> None:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)  # HDF5's teardown noise after a failed write; the error comes back whole
        try:
            target(*args)
            send.send(None)
        except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
            try:
                send.send(exc)
            except (pickle.PicklingError, TypeError, AttributeError):
                send.send(RuntimeError(f"{type(exc).__name__}: {exc}"))
        finally:
            send.close()
        os._exit(0)  # no atexit handlers, no HDF5 teardown of a broken file

    proc = ctx.Process(target=child, daemon=True)
    proc.start()
    send.close()
    try:
        result = receive.recv()
    except EOFError:  # the child died before it could answer
        result = None
    proc.join()
    if isinstance(result, RecordingError):
        raise result
    if isinstance(result, (OSError, RuntimeError)):
        errno = getattr(result, "errno", None)
        if not errno:  # HDF5 puts the system error inside its message: "..., errno = 27, ..."
            found = re.search(r"errno = (\d+)", str(result))
            errno = int(found.group(1)) if found else None
        text = os.strerror(errno) if errno else " ".join(str(result).split())[:200]
        raise RecordingError(out, f"cannot write the NWB file ({text}); nothing written")
    if isinstance(result, BaseException):
        raise result
    if proc.exitcode != 0:
        raise RecordingError(
            out,
            f"the NWB writer stopped (exit code {proc.exitcode}: a full disk or a crash in HDF5); "
            "nothing written",
        )


def _write(
    recording: Any, tmp: Path, pseudonymise: Any, analysis: Any = None, processed: Sequence[Any] = ()
) -> None:
    """Write the NWB file at ``tmp`` (see :func:`export_nwb`)."""
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.file import Subject

    from myoflow.storage.reader import open_recording

    with open_recording(recording) as rec:
        firsts = [v.times(0, 1)[0] for v in rec.streams.values() if v.n_samples]
        t_ref = min(firsts) if firsts else rec.clock.monotonic_s
        start = datetime.fromtimestamp(t_ref + rec.clock.unix_s - rec.clock.monotonic_s, UTC)
        meta = rec.metadata if pseudonymise is None else pseudonymise.metadata(rec.metadata)
        nwb = NWBFile(
            session_description=meta.exercise or "myoflow recording",
            identifier=str(uuid.uuid4()),
            session_start_time=start,
            notes=meta.notes or None,
            source_script="myoflow.storage.export_nwb",
            source_script_file_name=Path(recording).name if pseudonymise is None else "pseudonymised",
            subject=Subject(subject_id=meta.subject_id) if meta.subject_id else None,
        )
        devices: dict[str, Any] = {}
        for view in rec.streams.values():
            if view.n_samples:
                nwb.add_acquisition(_series(nwb, view, t_ref, devices, pseudonymise))
        events = rec.events if pseudonymise is None else [pseudonymise.event(e) for e in rec.events]
        has_reps = bool(analysis and analysis.get("reps"))
        _add_events(nwb, events, t_ref, trials=not has_reps)
        _add_gaps(nwb, rec.gaps, t_ref)
        add_analysis(nwb, analysis, processed, t_ref)
        with NWBHDF5IO(str(tmp), "w") as io:
            io.write(nwb)


def _series(nwb: Any, view: Any, t_ref: float, devices: dict[str, Any], pseudo: Any = None) -> Any:
    from pynwb import TimeSeries
    from pynwb.ecephys import ElectricalSeries

    info = view.info
    name = info.name.replace("/", "_")
    timing = _timing(view, t_ref)
    places = list(info.placements) if info.placements else None
    desc = (
        f"myoflow stream {info.name!r}: kind {info.kind}, nominal rate {info.rate} Hz, "
        f"channels {', '.join(info.channels)}"
        + (f", placements {', '.join(places)}" if places else ", placements unknown")
    )
    same_offset = bool(np.all(view.offset == view.offset[0]))
    if info.kind in ("emg", "ecg") and info.unit in _VOLTS:
        device = _device(nwb, view.device if pseudo is None else pseudo.device(view.device), devices)
        group = nwb.create_electrode_group(
            name=name,
            description=desc,
            location=", ".join(dict.fromkeys(places or info.channels)),
            device=device,
        )
        first = len(nwb.electrodes) if nwb.electrodes is not None else 0
        for k in range(info.n_channels):
            nwb.add_electrode(location=(places or info.channels)[k], group=group)
        region = nwb.create_electrode_table_region(
            list(range(first, first + info.n_channels)), f"electrodes of {info.name}"
        )
        volts = _VOLTS[info.unit]
        if same_offset:
            return ElectricalSeries(
                name=name,
                data=_rows(view.raw, view),
                electrodes=region,
                channel_conversion=view.scale.astype(np.float32),
                conversion=volts,
                offset=float(view.offset[0]) * volts,
                description=desc,
                **timing,
            )
        return ElectricalSeries(
            name=name,
            data=_rows(view.physical, view, np.float32),
            electrodes=region,
            conversion=volts,
            description=desc,
            **timing,
        )
    comments = json.dumps({"channels": list(info.channels), "placements": places, "kind": info.kind})
    if same_offset and np.all(view.scale == view.scale[0]):
        return TimeSeries(
            name=name,
            data=_rows(view.raw, view),
            unit=info.unit,
            conversion=float(view.scale[0]),
            offset=float(view.offset[0]),
            description=desc,
            comments=comments,
            **timing,
        )
    return TimeSeries(
        name=name,
        data=_rows(view.physical, view, np.float32),
        unit=info.unit,
        description=desc,
        comments=comments,
        **timing,
    )


def _timing(view: Any, t_ref: float) -> dict[str, Any]:
    tm = view.time_map
    n = view.n_samples
    if view.gaps or len(tm) > 2 or n < 2:
        return {"timestamps": _rows(lambda a, b: view.times(a, b) - t_ref, view, np.float64, ())}
    t0, t1 = float(tm["time"][0]), float(tm["time"][-1])
    return {"starting_time": t0 - t_ref, "rate": float((n - 1) / (t1 - t0))}


def _rows(read: Any, view: Any, dtype: Any = None, tail: tuple[int, ...] | None = None) -> Any:
    """``read(start, stop)`` over the view's rows as an HDF5 data chunk iterator (bounded memory).

    ``dtype`` defaults to the stored raw dtype, ``tail`` (the shape after the row axis) to
    ``(n_channels,)``.
    """
    from hdmf.data_utils import GenericDataChunkIterator

    n = view.n_samples
    tail = (view.info.n_channels,) if tail is None else tail
    dtype = np.dtype(view.raw_dtype if dtype is None else dtype)
    shape = (n, *tail)

    class Rows(GenericDataChunkIterator):
        def _get_data(self, selection: tuple[slice, ...]) -> np.ndarray:
            rows = selection[0]
            return np.asarray(read(rows.start, rows.stop), dtype=dtype)[(slice(None), *selection[1:])]

        def _get_maxshape(self) -> tuple[int, ...]:
            return shape

        def _get_dtype(self) -> np.dtype:
            return dtype

    chunk = max(1, min(ROWS_PER_CHUNK, n))
    buffer = max(1, n if n <= ROWS_PER_BUFFER else ROWS_PER_BUFFER)  # whole chunks, or all rows
    return Rows(buffer_shape=(buffer, *tail), chunk_shape=(chunk, *tail))


def _device(nwb: Any, d: Any, devices: dict[str, Any]) -> Any:
    key = d.model or "unknown strap"
    if key not in devices:
        desc = "; ".join(f"{k} {v}" for k, v in (("firmware", d.firmware), ("address", d.address)) if v)
        devices[key] = nwb.create_device(name=key.replace("/", "_"), description=desc or "strap")
    return devices[key]


def _add_events(nwb: Any, events: list[Any], t_ref: float, trials: bool = True) -> None:
    reps, pending = [], None
    for ev in events:
        if ev.kind == "rep_start":
            pending = ev
        elif ev.kind == "rep_end" and pending is not None:
            reps.append((pending.time, ev.time, pending.label or ev.label, pending.stream or ""))
            pending = None
    if not reps:
        for ev in events:
            end = ev.data.get("end") if isinstance(ev.data, dict) else None
            dur = ev.data.get("duration_s") if isinstance(ev.data, dict) else None
            if ev.kind != "phase" or (end is None and dur is None):
                continue
            stop = float(end) if end is not None else ev.time + float(dur or 0.0)
            reps.append((ev.time, stop, ev.label, ev.stream or ""))
    if reps and trials:
        nwb.add_trial_column(name="label", description="rep or phase label")
        nwb.add_trial_column(name="stream", description="myoflow stream the rep was found on")
        for start, stop, label, stream in reps:
            nwb.add_trial(start_time=start - t_ref, stop_time=stop - t_ref, label=label, stream=stream)
    if events:
        from pynwb.epoch import TimeIntervals

        table = TimeIntervals(name="events", description="myoflow events (start = stop = time)")
        for col in ("kind", "label", "stream", "data_json"):
            table.add_column(name=col, description=f"event {col}")
        for ev in events:
            t = ev.time - t_ref
            table.add_row(
                start_time=t,
                stop_time=t,
                kind=ev.kind,
                label=ev.label,
                stream=ev.stream or "",
                data_json=json.dumps(ev.data, sort_keys=True),
            )
        nwb.add_time_intervals(table)


def _add_gaps(nwb: Any, gaps: list[Any], t_ref: float) -> None:
    if not gaps:
        return
    nwb.add_invalid_times_column(name="stream", description="myoflow stream that lost samples")
    nwb.add_invalid_times_column(name="n_missing", description="samples lost (-1 when unknown)")
    nwb.add_invalid_times_column(name="reason", description="why they were lost")
    for g in gaps:
        nwb.add_invalid_time_interval(
            start_time=g.t_start - t_ref,
            stop_time=g.t_end - t_ref,
            stream=g.stream.name,
            n_missing=-1 if g.n_missing is None else g.n_missing,
            reason=g.reason,
        )
