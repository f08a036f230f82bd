"""Eccentric hold: does the glute keep squeezing as the hips lower?

Per rep and channel (glute bridge cue "keep squeezing as you lower"):

``hold_pct = 100 * mean(env[eccentric, eccentric + (bottom - eccentric) / 2]) / max(env[start, top])``

the mean analysis envelope over the first half of the eccentric phase as a percentage of the
same channel's peak in the concentric phase (100 %: the glute holds its concentric peak; near
0 %: it lets go as soon as the lowering begins). See ``docs/metrics.md``.
"""

from __future__ import annotations

import numpy as np

from myoflow._checks import as_signal, check_rate
from myoflow.analysis._nan import nan_max, nan_mean


def eccentric_hold(
    env: np.ndarray,
    fs: float,
    t0: float,
    start_s: float,
    top_s: float,
    eccentric_s: float,
    bottom_s: float,
) -> np.ndarray:
    """Eccentric hold of every channel of one rep, % of its concentric peak.

    Parameters
    ----------
    env
        ``(n, ch)`` analysis envelope of the rep's window; sample 0 at ``t0`` (s).
    fs
        Sample rate in Hz.
    start_s, top_s, eccentric_s, bottom_s
        The rep's phase boundaries (s, same clock as ``t0``).

    Returns
    -------
    ``(ch,)`` float64; NaN for a channel without a positive concentric peak or an empty phase.
    """
    fs = check_rate(fs)
    # float32 stays float32 here: only the two phases are taken to float64 (by nan_max/nan_mean)
    x = as_signal(env, "env", dtype=np.float32 if np.asarray(env).dtype == np.float32 else np.float64)
    n = x.shape[0]

    def idx(t: float) -> int:
        return int(np.clip(round((t - t0) * fs), 0, n))

    conc = x[idx(start_s) : max(idx(top_s), idx(start_s) + 1)]
    half = x[idx(eccentric_s) : idx(eccentric_s + 0.5 * (bottom_s - eccentric_s))]
    if conc.size == 0 or half.size == 0:
        return np.full(x.shape[1], np.nan)
    peak = nan_max(conc, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(peak > 0, 100.0 * nan_mean(half, axis=0) / np.where(peak > 0, peak, 1.0), np.nan)
