"""The raw lane's incremental min/max columns against a direct computation."""

from __future__ import annotations

import numpy as np

from myoflow.dashboard.columns import PeakColumns

RATE, WINDOW, BINS = 2000.0, 10.0, 400


def _signal(seconds: float, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    t = 5000.0 + np.arange(int(seconds * RATE)) / RATE  # host-clock times, as the ring holds them
    v = np.random.default_rng(seed).normal(0.0, 50.0, t.size).astype(np.float32)
    v[int(7.3 * RATE)] = 900.0  # a one-sample spike
    return t, v


def _direct(t: np.ndarray, v: np.ndarray, dt: float) -> dict[int, tuple[float, float, float, float]]:
    """Per column of host time: first and last sample time, min and max (a plain loop)."""
    out: dict[int, tuple[float, float, float, float]] = {}
    for ti, vi in zip(t.tolist(), v.tolist(), strict=True):
        k = int(np.floor(ti / dt))
        t0, _, lo, hi = out.get(k, (ti, ti, vi, vi))
        out[k] = (t0, ti, min(lo, vi), max(hi, vi))
    return out


def test_frames_fold_in_only_new_samples_and_match_a_direct_computation() -> None:
    t, v = _signal(14.0)
    dt = WINDOW / BINS
    columns = PeakColumns(dt, BINS + 2)
    end = int(10.0 * RATE)
    assert columns.add(t[:end], v[:end])  # the first frame: the whole window
    rng = np.random.default_rng(2)
    while end < t.size:  # frames with 0-80 new samples, each handing over the last 10 s
        end = min(t.size, end + int(rng.integers(0, 80)))
        start = max(0, end - int(WINDOW * RATE))
        assert columns.add(t[start:end], v[start:end])
    x, y = columns.points(t[-1] - WINDOW)
    want = _direct(t, v, dt)  # every sample was handed over in some frame
    pairs = zip(x[0::2].tolist(), x[1::2].tolist(), y[0::2].tolist(), y[1::2].tolist(), strict=True)
    got = {int(np.floor(p[0] / dt)): p for p in pairs}
    inside = [k for k in want if want[k][1] >= t[-1] - WINDOW]
    assert sorted(got) == sorted(inside)
    for k in inside:
        assert got[k] == want[k], k
    assert y.max() == 900.0  # the spike survives


def test_a_window_that_does_not_continue_is_refused() -> None:
    t, v = _signal(12.0)
    columns = PeakColumns(WINDOW / BINS, BINS + 2)
    assert columns.add(t[:4000], v[:4000])
    assert not columns.add(t[5000:9000], v[5000:9000])  # samples 4000-4999 never handed over
    assert not columns.add(t[:3000], v[:3000])  # time went backwards
    columns.clear()
    assert columns.add(t[5000:9000], v[5000:9000])
    x, _ = columns.points(-np.inf)
    assert x[0] == t[5000] and x[-1] == t[8999]
