"""A PNG picture of an analysed session (pyqtgraph, drawn offscreen).

:func:`plot_report` draws three stacked panels on one time axis (session seconds):

1. **EMG envelopes** of every channel in the session's level unit (% MVC or % session peak),
   with each rep's **relaxation window** (bottom window) shaded green when every muscle
   relaxed in it and red when one did not, and each rep's **crossover** (glute share rising
   through 0.5) as a dashed vertical line;
2. **movement angle** (hip flexion, segment or knee angle; larger = the rest position) with
   the **phases** shaded: concentric, top hold, eccentric, bottom rest;
3. **glute share** ``G / (G + H)`` with the 0.5 line, when glute and hamstring channels exist
   (else the envelopes' sum of the prime movers).

Qt needs no display: the platform is set to ``offscreen`` unless a Qt application exists.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from myoflow.analysis.placement import channels_with_role
from myoflow.analysis.report import Report

#: Phase -> fill colour (RGBA).
PHASE_COLOURS = {
    "concentric": (230, 120, 40, 70),
    "top hold": (240, 200, 40, 70),
    "eccentric": (60, 130, 220, 70),
    "bottom rest": (150, 150, 150, 50),
}
CHANNEL_COLOURS = [(200, 40, 40), (30, 110, 200), (20, 150, 60), (150, 60, 180), (220, 130, 0), (0, 150, 160)]
MAX_POINTS = 6000


def plot_report(
    report: Report, recording: Any = None, path: str | os.PathLike[str] = "report.png", width: int = 1600
) -> Path:
    """Draw ``report`` to a PNG file and return its path.

    Parameters
    ----------
    report
        From :func:`myoflow.reports.analyze`.
    recording
        The recording (path or opened) to recompute the signals from when the report was made
        with ``keep_signals=False``; otherwise unused (may be None).
    path
        PNG file to write.
    width
        Image width in pixels (height is 0.6 x width).
    """
    signals = report.signals
    if signals is None:
        if recording is None:
            raise ValueError(
                "the report holds no signals (keep_signals=False): pass the recording to plot it"
            )
        from myoflow.reports._analyze import analyze

        signals = analyze(recording, exercise=report.source.get("exercise")).signals
    if "QT_QPA_PLATFORM" not in os.environ:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from myoflow._extras import require

    require("PySide6", "plotting a report")
    pg = require("pyqtgraph", "plotting a report")
    from pyqtgraph.exporters import ImageExporter

    app = pg.mkQApp()
    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    win = pg.GraphicsLayoutWidget()
    win.resize(int(width), int(0.6 * width))
    out = Path(path)
    try:
        _draw(win, pg, report, signals)
        win.show()
        app.processEvents()
        exporter = ImageExporter(win.scene())
        exporter.parameters()["width"] = int(width)
        if not exporter.export(str(out)) and not out.exists():
            raise OSError(f"pyqtgraph could not write {out}")
    finally:
        win.close()
        win.deleteLater()
        app.processEvents()
    return out


def _draw(win: Any, pg: Any, report: Report, signals: Any) -> None:
    names = report.placements
    fs = signals.emg_fs
    env = signals.envelope
    step = max(1, env.shape[0] // MAX_POINTS)
    t = np.arange(0, env.shape[0], step) / fs
    unit = report.metrics.context.unit if report.metrics is not None else ""
    src = report.source
    title = f"{Path(str(src.get('file', ''))).name}  {src.get('exercise') or ''}  ({len(report.reps)} reps)"
    p1 = win.addPlot(row=0, col=0, title=title)
    p1.setLabel("left", f"envelope ({unit})")
    p1.addLegend(offset=(-10, 5), brush=pg.mkBrush(255, 255, 255, 200))
    top = float(np.nanpercentile(env, 99.5)) * 1.1 if np.isfinite(env).any() else 1.0
    for c, name in enumerate(names):
        colour = CHANNEL_COLOURS[c % len(CHANNEL_COLOURS)]
        p1.plot(t, np.nan_to_num(env[::step, c]), pen=pg.mkPen(colour, width=2), name=name)
    for r in report.reps:
        ok = all(rel.relaxed for rel in r.relaxation.values())
        a, b = next(iter(r.relaxation.values())).window_s
        colour = (60, 200, 90, 70) if ok else (230, 50, 50, 80)
        p1.addItem(pg.LinearRegionItem((a, b), movable=False, brush=pg.mkBrush(colour), pen=pg.mkPen(None)))
        if r.handover is not None and r.handover.crossover_s is not None:
            line = pg.InfiniteLine(
                r.handover.crossover_s,
                angle=90,
                pen=pg.mkPen((0, 0, 0), width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
            )
            p1.addItem(line)
    p1.setYRange(0, top)
    p2 = win.addPlot(row=1, col=0)
    p2.setXLink(p1)
    desc = report.movement.get("description") or ""
    if signals.angle is not None and signals.angle_fs:
        ang = signals.angle
        astep = max(1, ang.size // MAX_POINTS)
        p2.plot(
            np.arange(0, ang.size, astep) / signals.angle_fs, ang[::astep], pen=pg.mkPen((0, 0, 0), width=2)
        )
        p2.setLabel("left", "angle (deg)")
    else:
        drive = np.nanmean(env[::step], axis=1)
        p2.plot(t, np.nan_to_num(drive), pen=pg.mkPen((0, 0, 0), width=2))
        p2.setLabel("left", f"mean envelope ({unit})")
    p2.setTitle(desc, size="9pt")
    for r in report.reps:
        ph = r.phases
        spans = {
            "concentric": (ph["start"], ph["top"]),
            "top hold": (ph["top"], ph["eccentric"]),
            "eccentric": (ph["eccentric"], ph["bottom"]),
            "bottom rest": (ph["bottom"], ph["end"]),
        }
        for phase, (a, b) in spans.items():
            if b > a:
                brush = pg.mkBrush(PHASE_COLOURS[phase])
                p2.addItem(pg.LinearRegionItem((a, b), movable=False, brush=brush, pen=pg.mkPen(None)))
    legend = p2.addLegend(offset=(-10, 5), brush=pg.mkBrush(255, 255, 255, 200), colCount=4)
    for phase, colour in PHASE_COLOURS.items():
        legend.addItem(pg.BarGraphItem(x=[0], height=[0], width=0, brush=pg.mkBrush(colour)), phase)
    glute, hams = channels_with_role(names, "glute"), channels_with_role(names, "hamstring")
    if glute and hams:
        p3 = win.addPlot(row=2, col=0)
        p3.setXLink(p1)
        g, h = np.nanmean(env[::step, glute], axis=1), np.nanmean(env[::step, hams], axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(g + h > 0, g / (g + h), np.nan)
        p3.plot(t, np.nan_to_num(share, nan=0.5), pen=pg.mkPen((120, 40, 160), width=2))
        p3.addItem(
            pg.InfiniteLine(0.5, angle=0, pen=pg.mkPen((120, 120, 120), style=pg.QtCore.Qt.PenStyle.DashLine))
        )
        p3.setYRange(0, 1)
        p3.setLabel("left", "glute share")
        for r in report.reps:
            if r.handover is not None and r.handover.crossover_s is not None:
                p3.addItem(
                    pg.InfiniteLine(r.handover.crossover_s, angle=90, pen=pg.mkPen((0, 0, 0), width=1))
                )
        win.ci.layout.setRowStretchFactor(0, 3)
        win.ci.layout.setRowStretchFactor(1, 2)
        win.ci.layout.setRowStretchFactor(2, 1)
        p3.setLabel("bottom", "time (s)")
    else:
        p2.setLabel("bottom", "time (s)")
