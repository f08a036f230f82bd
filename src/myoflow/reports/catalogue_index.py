"""Fill the session catalogue (:mod:`myoflow.storage.catalogue`) with analysed recordings.

:func:`update_catalogue` brings a folder's catalogue up to date: rows of deleted files are
dropped; added or changed files are analysed (:func:`myoflow.reports.analyze`, no signals
kept), in parallel in local worker processes when there are several (the batch's runner,
:mod:`myoflow.reports._batch_run`), and stored in one transaction per file batch. Each row's
``metrics`` holds ``summary`` (:meth:`~myoflow.analysis.report.Report.summary`), ``reps``
(:func:`~myoflow.analysis.trials.rep_summaries`, the repeats that give the measurement error)
and ``level_unit``; NaN is stored as null. A file that cannot be analysed is stored with its
error and not retried until it changes.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from myoflow.storage.catalogue import Catalogue, Entry, FileKey

__all__ = ["INDEX_VERSION", "CatalogueUpdate", "index_file", "open_catalogue", "update_catalogue"]

#: Rows made by another value are stale: bump it when what :func:`index_file` stores changes;
#: myoflow's version, the report's schema and the analysis code's fingerprint are part of it.
INDEX_VERSION = "index-1"

_INLINE_BELOW = 3  # fewer new files than this are analysed in this process (no pool start-up)


@dataclass(frozen=True)
class CatalogueUpdate:
    """What :func:`update_catalogue` did: rows indexed, dropped and kept, failures among the
    indexed, why the file was rebuilt (None if it was not), and the wall time in s."""

    indexed: int
    dropped: int
    unchanged: int
    failed: int
    rebuilt: str | None
    in_memory: bool
    elapsed_s: float


#: The packages whose code makes the numbers: a change in any of their files makes every row
#: stale, also between releases (a source checkout, an edited install).
_ANALYSIS_CODE = ("analysis", "dsp", "exercises", "reports", "storage")


def _version() -> str:
    """myoflow's version, the report schema, :data:`INDEX_VERSION` and a fingerprint of the
    analysis code (SHA-1 of the ``.py`` files of :data:`_ANALYSIS_CODE`; a few ms)."""
    import hashlib

    from myoflow import __version__
    from myoflow.analysis.report import SCHEMA_VERSION

    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha1(usedforsecurity=False)
    for package in _ANALYSIS_CODE:
        for file in sorted((root / package).rglob("*.py")):
            digest.update(file.relative_to(root).as_posix().encode())
            digest.update(file.read_bytes())
    code = digest.hexdigest()[:12]
    return f"myoflow {__version__}, report schema {SCHEMA_VERSION}, {INDEX_VERSION}, code {code}"


def open_catalogue(folder: str | os.PathLike[str], pattern: str = "**/*.h5") -> Catalogue:
    """The catalogue of ``folder`` for this myoflow (rebuilt when made by another version)."""
    return Catalogue(folder, _version(), pattern=pattern)


def index_file(folder: str, key: FileKey) -> Entry:
    """Analyse one recording of ``folder`` into a catalogue row; errors become the row's error."""
    from myoflow.analysis.trials import rep_summaries
    from myoflow.reports._analyze import analyze

    path = str(Path(folder) / key.path)
    try:
        report = analyze(path, keep_signals=False)
    except Exception as exc:  # one bad file is a row with its error, not the end of the index
        msg = str(exc).removeprefix(f"{path}: ")
        return Entry(key, error=f"{type(exc).__name__}: {msg}")
    src = report.source
    metrics = {
        "summary": _clean(report.summary()),
        "reps": [_clean(r) for r in rep_summaries(report)],
        "level_unit": None if report.metrics is None else report.metrics.context.unit,
    }
    streams = tuple(src.get("emg_streams", ())) + tuple(src.get("movement_streams", ()))
    return Entry(
        key,
        subject=src.get("subject_id") or None,
        exercise=src.get("exercise") or None,
        start_utc=src.get("start_utc"),
        duration_s=_finite(src.get("duration_s")),
        streams=tuple(str(s) for s in streams),
        metrics=metrics,
    )


def update_catalogue(
    catalogue: Catalogue,
    *,
    workers: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> CatalogueUpdate:
    """Bring ``catalogue`` up to date with its folder (module docstring).

    Parameters
    ----------
    catalogue
        From :func:`open_catalogue`.
    workers
        Local worker processes for the new files (default: the usable cores); 0 analyses in
        this process. Fewer than 3 new files are always analysed in this process.
    progress
        Called as ``progress(done, total, path)`` after each analysed file.
    """
    from myoflow.reports._batch_run import run_inline, run_local
    from myoflow.reports.batch import _usable_cores

    t0 = time.perf_counter()
    plan = catalogue.plan()
    dropped = catalogue.drop(plan.removed) if plan.removed else 0
    jobs = [(str(catalogue.folder), key) for key in plan.to_index]
    n = min(_usable_cores() if workers is None else workers, len(jobs))
    results = (
        run_inline(index_file, jobs)
        if n == 0 or len(jobs) < _INLINE_BELOW
        else run_local(index_file, jobs, n)
    )
    pending: list[Entry] = []
    failed = 0
    for done, (i, res) in enumerate(results, start=1):
        key = plan.to_index[i]
        entry = res if isinstance(res, Entry) else Entry(key, error=f"{type(res).__name__}: {res}")
        failed += entry.error is not None
        pending.append(entry)
        if len(pending) >= 20:  # rows reach the file as they come: an interrupted build keeps them
            catalogue.store(pending)
            pending = []
        if progress is not None:
            progress(done, len(jobs), key.path)
    if pending:
        catalogue.store(pending)
    return CatalogueUpdate(
        indexed=len(jobs),
        dropped=dropped,
        unchanged=plan.unchanged,
        failed=failed,
        rebuilt=catalogue.rebuilt,
        in_memory=catalogue.in_memory,
        elapsed_s=time.perf_counter() - t0,
    )


def _finite(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _clean(summary: Mapping[str, float]) -> dict[str, float | None]:
    return {k: _finite(v) for k, v in summary.items()}
