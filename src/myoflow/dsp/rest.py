"""Rest baselines when no rest segment is marked: each channel's quietest window.

Onset detection (Hodges & Bui) compares the envelope with the mean and SD of the same envelope
at rest. Live sessions start with a rest period; recordings made elsewhere often do not say when
the muscle rested, so :func:`quietest_baseline` uses, per channel, the ``window_s`` window with
the lowest mean envelope (ignoring ``skip_s`` at both ends, where filters settle). Windows that
touch lost samples (NaN) are never chosen.
"""

from __future__ import annotations

import numpy as np

from myoflow._checks import as_signal, check_positive, check_rate
from myoflow.dsp.onsets import Baseline


def quietest_baseline(
    envelope: np.ndarray, fs: float, window_s: float = 1.0, skip_s: float = 0.5
) -> Baseline:
    """Baseline from each channel's quietest ``window_s`` window.

    Parameters
    ----------
    envelope
        Shape ``(n_samples, n_channels)``, any units.
    fs
        Sample rate in Hz.
    window_s
        Length of the rest window in seconds.
    skip_s
        Seconds ignored at the start and end.

    Returns
    -------
    Baseline with each channel's mean and SD over its quietest window.
    """
    fs = check_rate(fs)
    env = as_signal(envelope, "envelope")
    win = int(round(check_positive(window_s, "window_s", "s") * fs))
    skip = int(round(max(0.0, skip_s) * fs))
    usable = env[skip : env.shape[0] - skip]
    if usable.shape[0] < win:
        raise ValueError(
            f"envelope lasts {env.shape[0] / fs:.2f} s: too short for a {window_s} s rest window "
            f"after skipping {skip_s} s at each end"
        )
    # Locate each channel's quietest window on every `stride`-th sample (an envelope is smooth),
    # then take exact statistics over that window at the full rate.
    stride = max(1, win // 50)
    # Channel-major (one contiguous row per channel): running sums along a row are much faster
    # than along axis 0 of a few interleaved channels.
    coarse = np.ascontiguousarray(usable[::stride].astype(np.float64).T)  # gather rows, then transpose
    k = max(1, win // stride)
    lost = ~np.isfinite(coarse)
    zero = np.zeros((coarse.shape[0], 1))
    csum = np.cumsum(np.hstack([zero, np.where(lost, 0.0, coarse)]), axis=1)
    means = csum[:, k:] - csum[:, :-k]
    if lost.any():
        n_lost = np.cumsum(np.hstack([zero, lost]), axis=1)
        means[n_lost[:, k:] - n_lost[:, :-k] > 0] = np.inf
    best = means.min(axis=1)
    if np.isinf(best).any():
        bad = int(np.flatnonzero(np.isinf(best))[0])
        raise ValueError(f"channel {bad} has no {window_s} s window without lost samples for a rest baseline")
    starts = np.minimum(np.argmin(means, axis=1) * stride, usable.shape[0] - win)
    rest = np.stack([usable[s : s + win, c] for c, s in enumerate(starts)], axis=1).astype(np.float64)
    return Baseline(mean=np.nanmean(rest, axis=0), sd=np.nanstd(rest, axis=0))
