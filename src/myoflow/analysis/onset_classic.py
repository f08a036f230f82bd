"""The classic onset detectors as onset methods of the analysis (offline).

``hodges_bui``, ``tkeo`` and ``double_threshold`` (:mod:`myoflow.dsp.onset_methods`) need the
band-passed EMG and a rest period. Here the EMG is the raw EMG of the analysed muscles
(:class:`~myoflow.analysis.onset_emg.RawEmg`), band-passed and notched with the default
profile of its rate (:func:`myoflow.dsp.pipeline.profile_for_rate`, the magnitude of one
causal pass with zero phase, as ``benchmarks/bench_accuracy.py`` scores them), and the rest
period of each muscle is the analysis' own rest window
(:attr:`~myoflow.analysis.activation.RestLevels.rest_s`: the quietest 1 s of its analysis
envelope, or the steadiest 0.5 / 0.25 s where that fails). The detector runs once over the whole
recording (:func:`classic_bursts`); each rep's onset is the first burst the detector found in
that rep's onset search window, the same window as the other methods
(:func:`first_burst`, :func:`classic_activations`), its offset that burst's end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from myoflow.analysis.activation import MuscleActivation
from myoflow.analysis.onset_emg import RawEmg
from myoflow.analysis.onset_names import CLASSIC_ONSET_METHODS
from myoflow.dsp.onset_methods import detect
from myoflow.dsp.pipeline import band_passed_offline, profile_for_rate

#: An onset with a lost sample this close before it (s) only says the rise came before it.
LOST_GUARD_S = 0.05


def classic_bursts(
    raw: RawEmg, method: str, rest_s: np.ndarray | None, rest_t0: float = 0.0
) -> list[np.ndarray]:
    """Every burst of each muscle column of ``raw`` found by the classic ``method``.

    Parameters
    ----------
    raw
        The session's raw EMG (uV, NaN where lost or where a muscle has no raw channel).
    method
        One of :data:`~myoflow.analysis.onset_names.CLASSIC_ONSET_METHODS`.
    rest_s
        ``(ch, 2)`` each column's rest window ``[begin, end)`` (s from ``rest_t0``, the clock of
        ``raw.t0``), e.g. :attr:`~myoflow.analysis.activation.RestLevels.rest_s`.
    rest_t0
        Time (s) the rest windows count from (the analysis envelope's sample 0).

    Returns
    -------
    Per column ``(k, 2)`` float64 ``[onset, offset)`` times (s, the clock of ``raw.t0``);
    offset NaN when the burst lasts to the end of the recording; no rows for a column without
    raw samples. An onset right after lost samples (within :data:`LOST_GUARD_S`) is dropped.
    """
    if method not in CLASSIC_ONSET_METHODS:
        raise ValueError(f"{method!r} is not a classic onset method ({', '.join(CLASSIC_ONSET_METHODS)})")
    if rest_s is None:
        raise ValueError(
            f"onset method {method!r} needs a rest period: the analysis found none to use (a given "
            "baseline has no time); analyse without a baseline or choose changepoint/refined/threshold"
        )
    fs, n, cols = raw.fs, raw.samples.shape[0], raw.samples.shape[1]
    out = [np.zeros((0, 2)) for _ in range(cols)]
    has = [c for c in range(cols) if raw.has(c)]
    if not has or n < 3:
        return out
    x = np.asarray(raw.samples[:, has], dtype=np.float64)
    lost = ~np.isfinite(x)
    filtered = band_passed_offline(np.where(lost, 0.0, x), fs, profile_for_rate(fs, raw.mains_hz))
    guard = max(1, int(round(LOST_GUARD_S * fs)))
    for k, c in enumerate(has):
        i0, i1 = np.clip(np.rint((rest_t0 + np.asarray(rest_s[c], dtype=np.float64) - raw.t0) * fs), 0, n)
        iv = detect(filtered[:, k : k + 1], fs, (int(i0), int(i1)), method)[0]
        if lost[:, k].any():
            gone = np.concatenate(([0], np.cumsum(lost[:, k])))
            iv = iv[gone[iv[:, 0] + 1] - gone[np.maximum(iv[:, 0] - guard, 0)] == 0]
        iv = iv[iv[:, 0] > 0]  # a burst under way at the first sample has no known onset
        times = iv / fs + raw.t0
        times[iv[:, 1] >= n, 1] = np.nan
        out[c] = times
    return out


def first_burst(bursts: np.ndarray, begin_s: float, end_s: float) -> tuple[float, float | None] | None:
    """``(onset, offset or None)`` (s) of the first of ``bursts`` ``(k, 2)`` whose onset lies in
    ``(begin_s, end_s]``, or None."""
    inside = np.flatnonzero((bursts[:, 0] > begin_s) & (bursts[:, 0] <= end_s))
    if not inside.size:
        return None
    on, off = bursts[inside[0]]
    return float(on), (None if np.isnan(off) else float(off))


def classic_activations(
    acts: Sequence[MuscleActivation],
    bursts: Sequence[np.ndarray],
    start_s: float,
    begin_s: float,
    end_s: float,
) -> list[MuscleActivation]:
    """``acts`` (one per muscle) with onset and offset (ms from movement onset ``start_s``)
    taken from each muscle's first classic burst in the search window ``(begin_s, end_s]``
    (s); None where the detector found none there. No uncertainty: the classic detectors
    give none."""
    out = []
    for act, b in zip(acts, bursts, strict=True):
        got = first_burst(b, begin_s, end_s)
        onset = None if got is None else (got[0] - start_s) * 1000.0
        offset = None if got is None or got[1] is None else (got[1] - start_s) * 1000.0
        out.append(replace(act, onset_ms=onset, offset_ms=offset, onset_uncertainty_ms=None))
    return out
