"""The live analysis grid: every stream's samples placed on common times ``k / grid_hz``.

Streams arrive at their own rates (EMG 200 Hz-2 kHz, IMUs 50-100 Hz) with host times. The live
analysis puts them on one grid of cells ``k`` at ``t_k = k / grid_hz`` seconds (host clock):

* :class:`BinPlacer` (streams at >= 2 x ``grid_hz``): the mean of the samples whose time falls
  in ``[t_k - dt/2, t_k + dt/2)``. A cell is complete once a sample of a later cell arrived.
* :class:`InterpPlacer` (slower streams): linear interpolation between consecutive samples of
  one block. A cell is complete once a sample at or after ``t_k`` arrived.

Both carry their state across blocks, so any chunking gives the same cells, and both restart
after a gap: nothing is interpolated or averaged across missing samples, those cells stay NaN.
:class:`GridBuffer` is the ring buffer the cells are written into (O(chunk) per write).
"""

from __future__ import annotations

import numpy as np

from myoflow._checks import check_positive, check_rate


class GridBuffer:
    """Ring buffer of ``n_cols`` float64 columns on the grid; absolute cell ``k`` lives in slot
    ``k % capacity``. Cells never written read as NaN.

    Parameters
    ----------
    grid_hz
        Grid rate in Hz.
    n_cols
        Number of columns.
    capacity
        Cells kept (the newest ``capacity`` cells can be read).
    """

    def __init__(self, grid_hz: float, n_cols: int, capacity: int) -> None:
        self.grid_hz = check_rate(grid_hz, "grid_hz")
        if capacity < 2:
            raise ValueError(f"capacity must be at least 2 cells, got {capacity}")
        self.capacity = int(capacity)
        self._data = np.full((self.capacity, max(n_cols, 0)), np.nan)
        self.newest: int | None = None  # highest cell index allocated so far
        self.first: int | None = None  # lowest cell index ever written

    def _allocate(self, k_last: int) -> None:
        """Make cells up to ``k_last`` exist, clearing the slots they take over."""
        if self.newest is not None and k_last <= self.newest:
            return
        first = (
            k_last - self.capacity + 1
            if self.newest is None
            else max(self.newest + 1, k_last - self.capacity + 1)
        )
        slots = np.arange(first, k_last + 1) % self.capacity
        self._data[slots] = np.nan
        self.newest = k_last

    def write(self, k0: int, rows: np.ndarray, cols: slice) -> None:
        """Write ``rows`` ``(m, width)`` into cells ``k0 .. k0 + m - 1``, columns ``cols``;
        cells older than the buffer's reach are dropped."""
        m = rows.shape[0]
        if m == 0:
            return
        self.first = k0 if self.first is None else min(self.first, k0)
        self._allocate(k0 + m - 1)
        oldest = self.newest - self.capacity + 1
        skip = max(0, oldest - k0)
        if skip >= m:
            return
        slots = np.arange(k0 + skip, k0 + m) % self.capacity
        self._data[slots, cols] = rows[skip:]

    def read(self, k0: int, k1: int) -> np.ndarray:
        """Cells ``[k0, k1)`` as a new ``(k1 - k0, n_cols)`` array; NaN outside the kept range."""
        n = max(0, k1 - k0)
        out = np.full((n, self._data.shape[1]), np.nan)
        if self.newest is None or n == 0:
            return out
        lo = max(k0, self.newest - self.capacity + 1)
        hi = min(k1, self.newest + 1)
        if hi > lo:
            out[lo - k0 : hi - k0] = self._data[np.arange(lo, hi) % self.capacity]
        return out


class BinPlacer:
    """Block-average a fast stream onto the grid (module docstring).

    ``place(times, values)`` returns ``(k0, rows)``: the cells completed by this block (rows
    ``(m, ch)`` float64, NaN for a cell no sample fell in), or None. :attr:`frontier` is the
    first cell not complete yet.
    """

    def __init__(self, grid_hz: float) -> None:
        self.grid_hz = check_rate(grid_hz, "grid_hz")
        self.frontier: int | None = None
        self._k: int | None = None  # the partial (last) cell
        self._sum: np.ndarray | None = None
        self._n = 0.0

    def place(self, times: np.ndarray, values: np.ndarray) -> tuple[int, np.ndarray] | None:
        if times.size == 0:
            return None
        k = np.floor(times * self.grid_hz + 0.5).astype(np.int64)
        sums = np.asarray(values, dtype=np.float64)
        counts = np.ones(k.size)
        if self._k is not None and self._sum is not None:
            k = np.concatenate(([self._k], k))
            sums = np.concatenate((self._sum[np.newaxis], sums))
            counts = np.concatenate(([self._n], counts))
        last = int(k[-1])
        done = k < last
        tail = ~done
        self._k, self._sum, self._n = last, sums[tail].sum(axis=0), float(counts[tail].sum())
        self.frontier = last
        if not done.any():
            return None
        return _bin_rows(k[done], sums[done], counts[done])

    def flush(self) -> tuple[int, np.ndarray] | None:
        """Complete the partial cell (before a gap) and forget the state."""
        out = None
        if self._k is not None and self._sum is not None and self._n > 0:
            out = (self._k, (self._sum / self._n)[np.newaxis])
            self.frontier = self._k + 1
        self._k, self._sum, self._n = None, None, 0.0
        return out

    def skip_to(self, t: float) -> None:
        """Cells before host time ``t`` (s) will get no samples (a gap): count them complete."""
        k = int(np.floor(t * self.grid_hz + 0.5))
        self.frontier = k if self.frontier is None else max(self.frontier, k)


class InterpPlacer:
    """Linearly interpolate a slow stream onto the grid (module docstring); same interface as
    :class:`BinPlacer`."""

    def __init__(self, grid_hz: float) -> None:
        self.grid_hz = check_rate(grid_hz, "grid_hz")
        self.frontier: int | None = None
        self._t: float | None = None
        self._x: np.ndarray | None = None

    def place(self, times: np.ndarray, values: np.ndarray) -> tuple[int, np.ndarray] | None:
        if times.size == 0:
            return None
        x = np.asarray(values, dtype=np.float64)
        if self._t is not None and self._x is not None:
            tt = np.concatenate(([self._t], times))
            xx = np.concatenate((self._x[np.newaxis], x))
            k0 = int(np.floor(self._t * self.grid_hz)) + 1
        else:
            tt, xx = times, x
            k0 = int(np.ceil(times[0] * self.grid_hz))
        k1 = int(np.floor(tt[-1] * self.grid_hz)) + 1
        self._t, self._x = float(times[-1]), x[-1].copy()
        self.frontier = k1 if self.frontier is None else max(self.frontier, k1)
        if k1 <= k0:
            return None
        tg = np.arange(k0, k1) / self.grid_hz
        rows = np.column_stack([np.interp(tg, tt, xx[:, j]) for j in range(xx.shape[1])])
        return k0, rows

    def flush(self) -> tuple[int, np.ndarray] | None:
        """Forget the last sample (before a gap): nothing is interpolated across it."""
        self._t, self._x = None, None
        return None

    def skip_to(self, t: float) -> None:
        """As :meth:`BinPlacer.skip_to`."""
        k = int(np.ceil(t * self.grid_hz))
        self.frontier = k if self.frontier is None else max(self.frontier, k)


def placer_for(rate: float, grid_hz: float) -> BinPlacer | InterpPlacer:
    """:class:`BinPlacer` for streams at >= 2 x ``grid_hz``, else :class:`InterpPlacer`."""
    rate = check_rate(rate, "rate")
    grid_hz = check_positive(grid_hz, "grid_hz", "Hz")
    return BinPlacer(grid_hz) if rate >= 2.0 * grid_hz else InterpPlacer(grid_hz)


def _bin_rows(k: np.ndarray, sums: np.ndarray, counts: np.ndarray) -> tuple[int, np.ndarray]:
    """Dense rows from cell ``k.min()`` to ``k.max()``: the mean of each cell's samples."""
    k0 = int(k[0])
    idx = k - k0
    starts = np.flatnonzero(np.concatenate(([True], np.diff(idx) != 0)))
    totals = np.add.reduceat(sums, starts, axis=0)
    n = np.add.reduceat(counts, starts)
    rows = np.full((int(idx[-1]) + 1, sums.shape[1]), np.nan)
    rows[idx[starts]] = totals / n[:, np.newaxis]
    return k0, rows
