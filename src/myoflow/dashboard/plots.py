"""The plots: one lane per muscle, the raw EMG lane on demand, the hip angle with its phases.

All of it lives in one :class:`pyqtgraph.GraphicsLayoutWidget` (one view to paint). Every
curve, band, threshold line and phase region is created once in :meth:`PlotsView.build`;
:meth:`PlotsView.show_frame` only calls ``setData`` / ``setRegion`` / ``setValue`` with the
model's already cut-down arrays. Axes ranges are fixed (no autoscale work per frame).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from myoflow.dashboard.model import PHASES, Frame

__all__ = ["LANE_COLOURS", "PHASE_COLOURS", "PlotsView"]

#: Curve colour per lane (RGB), cycled.
LANE_COLOURS = (
    (230, 85, 13),
    (49, 130, 189),
    (49, 163, 84),
    (117, 107, 177),
    (214, 39, 40),
    (23, 190, 207),
    (188, 189, 34),
    (227, 119, 194),
)
#: Shading of each phase behind the hip angle (RGBA).
PHASE_COLOURS = {
    "concentric": (255, 170, 60, 70),
    "top": (60, 200, 90, 70),
    "eccentric": (80, 140, 255, 70),
    "bottom": (150, 150, 150, 60),
}
BACKGROUND = (250, 250, 250)
_MAX_SPANS = 32
_FONT_PX = 13
_TITLE_EVERY_S = 0.25  # lane titles (latest value) change at most this often: text layout is slow


def _curve(plot: pg.PlotItem, colour: tuple[int, ...]) -> pg.PlotDataItem:
    # 1-px pens: Qt's raster engine draws them on its fast path (2 px costs ~60 % more paint)
    curve = plot.plot(pen=pg.mkPen(colour, width=1))
    curve.setDownsampling(auto=True, method="peak")
    curve.setClipToView(True)
    return curve


def _set(curve: pg.PlotDataItem, x: np.ndarray, y: np.ndarray) -> None:
    finite = bool(np.isfinite(y).all())
    curve.setData(x, y, connect="all" if finite else "finite", skipFiniteCheck=finite)


class PlotsView(pg.GraphicsLayoutWidget):
    """Lanes, raw lane and angle plot (module docstring)."""

    def __init__(self, window_s: float = 10.0, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent=parent)
        self.setBackground(BACKGROUND)
        self.window_s = float(window_s)
        self.muscles: tuple[str, ...] = ()
        self.lanes: list[pg.PlotItem] = []
        self.curves: list[pg.PlotDataItem] = []
        self.bands: list[pg.LinearRegionItem] = []
        self.thresholds: list[pg.InfiniteLine] = []
        self.raw_plot: pg.PlotItem | None = None
        self.raw_curve: pg.PlotDataItem | None = None
        self.angle_plot: pg.PlotItem | None = None
        self.angle_curve: pg.PlotDataItem | None = None
        self.lockout: pg.InfiniteLine | None = None
        self.regions: list[pg.LinearRegionItem] = []
        self._unit = ""
        self._raw_muscle: str | None = None
        #: (time.monotonic() when a paint finished, ``emg_newest_s`` of the frame it showed)
        self.paint_log: deque[tuple[float, float | None]] = deque(maxlen=4096)
        self._shown_newest: float | None = None
        self._titled_at = -1.0

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 - Qt's name
        """Paint, then note when and which data (for the latency benchmark)."""
        super().paintEvent(event)
        self.paint_log.append((time.monotonic(), self._shown_newest))

    def _plot(self, row: int, title: str, y_range: tuple[float, float], label: str) -> pg.PlotItem:
        plot = self.addPlot(row=row, col=0)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setXRange(-self.window_s, 0.0, padding=0)
        plot.setYRange(*y_range, padding=0.02)
        plot.setLabel("left", label)
        plot.setTitle(title, size=f"{_FONT_PX}px", color="#333")
        plot.showGrid(x=True, y=False, alpha=0.2)
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setTextPen("#444")
            plot.getAxis(axis).setPen("#888")
        return plot

    def build(self, muscles: Sequence[str], unit: str, band: tuple[float, float], angle_label: str) -> None:
        """Create the lanes for ``muscles`` once (again only if the muscles change)."""
        self.clear()
        self.muscles, self._unit = tuple(muscles), unit
        self.lanes, self.curves, self.bands, self.thresholds, self.regions = [], [], [], [], []
        for j, muscle in enumerate(self.muscles):
            plot = self._plot(j, muscle, (0.0, 120.0), "%")
            colour = LANE_COLOURS[j % len(LANE_COLOURS)]
            region = pg.LinearRegionItem(
                values=band,
                orientation="horizontal",
                movable=False,
                brush=pg.mkBrush(60, 180, 90, 45),
                pen=pg.mkPen(60, 160, 90, 90),
            )
            region.setZValue(-10)
            plot.addItem(region)
            line = pg.InfiniteLine(angle=0, pen=pg.mkPen((90, 90, 90), width=1, style=QtCore.Qt.DashLine))
            line.setVisible(False)
            plot.addItem(line)
            self.lanes.append(plot)
            self.bands.append(region)
            self.thresholds.append(line)
            self.curves.append(_curve(plot, colour))
            if j < len(self.muscles) - 1:
                plot.hideAxis("bottom")
        row = len(self.muscles)
        self.raw_plot = self._plot(row, "raw EMG", (-1000.0, 1000.0), "uV")
        self.raw_curve = _curve(self.raw_plot, (70, 70, 70))
        self.raw_plot.setVisible(False)
        self.angle_plot = self._plot(row + 1, angle_label, (-20.0, 90.0), "deg")
        self.angle_plot.setLabel("bottom", "s")
        # up is up: hip flexion falls as the hips rise, so the axis runs downwards
        self.angle_plot.getViewBox().invertY(True)
        self.angle_plot.setLabel("left", "flexion deg (up = extension)")
        self.lockout = pg.InfiniteLine(
            angle=0,
            pen=pg.mkPen((20, 20, 20), width=1, style=QtCore.Qt.DashLine),
            label="lockout",
            labelOpts={"position": 0.03, "color": "#333", "anchors": [(0, 1), (0, 1)]},
        )
        self.lockout.setVisible(False)
        self.angle_plot.addItem(self.lockout)
        for _ in range(_MAX_SPANS):
            region = pg.LinearRegionItem(values=(0, 0), movable=False, pen=pg.mkPen(None))
            region.setZValue(-10)
            region.setVisible(False)
            self.angle_plot.addItem(region)
            self.regions.append(region)
        self.angle_curve = _curve(self.angle_plot, (20, 20, 20))
        layout = self.ci.layout
        for j in range(len(self.muscles)):
            layout.setRowStretchFactor(j, 2)
        layout.setRowStretchFactor(row + 1, 3)

    def lane_rects(self) -> list[QtCore.QRect]:
        """Each lane's data area in this widget's pixel coordinates (for screenshot checks)."""
        out = []
        for plot in self.lanes:
            vb = plot.getViewBox()
            scene_rect = vb.mapRectToScene(vb.boundingRect())
            out.append(self.mapFromScene(scene_rect).boundingRect())
        return out

    def show_frame(self, frame: Frame) -> None:
        """Copy one :class:`~myoflow.dashboard.model.Frame` into the plot items."""
        self._shown_newest = frame.emg_newest_s
        now = time.monotonic()
        retitle = now - self._titled_at >= _TITLE_EVERY_S
        if retitle:
            self._titled_at = now
        for j, lane in enumerate(frame.lanes[: len(self.curves)]):
            _set(self.curves[j], lane.x, lane.y)
            band = self.bands[j]
            if lane.band is None:
                if band.isVisible():
                    band.setVisible(False)
            else:
                if band.getRegion() != lane.band:
                    band.setRegion(lane.band)
                if not band.isVisible():
                    band.setVisible(True)
            line = self.thresholds[j]
            if lane.threshold is None or not np.isfinite(lane.threshold):
                line.setVisible(False)
            else:
                line.setValue(lane.threshold)
                line.setVisible(True)
            if retitle:
                latest = "-" if not np.isfinite(lane.latest) else f"{lane.latest:.0f}"
                self.lanes[j].setTitle(
                    f"{lane.muscle}: {latest} {frame.unit}", size=f"{_FONT_PX}px", color="#333"
                )
        if self.raw_plot is not None and self.raw_curve is not None:
            if frame.raw is None:
                if self._raw_muscle is not None:
                    self.raw_plot.setVisible(False)
                    self._raw_muscle = None
            else:
                muscle, x, y = frame.raw
                if muscle != self._raw_muscle:
                    self._raw_muscle = muscle
                    self.raw_plot.setTitle(f"raw EMG: {muscle} (uV)", size=f"{_FONT_PX}px", color="#333")
                    self.raw_plot.setVisible(True)
                finite = y[np.isfinite(y)]
                peak = float(np.max(np.abs(finite))) if finite.size else 1.0
                self.raw_plot.setYRange(-peak, peak, padding=0.05)
                _set(self.raw_curve, x, y)
        if self.angle_curve is not None:
            _set(self.angle_curve, frame.angle_x, frame.angle_y)
            self._spans(frame)
            lockout = self.lockout
            if lockout is not None and frame.lockout_deg is None:
                lockout.setVisible(False)
            elif lockout is not None and (lockout.value() != frame.lockout_deg or not lockout.isVisible()):
                lockout.setValue(frame.lockout_deg)
                lockout.setVisible(True)

    def _spans(self, frame: Frame) -> None:
        spans = frame.phase_spans[-_MAX_SPANS:]
        for region, span in zip(self.regions, spans, strict=False):
            region.setRegion((span.x0, span.x1))
            colour = PHASE_COLOURS[span.phase]
            if getattr(region, "_phase", None) != span.phase:
                region.setBrush(pg.mkBrush(*colour))
                region._phase = span.phase  # type: ignore[attr-defined]
            region.setVisible(True)
        for region in self.regions[len(spans) :]:
            region.setVisible(False)
        title = frame.angle_label + (f"  ·  phase: {frame.phase}" if frame.phase else "")
        if self.angle_plot is not None and title != getattr(self, "_angle_title", None):
            self._angle_title = title
            self.angle_plot.setTitle(title, size=f"{_FONT_PX}px", color="#333")


def phase_legend() -> str:
    """HTML legend of the phase colours (for a label under the plots)."""
    cells = []
    for p in PHASES:
        r, g, b, _ = PHASE_COLOURS[p]
        colour = QtGui.QColor(r, g, b).name()
        cells.append(f"<span style='background:{colour}'>&nbsp;&nbsp;&nbsp;</span> {p}")
    return " &nbsp; ".join(cells)
