"""Relaxation after a set: train, relax, train, relax.

For explosive and postural work (a band walk, a Copenhagen plank, a balance hold) the muscle
cannot fully let go between reps; what a coach checks is that it lets go **after the set**.
Per set and per muscle, from the session's analysis envelope:

* **Set end**: the last rep's ``bottom`` (the movement is back at rest; for a hold, the end of
  the hold).
* **Time to relax** (s): from the set end to the start of the first EMG gap (the envelope below
  the rest threshold for at least ``min_gap_s``, :func:`~myoflow.analysis.relaxation.relaxation`),
  searched until the next set starts or ``search_s`` has passed; None when there is none. 0 when
  the muscle was already below its threshold at the set end.
* **Residual tension**: the median envelope over ``[end + settle_s, end + settle_s + residual_s]``
  (session unit, and as a multiple of the resting mean): what is left once the muscle had time.
* **Post-set relaxation verdict**: relaxed within ``max_relax_s``.
* **Rest after the set** (s): from the set end to the next set's first movement onset (None for
  the last set); the exercise file's ``targets.rest_between_sets_s`` is what it is compared with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from myoflow._checks import as_signal, check_rate
from myoflow.analysis.relaxation import relaxation

__all__ = ["SetRelaxParams", "SetRelaxation", "set_relaxation"]


@dataclass(frozen=True)
class SetRelaxParams:
    """Windows and the verdict limit of the post-set rule (s; module docstring)."""

    search_s: float = 10.0
    settle_s: float = 1.0
    residual_s: float = 2.0
    max_relax_s: float = 3.0


@dataclass(frozen=True)
class SetRelaxation:
    """One muscle after one set (module docstring); levels in the session unit."""

    set_end_s: float
    time_to_relax_s: float | None
    residual_pct: float
    residual_x_rest: float
    relaxed: bool
    rest_after_s: float | None


def set_relaxation(
    env: np.ndarray,
    fs: float,
    t0: float,
    placements: Sequence[str],
    set_end_s: float,
    next_start_s: float | None,
    rest_mean: np.ndarray,
    rest_threshold: np.ndarray,
    min_gap_s: float = 0.2,
    params: SetRelaxParams | None = None,
) -> dict[str, SetRelaxation]:
    """Post-set relaxation of every channel after one set.

    Parameters
    ----------
    env
        ``(n, ch)`` analysis envelope of the session (normalised); sample 0 at ``t0`` (s).
    fs
        Its rate in Hz.
    placements
        Channel names, ``ch`` of them.
    set_end_s
        The set's last rep's bottom (s).
    next_start_s
        The next set's first movement onset (s), or None after the last set.
    rest_mean, rest_threshold
        ``(ch,)`` resting mean and rest threshold per channel.
    """
    fs = check_rate(fs)
    x = as_signal(env, "env")
    p = params or SetRelaxParams()
    data_end = t0 + x.shape[0] / fs
    stop = min(set_end_s + p.search_s, data_end if next_start_s is None else min(next_start_s, data_end))
    stop = max(stop, set_end_s)
    rel = relaxation(x, fs, t0, (set_end_s, stop), rest_mean, rest_threshold, min_gap_s)
    r0 = set_end_s + p.settle_s
    r1 = min(r0 + p.residual_s, stop)
    i0 = int(np.clip(round((r0 - t0) * fs), 0, x.shape[0]))
    i1 = int(np.clip(round((r1 - t0) * fs), i0, x.shape[0]))
    rest_after = None if next_start_s is None else float(next_start_s - set_end_s)
    out = {}
    for c, name in enumerate(placements):
        gaps = rel[c].gaps_s
        ttr = float(gaps[0][0] - set_end_s) if gaps else None
        seg = x[i0:i1, c]
        residual = float(np.nanmedian(seg)) if np.isfinite(seg).any() else float("nan")
        out[name] = SetRelaxation(
            set_end_s=float(set_end_s),
            time_to_relax_s=ttr,
            residual_pct=residual,
            residual_x_rest=residual / float(rest_mean[c]) if rest_mean[c] > 0 else float("inf"),
            relaxed=ttr is not None and ttr <= p.max_relax_s,
            rest_after_s=rest_after,
        )
    return out
