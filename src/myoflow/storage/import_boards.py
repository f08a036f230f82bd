"""Importers for OpenBCI GUI text recordings and BrainFlow CSV files.

The files are parsed by :mod:`myoflow.storage.textfiles_openbci`. EXG channels (uV) become one
stream ``"<board>/<kind>"`` (kind ``"emg"`` by default), the accelerometer (g) a stream
``"<board>/acc"`` when it holds any non-zero value, non-zero marker values events of kind
``"marker"``. Sample times are ``sample index / rate`` from the first sample, the UTC anchor
the first ``Timestamp`` (UNIX s). Lost samples are found from the wrapping package counter
("Sample Index"): a jump of k > 1 is a gap of k - 1 samples (reason ``"loss"``). When the
counter does not count up by one per sample (the Ganglion sends two samples per packet), no
loss can be detected, and the report says so.
"""

from __future__ import annotations

import os

import numpy as np

from myoflow.storage.importers import ImportReport, MainsOption, SourceStream, write_import
from myoflow.storage.textfiles_openbci import BoardRecording, read_brainflow_csv, read_openbci_gui
from myoflow.stream import KIND_UNITS, Event, StreamInfo

PathLike = str | os.PathLike[str]

__all__ = ["import_brainflow", "import_openbci", "counter_index"]


def import_openbci(
    path: PathLike,
    out: PathLike,
    *,
    kind: str = "emg",
    placements: list[str] | None = None,
    subject_id: str = "",
    exercise: str = "",
    overwrite: bool = False,
    mains: MainsOption = None,
) -> ImportReport:
    """Import an OpenBCI GUI ``OpenBCI-RAW-*.txt`` recording.

    Parameters
    ----------
    kind
        Stream kind of the EXG channels: ``"emg"`` (default) or ``"ecg"``.
    placements
        One muscle label per EXG channel (``"glute_max_r"``...), or None.
    """
    rec = read_openbci_gui(path)
    return _import_board(rec, out, "openbci", kind, placements, subject_id, exercise, overwrite, mains)


def import_brainflow(
    path: PathLike,
    out: PathLike,
    *,
    board_id: int | None = None,
    kind: str = "emg",
    placements: list[str] | None = None,
    subject_id: str = "",
    exercise: str = "",
    overwrite: bool = False,
    mains: MainsOption = None,
) -> ImportReport:
    """Import a BrainFlow CSV file (``DataFilter.write_file``); see :func:`import_openbci`.

    ``board_id`` is the BrainFlow board id (0 Cyton, 1 Ganglion, 2 Cyton + Daisy); None infers
    it from the number of columns when that is unambiguous.
    """
    rec = read_brainflow_csv(path, board_id)
    return _import_board(rec, out, "brainflow", kind, placements, subject_id, exercise, overwrite, mains)


def counter_index(counter: np.ndarray, notes: list[str], what: str) -> np.ndarray | None:
    """Sample indices from a wrapping package counter, or None when it cannot be used.

    The modulus is the counter's largest value + 1. The counter is used when at least 95 % of
    its steps are +1 (mod the modulus) and none is 0; a step of k is then k - 1 lost samples.
    """
    c = np.asarray(counter, dtype=np.float64)
    if c.size < 2 or not np.all(np.isfinite(c)) or np.any(c != np.rint(c)) or c.min() < 0:
        notes.append(
            f"{what}: the package counter is missing or not whole numbers; lost samples cannot be detected"
        )
        return None
    c = c.astype(np.int64)
    modulus = int(c.max()) + 1
    steps = np.mod(np.diff(c), modulus)
    if np.any(steps == 0) or np.count_nonzero(steps == 1) < 0.95 * steps.size:
        notes.append(
            f"{what}: the package counter does not count up by one per sample (several "
            "samples per packet?); lost samples cannot be detected"
        )
        return None
    lost = int(np.sum(steps - 1))
    if lost:
        notes.append(
            f"{what}: the package counter (0-{modulus - 1}) skips {lost} sample(s) in "
            f"{int(np.count_nonzero(steps > 1))} place(s): recorded as gaps"
        )
    return np.concatenate(([0], np.cumsum(steps)))


def _import_board(
    rec: BoardRecording,
    out: PathLike,
    fmt: str,
    kind: str,
    placements: list[str] | None,
    subject_id: str,
    exercise: str,
    overwrite: bool,
    mains: MainsOption = None,
) -> ImportReport:
    from myoflow.storage.schema import DeviceInfo

    if kind not in ("emg", "ecg"):
        raise ValueError(f"kind must be 'emg' or 'ecg' for EXG channels, got {kind!r}")
    text = rec.text
    notes = list(text.notes)
    data, rate = text.data, text.rate
    n_exg = len(rec.exg)
    if placements is not None and len(placements) != n_exg:
        raise ValueError(f"placements: {len(placements)} given for the {n_exg} EXG channel(s)")
    prefix = rec.board.lower().replace(" ", "_") or fmt
    index = None
    if rec.package is not None:
        index = counter_index(data[:, rec.package], notes, f"{text.path.name}")
    start_unix = None
    if rec.timestamp is not None:
        ts = data[:, rec.timestamp]
        ts = ts[np.isfinite(ts)]
        if ts.size:
            start_unix = float(ts[0])
    device = DeviceInfo(model=rec.board)
    channels = tuple(f"ch{k + 1}" for k in range(n_exg))
    exg = StreamInfo(
        f"{prefix}/{kind}", kind, rate, channels, tuple(placements) if placements else None, KIND_UNITS[kind]
    )
    streams = [
        SourceStream(
            exg, np.ascontiguousarray(data[:, rec.exg]), index=index, gap_reason="loss", device=device
        )
    ]
    if rec.accel:
        acc = data[:, rec.accel]
        nonzero = np.isfinite(acc).all(axis=1) & (acc != 0).any(axis=1)
        if not nonzero.any():
            notes.append("the accelerometer columns hold only zeros (accelerometer off): not imported")
        else:
            zero_rows = int(np.count_nonzero(~nonzero))
            if zero_rows:
                notes.append(
                    f"{zero_rows} accelerometer row(s) are exactly zero on every axis (the "
                    "board may send the accelerometer less often than EXG); kept as zero"
                )
            info = StreamInfo(f"{prefix}/acc", "acc", rate, ("x", "y", "z")[: acc.shape[1]])
            streams.append(
                SourceStream(info, np.ascontiguousarray(acc), index=index, gap_reason="loss", device=device)
            )
    events = []
    if rec.marker is not None:
        marks = data[:, rec.marker]
        pos = index if index is not None else np.arange(len(marks))
        for row in np.flatnonzero(np.isfinite(marks) & (marks != 0)):
            events.append(
                Event(
                    float(pos[row] / rate),
                    "marker",
                    f"marker {marks[row]:g}",
                    None,
                    {"value": float(marks[row])},
                )
            )
        if events:
            notes.append(f"{len(events)} non-zero marker value(s) imported as marker events")
    return write_import(
        out,
        streams,
        events,
        source=text.path,
        fmt=fmt,
        notes=notes,
        subject_id=subject_id,
        exercise=exercise,
        start_unix=start_unix,
        overwrite=overwrite,
        mains=mains,
    )
