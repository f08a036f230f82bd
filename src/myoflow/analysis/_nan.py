"""Missing samples (NaN) in analysis arrays: bridged for filtering only, never reported as data."""

from __future__ import annotations

import numpy as np


def interpolate_nan(x: np.ndarray) -> np.ndarray:
    """``x`` (``(n,)`` or ``(n, ch)``) with each column's NaN/inf replaced by linear interpolation
    between its neighbouring finite samples (constant beyond the ends; a column with no finite
    sample becomes 0). Returns ``x`` itself when nothing is missing."""
    if all_finite(x):
        return x
    bad = ~np.isfinite(x)
    out = np.array(x, dtype=np.float64, copy=True)
    cols = out.reshape(out.shape[0], -1)
    mask = bad.reshape(bad.shape[0], -1)
    for c in np.flatnonzero(mask.any(axis=0)):
        good = np.flatnonzero(~mask[:, c])
        if good.size == 0:
            cols[:, c] = 0.0
        else:
            idx = np.flatnonzero(mask[:, c])
            cols[idx, c] = np.interp(idx, good, cols[good, c])
    return out


def all_finite(x: np.ndarray) -> bool:
    """Whether every value of ``x`` is finite, checked a slice of rows at a time (no mask of a
    whole recording)."""
    x = np.asarray(x)
    if x.ndim == 0:
        return bool(np.isfinite(x))
    rows = max(1, (1 << 20) // max(1, x[:1].size))
    return all(bool(np.isfinite(x[i : i + rows]).all()) for i in range(0, x.shape[0], rows))


def nan_mean(x: np.ndarray, axis: int = 0) -> np.ndarray | float:
    """Mean along ``axis`` ignoring NaN; NaN (without numpy's warning) where nothing is finite."""
    x = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(x)
    count = finite.sum(axis=axis)
    total = np.where(finite, x, 0.0).sum(axis=axis)
    return np.divide(total, count, out=np.full(np.shape(total), np.nan), where=count > 0)[()]


def nan_max(x: np.ndarray, axis: int = 0) -> np.ndarray | float:
    """Maximum along ``axis`` ignoring NaN; NaN where nothing is finite or the axis is empty."""
    return _extreme(np.max, -np.inf, x, axis)


def nan_min(x: np.ndarray, axis: int = 0) -> np.ndarray | float:
    """Minimum along ``axis`` ignoring NaN; NaN where nothing is finite or the axis is empty."""
    return _extreme(np.min, np.inf, x, axis)


def mean_over_columns(x: np.ndarray) -> np.ndarray:
    """Row means of ``x`` ``(n, ch)`` ignoring NaN; NaN (without a warning) where a row has none."""
    return np.atleast_1d(nan_mean(x, axis=1))


def _extreme(reduce, fill: float, x: np.ndarray, axis: int) -> np.ndarray | float:
    x = np.asarray(x, dtype=np.float64)
    if x.shape[axis] == 0:
        return np.full(np.delete(x.shape, axis), np.nan)[()]
    finite = np.isfinite(x)
    out = reduce(np.where(finite, x, fill), axis=axis)
    return np.where(finite.any(axis=axis), out, np.nan)[()]
