"""OpenBCI GUI ("OpenBCI-RAW-*.txt") and BrainFlow CSV recordings.

OpenBCI GUI v5+ text format (``DataWriterODF`` in the OpenBCI_GUI sources)
    Four header lines starting with ``%``: ``%OpenBCI Raw EXG Data``,
    ``%Number of channels = N``, ``%Sample Rate = R Hz``, ``%Board = <board class>``; then one
    comma-separated line naming the columns, then one comma-separated row per sample: the
    BrainFlow rows of the board in order (``Sample Index``, ``EXG Channel 0..N-1``,
    ``Accel Channel 0..2``, ``Other``, ``Analog Channel 0..2``, ``Timestamp``,
    ``Marker Channel``... as the board has them) and a last ``Timestamp (Formatted)`` column
    (``yyyy-MM-dd HH:mm:ss.SSS``, dropped here: the numeric ``Timestamp`` holds the same time).
    Columns are found by name, so boards with other layouts read the same way.

BrainFlow CSV (``DataFilter.write_file`` and the ``file://...`` streamer)
    No header; one line per sample, fields separated by tabs (``%lf``, 6 decimals); the fields
    are the board's rows in order, which only the board id describes. :data:`BRAINFLOW_BOARDS`
    holds the layouts this module knows, read from BrainFlow's board table
    (``src/board_controller/brainflow_boards.cpp``, brainflow-dev/brainflow at commit
    01582825e3e3c0771c2fa98ff18fcdd1e3c0c88a).

Units (BrainFlow's data format description): EXG channels in microvolts, accelerometer in g,
``Timestamp`` in UNIX seconds (often the host's receive time, bunched per packet), the sample
index a wrapping package counter.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from myoflow.storage.textfiles import TextFormatError, TextRecording, _lines
from myoflow.storage.textfiles_delimited import tokens_to_float


@dataclass(frozen=True)
class BoardLayout:
    """Where a BrainFlow board puts each kind of value (0-based columns of a sample row)."""

    board_id: int
    name: str
    rate: float
    n_columns: int
    package: int
    exg: tuple[int, ...]
    accel: tuple[int, ...]
    timestamp: int
    marker: int


#: BrainFlow board layouts (default preset) known to :func:`read_brainflow_csv`, by board id.
BRAINFLOW_BOARDS: dict[int, BoardLayout] = {
    0: BoardLayout(0, "Cyton", 250.0, 24, 0, tuple(range(1, 9)), (9, 10, 11), 22, 23),
    1: BoardLayout(1, "Ganglion", 200.0, 15, 0, (1, 2, 3, 4), (5, 6, 7), 13, 14),
    2: BoardLayout(2, "CytonDaisy", 125.0, 32, 0, tuple(range(1, 17)), (17, 18, 19), 30, 31),
}


@dataclass
class BoardRecording:
    """A parsed OpenBCI GUI or BrainFlow file.

    Attributes
    ----------
    text
        All numeric columns (``data`` float64 ``(n_samples, n_columns)``), names, rate, notes.
    board
        Board name (``"Ganglion"``, the GUI's board class, ...).
    exg, accel
        Column indices of the EXG channels (uV) and accelerometer axes (g).
    package, timestamp, marker
        Column index of the package counter, UNIX timestamp and marker channel, or None.
    """

    text: TextRecording
    board: str
    exg: list[int]
    accel: list[int]
    package: int | None
    timestamp: int | None
    marker: int | None


_HEADER_RE = re.compile(r"^%\s*([^=]+?)\s*=\s*(.*?)\s*$")


def read_openbci_gui(path: str | os.PathLike[str]) -> BoardRecording:
    """Read an OpenBCI GUI raw text recording (``OpenBCI-RAW-*.txt``); see the module docs."""
    path = Path(path)
    lines = _lines(path)
    meta: dict[str, str] = {}
    i = 0
    while i < len(lines) and (lines[i].startswith("%") or not lines[i].strip()):
        m = _HEADER_RE.match(lines[i])
        if m:
            meta[m.group(1).lower()] = m.group(2)
        i += 1
    if not lines or not lines[0].startswith("%OpenBCI"):
        raise TextFormatError(
            f"{path}: not an OpenBCI GUI recording: the first line should start with '%OpenBCI'"
        )
    rate_text = meta.get("sample rate", "").lower().replace("hz", "").strip()
    try:
        rate = float(rate_text)
    except ValueError:
        raise TextFormatError(
            f"{path}: no usable '%Sample Rate = ... Hz' header line (got {meta.get('sample rate')!r})"
        ) from None
    if i >= len(lines):
        raise TextFormatError(f"{path}: no column-name line after the '%' header")
    names = [n.strip() for n in lines[i].split(",")]
    while names and not names[-1]:
        names.pop()
    if "Sample Index" not in names or not any(n.startswith("EXG Channel") for n in names):
        raise TextFormatError(
            f"{path}: line {i + 1} should name the columns ('Sample Index, "
            f"EXG Channel 0, ...'), got {lines[i][:80]!r}"
        )
    keep = [j for j, n in enumerate(names) if n != "Timestamp (Formatted)"]
    body = [ln for ln in lines[i + 1 :] if ln.strip()]
    notes: list[str] = []
    numbers = np.arange(i + 2, i + 2 + len(body))
    rows = [ln.split(",") for ln in body]
    width = len(names)
    short = sum(1 for r in rows if len(r) < width)
    if short:
        notes.append(f"{short} truncated row(s) with fewer than {width} fields; missing values left empty")
    tokens = np.array([(r + [""] * width)[:width] for r in rows], dtype=str)[:, keep]
    kept = [names[j] for j in keep]
    data = tokens_to_float(tokens, numbers, kept, notes)
    units = [
        "uV" if n.startswith("EXG") else "g" if n.startswith("Accel") else "s" if n == "Timestamp" else ""
        for n in kept
    ]
    text = TextRecording(path, data, kept, units, rate, notes)
    declared = meta.get("number of channels")
    exg = [j for j, n in enumerate(kept) if n.startswith("EXG Channel")]
    if declared is not None and declared.isdigit() and int(declared) != len(exg):
        notes.append(f"the header declares {declared} channels; the file has {len(exg)} EXG columns")
    board = meta.get("board", "").rsplit("$", 1)[-1] or "OpenBCI"
    return BoardRecording(
        text,
        board,
        exg,
        [j for j, n in enumerate(kept) if n.startswith("Accel Channel")],
        _find(kept, "Sample Index"),
        _find(kept, "Timestamp"),
        _find(kept, "Marker Channel"),
    )


def read_brainflow_csv(path: str | os.PathLike[str], board_id: int | None = None) -> BoardRecording:
    """Read a BrainFlow CSV file (tab-separated board rows, no header); see the module docs.

    Parameters
    ----------
    board_id
        BrainFlow board id (0 Cyton, 1 Ganglion, 2 Cyton + Daisy). When None it is inferred
        from the number of columns if exactly one known board has that many (reported).
    """
    path = Path(path)
    body = [ln for ln in _lines(path) if ln.strip()]
    if not body:
        raise TextFormatError(f"{path}: the file is empty")
    rows = [ln.split("\t") for ln in body]
    width = max(len(r) for r in rows[:100])
    notes: list[str] = []
    if board_id is None:
        matches = [b for b in BRAINFLOW_BOARDS.values() if b.n_columns == width]
        if len(matches) != 1:
            known = ", ".join(
                f"{b.board_id} ({b.name}, {b.n_columns} columns)" for b in BRAINFLOW_BOARDS.values()
            )
            raise TextFormatError(
                f"{path}: {width} tab-separated columns match no single known "
                f"BrainFlow board; pass the board id (known: {known})"
            )
        layout = matches[0]
        notes.append(
            f"board inferred from the {width} columns: {layout.name} (BrainFlow board id "
            f"{layout.board_id}); pass the board id if that is wrong"
        )
    else:
        if board_id not in BRAINFLOW_BOARDS:
            known = ", ".join(str(b) for b in BRAINFLOW_BOARDS)
            raise ValueError(f"board_id must be one of {known} (BrainFlow board ids), got {board_id!r}")
        layout = BRAINFLOW_BOARDS[board_id]
        if width != layout.n_columns:
            raise TextFormatError(
                f"{path}: {width} tab-separated columns but BrainFlow board "
                f"{layout.name} (id {board_id}) writes {layout.n_columns}"
            )
    n = layout.n_columns
    short = sum(1 for r in rows if len(r) < n)
    if short:
        notes.append(f"{short} truncated row(s) with fewer than {n} fields; missing values left empty")
    names = [f"row{j}" for j in range(n)]
    for k, j in enumerate(layout.exg):
        names[j] = f"EXG Channel {k}"
    for k, j in enumerate(layout.accel):
        names[j] = f"Accel Channel {k}"
    names[layout.package], names[layout.timestamp] = "Package", "Timestamp"
    names[layout.marker] = "Marker"
    tokens = np.array([(r + [""] * n)[:n] for r in rows], dtype=str)
    data = tokens_to_float(tokens, np.arange(1, len(rows) + 1), names, notes)
    units = ["uV" if j in layout.exg else "g" if j in layout.accel else "" for j in range(n)]
    units[layout.timestamp] = "s"
    text = TextRecording(path, data, names, units, layout.rate, notes)
    return BoardRecording(
        text,
        layout.name,
        list(layout.exg),
        list(layout.accel),
        layout.package,
        layout.timestamp,
        layout.marker,
    )


def _find(names: list[str], name: str) -> int | None:
    return names.index(name) if name in names else None
