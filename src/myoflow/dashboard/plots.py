"""The plots: one lane per muscle, the raw EMG lane on demand, the hip angle with its phases.

All of it lives in one :class:`pyqtgraph.GraphicsLayoutWidget`: pyqtgraph lays the plots out
and draws their still parts (axes, labels, titles), the "chrome". What changes every frame -
curves, target bands, rest thresholds, phase shading, the lockout line
(:mod:`~myoflow.dashboard.plot_items`) - is not in the scene: :meth:`PlotsView.paintEvent`
copies the chrome from a cached pixmap and draws the content over each plot's data area, in
that plot's data coordinates. The cached chrome is redrawn only where the scene reports a
change (a new title text, a new axis range, a resize). Axes ranges are fixed (no autoscale
work per frame); :meth:`PlotsView.show_frame` only hands the model's already cut-down arrays
and values to the content objects.

Why (``benchmarks/bench_dashboard.py`` measures it): a scene repaint costs ~2 ms whatever
changed - Qt walks the whole item tree (~200 items: every axis, title, view box and curve of 10
plots) and asks each Python-made item for its bounds - so the lanes redrawn as scene items
cost ~2 ms of main-thread CPU per frame before a pixel moved; copying the chrome and drawing
~40 shapes costs a fraction of that. Fills are opaque colours pre-blended on the background
(no per-pixel blending); lane titles change at most twice a second and only when their text
changes.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from myoflow.dashboard.model import PHASES, Frame
from myoflow.dashboard.plot_items import HLine, Shading, Trace

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
_ANGLE_RANGE = (-20.0, 90.0)  # deg: the angle lane's starting range (a hinge's hip flexion)
_TITLE_EVERY_S = 0.5  # lane titles (latest value) change at most this often: text layout is slow
_BAND_RGBA = (60, 180, 90, 45)
_BAND_EDGE_RGBA = (60, 160, 90, 90)


def _set(curve: Trace, x: np.ndarray, y: np.ndarray) -> None:
    curve.setData(x, y, connect="all" if bool(np.isfinite(y).all()) else "finite")


def opaque(rgba: tuple[int, int, int, int], under: tuple[int, int, int] = BACKGROUND) -> tuple[int, int, int]:
    """The opaque colour that ``rgba`` blended over ``under`` shows (no per-pixel blending)."""
    a = rgba[3] / 255.0
    return tuple(int(round(c * a + u * (1.0 - a))) for c, u in zip(rgba[:3], under, strict=True))  # type: ignore[return-value]


class PlotsView(pg.GraphicsLayoutWidget):
    """Lanes, raw lane and angle plot (module docstring)."""

    def __init__(self, window_s: float = 10.0, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent=parent)
        self.setBackground(BACKGROUND)
        self.window_s = float(window_s)
        self.muscles: tuple[str, ...] = ()
        self.lanes: list[pg.PlotItem] = []
        self.curves: list[Trace] = []
        self.bands: list[Shading] = []
        self.thresholds: list[HLine] = []
        self.raw_plot: pg.PlotItem | None = None
        self.raw_curve: Trace | None = None
        self.angle_plot: pg.PlotItem | None = None
        self.angle_curve: Trace | None = None
        self.lockout: HLine | None = None
        self.phases: Shading | None = None
        self._unit = ""
        self._raw_muscle: str | None = None
        #: (time.monotonic() when a paint finished, ``emg_newest_s`` of the frame it showed)
        self.paint_log: deque[tuple[float, float | None]] = deque(maxlen=4096)
        self._shown_newest: float | None = None
        self._titled_at = -1.0
        self._shown: dict[tuple[str, int], object] = {}  # what each item shows now (skip equal sets)
        self._raw_peak = 0.0
        self._angle_range = _ANGLE_RANGE  # deg, widened when a movement leaves it
        #: per plot: (plot, shadings, lines, curve), drawn in this order over its data area
        self._content: list[tuple[pg.PlotItem, list[Shading], list[HLine], Trace]] = []
        self._chrome: QtGui.QPixmap | None = None
        self._chrome_dirty = QtGui.QRegion()
        self._areas = QtGui.QRegion()  # the visible plots' data areas (viewport pixels)
        #: per plot: (data -> viewport transform, data area in viewport pixels, x range)
        self._geometry: dict[int, tuple[QtGui.QTransform, QtCore.QRect, tuple[float, float]]] = {}
        self.scene().changed.connect(self._scene_changed)

    def _scene_changed(self, rects: list[QtCore.QRectF]) -> None:
        """The still parts changed there (scene units): redraw those parts of the chrome."""
        for rect in rects:
            self._chrome_dirty += self.mapFromScene(rect).boundingRect().adjusted(-2, -2, 2, 2)

    def _render_chrome(self) -> None:
        """Bring the cached chrome (the scene as pyqtgraph draws it: axes, titles) up to date."""
        viewport = self.viewport()
        dpr = viewport.devicePixelRatioF()
        size = viewport.size() * dpr
        if self._chrome is None or self._chrome.size() != size:
            self._chrome = QtGui.QPixmap(size)
            self._chrome.setDevicePixelRatio(dpr)
            self._chrome.fill(QtGui.QColor(*BACKGROUND))  # opaque: copied without blending
            self._chrome_dirty = QtGui.QRegion(viewport.rect())
        if self._chrome_dirty.isEmpty():
            return
        dirty = self._chrome_dirty.boundingRect().intersected(viewport.rect())
        self._chrome_dirty = QtGui.QRegion()
        if dirty.isEmpty():
            return
        # drawn afresh on its own, then copied in: render() draws every item the rectangle
        # touches whole, and an axis drawn again over itself would thicken its text
        part = QtGui.QPixmap(dirty.size() * dpr)
        part.setDevicePixelRatio(dpr)
        part.fill(QtGui.QColor(*BACKGROUND))
        painter = QtGui.QPainter(part)
        self.render(painter, QtCore.QRectF(0, 0, dirty.width(), dirty.height()), dirty)
        painter.end()
        painter = QtGui.QPainter(self._chrome)
        painter.setCompositionMode(QtGui.QPainter.CompositionMode_Source)
        painter.drawPixmap(dirty.topLeft(), part)
        painter.end()
        self._geometry.clear()
        areas = QtGui.QRegion()
        for plot, *_ in self._content:
            if plot.isVisible():
                areas += self._place(plot)[1]
        self._areas = areas

    def _place(self, plot: pg.PlotItem) -> tuple[QtGui.QTransform, QtCore.QRect, tuple[float, float]]:
        """``plot``'s data -> viewport transform, data area (viewport pixels) and x range, worked
        out again only when its transform changed (asking pyqtgraph costs Python calls)."""
        vb = plot.getViewBox()
        transform = vb.childGroup.sceneTransform() * self.viewportTransform()
        known = self._geometry.get(id(plot))
        if known is not None and known[0] == transform:
            return known
        area = self.mapFromScene(vb.mapRectToScene(vb.boundingRect())).boundingRect()
        x0, x1 = vb.viewRange()[0]
        self._geometry[id(plot)] = placed = (transform, area, (float(x0), float(x1)))
        return placed

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 - Qt's name
        """Copy the chrome, draw each plot's content over its data area, then note when and
        which data (for the latency benchmark)."""
        self.scene().prepareForPaint()  # pyqtgraph applies pending range changes here
        self._render_chrome()
        assert self._chrome is not None
        painter = QtGui.QPainter(self.viewport())
        painter.setCompositionMode(QtGui.QPainter.CompositionMode_Source)  # a plain copy
        dpr = self._chrome.devicePixelRatio()
        region = event.region()
        for rect in region:
            source = QtCore.QRectF(rect.x() * dpr, rect.y() * dpr, rect.width() * dpr, rect.height() * dpr)
            painter.drawPixmap(QtCore.QRectF(rect), self._chrome, source)
        painter.setCompositionMode(QtGui.QPainter.CompositionMode_SourceOver)
        for plot, shadings, lines, curve in self._content:
            if not plot.isVisible():
                continue
            transform, area, (x0, x1) = self._place(plot)
            if not region.intersects(area):
                continue
            painter.setClipRect(area)
            painter.setTransform(transform)
            for shading in shadings:
                shading.paint(painter)
            for line in lines:
                line.paint(painter, x0, x1)
            curve.paint(painter)
            painter.resetTransform()
        painter.end()
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
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setTextPen("#444")
            plot.getAxis(axis).setPen("#888")
        return plot

    def build(self, muscles: Sequence[str], unit: str, band: tuple[float, float], angle_label: str) -> None:
        """Create the lanes for ``muscles`` once (again only if the muscles change)."""
        self.clear()
        self._content = []
        self._shown.clear()
        self._raw_peak = 0.0
        self.muscles, self._unit = tuple(muscles), unit
        self.lanes, self.curves, self.bands, self.thresholds = [], [], [], []
        for j, muscle in enumerate(self.muscles):
            plot = self._plot(j, muscle, (0.0, 120.0), "%")
            colour = LANE_COLOURS[j % len(LANE_COLOURS)]
            region = Shading()
            line = HLine(pg.mkPen((90, 90, 90), width=1, style=QtCore.Qt.DashLine))
            self.lanes.append(plot)
            self.bands.append(region)
            self.thresholds.append(line)
            self.curves.append(self._curve(plot, colour, [region], [line]))
            if j < len(self.muscles) - 1:
                plot.hideAxis("bottom")
        row = len(self.muscles)
        self.raw_plot = self._plot(row, "raw EMG", (-1000.0, 1000.0), "uV")
        self.raw_curve = self._curve(self.raw_plot, (70, 70, 70), [], [])
        self.raw_plot.setVisible(False)
        self._angle_range = _ANGLE_RANGE
        self.angle_plot = self._plot(row + 1, angle_label, self._angle_range, "deg")
        self.angle_plot.setLabel("bottom", "s")
        # up is up: every movement angle falls as the rep moves away from its start (hip flexion
        # as the hips rise, a clamshell's rotation as the knee opens), so the axis runs downwards
        self.angle_plot.getViewBox().invertY(True)
        hinge = "flexion" in angle_label
        self.angle_plot.setLabel("left", "flexion deg (up = extension)" if hinge else "deg (up = the rep)")
        self.lockout = HLine(pg.mkPen((20, 20, 20), width=1, style=QtCore.Qt.DashLine), label="lockout")
        self.phases = Shading()
        self.angle_curve = self._curve(self.angle_plot, (20, 20, 20), [self.phases], [self.lockout])
        layout = self.ci.layout
        for j in range(len(self.muscles)):
            layout.setRowStretchFactor(j, 2)
        layout.setRowStretchFactor(row + 1, 3)

    def _curve(
        self, plot: pg.PlotItem, colour: tuple[int, ...], shadings: list[Shading], lines: list[HLine]
    ) -> Trace:
        """The curve of ``plot``, drawn over ``shadings`` and ``lines`` (content, not scene items)."""
        # 1-px pens: Qt's raster engine draws them on its fast path (2 px costs ~60 % more paint)
        curve = Trace(pg.mkPen(colour, width=1))
        self._content.append((plot, shadings, lines, curve))
        return curve

    def lane_rects(self) -> list[QtCore.QRect]:
        """Each lane's data area in this widget's pixel coordinates (for screenshot checks)."""
        out = []
        for plot in self.lanes:
            vb = plot.getViewBox()
            scene_rect = vb.mapRectToScene(vb.boundingRect())
            out.append(self.mapFromScene(scene_rect).boundingRect())
        return out

    def _changed(self, item: str, index: int, value: object) -> bool:
        """True (and remembered) when ``value`` differs from what ``item[index]`` shows."""
        key = (item, index)
        if key in self._shown and self._shown[key] == value:
            return False
        self._shown[key] = value
        return True

    def show_frame(self, frame: Frame) -> None:
        """Copy one :class:`~myoflow.dashboard.model.Frame` into the plot items (only what
        changed: curves every frame, bands, lines, titles and colours when their value moves)."""
        self._shown_newest = frame.emg_newest_s
        now = time.monotonic()
        retitle = now - self._titled_at >= _TITLE_EVERY_S
        if retitle:
            self._titled_at = now
        for j, lane in enumerate(frame.lanes[: len(self.curves)]):
            _set(self.curves[j], lane.x, lane.y)
            if self._changed("band", j, lane.band):
                low, high = lane.band if lane.band is not None else (0.0, 0.0)
                rects = [] if lane.band is None else [(-self.window_s, low, 0.0, high, opaque(_BAND_RGBA))]
                self.bands[j].set_rects(rects, edge=opaque(_BAND_EDGE_RGBA))
            threshold = lane.threshold if lane.threshold is not None and np.isfinite(lane.threshold) else None
            self.thresholds[j].setValue(threshold)
            if retitle:
                latest = "-" if not np.isfinite(lane.latest) else f"{lane.latest:.0f}"
                title = f"{lane.muscle}: {latest} {frame.unit}"
                if np.isfinite(lane.symmetry_pct):  # the pair's left-right symmetry index
                    title += f"  ·  L-R symmetry {lane.symmetry_pct:+.0f} %"
                if self._changed("title", j, title):
                    self.lanes[j].setTitle(title, size=f"{_FONT_PX}px", color="#333")
        if self.raw_plot is not None and self.raw_curve is not None:
            self._show_raw(frame)
        if self.angle_curve is not None:
            _set(self.angle_curve, frame.angle_x, frame.angle_y)
            self._fit_angle(frame.angle_y)
            self._spans(frame)
            if self.lockout is not None:
                self.lockout.setValue(frame.lockout_deg)
        self.viewport().update(self._areas if not self._areas.isEmpty() else self.viewport().rect())

    def _fit_angle(self, y: np.ndarray) -> None:
        """Widen the angle lane's range (5 deg margin) when the movement leaves it: a hinge fits
        -20..90 deg, a clamshell's rotation or a hip hike's obliquity may not; it never shrinks, so
        the axis is re-laid out only a few times a session."""
        if self.angle_plot is None or not y.size:
            return
        finite = y[np.isfinite(y)]
        if not finite.size:
            return
        lo, hi = float(finite.min()), float(finite.max())
        if lo >= self._angle_range[0] and hi <= self._angle_range[1]:
            return
        self._angle_range = (min(lo - 5.0, self._angle_range[0]), max(hi + 5.0, self._angle_range[1]))
        self.angle_plot.setYRange(*self._angle_range, padding=0.02)

    def _show_raw(self, frame: Frame) -> None:
        assert self.raw_plot is not None and self.raw_curve is not None
        if frame.raw is None:
            if self._raw_muscle is not None:
                self.raw_plot.setVisible(False)
                self._raw_muscle = None
            return
        muscle, x, y = frame.raw
        if muscle != self._raw_muscle:
            self._raw_muscle = muscle
            self._raw_peak = 0.0
            self.raw_plot.setTitle(f"raw EMG: {muscle} (uV)", size=f"{_FONT_PX}px", color="#333")
            self.raw_plot.setVisible(True)
        peak = float(np.nanmax(np.abs(y))) if y.size and np.isfinite(y).any() else 1.0
        # rescale (axis ticks re-laid out) only when the peak leaves 60-100 % of the range
        if not 0.6 * self._raw_peak <= peak <= self._raw_peak:
            self._raw_peak = peak * 1.25
            self.raw_plot.setYRange(-self._raw_peak, self._raw_peak, padding=0.0)
        _set(self.raw_curve, x, y)

    def _spans(self, frame: Frame) -> None:
        spans = frame.phase_spans[-_MAX_SPANS:]
        if self.phases is not None:
            rgb = {p: opaque(c) for p, c in PHASE_COLOURS.items()}
            low, high = self._angle_range
            rects = [(sp.x0, low - 90.0, sp.x1, high + 90.0, rgb[sp.phase]) for sp in spans if sp.x1 > sp.x0]
            self.phases.set_rects(rects)
        title = frame.angle_label + (f"  ·  phase: {frame.phase}" if frame.phase else "")
        if self.angle_plot is not None and self._changed("angle_title", 0, title):
            self.angle_plot.setTitle(title, size=f"{_FONT_PX}px", color="#333")


def phase_legend() -> str:
    """HTML legend of the phase colours (for a label under the plots)."""
    cells = []
    for p in PHASES:
        r, g, b, _ = PHASE_COLOURS[p]
        colour = QtGui.QColor(r, g, b).name()
        cells.append(f"<span style='background:{colour}'>&nbsp;&nbsp;&nbsp;</span> {p}")
    return " &nbsp; ".join(cells)
