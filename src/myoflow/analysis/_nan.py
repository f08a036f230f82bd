"""Missing samples (NaN) in analysis arrays: bridged for filtering only, never reported as data."""

from __future__ import annotations

import numpy as np


def interpolate_nan(x: np.ndarray) -> np.ndarray:
    """``x`` (``(n,)`` or ``(n, ch)``) with each column's NaN/inf replaced by linear interpolation
    between its neighbouring finite samples (constant beyond the ends; a column with no finite
    sample becomes 0). Returns ``x`` itself when nothing is missing."""
    bad = ~np.isfinite(x)
    if not bad.any():
        return x
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


def mean_over_columns(x: np.ndarray) -> np.ndarray:
    """Row means of ``x`` ``(n, ch)`` ignoring NaN; NaN (without a warning) where a row has none."""
    finite = np.isfinite(x)
    count = finite.sum(axis=1)
    total = np.where(finite, x, 0.0).sum(axis=1)
    return np.divide(total, count, out=np.full(x.shape[0], np.nan), where=count > 0)
