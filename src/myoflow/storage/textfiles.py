"""Parsers for plain-text EMG recordings made by other tools, with their real-world quirks.

Each parser returns a :class:`TextRecording`: the numeric columns, their names and units, the
sample rate, and a list of what had to be skipped or repaired, so an importer can report it.
Nothing here writes files; the HDF5 importers build on these.

Formats
-------
UCI "EMG Dataset in Lower Limb" (Biometrics DataLOG, 1000 Hz)
    7-8 header lines (``Channel N: 'RF', 15300 values, engineering units: mV, ...``), then
    tab-separated rows RF, BF, VM, ST (mV), FX (knee angle, deg) and, in some files, a 6th
    digital-event column. Quirks handled: CRLF and bare-CR line endings mixed, Spanish channel
    names, stray non-numeric tokens, truncated rows, trailing rows holding only the angle.
OpenSignals / BITalino "Simple Text Format" (as in the BioSPPy examples)
    ``#`` header lines with ``Sampling Rate (Hz):= 1000.00``, ``Labels:=`` and ``Units:=``, then
    one row per sample.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_CHANNEL_RE = re.compile(r"Channel\s+\d+:\s*'([^']*)'.*?engineering units:\s*([^,]+)", re.I)
_DIGITAL_RE = re.compile(r"^Digitals combined", re.I)


class TextFormatError(ValueError):
    """A text recording could not be parsed; the message names the file and what is wrong."""


@dataclass
class TextRecording:
    """Columns of a text recording.

    Attributes
    ----------
    data
        Shape ``(n_samples, n_columns)``, float64; NaN where a row lacked a value.
    columns, units
        One name and one unit per column (unit ``""`` when the file gives none).
    rate
        Sample rate in Hz.
    notes
        What was skipped or repaired, one sentence each, for the import report.
    """

    path: Path
    data: np.ndarray
    columns: list[str]
    units: list[str]
    rate: float
    notes: list[str] = field(default_factory=list)

    def column(self, name: str) -> np.ndarray:
        """One column by name, shape ``(n_samples,)``."""
        try:
            return self.data[:, self.columns.index(name)]
        except ValueError:
            raise KeyError(f"{self.path.name}: no column {name!r}; columns are {self.columns}") from None


def _lines(path: Path) -> list[str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TextFormatError(f"{path}: cannot read the file ({exc.strerror})") from exc
    text = raw.decode("latin-1")
    # Mixed CRLF and bare CR line endings: normalise both to LF.
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _parse_rows(path: Path, rows: list[str], n_cols: int, first_line: int, notes: list[str]) -> np.ndarray:
    """Numeric rows -> ``(n, n_cols)`` float64 with NaN for missing fields; reports repairs."""
    out = np.full((len(rows), n_cols), np.nan)
    for i, row in enumerate(rows):
        for j, tok in enumerate(row.split("\t")[:n_cols]):
            tok = tok.strip()
            if not tok:
                continue
            try:
                out[i, j] = float(tok)
            except ValueError:
                notes.append(
                    f"line {first_line + i + 1}: {tok!r} in column {j + 1} is not a number; left empty"
                )
    incomplete = int(np.count_nonzero(np.isnan(out).any(axis=1)))
    if incomplete:
        notes.append(f"{incomplete} row(s) lack one or more of the {n_cols} values; left empty (NaN)")
    return out


def read_uci_lower_limb(path: str | os.PathLike[str]) -> TextRecording:
    """Read one file of the UCI lower-limb EMG dataset (SEMG_DB1); 1000 Hz, EMG in mV.

    EMG columns are named by muscle abbreviation (``RF``, ``BF``, ``VM``, ``ST``) whatever the
    file's language, the angle column ``FX``, the optional event column ``events``. Trailing
    rows where every EMG value is missing are dropped from the EMG (kept for the angle as NaN
    EMG) and reported.
    """
    path = Path(path)
    lines = _lines(path)
    columns: list[str] = []
    units: list[str] = []
    header_end = None
    for i, line in enumerate(lines[:20]):
        m = _CHANNEL_RE.search(line)
        if m:
            units.append(m.group(2).strip())
        elif _DIGITAL_RE.match(line.strip()):
            units.append("")
        elif columns or units:
            if not line.strip():
                header_end = i + 1
                break
    if len(units) < 5 or header_end is None:
        raise TextFormatError(
            f"{path}: not a UCI lower-limb EMG file: expected 5 or 6 'Channel N: ...' header "
            f"lines followed by a blank line, found {len(units)} channel line(s)"
        )
    columns = ["RF", "BF", "VM", "ST", "FX", "events"][: len(units)]
    notes: list[str] = []
    body = lines[header_end:]
    while body and not body[-1].strip():
        body.pop()
    data = _parse_rows(path, body, len(columns), header_end, notes)
    emg_missing = np.all(np.isnan(data[:, :4]), axis=1)
    trailing = 0
    while trailing < len(emg_missing) and emg_missing[len(emg_missing) - 1 - trailing]:
        trailing += 1
    if trailing:
        notes.append(f"the last {trailing} row(s) hold only the angle column (no EMG)")
    declared = _declared_count(lines[:header_end])
    if declared is not None and declared != len(body) - trailing:
        notes.append(
            f"the header declares {declared} EMG values per channel; the file holds {len(body) - trailing}"
        )
    return TextRecording(path, data, columns, units, 1000.0, notes)


def _declared_count(header: list[str]) -> int | None:
    m = re.search(r"Channel\s+1:.*?(\d+)\s+values", "\n".join(header))
    return int(m.group(1)) if m else None


def read_opensignals(path: str | os.PathLike[str]) -> TextRecording:
    """Read an OpenSignals/BITalino "Simple Text Format" file (``#`` header, one row per sample).

    Raw ADC counts stay counts (unit ``"counts"``) unless the header names a unit.
    """
    path = Path(path)
    lines = _lines(path)
    meta: dict[str, str] = {}
    first = 0
    for i, line in enumerate(lines):
        if not line.startswith("#"):
            first = i
            break
        if ":=" in line:
            key, _, value = line[1:].partition(":=")
            meta[key.strip().lower()] = value.strip()
    if "sampling rate (hz)" not in meta:
        raise TextFormatError(
            f"{path}: no '# Sampling Rate (Hz):= ...' header line; not an OpenSignals text file"
        )
    try:
        rate = float(meta["sampling rate (hz)"])
    except ValueError:
        raise TextFormatError(
            f"{path}: sampling rate {meta['sampling rate (hz)']!r} is not a number"
        ) from None
    body = [ln for ln in lines[first:] if ln.strip()]
    n_cols = max((len(ln.split()) for ln in body[:100]), default=0)
    if n_cols == 0:
        raise TextFormatError(f"{path}: no samples after the header")
    notes: list[str] = []
    data = _parse_rows(path, ["\t".join(ln.split()) for ln in body], n_cols, first, notes)
    labels = meta.get("labels", "").split()
    columns = labels if len(labels) == n_cols else [f"ch{j + 1}" for j in range(n_cols)]
    unit = meta.get("units", "counts")
    return TextRecording(path, data, columns, [unit] * n_cols, rate, notes)
