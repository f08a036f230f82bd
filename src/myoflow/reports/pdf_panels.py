"""The per-rep and per-phase panels of the PDF report's second page (matplotlib axes in, nothing out).

Each function draws one small chart on the ``Axes`` it is given, titled so that it reads on its
own; a chart without data says so in words on the axes instead of staying blank.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np

from myoflow.analysis.report import Report
from myoflow.reports.figures import CHANNEL_COLOURS
from myoflow.reports.findings import muscle_name

__all__ = ["draw_ensembles", "draw_fatigue", "draw_handover", "draw_relaxation", "draw_symmetry"]


def _style(ax: Any, title: str, xlabel: str, ylabel: str) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # reps are whole numbers
    ax.set_title(title, fontsize=8, loc="left")
    ax.set_xlabel(xlabel, fontsize=7)
    ax.set_ylabel(ylabel, fontsize=7)
    ax.tick_params(labelsize=6.5)


def _empty(ax: Any, title: str, why: str) -> None:
    ax.set_title(title, fontsize=8, loc="left")
    text = textwrap.fill(why, 48)
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=7, color="0.4", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def draw_handover(ax: Any, report: Report) -> None:
    """Crossover time after movement onset per rep; reps without one and stalls marked."""
    title = "Handover per rep: hamstrings -> glutes"
    hands = [(r.index, r.handover) for r in report.reps if r.handover is not None]
    if not hands:
        _empty(ax, title, report.unavailable.get("handover", "no handover in this report"))
        return
    idx = np.array([i for i, _ in hands])
    ms = np.array([np.nan if h.crossover_ms is None else float(h.crossover_ms) for _, h in hands])
    ax.bar(idx, np.nan_to_num(ms), color="#6A3D9A", width=0.7)
    none = idx[~np.isfinite(ms)]
    if none.size:
        ax.plot(none, np.zeros(none.size), "x", color="#B00000", ms=6, clip_on=False)
    stall = [i for i, h in hands if h.stall is not None]
    top = float(np.nanmax(ms)) if np.isfinite(ms).any() else 1.0
    if stall:
        ax.plot(stall, [top * 1.08] * len(stall), "v", color="k", ms=5)
    ax.set_ylim(0, max(top, 1.0) * 1.15)
    _style(ax, title, "rep (x: no crossover; triangle: stall)", "crossover (ms after onset)")


def draw_relaxation(ax: Any, report: Report) -> None:
    """Lowest bottom-window level per rep and muscle, against each muscle's rest threshold."""
    reps = report.reps
    title = "Relaxation: lowest level at the bottom of each rep"
    if not reps:
        _empty(ax, title, "no rep")
        return
    idx = np.array([r.index for r in reps])
    n = len(report.placements)
    width = 0.8 / max(n, 1)
    for c, m in enumerate(report.placements):
        low = np.array([float(r.relaxation[m].bottom_min_pct) for r in reps])
        thr = np.array([float(r.relaxation[m].threshold_pct) for r in reps])
        colour = CHANNEL_COLOURS[c % len(CHANNEL_COLOURS)]
        x = idx - 0.4 + width * (c + 0.5)
        ax.bar(x, low, width=width, color=colour)
        ax.plot(x, thr, "_", color="k", ms=max(2.0, 30.0 / len(reps)), mew=1.0)
        tense = np.array([not r.relaxation[m].relaxed for r in reps])
        if tense.any():
            ax.plot(x[tense], low[tense] * 1.05 + 0.5, "o", mfc="none", mec="#B00000", ms=4)
    unit = report.metrics.context.unit if report.metrics is not None else ""
    _style(ax, title, "rep (bars: muscles; dash: rest threshold; circle: not relaxed)", unit)


def draw_ensembles(axes: Sequence[Any], report: Report, ensembles: dict[str, Any]) -> None:
    """Mean +- SD time-normalised curves of the concentric and eccentric phases, one line per muscle."""
    phases = [p for p in ("concentric", "eccentric", "cycle") if p in ensembles][: len(axes)]
    for k, ax in enumerate(axes):
        if k >= len(phases):
            _empty(ax, "Ensemble curves", "no phase to average")
            continue
        e = ensembles[phases[k]]
        title = f"{phases[k].capitalize()}: mean \u00b1 SD of {e.n_reps} reps"
        if e.n_reps == 0:
            _empty(ax, title, "no rep without lost samples")
            continue
        for c, _m in enumerate(e.placements):
            colour = CHANNEL_COLOURS[c % len(CHANNEL_COLOURS)]
            ax.plot(e.pct, e.mean[:, c], color=colour, lw=1.0)
            if e.n_reps > 1:
                ax.fill_between(
                    e.pct,
                    e.mean[:, c] - e.sd[:, c],
                    e.mean[:, c] + e.sd[:, c],
                    color=colour,
                    alpha=0.18,
                    lw=0,
                )
        ax.set_ylim(bottom=0)
        _style(ax, title, f"% of the {phases[k]} phase", e.unit)
        ax.set_xlim(0, 100)


def draw_fatigue(ax: Any, report: Report, fat: Any) -> None:
    """Median frequency per rep and muscle (``report.fatigue``), fatigue-flagged sets named."""
    title = "Fatigue: median frequency per rep"
    if fat is None or not fat.reps:
        _empty(ax, title, "not computed for this report")
        return
    for c, m in enumerate(report.placements):
        rows = [r for r in fat.reps if r.muscle == m]
        x = [r.rep for r in rows]
        y = [r.mdf_hz for r in rows]
        ax.plot(x, y, "o-", color=CHANNEL_COLOURS[c % len(CHANNEL_COLOURS)], ms=2.5, lw=0.8)
    flagged = sorted({f"set {s.set_index + 1}: {muscle_name(s.muscle)}" for s in fat.sets if s.fatigue})
    sub = "flagged " + "; ".join(flagged) if flagged else "no set flagged"
    _style(ax, f"{title} ({sub})", "rep", "median frequency (Hz)")


def draw_symmetry(ax: Any, report: Report, sym: Any) -> None:
    """Left/right symmetry index of the peaks per rep and pair (``report.symmetry``)."""
    title = "Symmetry index of the peaks, left vs right"
    if sym is None or not sym.reps:
        _empty(ax, title, "no muscle was recorded on both sides")
        return
    for k, (m, _l, _r) in enumerate(sym.pairs):
        rows = [r for r in sym.reps if r.muscle == m]
        vals = [r.si_peak_pct if math.isfinite(r.si_peak_pct) else np.nan for r in rows]
        ax.plot(
            [r.rep for r in rows],
            vals,
            "o-",
            ms=2.5,
            lw=0.8,
            color=CHANNEL_COLOURS[k % 8],
            label=muscle_name(m),
        )
    ax.axhline(0.0, color="0.5", lw=0.8, ls=":")
    ax.legend(fontsize=6, frameon=False)
    _style(ax, title, "rep", "SI (%; + left higher)")
