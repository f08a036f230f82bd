"""Every muscle burst of a whole recording: the rep analysis's onset rules without reps.

:func:`session_onsets` runs the same chain as the per-rep metrics (normalise, analysis envelope,
automatic rest levels with the "no resting period found" state, threshold detection, optional
refinement back to where the activation left rest) over a whole recording. It is what the
accuracy benchmark, the real-recording tests and the documentation plots use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from myoflow._checks import check_rate
from myoflow.analysis.activation import (
    ActivationParams,
    RestLevels,
    analysis_envelope,
    normalise,
    onset_kernels,
    rest_levels,
)
from myoflow.analysis.onset_classic import classic_bursts
from myoflow.analysis.onset_emg import RawEmg, changepoint_onsets
from myoflow.analysis.onset_names import CLASSIC_ONSET_METHODS, check_onset_method
from myoflow.dsp.onset_refine import RefineParams, refine_onset
from myoflow.dsp.onsets import Baseline, OnsetParams, detect_onsets


@dataclass(frozen=True)
class SessionOnsets:
    """Per channel: ``intervals`` ``(k, 2)`` threshold ``[on, off)`` samples, ``onsets_s``
    ``(k,)`` (refined when asked), ``uncertainty_s`` ``(k,)`` (NaN for threshold onsets);
    plus the ``levels``, ``unit`` and the normalised ``analysis`` envelope ``(n, ch)``."""

    intervals: list[np.ndarray]
    onsets_s: list[np.ndarray]
    uncertainty_s: list[np.ndarray]
    levels: RestLevels
    unit: str
    analysis: np.ndarray


def session_onsets(
    envelope: np.ndarray,
    fs: float,
    mvc: np.ndarray | None = None,
    params: ActivationParams | None = None,
    method: str | None = None,
    raw: RawEmg | None = None,
) -> SessionOnsets:
    """Bursts of every channel of a zero-phase envelope ``(n, ch)`` (physical units) at ``fs``.

    ``mvc``: ``(ch,)`` references (None: % session peak); ``method``: any of
    :data:`~myoflow.analysis.onset_names.ONSET_METHODS` (default: ``params.onset_method``);
    ``raw``: the raw EMG (sample 0 at the envelope's sample 0) that ``"changepoint"`` needs
    (without it: threshold onsets) and the classic methods need (there ``intervals`` are the
    classic detector's bursts, in samples of the envelope, offsets past the end at ``n``)."""
    fs = check_rate(fs)
    p = params or ActivationParams()
    method = check_onset_method(method or p.onset_method)
    norm = normalise(envelope, fs, mvc)
    ae = analysis_envelope(norm.envelope, fs, p)
    lv = rest_levels(ae, fs, p)
    h = 3.0
    base = Baseline(lv.mean, np.maximum((lv.onset_threshold - lv.mean) / h, 1e-12))
    if method in CLASSIC_ONSET_METHODS:
        if raw is None:
            raise ValueError(f"onset method {method!r} needs the raw EMG (raw=...)")
        bursts = classic_bursts(raw, method, lv.rest_s)
        ends = [np.nan_to_num(b, nan=ae.shape[0] / fs) for b in bursts]
        found = [np.rint(b * fs).astype(np.int64).reshape(-1, 2) for b in ends]
        nan = [np.full(len(b), np.nan) for b in bursts]
        return SessionOnsets(found, [b[:, 0] for b in ends], nan, lv, norm.unit, ae)
    intervals = detect_onsets(ae, fs, base, OnsetParams(h, h, p.min_on_s, p.min_off_s))
    kernels = onset_kernels(fs, p.detection_hz) if method == "refined" else None
    onsets, uncs = [], []
    for c, iv in enumerate(intervals):
        if method == "changepoint" and raw is not None and raw.has(c):
            # every burst of the channel in one call; none before the previous one's end
            earliest_s = np.concatenate(([0.0], iv[:-1, 1] / fs))
            at_s, unc_ms = changepoint_onsets(raw, c, iv[:, 0] / fs, earliest_s)
            onsets.append(at_s)
            uncs.append(unc_ms / 1000.0)
            continue
        if kernels is None:
            onsets.append(iv[:, 0] / fs)
            uncs.append(np.full(len(iv), np.nan))
            continue
        col = np.nan_to_num(ae[:, c].astype(np.float64))
        at, un, prev = [], [], 0
        for on, off in iv:
            i, u = refine_onset(
                col, fs, int(on), int(prev), RefineParams(bandwidth_hz=p.detection_hz), kernels
            )
            at.append(i / fs)
            un.append(u)
            prev = off
        onsets.append(np.array(at))
        uncs.append(np.array(un))
    return SessionOnsets(intervals, onsets, uncs, lv, norm.unit, ae)
