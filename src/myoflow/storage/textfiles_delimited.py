"""Plain delimited text (CSV, TSV, semicolon or whitespace separated) with or without a header.

:class:`DelimitedReader` sniffs the delimiter from the first lines, detects a header line,
drops a byte order mark, normalises mixed line endings and turns the body, a chunk of rows at
a time, into float64 arrays with NaN wherever a value is missing or not a number, summing every
repair into its notes. A clean chunk is parsed by numpy's C reader; otherwise the tokens of a
column are converted in one vectorised step, and only a column that holds a bad token is
parsed token by token to find and report it.
"""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from myoflow.storage.textfiles import TextFormatError

#: Tokens read as "no value" without being reported as stray text.
MISSING_TOKENS = frozenset({"", "nan", "na", "n/a", "null", "none", "-", "?"})
#: Comment lines (skipped before the header and in the body).
_COMMENT = ("#", "%", "//")
#: Delimiters tried, in order of preference; whitespace is the fallback.
_DELIMITERS = ("\t", ";", ",")
_MAX_LISTED = 5
_BOM = "\xef\xbb\xbf"  # a UTF-8 byte order mark read as latin-1


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


#: Rows parsed at once by :class:`DelimitedReader` (the memory bound of a CSV import).
CHUNK_ROWS = 1 << 16
_SNIFF_LINES = 200
#: Rows parsed token by token at once when a chunk is not plain numbers (bounds that path's memory).
_SLOW_ROWS = 2048


class DelimitedReader:
    """A delimited text file of numeric columns, read in chunks of rows.

    Only the first lines are read to find the delimiter, the header and the columns; the body
    is parsed :data:`CHUNK_ROWS` rows at a time by :meth:`chunks` (call it again for another
    pass), so memory does not grow with the file. What had to be repaired (stray text,
    truncated or over-long rows) is summed over a whole pass into :meth:`notes`.

    Parameters
    ----------
    path
        The text file. Lines starting with ``#``, ``%`` or ``//`` are comments; a UTF-8 byte
        order mark is dropped; CRLF and bare CR line endings are read as LF.
    rate
        Sample rate of the rows in Hz (the file does not say it).
    delimiter
        Field separator; sniffed from the first lines when None (see :func:`sniff_delimiter`).
    header
        Whether the first line names the columns; detected when None (a header has at least
        one field that is not a number).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        rate: float,
        *,
        delimiter: str | None = None,
        header: bool | None = None,
    ) -> None:
        from myoflow._checks import check_rate

        self.rate = check_rate(rate, "rate")
        self.path = Path(path)
        head = []
        for number, line in self._numbered():
            head.append((number, line))
            if len(head) >= _SNIFF_LINES:
                break
        if not head:
            raise TextFormatError(f"{self.path}: no data lines (the file is empty or only comments)")
        texts = [ln for _, ln in head]
        self.delimiter = sniff_delimiter(texts) if delimiter is None else delimiter
        first = [t.strip() for t in _trim(_split(texts[:1], self.delimiter)[0])]
        if header is None:
            header = any(_to_float(t) is None and t.lower() not in MISSING_TOKENS for t in first)
        self.header = bool(header)
        if self.header:
            self.columns = _column_names(first)
            if len(head) < 2:
                raise TextFormatError(f"{self.path}: a header line but no data rows")
        else:
            rows = [_trim(r) for r in _split(texts, self.delimiter)]
            self.columns = [f"column{j + 1}" for j in range(max(len(r) for r in rows))]
        self.n_rows = 0
        self._stats = _Stats(len(self.columns))

    def _numbered(self) -> Iterator[tuple[int, str]]:
        """(line number, text) of every non-empty, non-comment line."""
        try:
            f = self.path.open("r", encoding="latin-1", newline=None)  # universal newlines
        except OSError as exc:
            raise TextFormatError(f"{self.path}: cannot read the file ({exc.strerror})") from exc
        with f:
            for number, line in enumerate(f, 1):
                if number == 1 and line.startswith(_BOM):
                    line = line[len(_BOM) :]
                text = line.rstrip("\n")
                if text.strip() and not text.lstrip().startswith(_COMMENT):
                    yield number, text

    def chunks(self, rows: int = CHUNK_ROWS) -> Iterator[np.ndarray]:
        """The body as float64 arrays ``(<= rows, n_columns)``, NaN where a value is missing or
        not a number (infinities are kept: the importer decides)."""
        self._stats = _Stats(len(self.columns))
        lines = self._numbered()
        if self.header:
            next(lines)
        self.n_rows = 0
        batch: list[tuple[int, str]] = []
        for item in lines:
            batch.append(item)
            if len(batch) == rows:
                yield self._parse(batch)
                batch = []
        if batch or not self.n_rows:
            if not batch and self.header:
                raise TextFormatError(f"{self.path}: a header line but no data rows")
            yield self._parse(batch)

    def _parse(self, batch: list[tuple[int, str]]) -> np.ndarray:
        n_cols = len(self.columns)
        self.n_rows += len(batch)
        texts = [t for _, t in batch]
        numbers = np.fromiter((n for n, _ in batch), dtype=np.int64, count=len(batch))
        fast = _fast_parse(texts, self.delimiter, n_cols)
        if fast is not None:
            return fast
        if len(batch) > _SLOW_ROWS:  # parse the clean pieces fast, only the others token by token
            self.n_rows -= len(batch)
            parts = [self._parse(batch[i : i + _SLOW_ROWS]) for i in range(0, len(batch), _SLOW_ROWS)]
            return np.concatenate(parts)
        rows = [_trim(r) for r in _split(texts, self.delimiter)]
        widths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        self._stats.widths(widths, numbers, n_cols)
        tokens = np.array([(r + [""] * n_cols)[:n_cols] for r in rows], dtype=str).reshape(len(rows), n_cols)
        if self.delimiter == ";" and np.char.count(tokens, ",").any():
            tokens = np.char.replace(tokens, ",", ".")
            self._stats.decimal_commas = True
        return _tokens_to_float(tokens, numbers, self._stats)

    def notes(self) -> list[str]:
        """What the last complete pass of :meth:`chunks` found and repaired, one sentence each."""
        what = {"\t": "tab", ";": "semicolon", ",": "comma", None: "whitespace"}.get(
            self.delimiter, repr(self.delimiter)
        )
        n_cols = len(self.columns)
        out = [
            f"{what}-separated, {'a header line' if self.header else 'no header'}, "
            f"{self.n_rows} row(s) of {n_cols} column(s)"
        ]
        return out + self._stats.notes(self.columns, n_cols)


class _Stats:
    """Repairs summed over the chunks of one pass."""

    def __init__(self, n_cols: int) -> None:
        self.short: list[int] = []
        self.n_short = 0
        self.long: list[int] = []
        self.n_long = 0
        self.bad: dict[int, list[str]] = {}
        self.n_bad = np.zeros(n_cols, dtype=np.int64)
        self.decimal_commas = False

    def widths(self, widths: np.ndarray, numbers: np.ndarray, n_cols: int) -> None:
        short, long = np.flatnonzero(widths < n_cols), np.flatnonzero(widths > n_cols)
        self.n_short += short.size
        self.n_long += long.size
        self.short += (
            numbers[short[: _MAX_LISTED - len(self.short)]].tolist() if len(self.short) < _MAX_LISTED else []
        )
        self.long += (
            numbers[long[: _MAX_LISTED - len(self.long)]].tolist() if len(self.long) < _MAX_LISTED else []
        )

    def notes(self, names: list[str], n_cols: int) -> list[str]:
        out = []
        if self.n_short:
            listed = ", ".join(str(n) for n in self.short)
            out.append(
                f"{self.n_short} truncated row(s) with fewer than {n_cols} fields (line(s) "
                f"{listed}{', ...' if self.n_short > _MAX_LISTED else ''}); missing values left empty"
            )
        if self.n_long:
            listed = ", ".join(str(n) for n in self.long)
            out.append(
                f"{self.n_long} row(s) with more than {n_cols} fields (line(s) {listed}"
                f"{', ...' if self.n_long > _MAX_LISTED else ''}); the extra fields are ignored"
            )
        if self.decimal_commas:
            out.append("decimal commas read as decimal points (semicolon-separated file)")
        for j in map(int, np.flatnonzero(self.n_bad)):
            n = int(self.n_bad[j])
            more = f" and {n - _MAX_LISTED} more" if n > _MAX_LISTED else ""
            out.append(
                f"column {names[j]!r}: {n} token(s) not a number, left empty: {', '.join(self.bad[j])}{more}"
            )
        return out


def _fast_parse(texts: list[str], delim: str | None, n_cols: int) -> np.ndarray | None:
    """The chunk parsed by numpy's C reader when every line is n_cols plain numbers, else None."""
    if not texts:
        return np.empty((0, n_cols))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            data = np.loadtxt(texts, delimiter=delim, dtype=np.float64, ndmin=2, comments=None, quotechar='"')
    except (ValueError, UserWarning):
        return None
    return data if data.shape == (len(texts), n_cols) else None


def tokens_to_float(
    tokens: np.ndarray, line_numbers: np.ndarray, names: list[str], notes: list[str]
) -> np.ndarray:
    """Convert a ``(n_rows, n_columns)`` array of strings to float64, NaN for missing or text.

    Stray text tokens are reported in ``notes`` with their line numbers (the first few, then
    a count); tokens in :data:`MISSING_TOKENS` are read as missing without a report.
    """
    stats = _Stats(tokens.shape[1])
    out = _tokens_to_float(tokens, line_numbers, stats)
    notes += stats.notes(names, tokens.shape[1])
    return out


def _tokens_to_float(tokens: np.ndarray, line_numbers: np.ndarray, stats: _Stats) -> np.ndarray:
    stripped = np.char.strip(tokens)
    out = np.full(stripped.shape, np.nan)
    present = ~np.isin(np.char.lower(stripped), list(MISSING_TOKENS))
    for j in range(stripped.shape[1]):
        mask = present[:, j]
        try:
            out[mask, j] = stripped[mask, j].astype(np.float64)
        except ValueError:
            listed = stats.bad.setdefault(j, [])
            for i in np.flatnonzero(mask):
                value = _to_float(stripped[i, j])
                if value is None:
                    stats.n_bad[j] += 1
                    if len(listed) < _MAX_LISTED:
                        listed.append(f"{str(stripped[i, j])!r} on line {line_numbers[i]}")
                else:
                    out[i, j] = value
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
