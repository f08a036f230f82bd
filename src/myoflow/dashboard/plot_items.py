"""Lean pyqtgraph items for the dashboard's plots: each paints with one or a few QPainter calls.

pyqtgraph's general items do work per paint that a fixed-range strip chart does not need: a
``PlotCurveItem`` recomputes its data bounds (NaN-aware min/max) and pixel padding for every
new array, and each ``LinearRegionItem`` is two ``InfiniteLine`` s with their own bounding-box
bookkeeping. Here:

* :class:`Trace`: a polyline over a fixed data rectangle (the plot's fixed axes ranges), so its
  bounding rect never needs the data; :meth:`Trace.setData` builds the path once per new array.
* :class:`Shading`: any number of filled data-space rectangles (the phases behind the hip angle,
  a lane's target band) in one item and one paint.

Both take data coordinates; the view box maps them to pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

__all__ = ["Shading", "Trace"]


def _visible(item: pg.GraphicsObject, rect: QtCore.QRectF) -> QtCore.QRectF:
    """``rect`` cut to what the item's view box shows: an update then repaints that plot area
    only, not the axes and the other lanes (the fixed bounds reach far beyond them)."""
    vb = item.getViewBox()
    return rect if vb is None else rect.intersected(vb.viewRect())


class Trace(pg.GraphicsObject):
    """A curve drawn as one path, inside the fixed data rectangle ``bounds``.

    Parameters
    ----------
    pen
        The pen (1 px for Qt's fast raster path).
    bounds
        ``(x0, y0, x1, y1)`` in data units: the plot's fixed ranges (what the trace may cover).
    """

    def __init__(self, pen: QtGui.QPen, bounds: tuple[float, float, float, float]) -> None:
        super().__init__()
        self._pen = pen
        self._rect = QtCore.QRectF()
        self.set_bounds(bounds)
        self.xData: np.ndarray | None = None
        self.yData: np.ndarray | None = None
        self._path = QtGui.QPainterPath()

    def set_bounds(self, bounds: tuple[float, float, float, float]) -> None:
        """Change the data rectangle (e.g. a new y range)."""
        x0, y0, x1, y1 = (float(v) for v in bounds)
        self.prepareGeometryChange()
        self._rect = QtCore.QRectF(x0, min(y0, y1), x1 - x0, abs(y1 - y0))

    def setData(self, x: np.ndarray, y: np.ndarray, connect: str = "all") -> None:  # noqa: N802 - pyqtgraph's name
        """Draw ``y`` ``(n,)`` over ``x`` ``(n,)``; ``connect="finite"`` breaks the line at NaN."""
        self.xData = np.asarray(x, dtype=np.float64)
        self.yData = np.asarray(y, dtype=np.float64)
        if self.xData.size:
            finite_check = connect != "all"
            self._path = pg.arrayToQPath(self.xData, self.yData, connect=connect, finiteCheck=finite_check)
        else:
            self._path = QtGui.QPainterPath()
        self.update()

    def getData(self) -> tuple[np.ndarray | None, np.ndarray | None]:  # noqa: N802 - pyqtgraph's name
        """``(x, y)`` as last set (None before the first :meth:`setData`)."""
        return self.xData, self.yData

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 - Qt's name
        return _visible(self, self._rect)

    def viewRangeChanged(self) -> None:  # noqa: N802 - pyqtgraph's name
        """The visible part changed: so does the bounding rect."""
        self.prepareGeometryChange()

    def paint(self, painter: QtGui.QPainter, *_args: object) -> None:
        painter.setPen(self._pen)
        painter.drawPath(self._path)


class Shading(pg.GraphicsObject):
    """Filled rectangles in data coordinates, painted in one go (behind the curves).

    Parameters
    ----------
    bounds
        ``(x0, y0, x1, y1)``: the data rectangle the rectangles stay in (the plot's fixed ranges).
    """

    def __init__(self, bounds: tuple[float, float, float, float]) -> None:
        super().__init__()
        x0, y0, x1, y1 = (float(v) for v in bounds)
        self._rect = QtCore.QRectF(x0, min(y0, y1), x1 - x0, abs(y1 - y0))
        self._rects: list[tuple[QtCore.QRectF, QtGui.QBrush, QtGui.QPen | None]] = []
        self._key: tuple = ()
        self._brushes: dict[tuple[int, ...], QtGui.QBrush] = {}
        self.setZValue(-10)

    def set_rects(
        self,
        rects: Sequence[tuple[float, float, float, float, tuple[int, ...]]],
        edge: tuple[int, ...] | None = None,
    ) -> bool:
        """Show ``(x0, y0, x1, y1, rgb)`` rectangles (clipped to the bounds); ``edge``: an
        optional outline colour. Returns False (and repaints nothing) when they did not change."""
        key = (tuple(rects), edge)
        if key == self._key:
            return False
        self._key = key
        pen = None if edge is None else pg.mkPen(edge, width=1)
        out = []
        for x0, y0, x1, y1, rgb in rects:
            rect = QtCore.QRectF(x0, min(y0, y1), x1 - x0, abs(y1 - y0)).intersected(self._rect)
            if rect.isEmpty():
                continue
            brush = self._brushes.get(rgb)
            if brush is None:
                brush = self._brushes[rgb] = pg.mkBrush(*rgb)
            out.append((rect, brush, pen))
        self._rects = out
        self.update()
        return True

    @property
    def rects(self) -> list[QtCore.QRectF]:
        """The rectangles shown now (data coordinates)."""
        return [r for r, _, _ in self._rects]

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 - Qt's name
        return _visible(self, self._rect)

    def viewRangeChanged(self) -> None:  # noqa: N802 - pyqtgraph's name
        """The visible part changed: so does the bounding rect."""
        self.prepareGeometryChange()

    def paint(self, painter: QtGui.QPainter, *_args: object) -> None:
        for rect, brush, pen in self._rects:
            painter.fillRect(rect, brush)
            if pen is not None:
                painter.setPen(pen)
                painter.drawLine(rect.topLeft(), rect.topRight())
                painter.drawLine(rect.bottomLeft(), rect.bottomRight())
