"""The raw EMG lane's min/max columns, kept up to date incrementally.

The raw lane shows 10 s of a 2 kHz channel (20,000 samples) on ~1,000 pixels. Cutting the whole
window down again every frame (:func:`~myoflow.dashboard.model.peak_downsample`) costs a pass
over every sample 60 times a second, although only ~33 of them are new. :class:`PeakColumns`
keeps the min and max of the samples in fixed columns of host time (``k * dt`` to
``(k + 1) * dt``): a frame folds the new samples into the newest columns and reads the columns
inside the window. Columns do not move with the window, so a burst keeps its shape from frame
to frame; the picture is the same peak-preserving one (per column: its first sample time with
the minimum, its last sample time with the maximum).
"""

from __future__ import annotations

import numpy as np

from myoflow._checks import check_positive

__all__ = ["PeakColumns"]


class PeakColumns:
    """Min/max of one stream's samples in columns of ``dt`` seconds of host time.

    Parameters
    ----------
    dt
        Column width (s).
    keep
        Columns kept (the oldest beyond it are dropped).
    """

    def __init__(self, dt: float, keep: int) -> None:
        self.dt = check_positive(dt, "dt", "s")
        self.keep = int(check_positive(keep, "keep", "columns"))
        self.newest = -np.inf  # host time of the newest sample folded in (s)
        self._col = np.zeros(0, dtype=np.int64)
        self._t = np.zeros((0, 2))  # first and last sample time per column
        self._v = np.zeros((0, 2), dtype=np.float32)  # min and max per column

    def clear(self) -> None:
        """Forget every column."""
        self.__init__(self.dt, self.keep)  # type: ignore[misc]

    def add(self, times: np.ndarray, values: np.ndarray) -> bool:
        """Fold in the samples of ``times`` ``(n,)`` (s) / ``values`` ``(n,)`` that follow the
        newest one folded in so far (found by its time: the ring hands out its window oldest
        first). Returns False (and adds nothing) when that sample is not among them (time went
        backwards, or samples may be missing): then :meth:`clear` and add the whole window."""
        if not times.size:
            return True
        start = 0
        if np.isfinite(self.newest):
            hits = np.flatnonzero(times == self.newest)
            if not hits.size:
                return False
            start = int(hits[-1]) + 1
        t, v = times[start:], values[start:]
        if not t.size:
            return True
        col = np.floor(t / self.dt).astype(np.int64)
        # runs of samples in one column (times from straps that deliver late may step back)
        runs = np.flatnonzero(np.diff(col, prepend=col[0] - 1))
        ends = np.append(runs[1:], t.size) - 1
        new_col = col[runs]
        new_t = np.column_stack((t[runs], t[ends]))
        new_v = np.column_stack((np.fmin.reduceat(v, runs), np.fmax.reduceat(v, runs))).astype(np.float32)
        if self._col.size and new_col[0] == self._col[-1]:  # the newest column goes on
            self._t[-1, 1] = new_t[0, 1]
            self._v[-1] = (np.fmin(self._v[-1, 0], new_v[0, 0]), np.fmax(self._v[-1, 1], new_v[0, 1]))
            new_col, new_t, new_v = new_col[1:], new_t[1:], new_v[1:]
        if new_col.size:
            self._col = np.concatenate((self._col, new_col))
            self._t = np.concatenate((self._t, new_t))
            self._v = np.concatenate((self._v, new_v))
        self.newest = float(t[-1])
        reach = self._col > col[-1] - self.keep
        if not reach.all():  # drop the columns out of reach
            self._col, self._t, self._v = self._col[reach], self._t[reach], self._v[reach]
        return True

    def points(self, since: float) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)``: per column ending at or after ``since`` (s) its first time with the
        minimum, then its last time with the maximum; ``(m,)`` float64 s and float32."""
        keep = self._t[:, 1] >= since
        return self._t[keep].ravel(), self._v[keep].ravel()
