"""Which mains frequency (50 or 60 Hz) a recording's EMG carries, from its spectrum.

Mains interference shows as narrow spectral lines at the mains frequency and its odd
harmonics. :func:`detect_mains` compares, for 50 and 60 Hz, the power in a 2 Hz band around
each line (the fundamental and, below Nyquist, the 3rd harmonic) with the median power of the
band around it (the EMG's broad spectrum), in the recording's quietest seconds. The frequency
whose lines stand out is the answer when they stand out clearly (:data:`MIN_LINE_RATIO`) and at
least twice as much as the other frequency's; otherwise there is no answer (a clean or a
battery-only recording), and the caller keeps the default or asks.

:func:`resolve_mains` is the one place that decides which mains frequency an analysis uses:
the caller's value, else the recording's ``filter_settings["mains_hz"]`` (stored by record,
import and the dashboard), else the spectrum, else 50 Hz; it says which.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.signal import spectrogram

from myoflow._checks import as_signal, check_rate

__all__ = ["MAINS", "MAX_S", "MIN_LINE_RATIO", "detect_mains", "resolve_mains", "stored_mains"]

#: Mains frequencies in use (Hz).
MAINS = (50.0, 60.0)
#: A mains line must carry this many times the median power of its neighbourhood.
MIN_LINE_RATIO = 8.0
#: Seconds of data :func:`detect_mains` looks at.
MAX_S = 120.0
_SEGMENT_S = 1.0  # segments: 1 Hz bins, short enough to find the quiet ones
_QUIET_FRACTION = 0.25  # of the segments, the quietest kept
_MIN_KEPT = 2  # but at least this many (all of a shorter recording)


def line_ratio(x: np.ndarray, fs: float, f0: float) -> float:
    """How far the mains line at ``f0`` (or its 3rd harmonic, below Nyquist) stands out in
    ``x`` ``(n, ch)``: the largest 1 Hz bin within +-1 Hz of the line over the median bin
    from 8 Hz below to 8 Hz above it (the line's +-2 Hz left out), averaged over channels."""
    return _ratio(*_spectrum(x, fs), fs, f0)


def _spectrum(x: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Spectrum of the quietest stretches of every channel of ``x`` ``(n, ch)``: frequencies,
    power ``(bins, ch)``.

    Each channel is cut into :data:`_SEGMENT_S` Hann segments overlapping by half; the quietest
    :data:`_QUIET_FRACTION` of them by power above 20 Hz (at least :data:`_MIN_KEPT`) are
    averaged. A mains line has the same power in every segment while a burst's EMG buries it
    (4 uV of hum beside 100 uV of glute EMG). Measured on 324 stretches (3, 6 and 30 s) of the
    independent burst generator (:mod:`myoflow.synth.bursts`, 200 Hz-2 kHz, with ECG, motion
    artefacts and wander) without hum, 216 with 5 uV of 50 or 60 Hz hum, and 324 stretches
    (4-20 s) of the virtual glute bridge: the quiet segments found the line in 216 of 216 and
    260 of 324 with no false line; one 16-s Welch average of all segments found 111 and 117
    and saw a line in 26 hum-free stretches. One channel at a time.
    """
    nper = int(min(x.shape[0], _SEGMENT_S * fs))
    f = np.empty(0)
    cols = []
    for j in range(x.shape[1]):
        f, _, pj = spectrogram(x[:, j], fs=fs, nperseg=nper, noverlap=nper // 2, detrend="constant")
        power = pj[f >= 20.0].sum(axis=0)
        keep = min(power.size, max(_MIN_KEPT, int(np.ceil(_QUIET_FRACTION * power.size))))
        cols.append(pj[:, np.argsort(power, kind="stable")[:keep]].mean(axis=1))
    return f, np.stack(cols, axis=1)


def _ratio(f: np.ndarray, p: np.ndarray, fs: float, f0: float) -> float:
    ratios = []
    for h in (f0, 3 * f0):
        if h + 9 >= fs / 2:
            continue
        line = (f >= h - 1) & (f <= h + 1)
        near = (f >= h - 8) & (f <= h + 8) & ~((f >= h - 2) & (f <= h + 2))
        floor = np.median(p[near], axis=0)
        ok = floor > 0
        if ok.any():
            ratios.append(float(np.mean(p[line][:, ok].max(axis=0) / floor[ok])))
    return max(ratios) if ratios else 0.0


def detect_mains(emg: np.ndarray, fs: float) -> float | None:
    """50.0 or 60.0 when the EMG ``(n_samples, n_channels)`` (raw, any unit, on its sample
    grid: a lost sample is a NaN row) shows that mains frequency's lines (module docstring),
    else None.

    Lost samples count as the channel's mean (zero after removing it), in place: dropping them
    would join the pieces out of phase with the mains, and a recording losing 2 % of its
    packets then shows no line at all."""
    fs = check_rate(fs)
    x = as_signal(emg, "emg", dtype=np.float64)
    x = x[: int(MAX_S * fs)]
    finite = np.all(np.isfinite(x), axis=1)
    if int(finite.sum()) < int(2 * fs) or fs / 2 < min(MAINS) + 9:
        return None
    if not finite.all():
        x = np.where(finite[:, np.newaxis], x - x[finite].mean(axis=0), 0.0)
    f, p = _spectrum(x, fs)  # once for both candidates
    scores = {f0: _ratio(f, p, fs, f0) for f0 in MAINS}
    best = max(scores, key=scores.__getitem__)
    other = min(scores.values())
    if scores[best] >= MIN_LINE_RATIO and scores[best] >= 2.0 * max(other, 1.0):
        return best
    return None


def stored_mains(filter_settings: Mapping[str, Any] | None) -> float | None:
    """The mains frequency a recording's ``filter_settings`` hold (``mains_hz``), else None."""
    value = (filter_settings or {}).get("mains_hz")
    return float(value) if isinstance(value, (int, float)) and float(value) in MAINS else None


def resolve_mains(
    given: float | None | str,
    filter_settings: Mapping[str, Any] | None,
    emg: np.ndarray | None = None,
    fs: float | None = None,
) -> tuple[float | None, str]:
    """``(mains_hz, how)``: ``given`` (a number, or None for no notch) when it is not
    ``"auto"``; else the stored value, else the spectrum of ``emg`` at ``fs``, else 50 Hz."""
    if given != "auto":
        return (None if given is None else float(given)), "given"
    stored = stored_mains(filter_settings)
    if stored is not None:
        how = str((filter_settings or {}).get("mains_source") or "stored in the recording")
        return stored, how if how.startswith("stored") else f"stored in the recording ({how})"
    if emg is not None and fs is not None:
        found = detect_mains(emg, fs)
        if found is not None:
            return found, "detected from the spectrum"
    return 50.0, "assumed (not stored, not detected from the spectrum)"
