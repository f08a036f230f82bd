"""The batch's table on disk: each file's rows spooled as they arrive, then written in input
order as CSV or Parquet (Parquet in row groups); and the type of a table cell.

Used by :func:`myoflow.reports.batch.batch_analyze` and :func:`~myoflow.reports.batch.read_table`,
which name the text columns. The report's counts and 0/1 flags (:data:`INT_COLUMNS`, columns
ending in one of :data:`INT_SUFFIXES`) are integers; every other column is float.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "INT_COLUMNS",
    "INT_SUFFIXES",
    "PYARROW_MISSING",
    "Spool",
    "is_int_column",
    "parse_cell",
    "pyarrow_modules",
    "write_table",
]

#: Added to the missing-pyarrow message.
PYARROW_MISSING = "(or write CSV instead: --out results.csv)"
#: Report columns holding counts or 0/1 flags.
INT_COLUMNS = frozenset({"rep", "set_index", "partial"})
#: Per-muscle report columns (``<muscle><suffix>``) holding 0/1 flags.
INT_SUFFIXES = (".relaxed", ".antagonist_cue")
_ROW_GROUP = 8192  # rows per Parquet row group (and per write)


def is_int_column(column: str) -> bool:
    """Whether ``column`` holds integers (counts and 0/1 flags)."""
    return column in INT_COLUMNS or column.endswith(INT_SUFFIXES)


def parse_cell(column: str, text: str, text_columns: Collection[str]) -> Any:
    """A CSV cell as a value: None when empty, str in ``text_columns``, int for counts and
    0/1 flags, else float (str if it is not a number)."""
    if text == "":
        return None
    if column in text_columns:
        return text
    if is_int_column(column):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


class Spool:
    """Each file's rows on disk (one JSON array per file) until the batch ends; the order
    and column signature of each file are kept in memory (a few numbers per file).

    Parameters
    ----------
    n_files
        Files of the batch; :meth:`add` takes each by its input position.
    leading
        The columns every table starts with.
    text_columns
        Columns that always hold text; :attr:`text_columns` also gets every column in which a
        file sent a string.
    """

    def __init__(self, n_files: int, leading: Sequence[str], text_columns: Collection[str]) -> None:
        self._f = tempfile.TemporaryFile("w+b", prefix="myoflow-batch-")
        self._where: list[tuple[int, int, int] | None] = [None] * n_files
        self._signatures: dict[tuple[str, ...], int] = {}
        self._leading = tuple(leading)
        self.n_rows = 0
        self.text_columns: set[str] = set(text_columns)

    def add(self, index: int, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
        """Spool the ``rows`` (each with one value per column) of the file at ``index``."""
        data = json.dumps(rows).encode()
        self._f.seek(0, io.SEEK_END)
        offset = self._f.tell()
        self._f.write(data)
        sig = self._signatures.setdefault(columns, len(self._signatures))
        self._where[index] = (offset, len(data), sig)
        self.n_rows += len(rows)
        for row in rows:
            self.text_columns.update(c for c, v in zip(columns, row, strict=True) if isinstance(v, str))

    def columns(self) -> list[str]:
        """The union of the files' columns, in input order."""
        by_id = {sig: cols for cols, sig in self._signatures.items()}
        out = dict.fromkeys(self._leading)
        for where in self._where:
            if where is not None:
                out.update(dict.fromkeys(by_id[where[2]]))
        return list(out)

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every row as ``{column: value}`` in input order."""
        by_id = {sig: cols for cols, sig in self._signatures.items()}
        for where in self._where:
            if where is None:
                continue
            offset, size, sig = where
            self._f.seek(offset)
            for row in json.loads(self._f.read(size)):
                yield dict(zip(by_id[sig], row, strict=True))

    def close(self) -> None:
        """Delete the spool file."""
        self._f.close()


def write_table(path: Path, columns: list[str], spool: Spool) -> None:
    """Write the table to ``path`` (via a ``.part`` file renamed at the end)."""
    part = path.with_name(path.name + ".part")
    try:
        if path.suffix.lower() == ".parquet":
            _write_parquet(part, columns, spool)
        else:
            with open(part, "w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f, lineterminator="\n")
                writer.writerow(columns)
                for row in spool.rows():
                    writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


def _write_parquet(path: Path, columns: list[str], spool: Spool) -> None:
    pa, pq = pyarrow_modules()
    text = spool.text_columns

    def kind(c: str) -> Any:
        if c in text:
            return pa.string()
        return pa.int64() if is_int_column(c) else pa.float64()

    schema = pa.schema([(c, kind(c)) for c in columns])
    with pq.ParquetWriter(path, schema) as writer:
        batch: list[dict[str, Any]] = []
        for row in spool.rows():
            batch.append({c: str(v) if c in text and v is not None else v for c, v in row.items()})
            if len(batch) == _ROW_GROUP:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                batch = []
        if batch or spool.n_rows == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))


def pyarrow_modules() -> tuple[Any, Any]:
    """``(pyarrow, pyarrow.parquet)``, or an ImportError that says how to install them."""
    from myoflow._extras import MissingExtraError, require

    try:
        return require("pyarrow", "writing Parquet"), require("pyarrow.parquet", "writing Parquet")
    except MissingExtraError as exc:
        raise MissingExtraError(f"{exc} {PYARROW_MISSING}") from None
