"""Plain delimited text (CSV, TSV, semicolon or whitespace separated) with or without a header.

:func:`read_delimited` sniffs the delimiter, detects a header line, normalises mixed line
endings and turns the body into a float64 array with NaN wherever a value is missing or not a
number, reporting every repair in :attr:`TextRecording.notes`. The tokens of a column are
converted in one vectorised step; only a column that holds a bad token is parsed token by
token to find and report it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from myoflow.storage.textfiles import TextFormatError, TextRecording, _lines

#: Tokens read as "no value" without being reported as stray text.
MISSING_TOKENS = frozenset({"", "nan", "na", "n/a", "null", "none", "-", "?"})
#: Comment lines (skipped before the header and in the body).
_COMMENT = ("#", "%", "//")
#: Delimiters tried, in order of preference; whitespace is the fallback.
_DELIMITERS = ("\t", ";", ",")
_MAX_LISTED = 5


def sniff_delimiter(lines: list[str]) -> str | None:
    """The delimiter of ``lines`` (tab, semicolon or comma), or None for runs of whitespace.

    A candidate wins when it splits at least 90 % of the lines into the same number (> 0) of
    extra fields; tab beats semicolon beats comma (a semicolon file may use decimal commas).
    """
    sample = [ln for ln in lines[:200] if ln.strip()]
    if not sample:
        return None
    for delim in _DELIMITERS:
        counts = np.array([ln.count(delim) for ln in sample])
        values, freq = np.unique(counts, return_counts=True)
        mode = values[np.argmax(freq)]
        if mode > 0 and freq.max() >= 0.9 * len(sample):
            return delim
    return None


def read_delimited(
    path: str | Path, rate: float, *, delimiter: str | None = None, header: bool | None = None
) -> TextRecording:
    """Read a delimited text file of numeric columns.

    Parameters
    ----------
    path
        The text file. Lines starting with ``#``, ``%`` or ``//`` are comments.
    rate
        Sample rate of the rows in Hz (the file does not say it).
    delimiter
        Field separator; sniffed when None (see :func:`sniff_delimiter`).
    header
        Whether the first line names the columns; detected when None (a header has at least
        one field that is not a number).

    Returns
    -------
    TextRecording
        ``data`` of shape ``(n_rows, n_columns)`` float64, NaN where a row lacked a value or
        held text; column names from the header (``column1``... without one); units ``""``.
        ``notes`` reports the delimiter, skipped lines, truncated or over-long rows and stray
        tokens with their line numbers.
    """
    from myoflow._checks import check_rate

    rate = check_rate(rate, "rate")
    path = Path(path)
    lines = _lines(path)
    numbered = [
        (i + 1, ln) for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith(_COMMENT)
    ]
    if not numbered:
        raise TextFormatError(f"{path}: no data lines (the file is empty or only comments)")
    notes: list[str] = []
    texts = [ln for _, ln in numbered]
    delim = sniff_delimiter(texts) if delimiter is None else delimiter
    rows = [_trim(r) for r in _split(texts, delim)]
    first = [t.strip() for t in rows[0]]
    if header is None:
        header = any(_to_float(t) is None and t.lower() not in MISSING_TOKENS for t in first)
    if header:
        names = _column_names(first)
        body, body_lines = rows[1:], [n for n, _ in numbered[1:]]
    else:
        names = [f"column{j + 1}" for j in range(max(len(r) for r in rows[:200]))]
        body, body_lines = rows, [n for n, _ in numbered]
    if not body:
        raise TextFormatError(f"{path}: a header line but no data rows")
    n_cols = len(names)
    widths = np.fromiter((len(r) for r in body), dtype=np.int64, count=len(body))
    _report_widths(widths, np.asarray(body_lines), n_cols, notes)
    tokens = np.array([(r + [""] * n_cols)[:n_cols] for r in body], dtype=str)
    if delim == ";" and np.char.count(tokens, ",").any():
        tokens = np.char.replace(tokens, ",", ".")
        notes.append("decimal commas read as decimal points (semicolon-separated file)")
    data = tokens_to_float(tokens, np.asarray(body_lines), names, notes)
    what = {"\t": "tab", ";": "semicolon", ",": "comma", None: "whitespace"}.get(delim, repr(delim))
    notes.insert(
        0,
        f"{what}-separated, {'a header line' if header else 'no header'}, "
        f"{len(body)} row(s) of {n_cols} column(s)",
    )
    return TextRecording(path, data, names, [""] * n_cols, rate, notes)


def tokens_to_float(
    tokens: np.ndarray, line_numbers: np.ndarray, names: list[str], notes: list[str]
) -> np.ndarray:
    """Convert a ``(n_rows, n_columns)`` array of strings to float64, NaN for missing or text.

    Stray text tokens are reported in ``notes`` with their line numbers (the first few, then
    a count); tokens in :data:`MISSING_TOKENS` are read as missing without a report.
    """
    stripped = np.char.strip(tokens)
    out = np.full(stripped.shape, np.nan)
    present = ~np.isin(np.char.lower(stripped), list(MISSING_TOKENS))
    for j in range(stripped.shape[1]):
        mask = present[:, j]
        try:
            out[mask, j] = stripped[mask, j].astype(np.float64)
        except ValueError:
            bad = []
            for i in np.flatnonzero(mask):
                value = _to_float(stripped[i, j])
                if value is None:
                    bad.append(i)
                else:
                    out[i, j] = value
            listed = ", ".join(
                f"{str(stripped[i, j])!r} on line {line_numbers[i]}" for i in bad[:_MAX_LISTED]
            )
            more = f" and {len(bad) - _MAX_LISTED} more" if len(bad) > _MAX_LISTED else ""
            notes.append(f"column {names[j]!r}: {len(bad)} token(s) not a number, left empty: {listed}{more}")
    return out


def _split(texts: list[str], delim: str | None) -> list[list[str]]:
    if delim is None:
        return [ln.split() for ln in texts]
    return list(csv.reader(texts, delimiter=delim, skipinitialspace=True))


def _to_float(token: str) -> float | None:
    try:
        return float(token)
    except ValueError:
        return None


def _column_names(first: list[str]) -> list[str]:
    names: list[str] = []
    for j, raw in enumerate(first):
        name = raw.strip().strip('"').strip() or f"column{j + 1}"
        base, k = name, 2
        while name in names:
            name, k = f"{base}_{k}", k + 1
        names.append(name)
    return names


def _trim(fields: list[str]) -> list[str]:
    """Drop empty fields at the end of a row (a trailing delimiter is not a column)."""
    end = len(fields)
    while end and not fields[end - 1].strip():
        end -= 1
    return fields[:end]


def _report_widths(widths: np.ndarray, lines: np.ndarray, n_cols: int, notes: list[str]) -> None:
    short = np.flatnonzero(widths < n_cols)
    if short.size:
        listed = ", ".join(str(n) for n in lines[short[:_MAX_LISTED]])
        notes.append(
            f"{short.size} truncated row(s) with fewer than {n_cols} fields (line(s) "
            f"{listed}{', ...' if short.size > _MAX_LISTED else ''}); missing values left empty"
        )
    long = np.flatnonzero(widths > n_cols)
    if long.size:
        listed = ", ".join(str(n) for n in lines[long[:_MAX_LISTED]])
        notes.append(
            f"{long.size} row(s) with more than {n_cols} fields (line(s) {listed}"
            f"{', ...' if long.size > _MAX_LISTED else ''}); the extra fields are ignored"
        )
