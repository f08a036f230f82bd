"""Small matplotlib helpers shared by the offline pictures (plots, the PDF report, progress).

Everything here draws on :class:`matplotlib.figure.Figure` objects made by :func:`new_figure`:
no ``pyplot``, no global backend state, no display. A figure is written by :func:`save_figure`,
which picks the format from the file's extension (PNG, PDF or SVG) and renders it with
matplotlib's own headless backends (Agg for PNG, its PDF and SVG writers for the others).

matplotlib comes with ``pip install 'myoflow[plot]'``; it is imported only when a figure is
made, so ``import myoflow`` stays light.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "CHANNEL_COLOURS",
    "FORMATS",
    "PHASE_COLOURS",
    "VERDICT_COLOURS",
    "check_format",
    "legend_outside",
    "muscle_label",
    "new_figure",
    "save_figure",
    "shade_phases",
]

#: File extension -> matplotlib format name.
FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}
#: Phase -> fill colour (RGBA, 0-1).
PHASE_COLOURS = {
    "concentric": (0.90, 0.47, 0.16, 0.28),
    "top hold": (0.94, 0.78, 0.16, 0.28),
    "eccentric": (0.24, 0.51, 0.86, 0.28),
    "bottom rest": (0.59, 0.59, 0.59, 0.20),
}
#: One colour per EMG channel (colour-blind-safe Okabe-Ito order, then two more).
CHANNEL_COLOURS = ["#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999"]
#: Verdict -> colour of a relaxation window (relaxed / not relaxed).
VERDICT_COLOURS = {True: (0.24, 0.70, 0.35, 0.30), False: (0.85, 0.15, 0.15, 0.35)}
#: Pixels per inch of PNG output.
DPI = 100


def check_format(path: str | os.PathLike[str]) -> str:
    """The matplotlib format of ``path`` from its extension; ValueError naming it otherwise."""
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        raise ValueError(
            f"{path}: cannot tell the picture format from the extension {ext or '(none)'!r}; "
            f"use one of {', '.join(FORMATS)}"
        )
    return FORMATS[ext]


def new_figure(width_in: float, height_in: float) -> Any:
    """A :class:`matplotlib.figure.Figure` of this size (inches) with constrained layout.

    Raises :class:`~myoflow._extras.MissingExtraError` naming ``myoflow[plot]`` when
    matplotlib is not installed.
    """
    from myoflow._extras import require

    require("matplotlib", "plotting a report")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)  # a headless canvas: the figure can be drawn and measured without pyplot
    return fig


def save_figure(fig: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``fig`` to ``path`` as PNG, PDF or SVG (by extension); returns the path.

    The file is written next to its destination and renamed when complete, so a failed write
    leaves no half picture behind. OSError names the file.
    """
    fmt = check_format(path)
    out = Path(path)
    tmp = out.with_name(f".{out.name}.part")
    from matplotlib import rc_context

    try:
        # SVG and PDF keep their words as text (searchable, editable), not as drawn outlines
        with rc_context({"svg.fonttype": "none", "pdf.fonttype": 42}):
            fig.savefig(tmp, format=fmt, dpi=DPI, metadata=_metadata(fmt))
        os.replace(tmp, out)
    except OSError as exc:
        raise OSError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _metadata(fmt: str) -> dict[str, Any]:
    """Reproducible files: no creation date in PDF/SVG (same input, same bytes)."""
    if fmt == "pdf":
        return {"Creator": "myoflow", "CreationDate": None}
    if fmt == "svg":
        return {"Creator": "myoflow", "Date": None}
    return {"Software": "myoflow"}


def muscle_label(placement: str) -> str:
    """``glute_max_r`` -> ``glute max r`` (words a reader reads)."""
    return placement.replace("_", " ")


def shade_phases(ax: Any, phases: dict[str, float], alpha_scale: float = 1.0) -> None:
    """Shade one rep's concentric, top hold, eccentric and bottom rest spans on ``ax`` (seconds)."""
    spans = {
        "concentric": (phases["start"], phases["top"]),
        "top hold": (phases["top"], phases["eccentric"]),
        "eccentric": (phases["eccentric"], phases["bottom"]),
        "bottom rest": (phases["bottom"], phases["end"]),
    }
    for phase, (a, b) in spans.items():
        if b > a:
            r, g, bl, al = PHASE_COLOURS[phase]
            ax.axvspan(a, b, color=(r, g, bl, al * alpha_scale), lw=0, zorder=0)


def legend_outside(fig: Any, handles: Sequence[Any], labels: Sequence[str], ncols: int | None = None) -> Any:
    """One figure legend below all axes (constrained layout keeps it off the data)."""
    n = len(labels)
    return fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=ncols or min(n, 6),
        frameon=False,
        fontsize="small",
    )
