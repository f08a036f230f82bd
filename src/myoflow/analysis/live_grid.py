"""The live analysis grid: every stream's samples placed on common times ``k / grid_hz``.

Streams arrive at their own rates (EMG 200 Hz-2 kHz, IMUs 50-100 Hz) with host times. The live
analysis puts them on one grid of cells ``k`` at ``t_k = k / grid_hz`` seconds (host clock):

* :class:`BinPlacer` (streams at >= 2 x ``grid_hz``): the mean of the samples whose time falls
  in ``[t_k - dt/2, t_k + dt/2)``. A cell is complete once a sample of a later cell arrived.
* :class:`InterpPlacer` (slower streams): linear interpolation between consecutive samples of
  one block. A cell is complete once a sample at or after ``t_k`` arrived.

Both carry their state across blocks, so any chunking gives the same cells, and both restart
after a gap: nothing is interpolated or averaged across missing samples, those cells stay NaN.
:class:`GridBuffer` is the ring buffer the cells are written into (O(chunk) per write);
:class:`PeakHistory` keeps the running session peak of a grid's columns as of every cell.
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
        self.n_cols = max(int(n_cols), 0)
        self._data = np.full((self.capacity, self.n_cols), np.nan)
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
        assert self.newest is not None  # set by _allocate
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


class PeakHistory:
    """The session peak of each column of a grid as of every cell: the largest mean over
    ``window`` consecutive cells that are all finite, over the windows ending at or before
    that cell (0 before any complete window).

    Scanning starts at the grid's first written cell; :meth:`advance` scans the windows that
    end before a cell, O(new cells). :meth:`at` reads the peak as of a cell, so a result
    computed "with the peak so far" can name the cell it means instead of depending on how
    far the scan had got when it ran.

    Parameters
    ----------
    grid
        The grid scanned.
    window
        Window length in cells (>= 1).
    """

    def __init__(self, grid: GridBuffer, window: int) -> None:
        if window < 1:
            raise ValueError(f"window must be at least 1 cell, got {window}")
        self.grid, self.window = grid, int(window)
        self._hist = GridBuffer(grid.grid_hz, grid.n_cols, grid.capacity)
        self.done: int | None = None  # windows ending before this cell are scanned
        self.latest = np.zeros(grid.n_cols)

    def advance(self, upto: int) -> None:
        """Scan the windows that end before cell ``upto`` (all complete in the grid)."""
        if self.done is None:
            if self.grid.first is None:
                return
            self.done = self.grid.first
        if upto <= self.done:
            return
        w = self.window
        rows = self.grid.read(self.done - w + 1, upto)
        zero = np.zeros((1, rows.shape[1]))
        csum = np.concatenate((zero, np.cumsum(np.nan_to_num(rows), axis=0)))
        bad = np.concatenate((zero, np.cumsum(~np.isfinite(rows), axis=0)))
        means = np.where((bad[w:] - bad[:-w]) == 0, (csum[w:] - csum[:-w]) / w, 0.0)
        peaks = np.maximum.accumulate(np.concatenate((self.latest[np.newaxis], means)), axis=0)[1:]
        self._hist.write(self.done, peaks, slice(None))
        self.latest = peaks[-1].copy()
        self.done = upto

    def at(self, k: int) -> np.ndarray:
        """Peak ``(n_cols,)`` over the windows ending at or before cell ``k`` (NaN when cell
        ``k`` is not scanned yet or no longer kept; 0 before the first complete window)."""
        if self.done is not None and self.grid.first is not None and k < self.done:
            if k < self.grid.first:
                return np.zeros_like(self.latest)
            return self._hist.read(k, k + 1)[0]
        return np.full_like(self.latest, np.nan)


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
