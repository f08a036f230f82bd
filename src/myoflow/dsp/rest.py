"""Rest baselines when no rest segment is marked: each channel's quietest window.

Onset detection (Hodges & Bui) compares the envelope with the mean and SD of the same envelope
at rest. Live sessions start with a rest period; recordings made elsewhere often do not say when
the muscle rested, so :func:`quietest_baseline` uses, per channel, the ``window_s`` window with
the least ``mean + sd_weight x SD``. With ``sd_weight=0`` (default) that is the lowest level; with
:data:`SD_WEIGHT` (2) the window must be **low and steady**, which finds the flat stretch
between bursts of continuous movement (walking has no quiet second, and the lowest-level short
window straddles the foot of a burst). The level-only choice stays the default because on
recordings whose rest level wanders slowly (BioSPPy ``emg_1``) the steadiest window's SD
underestimates that wander and the threshold lands too low (measured: 61 % instead of 19 % of
the quietest quarter marked active); :func:`myoflow.analysis.activation.rest_levels` uses the
steady choice for the shorter windows it tries when the level-only 1 s window fails.
``skip_s`` at both ends is ignored (filters settle there) and windows that touch lost samples
(NaN) are never chosen.

Short windows are allowed (0.1 s): the SD is floored at :data:`SD_FLOOR_REL` of the mean (and a
tiny absolute floor), so a window of an envelope that barely moves gives a usable, stated
threshold instead of an error.
"""

from __future__ import annotations

import numpy as np

from myoflow._checks import as_signal, check_positive, check_rate
from myoflow.dsp.onsets import Baseline

#: The rest SD is at least this share of the rest mean.
SD_FLOOR_REL = 0.02
#: Weight of the SD in the choice of the rest window (``mean + SD_WEIGHT x SD``).
SD_WEIGHT = 2.0


def quietest_baseline(
    envelope: np.ndarray, fs: float, window_s: float = 1.0, skip_s: float = 0.5, sd_weight: float = 0.0
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
    sd_weight
        Weight of the window's SD in its score ``mean + sd_weight x SD`` (0: lowest mean).

    Returns
    -------
    Baseline with each channel's mean and SD over its quietest window (SD floored).
    """
    return quietest_window(envelope, fs, window_s, skip_s, sd_weight)[0]


def quietest_window(
    envelope: np.ndarray, fs: float, window_s: float = 1.0, skip_s: float = 0.5, sd_weight: float = 0.0
) -> tuple[Baseline, np.ndarray]:
    """:func:`quietest_baseline` and where each channel's window lies: ``(baseline, bounds)``
    with ``bounds`` ``(n_channels, 2)`` int64 ``[begin, end)`` sample indices into ``envelope``
    (arguments as :func:`quietest_baseline`)."""
    starts, win, usable = quietest_starts(envelope, fs, window_s, skip_s, sd_weight)
    rest = np.stack([usable[s : s + win, c] for c, s in enumerate(starts)], axis=1).astype(np.float64)
    mean = np.nanmean(rest, axis=0)
    # The tiny absolute floor only has to be positive and far below the signal: its scale is
    # the largest |value| on the window search grid (every stride-th sample; the envelope is
    # smooth), not of every sample, which would cost two more passes over the recording.
    scale = _largest_magnitude(usable[:: _stride(win)])
    sd = np.maximum(
        np.nanstd(rest, axis=0), np.maximum(SD_FLOOR_REL * np.abs(mean), 1e-9 * max(scale, 1e-30))
    )
    first = int(round(max(0.0, skip_s) * check_rate(fs)))  # ``usable`` starts here
    bounds = np.stack([starts + first, starts + first + win], axis=1).astype(np.int64)
    return Baseline(mean=mean, sd=sd), bounds


def _stride(win: int) -> int:
    """Samples between the points where a ``win``-sample rest window may start (50 per window)."""
    return max(1, win // 50)


def _largest_magnitude(x: np.ndarray) -> float:
    """Largest ``|value|`` of ``x`` ignoring NaN (``inf`` counts), or 1.0 if nothing is finite.

    Two plain reductions (no ``abs`` copy): when both extremes are finite there is no NaN or
    inf and ``max(hi, -lo)`` is that value exactly; otherwise the NaN-aware path decides.
    """
    hi, lo = float(x.max()), float(x.min())
    if np.isfinite(hi) and np.isfinite(lo):
        return max(hi, -lo)
    return float(np.nanmax(np.abs(x))) if np.isfinite(x).any() else 1.0


def quietest_starts(
    envelope: np.ndarray, fs: float, window_s: float = 1.0, skip_s: float = 0.5, sd_weight: float = 0.0
) -> tuple[np.ndarray, int, np.ndarray]:
    """Each channel's rest window (see :func:`quietest_baseline`): ``(starts, window, usable)``
    with ``starts`` ``(ch,)`` indices into ``usable`` (the envelope without ``skip_s`` at the
    start; add that many samples for indices into ``envelope``)."""
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
    stride = _stride(win)
    # Channel-major (one contiguous row per channel): running sums along a row are much faster
    # than along axis 0 of a few interleaved channels.
    coarse = usable[::stride].T.astype(np.float64, order="C")  # one copy: gather, transpose, widen
    k = max(1, win // stride)
    lost = ~np.isfinite(coarse)
    zero = np.zeros((coarse.shape[0], 1))
    clean = np.where(lost, 0.0, coarse)
    csum = np.cumsum(np.hstack([zero, clean]), axis=1)
    means = (csum[:, k:] - csum[:, :-k]) / k
    if sd_weight > 0:
        csq = np.cumsum(np.hstack([zero, clean * clean]), axis=1)
        var = np.maximum((csq[:, k:] - csq[:, :-k]) / k - means**2, 0.0)
        means = means + sd_weight * np.sqrt(var)
    if lost.any():
        n_lost = np.cumsum(np.hstack([zero, lost]), axis=1)
        means[n_lost[:, k:] - n_lost[:, :-k] > 0] = np.inf
    best = means.min(axis=1)
    if np.isinf(best).any():
        bad = int(np.flatnonzero(np.isinf(best))[0])
        raise ValueError(f"channel {bad} has no {window_s} s window without lost samples for a rest baseline")
    starts = np.minimum(np.argmin(means, axis=1) * stride, usable.shape[0] - win)
    return starts, win, usable
