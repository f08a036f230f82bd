"""Classic EMG onset detectors as named methods, on the band-passed EMG of a recording.

Each takes band-passed EMG ``(n, ch)``, its rate and a rest segment ``(begin, end)`` in samples
(the classic methods need a known rest period), and returns each channel's ``(k, 2)`` int64
``[onset, offset)`` intervals, like :func:`myoflow.dsp.onsets.detect_onsets`.

``hodges_bui``
    Hodges & Bui (1996, Electroencephalogr Clin Neurophysiol 101:511-519): full-wave rectify,
    low-pass (default 50 Hz, 2nd-order Butterworth, zero phase), onset where the signal stays
    above rest mean + ``h`` SD (default 3) for ``min_on_s`` (default 25 ms).
``tkeo``
    Li, Zhou & Aruin (2007, Clin Neurophysiol 118:1461-1470) and Solnik et al. (2010, Eur J Appl
    Physiol 110:489-498): the Teager-Kaiser energy ``x[n]^2 - x[n-1] x[n+1]`` of the band-passed
    EMG, rectified and low-passed at 50 Hz, then the same threshold rule (``h`` default 8: the
    TKEO output is far spikier at rest than the rectified EMG; our choice, see docs/metrics.md).
``double_threshold``
    Bonato, D'Alessio & Knaflitz (1998, IEEE Trans Biomed Eng 45:287-299): a sample counts
    when its square exceeds ``zeta`` rest variances (default 3.84: a 5 % false-alarm rate per
    sample for Gaussian rest noise); "on" where at least ``r0`` (default 30 %) of the samples in a
    ``m_s`` (default 25 ms) window count, held for ``min_on_s`` (default 25 ms).

The refined detector of the analysis (threshold, then a changepoint fit back to the departure)
is :func:`myoflow.dsp.onset_refine.refine_onset`; ``benchmarks/bench_accuracy.py`` scores all of
them on the same signals.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt

from myoflow._checks import as_signal, check_option, check_rate
from myoflow.dsp.envelope import tkeo
from myoflow.dsp.onsets import Baseline, OnsetParams, detect_onsets

METHODS = ("hodges_bui", "tkeo", "double_threshold")


def _rest_baseline(y: np.ndarray, rest: tuple[int, int]) -> Baseline:
    seg = y[rest[0] : rest[1]]
    sd = np.maximum(seg.std(axis=0), 1e-12 * max(float(np.abs(y).max()), 1e-30))
    return Baseline(seg.mean(axis=0), sd)


def _lowpass(y: np.ndarray, fs: float, hz: float) -> np.ndarray:
    return sosfiltfilt(butter(2, min(hz, 0.45 * fs), fs=fs, output="sos"), y, axis=0)


def detect(
    filtered: np.ndarray,
    fs: float,
    rest: tuple[int, int],
    method: str = "hodges_bui",
    h: float | None = None,
    min_on_s: float = 0.025,
    min_off_s: float = 0.05,
) -> list[np.ndarray]:
    """Onset/offset intervals per channel by a classic ``method`` (module docstring).

    Parameters
    ----------
    filtered
        ``(n, ch)`` band-passed EMG (any unit).
    fs
        Sample rate in Hz.
    rest
        ``(begin, end)`` sample indices of a rest period.
    method
        One of :data:`METHODS`.
    h
        Threshold in rest SDs (``hodges_bui`` 3, ``tkeo`` 8 when None).
    """
    fs = check_rate(fs)
    check_option(method, "method", METHODS)
    x = as_signal(filtered, "filtered", dtype=np.float64)
    if not 0 <= rest[0] < rest[1] <= x.shape[0] or rest[1] - rest[0] < 20:
        raise ValueError(f"rest segment {rest} must hold >= 20 samples inside the {x.shape[0]}-sample signal")
    if method == "double_threshold":
        return _double_threshold(x, fs, rest, min_on_s, min_off_s)
    if method == "tkeo":
        y = _lowpass(np.abs(tkeo(x)), fs, 50.0)
        h = 8.0 if h is None else h
    else:
        y = _lowpass(np.abs(x), fs, 50.0)
        h = 3.0 if h is None else h
    return detect_onsets(y, fs, _rest_baseline(y, rest), OnsetParams(h, h, min_on_s, min_off_s))


def _double_threshold(
    x: np.ndarray, fs: float, rest: tuple[int, int], min_on_s: float, min_off_s: float, zeta: float = 3.84
) -> list[np.ndarray]:
    var = np.maximum(x[rest[0] : rest[1]].var(axis=0), 1e-30)
    hits = (x**2 > zeta * var).astype(np.float64)
    m = max(3, int(round(0.025 * fs)))
    kernel = np.ones(m) / m
    share = np.stack([np.convolve(hits[:, c], kernel, mode="same") for c in range(x.shape[1])], axis=1)
    # share is the fraction of hits in the window: "on" above r0 = 0.3 (mean 0.05 at rest)
    return detect_onsets(
        share,
        fs,
        Baseline(np.zeros(x.shape[1]), np.full(x.shape[1], 0.1)),
        OnsetParams(3.0, 3.0, min_on_s, min_off_s),
    )
