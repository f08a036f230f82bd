"""Pictures of an analysed session: PNG, PDF or SVG (matplotlib, headless).

:func:`plot_report` draws the **session view**, stacked panels on one time axis (session
seconds):

1. **EMG envelopes** of every channel in the session's level unit (% MVC or % session peak),
   each rep's **relaxation window** (bottom window) shaded green when every muscle relaxed in
   it and red when one did not, each rep's number above it (red and bold when a muscle stayed
   tense), and each rep's **crossover** (glute share rising through 0.5) as a dashed line;
2. **movement angle** (hip flexion, segment or knee angle; larger = the rest position), or the
   mean envelope without one, with the **phases** shaded: concentric, top hold, eccentric,
   bottom rest;
3. **glute share** ``G / (G + H)`` with the 0.5 line, when glute and hamstring channels exist.

Long sessions wrap: every :data:`REPS_PER_ROW` reps start a new row of panels, so 60 reps stay
as readable as 6. The **MVC calibration** contractions a recording may start with (``calibration``
events, label ``mvc_contraction``) get a strip of their own with its own scale, each labelled
with its muscle; they are left out of the session's scale and rows. The legend sits above the
panels, outside them.

:func:`plot_reps` draws the **per-rep view**: one small panel per rep (envelopes from 0.5 s
before its movement onset to its end, phases shaded, the bottom window marked by its verdict,
the crossover dashed), all on one scale, titled with the rep's verdict.

The format follows the file's extension (``.png``, ``.pdf``, ``.svg``); matplotlib comes with
``pip install 'myoflow[plot]'``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from myoflow.analysis.report import Report, Signals
from myoflow.reports.figures import DPI, check_format, legend_outside, new_figure, save_figure
from myoflow.reports.plot_draw import (
    CalibrationSpan,
    draw_angle,
    draw_calibration,
    draw_envelopes,
    draw_glute_share,
    draw_rep_panel,
    envelope_top,
    glute_share,
    legend_entries,
)

__all__ = ["REPS_PER_ROW", "calibration_spans", "plot_report", "plot_reps", "report_signals", "session_rows"]

#: Reps per row of the session view.
REPS_PER_ROW = 12


def report_signals(report: Report, recording: Any = None) -> Signals:
    """The report's envelopes and angle, recomputed from ``recording`` when it kept none."""
    if report.signals is not None:
        return report.signals
    if recording is None:
        raise ValueError("the report holds no signals (keep_signals=False): pass the recording to plot it")
    from myoflow.reports._analyze import analyze

    signals = analyze(recording, exercise=report.source.get("exercise")).signals
    assert signals is not None
    return signals


def calibration_spans(report: Report, recording: Any = None) -> list[CalibrationSpan]:
    """The MVC calibration contractions of the recording, in session seconds.

    Read from ``recording`` (a path or an opened recording), else from the report's source file
    when it still exists; empty when there are none or the file cannot be read.
    """
    from myoflow.storage.reader import open_recording
    from myoflow.storage.schema import RecordingError

    t0 = report.source.get("t0_host_s")
    if t0 is None:
        return []
    src = recording if recording is not None else report.source.get("file")
    if src is None:
        return []
    events: list[Any] = []
    if isinstance(src, (str, os.PathLike)):
        if not Path(src).is_file():
            return []
        try:
            with open_recording(src) as rec:
                events = list(rec.events)
        except (RecordingError, OSError):
            return []
    else:
        events = list(getattr(src, "events", []))
    spans = []
    for ev in events:
        if ev.kind == "calibration" and ev.label == "mvc_contraction" and isinstance(ev.data, dict):
            start = float(ev.time) - float(t0)
            dur = float(ev.data.get("contraction_s", 0.0) or 0.0)
            spans.append(CalibrationSpan(start, start + dur, str(ev.data.get("muscle", "?"))))
    return spans


def session_rows(
    report: Report, signals: Signals, spans: list[CalibrationSpan], per_row: int = REPS_PER_ROW
) -> list[tuple[float, float, list[int]]]:
    """Each row of the session view: its span (s) and the indices of its ``per_row`` reps.

    Rows start after the last calibration contraction.
    """
    duration = signals.envelope.shape[0] / signals.emg_fs
    after = max((s.end_s for s in spans), default=0.0)
    reps = report.reps
    if not reps:
        return [(after, duration, [])]
    rows = []
    for k in range(0, len(reps), per_row):
        chunk = reps[k : k + per_row]
        t0 = max(after, chunk[0].phases["start"] - 1.0) if k == 0 else chunk[0].phases["start"] - 0.3
        t1 = min(duration, chunk[-1].phases["end"] + 0.5)
        if k + per_row >= len(reps):
            t1 = max(t1, min(duration, chunk[-1].phases["end"] + 2.0))
        rows.append((t0, t1, [r.index for r in chunk]))
    return rows


def plot_report(
    report: Report,
    recording: Any = None,
    path: str | os.PathLike[str] = "report.png",
    width: int = 1600,
    per_row: int = REPS_PER_ROW,
) -> Path:
    """Draw the session view of ``report`` to a PNG, PDF or SVG file; returns its path.

    Parameters
    ----------
    report
        From :func:`myoflow.reports.analyze`.
    recording
        The recording (path or opened) to recompute the signals from when the report was made
        with ``keep_signals=False``, and to read its calibration events from; default: the
        report's source file.
    path
        File to write; its extension (``.png``, ``.pdf``, ``.svg``) chooses the format.
    width
        Picture width in pixels at 100 dpi (PNG; PDF and SVG get the same size in inches / 100).
    per_row
        Reps per row before the session view wraps.
    """
    check_format(path)
    signals = report_signals(report, recording)
    fig = session_figure(report, signals, calibration_spans(report, recording), width / DPI, per_row)
    return save_figure(fig, path)


def session_figure(
    report: Report,
    signals: Signals,
    spans: list[CalibrationSpan],
    width_in: float,
    per_row: int = REPS_PER_ROW,
) -> Any:
    """The session view as a matplotlib Figure (see the module docstring)."""
    rows = session_rows(report, signals, spans, per_row)
    has_share = glute_share(report, signals, 0, 1) is not None
    ratios: list[float] = [1.2] if spans else []
    for _ in rows:
        ratios += [3.0, 1.5] + ([1.0] if has_share else [])
    height = 0.6 + sum(ratios) * 0.75 * (1.0 if len(rows) == 1 else 0.8)
    fig = new_figure(width_in, max(height, 0.6 * width_in if len(rows) == 1 else 0.0))
    axes = fig.subplots(len(ratios), 1, gridspec_kw={"height_ratios": ratios})
    axes = list(axes) if len(ratios) > 1 else [axes]
    top = envelope_top(signals, spans)
    i = 0
    if spans:
        draw_calibration(axes[0], report, signals, spans)
        i = 1
    for r, (t0, t1, numbered) in enumerate(rows):
        env_ax, angle_ax = axes[i], axes[i + 1]
        draw_envelopes(env_ax, report, signals, t0, t1, top, numbered)
        draw_angle(angle_ax, report, signals, t0, t1)
        group = [env_ax, angle_ax]
        if has_share:
            draw_glute_share(axes[i + 2], report, signals, t0, t1)
            group.append(axes[i + 2])
        for ax in group[:-1]:
            ax.sharex(group[-1])
            ax.tick_params(labelbottom=False)
        group[-1].set_xlabel("time (s)" if r == len(rows) - 1 else "", fontsize="small")
        for ax in group:
            ax.tick_params(labelsize="small")
        i += len(group)
    fig.suptitle(_title(report), fontsize="medium")
    legend_outside(fig, *legend_entries(report, has_share), ncols=6)
    return fig


def plot_reps(
    report: Report,
    recording: Any = None,
    path: str | os.PathLike[str] = "reps.png",
    ncols: int | None = None,
) -> Path:
    """Draw the per-rep view of ``report`` (one panel per rep) to a PNG, PDF or SVG file.

    Parameters
    ----------
    report, recording
        As in :func:`plot_report`.
    path
        File to write; its extension chooses the format.
    ncols
        Panels per row; default 4 up to 12 reps, 6 up to 36, else 10.

    Raises
    ------
    ValueError
        The report has no rep.
    """
    check_format(path)
    if not report.reps:
        raise ValueError(f"{report.source.get('file')}: no rep to draw (the report found none)")
    signals = report_signals(report, recording)
    fig = reps_figure(report, signals, calibration_spans(report, recording), ncols)
    return save_figure(fig, path)


def reps_figure(
    report: Report, signals: Signals, spans: list[CalibrationSpan], ncols: int | None = None
) -> Any:
    """The per-rep view as a matplotlib Figure."""
    reps = report.reps
    n = len(reps)
    ncols = ncols or (4 if n <= 12 else 6 if n <= 36 else 10)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = new_figure(2.7 * ncols, 1.0 + 1.9 * nrows)
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    top = envelope_top(signals, spans)
    unit = report.metrics.context.unit if report.metrics is not None else ""
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.set_visible(False)
            continue
        draw_rep_panel(ax, report, signals, reps[k], top)
        if k % ncols == 0:
            ax.set_ylabel(unit, fontsize="x-small")
        if k // ncols == nrows - 1 or k + ncols >= n:
            ax.set_xlabel("s from movement onset", fontsize="x-small")
    # one time scale for all panels: the longest rep but the last (which runs to the end of the file)
    longest = max(r.phases["end"] - r.phases["start"] for r in (reps[:-1] or reps))
    axes[0, 0].set_xlim(-0.5, longest)
    fig.suptitle(_title(report) + " - one panel per rep", fontsize="medium")
    has_share = glute_share(report, signals, 0, 1) is not None
    legend_outside(fig, *legend_entries(report, has_share), ncols=min(ncols + 2, 8))
    return fig


def _title(report: Report) -> str:
    src = report.source
    name = Path(str(src.get("file", ""))).name
    n_sets, kind = (
        (len(report.metrics.sets), report.metrics.rep_kind) if report.metrics is not None else (0, "rep")
    )
    return f"{name}  {src.get('exercise') or ''}  ({len(report.reps)} {kind}s in {n_sets} set(s))"
