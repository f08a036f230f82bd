"""Per-sample times as piecewise-linear ``(row, time)`` anchors: the ``time_map`` of a stream.

The writer thread (:mod:`myoflow.storage._sink`) hands every flushed run of contiguous rows
to :class:`TimeMap`, which returns the anchors to append. Interpolating linearly between the
anchors reproduces every time given to within ``schema.TIME_TOLERANCE_S`` (see
``docs/recording-format.md``).
"""

from __future__ import annotations

import numpy as np

from myoflow.storage import schema

__all__ = ["TimeMap"]


class TimeMap:
    """Turn per-sample times into piecewise-linear (row, time) anchors, merged across flushes.

    Every time given is reproduced by linear interpolation between anchors to within
    ``TIME_TOLERANCE_S``: anchors are placed where the second difference of the times is not
    zero, then wherever interpolation still misses. Between flushes the open last segment is
    extended (its last anchor rewritten) when the new times lie on it, using an upper bound of
    the error of the samples already written, so long drift-fitted runs stay a few anchors.
    """

    tol = schema.TIME_TOLERANCE_S / 2

    def __init__(self) -> None:
        # open last segment: row/time of its start and end (the last anchor written), max error
        self.seg: tuple[int, float, int, float, float] | None = None

    def add_run(self, row0: int, t: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """Anchors of ``t`` (times of rows ``row0...``); first item: a new value for the last
        anchor already written (None: keep it)."""
        idx = self._anchor_idx(t)
        seg, replace, merged, skip = self.seg, None, None, 0
        contiguous = seg is not None and seg[2] == row0 - 1
        if seg is not None and contiguous and seg[0] < seg[2]:
            ra, ta, rb, tb, err = seg
            j = int(idx[1]) if len(idx) > 1 else 0
            slope = (t[j] - ta) / (row0 + j - ra)
            old = err + abs(ta + slope * (rb - ra) - tb)
            new = np.abs(ta + slope * (row0 + np.arange(j + 1) - ra) - t[: j + 1]).max()
            if max(old, new) <= self.tol:
                replace = np.array((row0 + j, t[j]), dtype=schema.TIME_MAP_DTYPE)
                merged = (ra, ta, row0 + j, float(t[j]), float(max(old, new)))
                skip = min(2, len(idx))
        emit = idx[skip:]
        anchors = np.empty(len(emit), dtype=schema.TIME_MAP_DTYPE)
        anchors["row"] = row0 + emit
        anchors["time"] = t[emit]
        if len(emit) == 0:
            self.seg = merged
        elif len(idx) >= 2:
            i0, i1 = int(idx[-2]), int(idx[-1])
            line = np.interp(np.arange(i0, i1 + 1), [i0, i1], [t[i0], t[i1]])
            self.seg = (
                row0 + i0,
                float(t[i0]),
                row0 + i1,
                float(t[i1]),
                float(np.abs(line - t[i0 : i1 + 1]).max()),
            )
        elif seg is not None and contiguous:
            self.seg = (seg[2], seg[3], row0, float(t[0]), 0.0)
        else:
            self.seg = (row0, float(t[0]), row0, float(t[0]), 0.0)
        return replace, anchors

    def _anchor_idx(self, t: np.ndarray) -> np.ndarray:
        n = t.shape[0]
        if n <= 2:
            return np.arange(n)
        bends = np.flatnonzero(np.abs(np.diff(t, 2)) > self.tol / 4) + 1
        idx = np.unique(np.concatenate(([0], bends, [n - 1])))
        x = np.arange(n)
        for _ in range(4):
            miss = np.flatnonzero(np.abs(np.interp(x, idx, t[idx]) - t) > self.tol)
            if miss.size == 0:
                return idx
            idx = np.union1d(idx, miss)
        return x
