"""Exports that carry the analysis: NWB with trials and envelopes, EMG-BIDS with rep events.

The storage layer writes files and knows no metrics; these functions run
:func:`~myoflow.reports.analyze` on each recording and hand its JSON document (and, for NWB,
its envelopes and angle) to :func:`myoflow.storage.nwb.export_nwb` and
:func:`myoflow.storage.bids.export_bids`. A recording with nothing to analyse (no EMG
stream) is still exported, without the analysis, and ``warn`` is told why.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from myoflow.analysis.report import Report

__all__ = ["analysed_bids", "analysed_nwb", "processed_series"]


def processed_series(report: Report) -> list[dict[str, Any]]:
    """``report.signals`` as the ``processed`` items of :func:`~myoflow.storage.nwb.export_nwb`:
    ``envelope`` ``(n, ch)`` in the level unit and ``movement_angle`` (deg) when there is one."""
    sig = report.signals
    if sig is None:
        return []
    names = ", ".join(report.placements)
    unit = report.metrics.context.unit if report.metrics is not None else ""
    out: list[dict[str, Any]] = [
        {
            "name": "envelope",
            "data": sig.envelope,
            "rate": sig.emg_fs,
            "start_s": 0.0,
            "unit": unit,
            "description": f"zero-phase EMG envelope per channel in {unit}; columns: {names}",
            "comments": names,
        }
    ]
    if sig.angle is not None and sig.angle_fs:
        out.append(
            {
                "name": "movement_angle",
                "data": sig.angle,
                "rate": sig.angle_fs,
                "start_s": 0.0,
                "unit": "deg",
                "description": str(report.movement.get("description") or "movement angle"),
            }
        )
    return out


def _analyse(path: Any, keep_signals: bool, warn: Callable[[str], None] | None) -> Report | None:
    from myoflow.reports._analyze import NothingToAnalyse, analyze

    try:
        return analyze(path, keep_signals=keep_signals)
    except NothingToAnalyse as exc:
        if warn is not None:
            warn(f"{path}: exported without analysis ({exc})")
        return None


def analysed_nwb(
    recording: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    pseudonymise: Any = None,
    analyse: bool = True,
    warn: Callable[[str], None] | None = None,
) -> Path:
    """:func:`~myoflow.storage.nwb.export_nwb` with the analysed reps as trials, sets as epochs
    and the envelopes and angle as processed data (``analyse=False``: the plain export)."""
    from myoflow.storage.nwb import export_nwb

    report = _analyse(recording, True, warn) if analyse else None
    return export_nwb(
        recording,
        out,
        overwrite=overwrite,
        pseudonymise=pseudonymise,
        analysis=None if report is None else report.to_dict(),
        processed=[] if report is None else processed_series(report),
    )


def analysed_bids(
    recordings: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    analyse: bool = True,
    warn: Callable[[str], None] | None = None,
    **options: Any,
) -> list[Path]:
    """:func:`~myoflow.storage.bids.export_bids` with one ``rep`` event per analysed rep
    (``options``: ``subject``, ``task``, ``fmt``, ``overwrite``, ``pseudonymise``)."""
    from myoflow.storage.bids import export_bids

    analyses: dict[str, Any] = {}
    if analyse:
        for path in recordings:
            report = _analyse(path, False, warn)
            if report is not None:
                analyses[str(path)] = report.to_dict()
    return export_bids(recordings, out, analyses=analyses, **options)
