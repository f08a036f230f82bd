"""Batch analysis: many recordings into one tidy table, ``batch_analyze(glob) -> BatchResult``.

Every file goes through :func:`myoflow.reports.analyze` (with ``keep_signals=False``) in
a worker, by :func:`analyze_file`, the same function wherever it runs:

* ``workers=N`` (default: the usable cores): a local :class:`~concurrent.futures.ProcessPoolExecutor`
  with the ``spawn`` start method (workers start clean, on every platform). A worker process that
  dies (a crash inside a library) takes the files it was running with it; those are rerun one
  at a time in a fresh process, and only the file that kills it again is reported as failed.
* ``workers=0``: one after another in this process (debugging, notebooks).
* ``scheduler="tcp://host:port"`` (or a ``distributed.Client``): on a Dask distributed cluster;
  myoflow must be installed on its workers.

The table has one row per rep: ``session`` (the file's path), ``subject``, ``exercise``,
``start_utc``, ``rep_kind``, ``mains_hz``, ``mains_source``, ``onset_method``, ``warnings``
(:data:`LEADING_COLUMNS`), then the columns of :meth:`~myoflow.analysis.report.Report.to_csv` (``rep``,
``set_index``, ..., per-muscle metrics), the union over all files in input order (a muscle a
file lacks is empty). Rows are in input order (sorted glob matches), reps in order, whatever
order the workers finish in. A file that cannot be analysed becomes an entry of
``BatchResult.failures`` and the batch goes on.

Memory stays bounded: at most ``2 x workers`` files are in flight, and each file's rows (a few
kB; no signals) go to a temporary spool file as they arrive; the output (CSV, or Parquet with
pyarrow) is written from the spool at the end, in input order, Parquet in row groups
(:mod:`myoflow.reports._batch_table`).
"""

from __future__ import annotations

import csv
import inspect
import io
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from myoflow._checks import check_option
from myoflow.reports._batch_run import run_dask, run_inline, run_local
from myoflow.reports._batch_table import Spool, parse_cell, pyarrow_modules, write_table

__all__ = [
    "LEADING_COLUMNS",
    "BatchResult",
    "FileResult",
    "analyze_file",
    "batch_analyze",
    "expand_paths",
    "read_table",
]

#: The columns every row starts with (the file's, repeated on each of its rows: where it came
#: from, whether its rows are reps or gait cycles, the mains frequency its notches used and
#: where that came from, the onset method, the report's warnings joined by " | "); the
#: report's CSV columns follow.
LEADING_COLUMNS = (
    "session",
    "subject",
    "exercise",
    "start_utc",
    "rep_kind",
    "mains_hz",
    "mains_source",
    "onset_method",
    "warnings",
)
OUTPUT_SUFFIXES = (".csv", ".parquet")
_TEXT_COLUMNS = frozenset({*LEADING_COLUMNS, "level_unit"} - {"mains_hz"})


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

    def to_dataframe(self) -> Any:
        """:meth:`table` as a pandas DataFrame, one row per rep (``pip install 'myoflow[pandas]'``)."""
        from myoflow._extras import require

        pd = require("pandas", "BatchResult.to_dataframe")
        return pd.DataFrame(self.table(), columns=self.columns)

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
        Keyword arguments of :func:`~myoflow.reports.analyze` (not ``keep_signals``).
    """
    from myoflow.reports._analyze import analyze
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
    names = unit_columns(header, report.metrics.context.unit if report.metrics else None)
    src, m = report.source, report.metrics
    lead = (
        path,
        src.get("subject_id") or None,
        src.get("exercise") or None,
        src.get("start_utc"),
        "rep" if m is None else m.rep_kind,
        report.mains.get("mains_hz"),
        report.mains.get("source"),
        None if m is None else m.context.params.onset_method,
        " | ".join(report.warnings) or None,
    )
    rows = tuple(
        lead + tuple(parse_cell(c, v, _TEXT_COLUMNS) for c, v in zip(header, r, strict=True)) for r in reader
    )
    return FileResult(path, (*LEADING_COLUMNS, *names), rows, None, time.perf_counter() - t0)


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
        Passed to :func:`~myoflow.reports.analyze` for every file (``exercise``,
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
            pyarrow_modules()
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
    spool = Spool(len(files), LEADING_COLUMNS, _TEXT_COLUMNS)
    failures: dict[int, tuple[str, str]] = {}
    no_reps: dict[int, str] = {}
    try:
        for done, (i, res) in enumerate(results, start=1):
            if isinstance(res, BaseException):
                failures[i] = (files[i], f"{type(res).__name__}: {res}")
            elif res.error is not None:
                failures[i] = (files[i], res.error)
            else:
                spool.add(i, res.columns, res.rows)
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
            write_table(out_path, columns, spool)
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
    from myoflow.analysis.normalisation import METHODS
    from myoflow.reports._analyze import ANGLE_SOURCES, analyze
    from myoflow.reports._mvc import trial_paths

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
    if "normalisation" in options:
        check_option(options["normalisation"], "normalisation", METHODS)
    if "mains_hz" in options:
        check_option(options["mains_hz"], "mains_hz", ("auto", 50, 60, None))
    for trial in trial_paths(options.get("mvc_from")):
        if not trial.is_file():
            raise ValueError(f"mvc_from: MVC trial file {trial} does not exist")
    return dict(options)


#: Level unit -> suffix of its level columns in a batch table (``% MVC`` keeps the plain name).
UNIT_SUFFIXES = {"% MVC": "", "% reference contraction": "_rvc", "% session peak": "_session_peak"}
#: Per-muscle columns whose values are in the session's level unit.
LEVEL_FIELDS = (".peak_pct", ".mean_pct", ".bottom_min_pct", ".threshold_pct")


def unit_columns(header: list[str], unit: str | None) -> list[str]:
    """``header`` with each level column renamed for ``unit`` (``glute_max_r.peak_pct`` ->
    ``glute_max_r.peak_pct_session_peak``), so one column never mixes two units."""
    suffix = UNIT_SUFFIXES.get(unit or "% MVC", "_" + "".join(c if c.isalnum() else "_" for c in unit or ""))
    if not suffix:
        return list(header)
    return [c + suffix if c.endswith(LEVEL_FIELDS) else c for c in header]


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def read_table(path: str | os.PathLike[str]) -> dict[str, list[Any]]:
    """A table written by :func:`batch_analyze` (CSV or Parquet) as ``{column: values}``, with
    the same values (None for missing, int counts and flags, float metrics, str text)."""
    path = Path(path)
    check_option(path.suffix.lower(), "path (file suffix)", OUTPUT_SUFFIXES)
    if path.suffix.lower() == ".parquet":
        _, pq = pyarrow_modules()
        return pq.read_table(path).to_pydict()
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        cols: list[list[Any]] = [[] for _ in header]
        for row in reader:
            for values, c, v in zip(cols, header, row, strict=True):
                values.append(parse_cell(c, v, _TEXT_COLUMNS))
    return dict(zip(header, cols, strict=True))
