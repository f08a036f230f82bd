"""Export myoflow recordings as an EMG-BIDS dataset (BIDS 1.11 electromyography + motion).

:func:`export_bids` writes one dataset folder::

    DATASET/
      dataset_description.json  participants.tsv  participants.json  README
      sub-<subject>/sub-<subject>_scans.tsv                      (acq_time of every data file)
      sub-<subject>/emg/sub-<subject>_task-<task>[_run-<n>][_recording-<stream>]_emg.edf  (or .bdf)
                        ..._emg.json  ..._channels.tsv  ..._events.tsv  ..._events.json
      sub-<subject>/motion/sub-<subject>_task-<task>[_run-<n>]_tracksys-<strap>_motion.tsv
                        ..._motion.json  ..._channels.tsv

* **subject**: the recording's subject id (letters and digits only; ``subject=`` overrides,
  a pseudonymiser hashes it); **task**: the exercise (``glute_bridge`` -> ``glutebridge``);
  recordings of one subject and task are numbered ``run-1``, ``run-2``, ... in time order; a
  recording with several EMG streams gets one data file per stream (``recording-<stream>``).
* **EMG data**: EDF+ when every channel's raw samples are 16-bit integers (the stored counts
  come back exactly), else BDF+ (24 bit); ``fmt`` forces one. Lost samples are 0 in the file
  and listed as ``gap`` events; the last data record is filled up with 0 (``padding``).
* **events**: the recording's events (rep boundaries, markers, calibration contractions), the
  gaps, and, when ``analyses`` gives the analysis report of a recording, one ``rep`` row per
  rep with its phases (as offsets from the rep's onset), set and relaxation verdict.
* **IMU**: motion datatype (acc in m/s^2, gyro in deg/s, quaternions, angles), one tracking
  system per strap; no time column: the first sample's UTC time is ``acq_time`` in scans.tsv.

The dataset is written into a hidden folder beside ``out`` and renamed when complete: on any
failure nothing is left, and one line names the file.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from myoflow.storage.bids_files import (
    EventRow,
    edf_for_stream,
    emg_channels,
    emg_sidecar,
    events_rows,
    events_sidecar,
    label,
    motion_files,
    recording_events,
    rep_rows,
    tsv,
)

__all__ = ["BIDS_VERSION", "EMG_KINDS", "export_bids"]

BIDS_VERSION = "1.11.1"
#: Stream kinds written as EMG data files; IMU kinds go to the motion datatype.
EMG_KINDS = ("emg",)
MOTION_KINDS = ("acc", "gyro", "mag", "quat", "angle")
_FORMATS = ("auto", "edf", "bdf")


def export_bids(
    recordings: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    subject: str | None = None,
    task: str | None = None,
    fmt: str = "auto",
    analyses: Mapping[str, Mapping[str, Any] | None] | None = None,
    overwrite: bool = False,
    pseudonymise: Any = None,
) -> list[Path]:
    """Write ``recordings`` as one BIDS dataset in the folder ``out``; returns the files written.

    Parameters
    ----------
    recordings
        myoflow ``.h5`` files.
    out
        The dataset folder (must not exist unless ``overwrite``).
    subject, task
        Labels for every recording (default: each recording's subject id and exercise).
    fmt
        ``"auto"`` (EDF+ when the raw samples fit 16 bits, else BDF+), ``"edf"`` or ``"bdf"``.
    analyses
        ``str(path)`` -> the analysis report's JSON document (:meth:`Report.to_dict`) of that
        recording, for rep events and the mains frequency; missing or None: events only.
    overwrite
        Replace an existing ``out``.
    pseudonymise
        A :class:`~myoflow.storage.pseudonymise.Pseudonymiser`: hashed subject ids, no BLE
        addresses or notes.

    Raises
    ------
    ValueError
        ``out`` exists, a bad option, or a recording has no subject id and none is given.
    ImportError
        edfio is not installed (``pip install 'myoflow[bids]'``).
    """
    from myoflow._extras import require

    require("edfio", "exporting EMG-BIDS")
    from myoflow.storage.reader import open_recording

    if fmt not in _FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(_FORMATS)}; got {fmt!r}")
    if not recordings:
        raise ValueError("no recording given")
    out = Path(out)
    if out.exists() and not overwrite:
        raise ValueError(f"out: {out} already exists; pass overwrite=True (--overwrite) to replace it")
    plans = []
    for path in recordings:
        with open_recording(path) as rec:  # a damaged file: its one-line error before anything is written
            meta = rec.metadata if pseudonymise is None else pseudonymise.metadata(rec.metadata)
            sub = label(subject or meta.subject_id, "")
            if not sub:
                raise ValueError(f"{path}: the recording has no subject id; give one (--subject)")
            firsts = [v.times(0, 1)[0] for v in rec.streams.values() if v.n_samples]
            t_ref = min(firsts) if firsts else rec.clock.monotonic_s
            utc = t_ref + rec.clock.unix_s - rec.clock.monotonic_s  # runs are numbered in UTC order
            plans.append((Path(path), sub, label(task or meta.exercise, "unknown"), utc))
    runs: dict[tuple[str, str], list[int]] = {}
    for k, (_, sub, tsk, _t) in enumerate(plans):
        runs.setdefault((sub, tsk), []).append(k)
    tmp = out.with_name(f".{out.name}.part")
    shutil.rmtree(tmp, ignore_errors=True)
    written: list[Path] = []
    try:
        tmp.mkdir(parents=True)
        scans: dict[str, list[list[str]]] = {}
        for (sub, tsk), members in runs.items():
            members.sort(key=lambda k: plans[k][3])
            for run, k in enumerate(members, start=1):
                path = plans[k][0]
                ents = f"sub-{sub}_task-{tsk}" + (f"_run-{run}" if len(members) > 1 else "")
                analysis = None if analyses is None else analyses.get(str(path))
                acq: dict[Path, str] = {}
                written += _write_recording(
                    path, tmp / f"sub-{sub}", ents, tsk, fmt, analysis, pseudonymise, acq
                )
                scans.setdefault(sub, []).extend(
                    [str(f.relative_to(tmp / f"sub-{sub}")), t] for f, t in acq.items()
                )
        written += _dataset_files(tmp, sorted(scans), scans)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except OSError as exc:
        raise OSError(f"cannot write the BIDS dataset {out}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [out / p.relative_to(tmp) for p in written]


def _utc(rec: Any, host_s: float) -> datetime:
    return datetime.fromtimestamp(host_s + rec.clock.unix_s - rec.clock.monotonic_s, UTC)


def _write_recording(
    path: Path,
    sub_dir: Path,
    ents: str,
    task: str,
    fmt: str,
    analysis: Any,
    pseudo: Any,
    acq: dict[Path, str],
) -> list[Path]:
    """Write one recording's files; ``acq`` receives each data file's UTC acquisition time."""
    from myoflow.storage.reader import open_recording

    written: list[Path] = []
    with open_recording(path) as rec:
        meta = rec.metadata if pseudo is None else pseudo.metadata(rec.metadata)
        events = rec.events if pseudo is None else [pseudo.event(e) for e in rec.events]
        session = (analysis or {}).get("session") or {}
        source = (analysis or {}).get("source") or {}
        mains = session.get("mains_hz") or meta.filter_settings.get("mains_hz")
        if str(session.get("mains_source") or "").startswith("assumed"):
            mains = None  # the analysis guessed it: PowerLineFrequency n/a rather than a guess
        emg = [v for v in rec.streams.values() if v.info.kind in EMG_KINDS and v.n_samples]
        emg_dir, motion_dir = sub_dir / "emg", sub_dir / "motion"
        for v in emg:
            name = ents + (f"_recording-{label(v.name, 'emg')}" if len(emg) > 1 else "")
            t0 = float(v.times(0, 1)[0])
            rows = recording_events(events, t0)
            rows += [
                EventRow(g.t_start - t0, g.t_end - g.t_start, "gap", g.reason, v.name, {}) for g in v.gaps
            ]
            if (
                analysis
                and source.get("t0_host_s") is not None
                and v.name == (source.get("emg_streams") or [None])[0]
            ):
                rows += rep_rows(analysis.get("reps") or [], float(source["t0_host_s"]) - t0)
            device = v.device if pseudo is None else pseudo.device(v.device)
            kind = fmt if fmt != "auto" else _auto_format(v)
            start = _utc(rec, t0)
            edf = edf_for_stream(
                v,
                start,
                [(r.onset, r.duration, r.trial_type) for r in rows if r.trial_type in ("rep", "gap")],
                kind,
            )
            emg_dir.mkdir(parents=True, exist_ok=True)
            data = emg_dir / f"{name}_emg.{kind}"
            edf.write(data)
            acq[data] = start.strftime("%Y-%m-%dT%H:%M:%S.%f")
            n = int(round(edf.duration * float(v.rate)))
            written += [
                data,
                _json(emg_dir / f"{name}_emg.json", emg_sidecar(v, meta, device, task, mains, n)),
                _text(emg_dir / f"{name}_channels.tsv", emg_channels(v, mains)),
                _text(emg_dir / f"{name}_events.tsv", events_rows(rows)),
                _json(emg_dir / f"{name}_events.json", events_sidecar()),
            ]
        imu = [v for v in rec.streams.values() if v.info.kind in MOTION_KINDS and v.n_samples]
        devices = {v.name: (v.device if pseudo is None else pseudo.device(v.device)) for v in imu}
        for mf in motion_files(imu, task, devices):
            motion_dir.mkdir(parents=True, exist_ok=True)
            stem = motion_dir / _with_tracksys(ents, mf.tracksys)
            data = _text(Path(f"{stem}_motion.tsv"), mf.data)
            acq[data] = _utc(rec, mf.first_time).strftime("%Y-%m-%dT%H:%M:%S.%f")
            written += [
                data,
                _json(Path(f"{stem}_motion.json"), mf.sidecar),
                _text(Path(f"{stem}_channels.tsv"), mf.channels),
            ]
    return written


def _with_tracksys(ents: str, tracksys: str) -> str:
    """Entities in BIDS order: ``sub_task_tracksys[_run]`` (tracksys comes before run)."""
    head, sep, run = ents.partition("_run-")
    return f"{head}_tracksys-{tracksys}" + (f"_run-{run}" if sep else "")


def _auto_format(view: Any) -> str:
    import numpy as np

    dt = np.dtype(view.raw_dtype)
    if dt.kind in "iu" and dt.itemsize <= 2 and not (dt.kind == "u" and dt.itemsize == 2):
        return "edf"
    return "bdf"


def _json(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return path


def _text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _dataset_files(root: Path, subjects: list[str], scans: dict[str, list[list[str]]]) -> list[Path]:
    from myoflow import __version__

    files = [
        _json(
            root / "dataset_description.json",
            {
                "Name": "myoflow recordings",
                "BIDSVersion": BIDS_VERSION,
                "DatasetType": "raw",
                "GeneratedBy": [
                    {"Name": "myoflow", "Version": __version__, "Description": "myoflow export bids"}
                ],
            },
        ),
        _text(root / "participants.tsv", tsv(["participant_id"], [[f"sub-{s}"] for s in subjects])),
        _json(
            root / "participants.json",
            {"participant_id": {"Description": "Subject label (myoflow subject id)"}},
        ),
        _text(
            root / "README",
            "Surface EMG and IMU recordings of wearable straps, exported by myoflow (export bids).\n"
            "EMG: EDF+/BDF+ with the stored raw counts as digital values; lost samples are 0 and\n"
            "listed as gap events. IMU: motion datatype, one tracking system per strap.\n",
        ),
    ]
    for sub, rows in scans.items():
        files.append(_text(root / f"sub-{sub}" / f"sub-{sub}_scans.tsv", tsv(["filename", "acq_time"], rows)))
    return files
