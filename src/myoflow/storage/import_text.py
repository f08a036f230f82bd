"""Importers for text recordings: plain CSV/TSV, the UCI lower-limb files, OpenSignals/BITalino.

Each returns the :class:`~myoflow.storage.importers.ImportReport` of
:func:`~myoflow.storage.importers.write_import`; parsing is done by
:mod:`myoflow.storage.textfiles` and :mod:`myoflow.storage.textfiles_delimited`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from myoflow.storage.importers import ImportReport, MainsOption, SourceStream, unit_scale, write_import
from myoflow.stream import KIND_UNITS, Event, StreamInfo

PathLike = str | os.PathLike[str]

__all__ = ["ColumnMap", "import_csv", "import_opensignals", "import_uci", "parse_column_map"]

_PLACEMENT_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class ColumnMap:
    """One ``COLUMN=KIND[:PLACEMENT]`` mapping: a file column, its stream kind and placement."""

    column: str
    kind: str
    placement: str = ""


def parse_column_map(text: str) -> ColumnMap:
    """Parse ``COLUMN=KIND[:PLACEMENT]`` (e.g. ``"RF=emg:rectus_femoris_r"``, ``"3=angle:knee_r"``).

    COLUMN is a header name or a 1-based column number; KIND one of
    :data:`myoflow.stream.KIND_UNITS`; PLACEMENT a muscle or segment label (letters, digits,
    ``_ . -``).
    """
    column, sep, rest = text.rpartition("=")
    if not sep or not column.strip() or not rest.strip():
        raise ValueError(f"--map {text!r}: expected COLUMN=KIND:PLACEMENT, e.g. RF=emg:rectus_femoris_r")
    kind, _, placement = rest.partition(":")
    kind, placement = kind.strip().lower(), placement.strip()
    if kind not in KIND_UNITS:
        allowed = ", ".join(KIND_UNITS)
        raise ValueError(f"--map {text!r}: unknown KIND {kind!r}; allowed kinds: {allowed}")
    if placement and not _PLACEMENT_RE.match(placement):
        joined = "_".join(placement.split())
        hint = f" (write {joined!r})" if _PLACEMENT_RE.match(joined) else ""
        allowed = "letters, digits, _ . -"
        raise ValueError(f"--map {text!r}: PLACEMENT {placement!r} may only hold {allowed}{hint}")
    return ColumnMap(column.strip(), kind, placement)


def import_csv(
    path: PathLike,
    out: PathLike,
    rate: float,
    mapping: list[ColumnMap | str],
    *,
    units: dict[str, str] | None = None,
    subject_id: str = "",
    exercise: str = "",
    delimiter: str | None = None,
    overwrite: bool = False,
    mains: MainsOption = None,
) -> ImportReport:
    """Import a delimited text file with one sample per row.

    Parameters
    ----------
    rate
        Sample rate of the rows in Hz.
    mapping
        Which columns to import (:class:`ColumnMap` or ``"COLUMN=KIND:PLACEMENT"`` strings).
        Columns of the same kind become one stream named after the kind (``"emg"``) with
        one channel per column, in the order given; other columns are not imported.
    units
        Column -> unit as the file holds it (``"mV"``, ``"m/s^2"``, ``"rad/s"``, ``"counts"``);
        default: myoflow's unit for the kind (uV, g, deg/s, deg). Converted by ``scale``.
    """
    from myoflow.storage.textfiles_delimited import DelimitedReader

    maps = [m if isinstance(m, ColumnMap) else parse_column_map(m) for m in mapping]
    if not maps:
        raise ValueError("--map: give at least one COLUMN=KIND:PLACEMENT mapping")
    text = DelimitedReader(path, rate, delimiter=delimiter)
    cols = [_resolve_column(m.column, text.columns, text.path) for m in maps]
    if len(set(cols)) != len(cols):
        raise ValueError("--map: a column is mapped twice")
    units = dict(units or {})
    unit_of: dict[int, str] = {}
    for key, unit in units.items():
        unit_of[_resolve_column(key, text.columns, text.path, option="--unit")] = unit
    unknown = set(unit_of) - set(cols)
    if unknown:
        names = ", ".join(repr(text.columns[j]) for j in sorted(unknown))
        raise ValueError(f"--unit: column(s) {names} are not mapped with --map")
    streams = []
    for kind in dict.fromkeys(m.kind for m in maps):
        chosen = [(m, j) for m, j in zip(maps, cols, strict=True) if m.kind == kind]
        scales, stream_units = [], set()
        for _, j in chosen:
            factor, unit = unit_scale(kind, unit_of.get(j, ""), f"--unit {text.columns[j]}")
            scales.append(factor)
            stream_units.add(unit)
        if len(stream_units) > 1:
            raise ValueError(f"--unit: the {kind} columns mix 'counts' with physical units")
        placements = [m.placement for m, _ in chosen]
        info = StreamInfo(
            kind,
            kind,
            text.rate,
            tuple(text.columns[j] for _, j in chosen),
            tuple(placements) if any(placements) else None,
            stream_units.pop(),
        )
        streams.append(SourceStream(info, _columns(text, [j for _, j in chosen]), scale=np.array(scales)))
    skipped = [c for j, c in enumerate(text.columns) if j not in cols]
    notes: list[str] = []

    def file_notes() -> list[str]:  # known once the first pass over the file is complete
        # stray text in columns that are not imported is no repair of the recording
        kept = [n for n in text.notes() if not any(n.startswith(f"column {c!r}:") for c in skipped)]
        return kept + ([f"column(s) not mapped, not imported: {', '.join(skipped)}"] if skipped else [])

    return write_import(
        out,
        streams,
        [],
        source=text.path,
        fmt="csv",
        notes=notes,
        subject_id=subject_id,
        exercise=exercise,
        overwrite=overwrite,
        mains=mains,
        late_notes=file_notes,
    )


def _columns(text: Any, cols: list[int]) -> Callable[[], Iterator[np.ndarray]]:
    """Chunks of the chosen columns of a :class:`DelimitedReader` (a new pass per call)."""

    def chunks() -> Iterator[np.ndarray]:
        for data in text.chunks():
            yield np.ascontiguousarray(data[:, cols])

    return chunks


def _resolve_column(key: str, columns: list[str], path: Path, option: str = "--map") -> int:
    if key in columns:
        return columns.index(key)
    lower = [c.lower() for c in columns]
    if key.lower() in lower:
        return lower.index(key.lower())
    if key.isdigit() and 1 <= int(key) <= len(columns):
        return int(key) - 1
    raise ValueError(
        f"{option}: column {key!r} not found in {path.name}; columns are "
        f"{', '.join(columns)} (or a number 1-{len(columns)})"
    )


#: UCI lower-limb EMG columns -> muscle placement (side appended).
UCI_MUSCLES = {
    "RF": "rectus_femoris",
    "BF": "biceps_femoris",
    "VM": "vastus_medialis",
    "ST": "semitendinosus",
}


def import_uci(
    path: PathLike,
    out: PathLike,
    *,
    side: str | None = None,
    placements: list[str] | None = None,
    subject_id: str | None = None,
    exercise: str | None = None,
    overwrite: bool = False,
    mains: MainsOption = None,
) -> ImportReport:
    """Import one file of the UCI "EMG Dataset in Lower Limb" (Biometrics DataLOG, 1000 Hz).

    Streams: ``"uci/emg"`` (RF, BF, VM, ST; mV stored as float64, scale 1000 to uV; placements
    rectus_femoris, biceps_femoris, vastus_medialis, semitendinosus with ``_r``/``_l`` from
    ``side``, or the four ``placements`` as given, in RF, BF, VM, ST order) and
    ``"uci/knee_angle"`` (FX, deg, placement ``knee`` with the same suffix). A digital event column
    (files 9A-11A) becomes events of kind ``"marker"``: one with the initial state at the first
    sample, then one per change, ``data={"bits": value}`` (event=16, d=8, c=4, b=2, a=1).
    ``subject_id`` and ``exercise`` default to the file name (``1Nmar`` -> ``N1``, ``gait``).
    """
    from myoflow.storage.textfiles import read_uci_lower_limb

    if side not in (None, "r", "l"):
        raise ValueError(f"side must be 'r', 'l' or None (not documented), got {side!r}")
    if placements is not None:
        placements = [str(p).strip() for p in placements]
        if len(placements) != 4 or not all(placements):
            raise ValueError(
                f"placements: give 4 non-empty names (RF, BF, VM, ST in this order), got {placements}"
            )
    text = read_uci_lower_limb(path)
    notes = list(text.notes)
    suffix = f"_{side}" if side else ""
    if not side and placements is None:
        notes.append(
            "the dataset does not say which leg was measured: placements carry no side "
            "(give the leg: --side r or l; side='r' or 'l' in Python)"
        )
    notes.append(
        "the knee angle was sampled at 50 Hz and repeated up to 1000 Hz by the "
        "device software (header: 'extrapolated from 50 to 1000 samples per second')"
    )
    emg = StreamInfo(
        "uci/emg",
        "emg",
        text.rate,
        ("RF", "BF", "VM", "ST"),
        tuple(placements or (UCI_MUSCLES[c] + suffix for c in ("RF", "BF", "VM", "ST"))),
    )
    angle = StreamInfo("uci/knee_angle", "angle", text.rate, ("FX",), ("knee" + suffix,))
    scale = [
        unit_scale("emg", u, f"{text.path.name} column {c}")[0]
        for u, c in zip(text.units[:4], text.columns[:4], strict=True)
    ]
    streams = [
        SourceStream(
            emg, np.ascontiguousarray(text.data[:, :4]), scale=np.array(scale), raw_dtype=np.float64
        ),
        SourceStream(angle, np.ascontiguousarray(text.data[:, 4:5]), raw_dtype=np.float64),
    ]
    events = []
    if "events" in text.columns:
        events = _digital_events(text.column("events"), text.rate, notes)
    m = re.match(r"^(\d+)([AN])(mar|sen|pie)$", text.path.stem)
    exercises = {"mar": "gait", "sen": "seated_knee_extension", "pie": "standing_knee_flexion"}
    if subject_id is None:
        subject_id = f"{m.group(2)}{m.group(1)}" if m else ""
    if exercise is None:
        exercise = exercises[m.group(3)] if m else ""
    return write_import(
        out,
        streams,
        events,
        source=text.path,
        fmt="uci",
        notes=notes,
        subject_id=subject_id,
        exercise=exercise,
        overwrite=overwrite,
        mains=mains,
    )


def _digital_events(bits: np.ndarray, rate: float, notes: list[str]) -> list[Event]:
    rows = np.flatnonzero(np.isfinite(bits))
    if rows.size == 0:
        notes.append("the digital event column is empty; no events")
        return []
    vals = bits[rows].astype(np.int64)
    change = np.concatenate(([0], np.flatnonzero(np.diff(vals)) + 1))
    events = [
        Event(
            float(rows[k] / rate),
            "marker",
            f"digital {int(vals[k])}",
            None,
            {"bits": int(vals[k]), "source": "digital event column"},
        )
        for k in change
    ]
    notes.append(
        f"digital event column: initial state {int(vals[0])}, {len(change) - 1} change(s); "
        f"{len(events)} marker event(s)"
    )
    return events


#: BITalino sensor transfer functions (PLUX data sheets): V = (ADC / 2^n - 1/2) * VCC / G.
BITALINO_VCC = 3.3
BITALINO_GAIN = {"emg": 1009.0, "ecg": 1100.0}
_OPENSIGNALS_KINDS = {
    "emg": "emg",
    "ecg": "ecg",
    "acc": "acc",
    "acc_x": "acc",
    "acc_y": "acc",
    "acc_z": "acc",
    "x": "acc",
    "y": "acc",
    "z": "acc",
}


def import_opensignals(
    path: PathLike,
    out: PathLike,
    *,
    kind: str | None = None,
    placements: list[str] | None = None,
    counts: bool = False,
    subject_id: str = "",
    exercise: str = "",
    overwrite: bool = False,
    mains: MainsOption = None,
) -> ImportReport:
    """Import an OpenSignals/BITalino "Simple Text Format" file (as in the BioSPPy examples).

    The kind comes from the ``Labels`` header (EMG, ECG, acc_x...) unless ``kind`` is given.
    Raw ADC counts (no ``Units`` header) are stored as int16; when ``# Resolution:= n`` is known
    and the kind is EMG or ECG, ``scale``/``offset`` apply the BITalino sensor transfer function
    ``V = (ADC / 2^n - 1/2) * 3.3 V / G`` (G = 1009 EMG, 1100 ECG) to give uV (reported as
    an assumption: the header does not name the sensor); ``counts=True`` keeps counts.
    Files with a ``Units`` header (``m/s^2``) are converted to myoflow's unit.
    """
    from myoflow.storage.textfiles import _lines, read_opensignals

    text = read_opensignals(path)
    notes = list(text.notes)
    head = {}
    for line in _lines(text.path)[:20]:
        if line.startswith("#") and ":=" in line:
            k, _, v = line[1:].partition(":=")
            head[k.strip().lower()] = v.strip()
    if kind is None:
        found = {_OPENSIGNALS_KINDS.get(c.lower()) for c in text.columns}
        if len(found) != 1 or None in found:
            raise ValueError(
                f"{text.path.name}: cannot tell the kind from the labels "
                f"{text.columns}; pass kind (one of {', '.join(KIND_UNITS)})"
            )
        kind = next(k for k in found if k is not None)
    elif kind not in KIND_UNITS:
        raise ValueError(f"kind must be one of {', '.join(KIND_UNITS)}, got {kind!r}")
    n = len(text.columns)
    if placements is not None and len(placements) != n:
        raise ValueError(f"placements: {len(placements)} given for {n} channel(s) {text.columns}")
    if placements is None:
        notes.append("the file does not say where the sensor sat: no placements")
    unit = text.units[0]
    scale, offset = 1.0, 0.0
    if unit == "counts":
        bits = head.get("resolution", "")
        if not counts and kind in BITALINO_GAIN and bits.isdigit() and int(bits) > 0:
            gain, full = BITALINO_GAIN[kind], 2 ** int(bits)
            scale = BITALINO_VCC / gain / full * 1e6
            offset = -0.5 * BITALINO_VCC / gain * 1e6
            stream_unit = KIND_UNITS[kind]
            notes.append(
                f"raw {bits}-bit ADC counts stored as integers; converted to uV with the "
                f"BITalino {kind.upper()} sensor transfer function (VCC 3.3 V, gain "
                f"{gain:g}), assumed: the file does not name the sensor"
            )
        else:
            stream_unit = "counts"
            notes.append("raw ADC counts with no known conversion: stored and reported as counts")
    else:
        scale, stream_unit = unit_scale(kind, unit, f"{text.path.name} Units")
    info = StreamInfo(
        f"opensignals/{kind}",
        kind,
        text.rate,
        tuple(text.columns),
        tuple(placements) if placements else None,
        stream_unit,
    )
    stream = SourceStream(info, text.data, scale=scale, offset=offset)
    return write_import(
        out,
        [stream],
        [],
        source=text.path,
        fmt="opensignals",
        notes=notes,
        subject_id=subject_id,
        exercise=exercise,
        overwrite=overwrite,
        mains=mains,
    )
