"""Reports from recordings: read a recording, run the analysis, render the results.

This package sits above both :mod:`myoflow.analysis` (the metrics, which know no files) and
:mod:`myoflow.storage` (the recordings, which know no metrics); :func:`plot_report` and
:func:`plot_reps` draw with matplotlib (``pip install 'myoflow[plot]'``). ``analyze`` is also
:func:`myoflow.analyze`. The names below are the public API (docs/python-api.md), imported on
first use; the modules behind them are internal (``_analyze`` is private so that
``from myoflow.reports import analyze`` gives the function, not a module).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from myoflow._lazy import lazy_exports

__all__ = [
    "ANGLE_SOURCES",
    "BatchResult",
    "LEADING_COLUMNS",
    "NothingToAnalyse",
    "analysed_bids",
    "analysed_nwb",
    "analyze",
    "batch_analyze",
    "expand_paths",
    "plot_progress",
    "plot_report",
    "plot_reps",
    "read_table",
    "session_findings",
    "track_progress",
    "write_pdf_report",
]

if TYPE_CHECKING:
    from myoflow.reports._analyze import ANGLE_SOURCES, NothingToAnalyse, analyze
    from myoflow.reports.batch import LEADING_COLUMNS, BatchResult, batch_analyze, expand_paths, read_table
    from myoflow.reports.exports import analysed_bids, analysed_nwb
    from myoflow.reports.findings import session_findings
    from myoflow.reports.pdf import write_pdf_report
    from myoflow.reports.plot import plot_report, plot_reps
    from myoflow.reports.progress import plot_progress, track_progress

__getattr__, __dir__ = lazy_exports(__name__, __file__)
