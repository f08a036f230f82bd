"""Batch analysis: many recordings into one tidy table, ``batch_analyze(glob) -> BatchResult``.

Every file goes through :func:`myoflow.reports.analyze.analyze` (with ``keep_signals=False``) in
a worker, by :func:`analyze_file`, the same function wherever it runs:

* ``workers=N`` (default: the usable cores): a local :class:`~concurrent.futures.ProcessPoolExecutor`
  with the ``spawn`` start method (workers start clean, on every platform). A worker process that
  dies (a crash inside a library) takes the files it was running with it; those are rerun one
  at a time in a fresh process, and only the file that kills it again is reported as failed.
* ``workers=0``: one after another in this process (debugging, notebooks).
* ``scheduler="tcp://host:port"`` (or a ``distributed.Client``): on a Dask distributed cluster;
  myoflow must be installed on its workers.

The table has one row per rep: ``session`` (the file's path), ``subject``, ``exercise``,
``start_utc``, then the columns of :meth:`~myoflow.analysis.report.Report.to_csv` (``rep``,
``set_index``, ..., per-muscle metrics), the union over all files in input order (a muscle a
file lacks is empty). Rows are in input order (sorted glob matches), reps in order, whatever
order the workers finish in. A file that cannot be analysed becomes an entry of
``BatchResult.failures`` and the batch goes on.

Memory stays bounded: at most ``2 x workers`` files are in flight, and each file's rows (a few
kB; no signals) go to a temporary spool file as they arrive; the output (CSV, or Parquet with
pyarrow) is written from the spool at the end, in input order, Parquet in row groups.
"""

from __future__ import annotations

import csv
import inspect
import io
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from myoflow._checks import check_option
from myoflow.reports._batch_run import run_dask, run_inline, run_local

__all__ = [
    "LEADING_COLUMNS",
    "BatchResult",
    "FileResult",
    "analyze_file",
    "batch_analyze",
    "expand_paths",
    "read_table",
]

#: The columns every row starts with; the report's CSV columns follow.
LEADING_COLUMNS = ("session", "subject", "exercise", "start_utc")
OUTPUT_SUFFIXES = (".csv", ".parquet")
PYARROW_MISSING = (
    "writing Parquet needs pyarrow, which is not installed: pip install 'myoflow[batch]' "
    "(or pyarrow), or write CSV instead (--out results.csv)"
)
_STR_COLUMNS = frozenset({*LEADING_COLUMNS, "level_unit"})
_INT_COLUMNS = frozenset({"rep", "set_index", "partial"})
_INT_SUFFIXES = (".relaxed", ".antagonist_cue")
_ROW_GROUP = 8192  # rows per Parquet row group (and per write)


@dataclass(frozen=True)
class FileResult:
    """What a worker sends back for one file: its table rows, or the error (rows empty)."""

    path: str
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[Any, ...], ...] = ()
    error: str | None = None
    wall_s: float = 0.0


@dataclass
class BatchResult:
    """The outcome of :func:`batch_analyze`.

    Attributes
    ----------
    files
        Every file of the batch, in input order.
    columns
        The table's columns (:data:`LEADING_COLUMNS` first).
    n_rows
        Rows (reps) in the table.
    failures
        ``(path, error message)`` of each file that could not be analysed, in input order.
    no_reps
        Files analysed without a complete rep (no rows, not failures).
    out
        The file written (CSV or Parquet), or None when the table was kept in memory.
    elapsed_s
        Wall time of the whole batch in s.
    runner
        Where it ran: ``"this process"``, ``"2 local processes"`` or ``"dask tcp://..."``.
    """

    files: list[str]
    columns: list[str]
    n_rows: int
    failures: list[tuple[str, str]]
    no_reps: list[str]
    out: Path | None
    elapsed_s: float
    runner: str
    _table: dict[str, list[Any]] | None = field(default=None, repr=False)

    @property
    def n_ok(self) -> int:
        """Files analysed (with or without reps)."""
        return len(self.files) - len(self.failures)

    @property
    def files_per_s(self) -> float:
        """Files (analysed or failed) per second of wall time."""
        return len(self.files) / self.elapsed_s if self.elapsed_s > 0 else float("inf")

    def table(self) -> dict[str, list[Any]]:
        """The table as ``{column: values}`` (None = missing), read back from ``out`` if written."""
        if self._table is not None:
            return self._table
        return read_table(self.out)


# ---------------------------------------------------------------------------- one file


def analyze_file(path: str, options: dict[str, Any] | None = None) -> FileResult:
    """Analyse one recording into table rows; any error is returned, not raised.

    Parameters
    ----------
    path
        A myoflow ``.h5`` recording.
    options
        Keyword arguments of :func:`~myoflow.reports.analyze.analyze` (not ``keep_signals``).
    """
    from myoflow.reports.analyze import analyze
    from myoflow.storage.schema import RecordingError

    t0 = time.perf_counter()
    try:
        report = analyze(path, keep_signals=False, **(options or {}))
    except RecordingError as exc:
        return FileResult(path, error=exc.problem, wall_s=time.perf_counter() - t0)
    except Exception as exc:  # one bad file must not stop the batch: it is reported with its error
        msg = str(exc).removeprefix(f"{path}: ")
        return FileResult(path, error=f"{type(exc).__name__}: {msg}", wall_s=time.perf_counter() - t0)
    reader = csv.reader(io.StringIO(report.to_csv()))
    header = next(reader)
    src = report.source
    lead = (path, src.get("subject_id") or None, src.get("exercise") or None, src.get("start_utc"))
    rows = tuple(lead + tuple(_parse(c, v) for c, v in zip(header, r, strict=True)) for r in reader)
    return FileResult(path, (*LEADING_COLUMNS, *header), rows, None, time.perf_counter() - t0)


def _parse(column: str, text: str) -> Any:
    """A CSV cell as a value: None when empty, int for counts and 0/1 flags, str for text."""
    if text == "":
        return None
    if column in _STR_COLUMNS:
        return text
    if column in _INT_COLUMNS or column.endswith(_INT_SUFFIXES):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


# ---------------------------------------------------------------------------- the batch


def expand_paths(paths_or_glob: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[str]:
    """Files named by a glob (``**`` recurses), a path, or a sequence of them: sorted matches
    of each pattern, literal paths kept as given (a missing one fails in the batch), no repeats."""
    items = [paths_or_glob] if isinstance(paths_or_glob, (str, os.PathLike)) else list(paths_or_glob)
    out: dict[str, None] = {}
    for item in items:
        text = os.fspath(item)
        if any(ch in text for ch in "*?["):
            import glob

            out.update(dict.fromkeys(sorted(p for p in glob.glob(text, recursive=True) if os.path.isfile(p))))
        else:
            out[text] = None
    return list(out)


def batch_analyze(
    paths_or_glob: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    out: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    scheduler: Any = None,
    progress: Callable[[int, int, str], None] | None = None,
    **analyze_options: Any,
) -> BatchResult:
    """Analyse many recordings into one table with one row per rep.

    Parameters
    ----------
    paths_or_glob
        A glob such as ``"recordings/**/*.h5"``, a path, or a sequence of them.
    out
        Write the table here (``.csv``, or ``.parquet`` with pyarrow); None keeps it in memory
        (:meth:`BatchResult.table`).
    workers
        Local worker processes (default: the usable cores, at most one per file); 0 runs every
        file in this process. Not with ``scheduler``.
    scheduler
        A Dask distributed scheduler address (``"tcp://host:port"``) or a connected
        ``distributed.Client`` (left open); the files run on that cluster.
    progress
        Called as ``progress(done, total, path)`` after each file.
    **analyze_options
        Passed to :func:`~myoflow.reports.analyze.analyze` for every file (``exercise``,
        ``angle_source``, ``mains_hz``, ``rep_options``, ...).

    Raises
    ------
    ValueError
        Invalid arguments, or no file matches.
    ImportError
        ``.parquet`` without pyarrow, or ``scheduler`` without dask distributed.
    """
    options = _check_options(analyze_options)
    out_path = None if out is None else Path(out)
    if out_path is not None:
        check_option(out_path.suffix.lower(), "out (file suffix)", OUTPUT_SUFFIXES)
        if not out_path.parent.is_dir():
            raise ValueError(f"out: the folder of {str(out_path)!r} does not exist")
        if out_path.suffix.lower() == ".parquet":
            _pyarrow()
    if workers is not None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
            raise ValueError(f"workers must be an integer >= 0 (0: in this process), got {workers!r}")
        if scheduler is not None:
            raise ValueError(f"give workers ({workers}) or scheduler ({scheduler!r}), not both")
    if scheduler is not None and not (
        isinstance(scheduler, str) and scheduler or hasattr(scheduler, "submit")
    ):
        raise ValueError(f"scheduler must be an address ('tcp://host:8786') or a Client, got {scheduler!r}")
    files = expand_paths(paths_or_glob)
    if not files:
        raise ValueError(f"no recordings match {paths_or_glob!r}")
    jobs = [(f, options) for f in files]
    t0 = time.perf_counter()
    if scheduler is not None:
        runner = f"dask {scheduler if isinstance(scheduler, str) else scheduler.scheduler.address}"
        results = run_dask(analyze_file, jobs, scheduler)
    else:
        n = min(_usable_cores() if workers is None else workers, len(files))
        runner = "this process" if n == 0 else f"{n} local process{'es' if n > 1 else ''}"
        results = run_inline(analyze_file, jobs) if n == 0 else run_local(analyze_file, jobs, n)
    spool = _Spool(len(files))
    failures: dict[int, tuple[str, str]] = {}
    no_reps: dict[int, str] = {}
    try:
        for done, (i, res) in enumerate(results, start=1):
            if isinstance(res, BaseException):
                failures[i] = (files[i], f"{type(res).__name__}: {res}")
            elif res.error is not None:
                failures[i] = (files[i], res.error)
            else:
                spool.add(i, res)
                if not res.rows:
                    no_reps[i] = files[i]
            if progress is not None:
                progress(done, len(files), files[i])
        columns = spool.columns()
        table = None
        if out_path is None:
            table = {c: [] for c in columns}
            for row in spool.rows():
                for c in columns:
                    table[c].append(row.get(c))
        else:
            _write(out_path, columns, spool)
    finally:
        spool.close()
    return BatchResult(
        files=files,
        columns=columns,
        n_rows=spool.n_rows,
        failures=[failures[i] for i in sorted(failures)],
        no_reps=[no_reps[i] for i in sorted(no_reps)],
        out=out_path,
        elapsed_s=time.perf_counter() - t0,
        runner=runner,
        _table=table,
    )


def _check_options(options: dict[str, Any]) -> dict[str, Any]:
    """``analyze`` keyword arguments, checked once here rather than failing in every file."""
    from myoflow.reports.analyze import ANGLE_SOURCES, analyze

    allowed = [
        p for p in inspect.signature(analyze).parameters if p not in ("recording_or_path", "keep_signals")
    ]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"unknown analyze option(s) {unknown}; allowed: {', '.join(allowed)}")
    if "angle_source" in options:
        check_option(options["angle_source"], "angle_source", ANGLE_SOURCES)
    if "angle_sign" in options:
        check_option(options["angle_sign"], "angle_sign", (None, 1, -1))
    return dict(options)


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# ---------------------------------------------------------------------------- the table


class _Spool:
    """Each file's rows on disk (one JSON array per file) until the batch ends; the order
    and column signature of each file are kept in memory (a few numbers per file)."""

    def __init__(self, n_files: int) -> None:
        self._f = tempfile.TemporaryFile("w+b", prefix="myoflow-batch-")
        self._where: list[tuple[int, int, int] | None] = [None] * n_files
        self._signatures: dict[tuple[str, ...], int] = {}
        self.n_rows = 0
        self.text_columns: set[str] = set()

    def add(self, index: int, res: FileResult) -> None:
        data = json.dumps(res.rows).encode()
        self._f.seek(0, io.SEEK_END)
        offset = self._f.tell()
        self._f.write(data)
        sig = self._signatures.setdefault(res.columns, len(self._signatures))
        self._where[index] = (offset, len(data), sig)
        self.n_rows += len(res.rows)
        for row in res.rows:
            self.text_columns.update(c for c, v in zip(res.columns, row, strict=True) if isinstance(v, str))

    def columns(self) -> list[str]:
        """The union of the files' columns, in input order."""
        by_id = {sig: cols for cols, sig in self._signatures.items()}
        out = dict.fromkeys(LEADING_COLUMNS)
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
        self._f.close()


def _write(path: Path, columns: list[str], spool: _Spool) -> None:
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


def _write_parquet(path: Path, columns: list[str], spool: _Spool) -> None:
    pa, pq = _pyarrow()
    text = _STR_COLUMNS | spool.text_columns

    def kind(c: str) -> Any:
        if c in text:
            return pa.string()
        return pa.int64() if c in _INT_COLUMNS or c.endswith(_INT_SUFFIXES) else pa.float64()

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


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ImportError(PYARROW_MISSING) from None
    return pyarrow, pyarrow.parquet


def read_table(path: str | os.PathLike[str]) -> dict[str, list[Any]]:
    """A table written by :func:`batch_analyze` (CSV or Parquet) as ``{column: values}``, with
    the same values (None for missing, int counts and flags, float metrics, str text)."""
    path = Path(path)
    check_option(path.suffix.lower(), "path (file suffix)", OUTPUT_SUFFIXES)
    if path.suffix.lower() == ".parquet":
        _, pq = _pyarrow()
        return pq.read_table(path).to_pydict()
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        cols: list[list[Any]] = [[] for _ in header]
        for row in reader:
            for values, c, v in zip(cols, header, row, strict=True):
                values.append(_parse(c, v))
    return dict(zip(header, cols, strict=True))
