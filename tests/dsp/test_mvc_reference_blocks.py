"""``mvc_reference`` sums long channels a block of rows at a time: the same references as one
cumulative sum over the whole channel (the rule it replaced), bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import myoflow.dsp.normalise as normalise
from myoflow.dsp.normalise import mvc_reference


def one_cumsum(x: np.ndarray, w: int) -> np.ndarray:
    """The largest w-sample mean of each column from one cumulative sum (every sample finite;
    mvc_reference takes the envelope as float32)."""
    out = []
    for c in range(x.shape[1]):
        csum = np.cumsum(x[:, c].astype(np.float32).astype(np.float64))
        sums = csum[w - 1 :].copy()
        sums[1:] -= csum[:-w]
        out.append(sums.max() / w)
    return np.array(out)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("n", "w"), [(1000, 1000), (1001, 7), (2 * 4096 + 3, 1), (3 * 4096, 4096), (5000, 4500)]
)
def test_blocks_give_one_cumsums_numbers(monkeypatch, dtype, n: int, w: int) -> None:
    monkeypatch.setattr(normalise, "_BLOCK_ROWS", 4096)  # several blocks, windows across their edges
    x = (
        np.random.default_rng(n + w).gamma(2.0, 40.0, (n, 3)) + 1e4 * (np.arange(n)[:, None] % 977 == 0)
    ).astype(dtype)
    got = mvc_reference(x, 1000.0, window_s=w / 1000.0)
    assert np.array_equal(got, one_cumsum(x, w))
    assert x.dtype == dtype and np.isfinite(x).all()  # the input is not touched


def test_lost_samples_still_skip_their_windows(monkeypatch) -> None:
    monkeypatch.setattr(normalise, "_BLOCK_ROWS", 4096)
    x = np.full((10_000, 1), 10.0, dtype=np.float32)
    x[5000:5060] = 50.0
    x[5030] = np.nan  # the best window left: 30 high samples before it and 20 low ones
    assert mvc_reference(x, 1000.0, window_s=0.05)[0] == pytest.approx((30 * 50.0 + 20 * 10.0) / 50)
