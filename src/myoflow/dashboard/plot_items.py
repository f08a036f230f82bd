"""What the dashboard's plots draw every frame: curves, shaded spans, horizontal lines.

These are not scene items: :class:`~myoflow.dashboard.plots.PlotsView` paints them itself, in
each lane's data coordinates, over a cached picture of the still parts (axes, titles). A scene
item costs on every paint whatever changed, because Qt walks the whole item tree and asks each
Python-made item for its bounds; a plain painter object costs only its own QPainter calls.

* :class:`Trace`: a polyline (broken at NaN), filled straight from the arrays.
* :class:`Shading`: filled data-space rectangles (the phases behind the hip angle, a lane's
  target band), optionally with an edge line at the top and bottom.
* :class:`HLine`: a horizontal line across the lane at a value, with an optional label.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

__all__ = ["HLine", "Shading", "Trace"]


def _polylines(x: np.ndarray, y: np.ndarray, finite_only: bool) -> list[QtGui.QPolygonF]:
    """``(x, y)`` as polylines filled straight from the arrays; with ``finite_only`` one per run
    of finite points (a NaN breaks the line), else one."""
    if finite_only:
        ok = np.isfinite(x) & np.isfinite(y)
        if not ok.all():
            edges = np.flatnonzero(np.diff(np.concatenate(([0], ok.view(np.int8), [0]))))
            return [p for a, b in edges.reshape(-1, 2) for p in _polylines(x[a:b], y[a:b], False)]
    if x.size < 2:
        return []
    poly = pg.functions.create_qpolygonf(x.size)
    points = pg.functions.ndarray_from_qpolygonf(poly)
    points[:, 0] = x
    points[:, 1] = y
    return [poly]


class Trace:
    """A curve: ``y`` over ``x`` in data units, drawn with ``pen`` (1 px: Qt's fast raster path)."""

    def __init__(self, pen: QtGui.QPen) -> None:
        self.pen = pen
        self.xData: np.ndarray | None = None
        self.yData: np.ndarray | None = None
        self._lines: list[QtGui.QPolygonF] = []

    def setData(self, x: np.ndarray, y: np.ndarray, connect: str = "all") -> None:  # noqa: N802 - pyqtgraph's name
        """Draw ``y`` ``(n,)`` over ``x`` ``(n,)``; ``connect="finite"`` breaks the line at NaN."""
        self.xData = np.asarray(x, dtype=np.float64)
        self.yData = np.asarray(y, dtype=np.float64)
        self._lines = _polylines(self.xData, self.yData, connect != "all")

    def getData(self) -> tuple[np.ndarray | None, np.ndarray | None]:  # noqa: N802 - pyqtgraph's name
        """``(x, y)`` as last set (None before the first :meth:`setData`)."""
        return self.xData, self.yData

    def paint(self, painter: QtGui.QPainter) -> None:
        """Draw (the painter maps data units to pixels)."""
        painter.setPen(self.pen)
        for line in self._lines:
            painter.drawPolyline(line)


class Shading:
    """Filled rectangles in data coordinates, drawn behind the curves."""

    def __init__(self) -> None:
        self._rects: list[tuple[QtCore.QRectF, QtGui.QBrush, QtGui.QPen | None]] = []
        self._key: tuple = ()
        self._brushes: dict[tuple[int, ...], QtGui.QBrush] = {}

    def set_rects(
        self,
        rects: Sequence[tuple[float, float, float, float, tuple[int, ...]]],
        edge: tuple[int, ...] | None = None,
    ) -> bool:
        """Show ``(x0, y0, x1, y1, rgb)`` rectangles; ``edge``: an optional colour of a line
        along their top and bottom. Returns False when they did not change."""
        key = (tuple(rects), edge)
        if key == self._key:
            return False
        self._key = key
        pen = None if edge is None else pg.mkPen(edge, width=1)
        out = []
        for x0, y0, x1, y1, rgb in rects:
            rect = QtCore.QRectF(x0, min(y0, y1), x1 - x0, abs(y1 - y0))
            if rect.isEmpty():
                continue
            brush = self._brushes.get(rgb)
            if brush is None:
                brush = self._brushes[rgb] = pg.mkBrush(*rgb)
            out.append((rect, brush, pen))
        self._rects = out
        return True

    @property
    def rects(self) -> list[QtCore.QRectF]:
        """The rectangles shown now (data coordinates)."""
        return [r for r, _, _ in self._rects]

    def paint(self, painter: QtGui.QPainter) -> None:
        """Draw (the painter maps data units to pixels)."""
        for rect, brush, pen in self._rects:
            painter.fillRect(rect, brush)
            if pen is not None:
                painter.setPen(pen)
                painter.drawLine(rect.topLeft(), rect.topRight())
                painter.drawLine(rect.bottomLeft(), rect.bottomRight())


class HLine:
    """A horizontal line at :attr:`value` (data units) across ``x0 .. x1``, hidden while None;
    ``label`` is written just above its left end."""

    def __init__(self, pen: QtGui.QPen, label: str = "", colour: str = "#333") -> None:
        self.pen = pen
        self.value: float | None = None
        self.label = QtGui.QStaticText(label)  # laid out once: drawText would lay it out per frame
        self._label_pen = QtGui.QPen(QtGui.QColor(colour))

    def setValue(self, value: float | None) -> None:  # noqa: N802 - pyqtgraph's name
        """Show the line at ``value`` (None: hide it)."""
        self.value = None if value is None else float(value)

    def isVisible(self) -> bool:  # noqa: N802 - Qt's name
        """True while it has a value."""
        return self.value is not None

    def paint(self, painter: QtGui.QPainter, x0: float, x1: float) -> None:
        """Draw from ``x0`` to ``x1`` (the painter maps data units to pixels)."""
        if self.value is None:
            return
        painter.setPen(self.pen)
        painter.drawLine(QtCore.QPointF(x0, self.value), QtCore.QPointF(x1, self.value))
        if self.label.text():
            at = painter.transform().map(QtCore.QPointF(x0, self.value))
            painter.save()
            painter.resetTransform()
            painter.setPen(self._label_pen)
            height = self.label.size().height()
            painter.drawStaticText(QtCore.QPointF(at.x() + 4.0, at.y() - 2.0 - height), self.label)
            painter.restore()
