"""The printable session report: two A4 pages a coach hands over (matplotlib's PDF backend).

Page 1: who, what and when (subject, exercise, date, duration, reps and sets, level unit and
where the references came from), the plain-language findings
(:func:`~myoflow.reports.findings.session_findings`) and the rep table with its verdicts (range,
concentric time, crossover time and angle, stall, peak level per muscle, and the bottom-window
verdict). Sessions of more than :data:`TABLE_ROWS` reps list the reps with a finding and count
the others (every number per rep is in ``myoflow analyze --csv``).

Page 2: the pictures - envelopes with phases and relaxation windows for the first reps, the
handover per rep (crossover time, stalls), the relaxation per rep (lowest bottom-window level
against each muscle's rest threshold), the ensemble curves (mean +- SD of the concentric and
eccentric phases, time-normalised), and, when the report carries them, fatigue (median
frequency per rep) and left/right symmetry per rep.
"""

from __future__ import annotations

import os
import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from myoflow.analysis.report import Report, Signals
from myoflow.reports.figures import new_figure
from myoflow.reports.findings import muscle_name, session_findings
from myoflow.reports.pdf_panels import (
    draw_ensembles,
    draw_fatigue,
    draw_handover,
    draw_relaxation,
    draw_symmetry,
)
from myoflow.reports.plot import calibration_spans, report_signals, session_rows
from myoflow.reports.plot_draw import draw_angle, draw_envelopes, envelope_top, rep_verdict

__all__ = ["A4_IN", "TABLE_ROWS", "write_pdf_report"]

#: A4 portrait in inches.
A4_IN = (8.27, 11.69)
#: Rep table rows on page 1 at most; longer sessions list the reps with a finding.
TABLE_ROWS = 24


def write_pdf_report(
    report: Report, path: str | os.PathLike[str], recording: Any = None, title: str = "Session report"
) -> Path:
    """Write the two-page PDF report of ``report`` to ``path``; returns the path.

    Parameters
    ----------
    report
        From :func:`myoflow.reports.analyze` (with its signals, or pass ``recording``).
    path
        The ``.pdf`` file to write (written beside it and renamed when complete).
    recording
        The recording (path or opened) when the report kept no signals; also where the
        calibration events are read from (default: the report's source file).
    title
        Heading of page 1.
    """
    from matplotlib import rc_context
    from matplotlib.backends.backend_pdf import PdfPages

    out = Path(path)
    if out.suffix.lower() != ".pdf":
        raise ValueError(f"{out}: the report is a PDF; give a file name ending in .pdf")
    signals = report_signals(report, recording)
    pages = [
        summary_page(report, title),
        pictures_page(report, signals, calibration_spans(report, recording)),
    ]
    tmp = out.with_name(f".{out.name}.part")
    meta = {"Title": f"{title}: {Path(str(report.source.get('file'))).name}", "Creator": "myoflow"}
    try:
        with rc_context({"pdf.fonttype": 42}), PdfPages(tmp, metadata={**meta, "CreationDate": None}) as pdf:
            for fig in pages:
                pdf.savefig(fig)
        os.replace(tmp, out)
    except OSError as exc:
        raise OSError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _when(src: dict[str, Any]) -> str:
    utc = src.get("start_utc")
    if not utc:
        return "not recorded"
    try:
        return datetime.fromisoformat(str(utc)).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return str(utc)


def header_lines(report: Report) -> list[tuple[str, str]]:
    """``(label, value)`` rows of who, what and when."""
    src, m = report.source, report.metrics
    norm = report.normalisation or {}
    refs = norm.get("references") or {}
    ref_src = sorted({str(r.get("source")) for r in refs.values()}) if refs else []
    unit = m.context.unit if m is not None else "-"
    duration = src.get("duration_s")
    n_sets = len(m.sets) if m is not None else 0
    kind = m.rep_kind if m is not None else "rep"
    return [
        ("Subject", str(src.get("subject_id") or "-")),
        ("Exercise", str(src.get("exercise") or "not given").replace("_", " ")),
        ("Recorded", _when(src)),
        ("Duration", "-" if duration is None else f"{float(duration):.0f} s"),
        ("Reps", f"{len(report.reps)} {kind}(s) in {n_sets} set(s)"),
        ("Levels", unit + (f" (references: {', '.join(ref_src)})" if ref_src else "")),
        ("Movement", str(report.movement.get("description") or "-")),
        ("File", Path(str(src.get("file") or "-")).name),
    ]


def table_rows(
    report: Report, limit: int = TABLE_ROWS
) -> tuple[list[str], list[list[str]], list[bool], str | None]:
    """Header, cell texts, per-row "has a finding" flags and a note on left-out reps."""
    names = report.placements
    has_hand = bool(report.reps) and report.reps[0].handover is not None
    head = ["Rep", "Set", "Range\n(deg)", "Concentric\n(s)"]
    if has_hand:
        head += ["Crossover\n(ms)", "at\n(deg)", "Stall\n(s)"]
    head += [f"Peak\n{k + 1}" for k in range(len(names))] + ["Bottom of the rep"]
    rows, flags = [], []
    for r in report.reps:
        tense = rep_verdict(r)
        h = r.handover
        flagged = (
            bool(tense) or r.partial or (h is not None and (h.crossover_s is None or h.stall is not None))
        )
        row = [str(r.index), str(r.set_index + 1), _n(r.rom_deg), _n(r.concentric_s, 2)]
        if has_hand:
            row += [
                _n(None if h is None else h.crossover_ms),
                _n(None if h is None else h.crossover_hip_deg),
                "-" if h is None or h.stall is None else f"{h.stall.duration_s:.1f}",
            ]
        row += [_n(r.muscles[m].peak_pct) for m in names]
        verdict = "relaxed" if not tense else "tense: " + ", ".join(str(names.index(m) + 1) for m in tense)
        row.append(verdict + (" (partial rep)" if r.partial else ""))
        rows.append(row)
        flags.append(flagged)
    note = None
    if len(rows) > limit:
        keep = [k for k, f in enumerate(flags) if f][:limit]
        left = len(rows) - len(keep)
        note = f"{left} other reps: every muscle relaxed, handover found, no stall (all reps: analyze --csv)"
        rows, flags = [rows[k] for k in keep], [flags[k] for k in keep]
    return head, rows, flags, note


def _n(v: float | None, digits: int = 0) -> str:
    if v is None or not np.isfinite(float(v)):
        return "-"
    return f"{float(v):.{digits}f}"


def summary_page(report: Report, title: str = "Session report") -> Any:
    """Page 1 as a matplotlib Figure (A4 portrait)."""
    fig = new_figure(*A4_IN)
    fig.set_layout_engine(None)
    y = 0.955
    fig.text(0.07, y, title, fontsize=18, fontweight="bold", va="top")
    fig.text(0.93, y, "myoflow", fontsize=9, color="0.4", ha="right", va="top")
    y -= 0.05
    for label, value in header_lines(report):
        fig.text(0.07, y, label, fontsize=9, color="0.35", va="top")
        fig.text(0.22, y, textwrap.shorten(value, 95), fontsize=9, va="top")
        y -= 0.019
    y -= 0.012
    fig.text(0.07, y, "Findings", fontsize=12, fontweight="bold", va="top")
    y -= 0.025
    for sentence in session_findings(report):
        lines = textwrap.wrap(sentence, 100)
        fig.text(0.085, y, "\u2022", fontsize=9, va="top")
        fig.text(0.10, y, "\n".join(lines), fontsize=9, va="top", linespacing=1.3)
        y -= 0.0165 * len(lines) + 0.005
    y -= 0.012
    fig.text(0.07, y, "Reps", fontsize=12, fontweight="bold", va="top")
    y -= 0.02
    names = report.placements
    unit = report.metrics.context.unit if report.metrics is not None else ""
    key = "; ".join(f"{k + 1} = {muscle_name(m)}" for k, m in enumerate(names))
    key_lines = textwrap.wrap(f"Peak in {unit}, muscle {key}.", 115)
    fig.text(0.07, y, "\n".join(key_lines), fontsize=7.5, color="0.3", va="top")
    y -= 0.014 * len(key_lines) + 0.006
    head, rows, flags, note = table_rows(report)
    if rows:
        row_h = 0.0165
        height = row_h * (len(rows) + 2)
        bottom = max(0.03, y - height)
        ax = fig.add_axes((0.07, bottom, 0.86, y - bottom))
        ax.axis("off")
        weights = [1.0, 1.0] + [1.7] * (len(head) - 3) + [3.6]
        widths = [w / sum(weights) for w in weights]
        table = ax.table(
            cellText=rows, colLabels=head, loc="upper center", cellLoc="center", colWidths=widths
        )
        table.auto_set_font_size(False)
        table.set_fontsize(7)
        table.scale(1.0, 1.0)
        for (r, _c), cell in table.get_celld().items():
            cell.set_linewidth(0.3)
            cell.set_height(row_h / (y - bottom) * (2.0 if r == 0 else 1.0))
            if r == 0:
                cell.set_facecolor("0.9")
            elif flags[r - 1]:
                cell.set_facecolor("#FBE3E3")
        y = bottom - 0.01
    if note:
        fig.text(0.07, max(0.015, y), note, fontsize=7.5, color="0.3", va="top")
    return fig


def pictures_page(report: Report, signals: Signals, spans: list[Any]) -> Any:
    """Page 2 as a matplotlib Figure (A4 portrait)."""
    fig = new_figure(*A4_IN)
    fat, sym = getattr(report, "fatigue", None), getattr(report, "symmetry", None)
    extra = (fat is not None and bool(fat.reps)) or (sym is not None and bool(sym.reps))
    ratios = [2.2, 1.0, 1.8, 1.9] + ([1.8] if extra else [])
    grid = fig.add_gridspec(len(ratios), 2, height_ratios=ratios)
    t0, t1, numbered = session_rows(report, signals, spans)[0]
    env_ax = fig.add_subplot(grid[0, :])
    draw_envelopes(env_ax, report, signals, t0, t1, envelope_top(signals, spans), numbered)
    env_ax.set_title(
        "Envelopes, bottom windows (green: relaxed, red: not) and crossovers (dashed)",
        fontsize=9,
        loc="left",
        pad=14,
    )
    env_ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=6.5, frameon=False)  # beside the axes
    env_ax.tick_params(labelsize=7, labelbottom=False)
    angle_ax = fig.add_subplot(grid[1, :], sharex=env_ax)
    draw_angle(angle_ax, report, signals, t0, t1)
    angle_ax.set_title("Phases: concentric, top hold, eccentric, bottom rest", fontsize=8, loc="left")
    angle_ax.set_xlabel("time (s)", fontsize=7)
    angle_ax.tick_params(labelsize=7)
    draw_handover(fig.add_subplot(grid[2, 0]), report)
    draw_relaxation(fig.add_subplot(grid[2, 1]), report)
    ensembles = getattr(report, "ensembles", None) or _ensembles(report, signals)
    draw_ensembles([fig.add_subplot(grid[3, 0]), fig.add_subplot(grid[3, 1])], report, ensembles)
    if extra:
        draw_fatigue(fig.add_subplot(grid[4, 0]), report, fat)
        draw_symmetry(fig.add_subplot(grid[4, 1]), report, sym)
    return fig


def _ensembles(report: Report, signals: Signals) -> dict[str, Any]:
    """Concentric and eccentric ensembles of the report's envelopes (its own rule, public function)."""
    from myoflow.analysis.ensemble import session_ensembles

    if not report.reps:
        return {}
    unit = report.metrics.context.unit if report.metrics is not None else ""
    return session_ensembles(signals.envelope, signals.emg_fs, report.placements, report.reps, unit)
