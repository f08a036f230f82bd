"""Ensemble curves: every rep time-normalised to 0-100 % of a phase, mean +- SD per muscle.

Each rep's envelope between two phase times (:data:`PHASES`) is resampled by linear
interpolation at ``n_points`` (101) equally spaced times, 0 % at the phase start and 100 % at
its end, so reps of different tempo line up (the usual time normalisation of gait and
exercise EMG, e.g. Winter 1991; Kadaba et al. 1989). The concentric and eccentric phases are
normalised separately; ``"cycle"`` is the whole rep (``start`` -> ``end``), which for walking
(``rep_kind == "cycle"``) is one gait cycle.

The **ensemble** of a phase is the mean and SD (``ddof=1``) over the reps at every point, per
muscle. A **normal band** (:func:`normal_band`) pools the rep curves of the user's own earlier
sessions: mean +- ``k_sd`` SD (1 by default) at every point; :func:`outside_band` gives the
share of today's mean curve that leaves it. Reps with lost samples in the phase are left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from myoflow._checks import as_signal, check_option, check_rate
from myoflow.analysis.rep_like import PhasedRep

__all__ = [
    "Ensemble",
    "NormalBand",
    "PHASES",
    "rep_ensemble",
    "normal_band",
    "outside_band",
    "session_ensembles",
    "time_normalise",
]

#: Phase name -> (start, end) keys of ``RepResult.phases``.
PHASES: dict[str, tuple[str, str]] = {
    "concentric": ("start", "top"),
    "eccentric": ("eccentric", "bottom"),
    "cycle": ("start", "end"),
}


@dataclass(frozen=True)
class Ensemble:
    """One phase's time-normalised curves.

    Attributes
    ----------
    phase
        Key of :data:`PHASES`.
    placements
        Muscle per channel.
    unit
        Level unit of the curves (``"% MVC"``, ...).
    pct
        ``(n_points,)`` 0-100 % of the phase.
    curves
        ``(n_reps, n_points, ch)`` each rep's normalised curve.
    reps
        ``(n_reps,)`` 1-based rep index of each curve.
    mean, sd
        ``(n_points, ch)`` over the reps (SD NaN with fewer than 2 reps).
    """

    phase: str
    placements: tuple[str, ...]
    unit: str
    pct: np.ndarray
    curves: np.ndarray
    reps: np.ndarray
    mean: np.ndarray
    sd: np.ndarray

    @property
    def n_reps(self) -> int:
        """Number of reps in the ensemble."""
        return int(self.curves.shape[0])

    def to_arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        """Arrays for ``np.savez``: ``<prefix><phase>.pct`` / ``.mean`` / ``.sd`` / ``.curves`` /
        ``.reps`` / ``.placements``."""
        key = f"{prefix}{self.phase}"
        return {
            f"{key}.pct": self.pct,
            f"{key}.mean": self.mean,
            f"{key}.sd": self.sd,
            f"{key}.curves": self.curves,
            f"{key}.reps": self.reps,
            f"{key}.placements": np.array(self.placements),
        }

    def to_dict(self, decimals: int = 3) -> dict[str, object]:
        """JSON-ready ``{"n_reps", "unit", "pct", "muscles": {m: {"mean", "sd"}}}`` (lists of
        floats rounded to ``decimals``; NaN stays NaN for the caller to map to null)."""
        return {
            "n_reps": self.n_reps,
            "unit": self.unit,
            "pct": [round(float(v), 3) for v in self.pct],
            "muscles": {
                m: {
                    "mean": [round(float(v), decimals) for v in self.mean[:, c]],
                    "sd": [round(float(v), decimals) for v in self.sd[:, c]],
                }
                for c, m in enumerate(self.placements)
            },
        }


@dataclass(frozen=True)
class NormalBand:
    """A normal band from earlier sessions: ``mean``, ``lower``, ``upper`` ``(n_points, ch)``
    at ``pct``; ``k_sd``, ``n_sessions`` and ``n_reps`` pooled."""

    phase: str
    placements: tuple[str, ...]
    pct: np.ndarray
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    k_sd: float
    n_sessions: int
    n_reps: int


def time_normalise(x: np.ndarray, fs: float, t_start: float, t_end: float, n_points: int = 101) -> np.ndarray:
    """``x`` ``(n, ch)`` (sample 0 at time 0, rate ``fs``) between ``t_start`` and ``t_end``
    (s) resampled at ``n_points`` equally spaced times; ``(n_points, ch)``, NaN if the phase
    leaves the signal or is not longer than one sample; a channel with a NaN sample in the phase
    is NaN."""
    fs = check_rate(fs)
    x = _two_d(x, "x")
    out = np.full((n_points, x.shape[1]), np.nan)
    if not (math.isfinite(t_start) and math.isfinite(t_end)) or t_end - t_start <= 1.0 / fs:
        return out
    pos = np.linspace(t_start, t_end, n_points) * fs
    if pos[0] < 0 or pos[-1] > x.shape[0] - 1:
        return out
    a, b = int(math.floor(pos[0])), int(math.ceil(pos[-1])) + 1
    # only the phase's samples are read (and converted): an hour-long envelope is not copied
    k = np.arange(a, b, dtype=np.float64)
    phase = as_signal(x[a:b], "x", dtype=np.float64)
    for c in range(x.shape[1]):
        seg = phase[:, c]
        if not np.isnan(seg).any():  # a lost sample anywhere in the phase: the channel is NaN
            out[:, c] = np.interp(pos, k, seg)
    return out


def _two_d(x: np.ndarray, name: str) -> np.ndarray:
    """``x`` as an ``(n, ch)`` array of real numbers, not copied (1-D is one channel)."""
    arr = np.asarray(x)
    if arr.ndim == 1:
        arr = arr[:, np.newaxis]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n_samples, n_channels), got shape {arr.shape}")
    as_signal(arr[:1], name)  # the dtype check, with its message
    return arr


def rep_ensemble(
    envelope: np.ndarray,
    fs: float,
    placements: Sequence[str],
    reps: Sequence[PhasedRep],
    phase: str = "concentric",
    unit: str = "",
    n_points: int = 101,
    rep_numbers: Sequence[int] | None = None,
    scale: np.ndarray | None = None,
) -> Ensemble:
    """The ensemble of one phase over ``reps``.

    Parameters
    ----------
    envelope
        ``(n, ch)`` envelope (normalised level), sample 0 at session time 0.
    fs
        Envelope rate (Hz).
    placements
        Muscle per channel.
    reps
        Reps with ``phases`` (session seconds), e.g. ``Report.reps``.
    phase
        ``"concentric"``, ``"eccentric"`` or ``"cycle"`` (:data:`PHASES`).
    unit
        Level unit, kept in the result.
    n_points
        Points per phase (101: one per 1 %).
    rep_numbers
        1-based numbers of ``reps`` (default: their ``index`` attribute, else 1..n).
    scale
        ``(ch,)`` factor per channel applied to the curves (e.g. ``100 / MVC reference`` to
        turn an envelope in uV into % MVC without scaling the whole recording).

    Returns
    -------
    Ensemble
        Reps whose phase has a NaN sample are left out.
    """
    check_option(phase, "phase", tuple(PHASES))
    if n_points < 2:
        raise ValueError(f"n_points must be at least 2, got {n_points}")
    x = _two_d(envelope, "envelope")
    if x.shape[1] != len(placements):
        raise ValueError(f"envelope has {x.shape[1]} channels but {len(placements)} placements were given")
    a, b = PHASES[phase]
    numbers = (
        list(rep_numbers)
        if rep_numbers is not None
        else [getattr(r, "index", i + 1) for i, r in enumerate(reps)]
    )
    curves, kept = [], []
    for r, num in zip(reps, numbers, strict=True):
        cur = time_normalise(x, fs, float(r.phases[a]), float(r.phases[b]), n_points)
        if np.isfinite(cur).all():
            curves.append(cur)
            kept.append(int(num))
    arr = np.array(curves) if curves else np.empty((0, n_points, x.shape[1]))
    if scale is not None:
        arr = arr * np.asarray(scale, dtype=np.float64).reshape(1, 1, -1)
    return _from_curves(phase, tuple(placements), unit, arr, np.array(kept, dtype=np.int64))


def _from_curves(
    phase: str, placements: tuple[str, ...], unit: str, curves: np.ndarray, reps: np.ndarray
) -> Ensemble:
    n_points = curves.shape[1]
    nan = np.full((n_points, curves.shape[2]), np.nan)
    mean = curves.mean(axis=0) if curves.shape[0] else nan
    sd = curves.std(axis=0, ddof=1) if curves.shape[0] > 1 else nan
    return Ensemble(phase, placements, unit, np.linspace(0.0, 100.0, n_points), curves, reps, mean, sd)


def session_ensembles(
    envelope: np.ndarray,
    fs: float,
    placements: Sequence[str],
    reps: Sequence[PhasedRep],
    unit: str = "",
    phases: Sequence[str] = ("concentric", "eccentric"),
    n_points: int = 101,
    scale: np.ndarray | None = None,
) -> dict[str, Ensemble]:
    """:func:`rep_ensemble` of each phase in ``phases``: phase -> Ensemble."""
    return {p: rep_ensemble(envelope, fs, placements, reps, p, unit, n_points, scale=scale) for p in phases}


def normal_band(earlier: Sequence[Ensemble], k_sd: float = 1.0) -> NormalBand:
    """Pool the rep curves of earlier sessions' ensembles of one phase into a normal band.

    Every rep counts once (a long session weighs more than a short one). The ensembles must
    share the phase, the number of points and the muscles (by name; channel order may differ:
    the first ensemble's order is used).

    Raises ``ValueError`` when ``earlier`` is empty, mixes phases or lacks a muscle.
    """
    if not earlier:
        raise ValueError("normal_band needs at least one earlier ensemble")
    first = earlier[0]
    pooled = []
    for e in earlier:
        if e.phase != first.phase or e.pct.size != first.pct.size:
            raise ValueError(
                f"normal_band: ensembles differ: {first.phase!r} with {first.pct.size} points "
                f"and {e.phase!r} with {e.pct.size} points"
            )
        missing = [m for m in first.placements if m not in e.placements]
        if missing:
            raise ValueError(
                f"normal_band: an earlier {e.phase} ensemble has no channel {', '.join(missing)}"
            )
        order = [e.placements.index(m) for m in first.placements]
        pooled.append(e.curves[:, :, order])
    curves = np.concatenate(pooled, axis=0)
    if curves.shape[0] < 2:
        raise ValueError(f"normal_band needs at least 2 earlier reps, got {curves.shape[0]}")
    mean, sd = curves.mean(axis=0), curves.std(axis=0, ddof=1)
    return NormalBand(
        first.phase,
        first.placements,
        first.pct.copy(),
        mean,
        mean - k_sd * sd,
        mean + k_sd * sd,
        float(k_sd),
        len(earlier),
        int(curves.shape[0]),
    )


def outside_band(today: Ensemble, band: NormalBand) -> dict[str, float]:
    """Per muscle, the share (0-1) of today's mean curve outside the band (NaN when the
    muscle is not in the band or today has no reps)."""
    if today.phase != band.phase or today.pct.size != band.pct.size:
        raise ValueError(
            f"outside_band: today's {today.phase!r} curve does not match the {band.phase!r} band"
        )
    out = {}
    for c, m in enumerate(today.placements):
        if m not in band.placements or today.n_reps == 0:
            out[m] = math.nan
            continue
        j = band.placements.index(m)
        y = today.mean[:, c]
        out[m] = float(np.mean((y < band.lower[:, j]) | (y > band.upper[:, j])))
    return out
