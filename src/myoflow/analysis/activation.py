"""Activation per muscle per rep: normalisation, rest levels, onsets, peak, mean, time above.

Definitions (with references in ``docs/metrics.md``):

* **Normalisation.** Envelopes are expressed in % of each channel's MVC reference, or, when no
  MVC was calibrated, in % of the channel's *session peak* (the largest 0.5 s mean of its own
  envelope); the unit label says which (:data:`UNITS`).
* **Analysis envelope.** The zero-phase envelope's power is low-passed once more (zero phase,
  ``detection_hz``) and square-rooted: the same amplitude scale, less variance at rest.
* **Rest levels** per channel from the resting baseline (mean ``m``, SD ``s`` of the analysis
  envelope at rest): rest threshold ``max(rest_floor_pct, m + 3 s)`` (issue definition), and an
  onset threshold ``max(sqrt(m^2 + (r + d)^2 - r^2), m + h s)``: the Hodges & Bui criterion
  ``m + h s``, and at least a rise of ``d`` (``onset_margin_pct``) above a resting tone ``r``
  (``resting_tone_pct``) with the recording noise removed in power (noise and muscle
  activity add in quadrature in an envelope, so ``env^2 - m^2`` is the same with or without
  noise).
* **Onset / offset**: the first run above the onset threshold lasting ``min_on_s`` that starts
  within ``onset_search_s`` before movement onset and the top; its end (below for
  ``min_off_s``). Reported in ms relative to movement onset (negative = before the hip moved).
  A muscle already above the threshold when the search starts has no onset (``None``).
* **Peak / mean**: maximum and mean of the analysis envelope from movement onset to the bottom.
* **Time above**: seconds above the onset threshold from movement onset to the bottom.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfiltfilt

from myoflow._checks import as_signal, check_positive, check_range, check_rate
from myoflow.analysis._nan import interpolate_nan
from myoflow.dsp.normalise import mvc_reference
from myoflow.dsp.onsets import Baseline, OnsetParams, detect_onsets
from myoflow.dsp.rest import quietest_baseline

#: Normalisation -> unit label.
UNITS = {"mvc": "% MVC", "session_peak": "% session peak"}


@dataclass(frozen=True)
class ActivationParams:
    """Thresholds and windows of the activation and relaxation metrics (defaults in docs)."""

    h_sd: float = 3.0
    rest_floor_pct: float = 0.5
    onset_margin_pct: float = 2.0
    resting_tone_pct: float = 1.0
    min_on_s: float = 0.05
    min_off_s: float = 0.05
    onset_search_s: float = 0.5
    detection_hz: float = 6.0
    min_gap_s: float = 0.2

    def __post_init__(self) -> None:
        check_positive(self.h_sd, "h_sd", "baseline SDs")
        check_range(self.rest_floor_pct, "rest_floor_pct", 0.0, 100.0, "%")
        check_range(self.onset_margin_pct, "onset_margin_pct", 0.0, 100.0, "%")
        check_range(self.resting_tone_pct, "resting_tone_pct", 0.0, 100.0, "%")
        for name in ("min_on_s", "min_off_s", "onset_search_s", "min_gap_s"):
            check_positive(getattr(self, name), name, "s")
        check_positive(self.detection_hz, "detection_hz", "Hz")


@dataclass(frozen=True)
class Normalised:
    """``envelope`` ``(n, ch)`` float32 in ``unit``; ``reference`` ``(ch,)`` in input units."""

    envelope: np.ndarray
    unit: str
    reference: np.ndarray


def normalise(
    envelope: np.ndarray,
    fs: float,
    mvc: np.ndarray | None = None,
    window_s: float = 0.5,
    unit: str | None = None,
) -> Normalised:
    """Express envelopes in % MVC, or in % of each channel's session peak without an MVC.

    Parameters
    ----------
    envelope
        ``(n_samples, n_channels)`` envelope in any (physical) unit.
    fs
        Sample rate in Hz.
    mvc
        ``(n_channels,)`` MVC reference in the envelope's unit (same pipeline), or None.
    window_s
        Averaging window (s) of the session peak, as for an MVC reference.
    unit
        Label of references that are not maximal (e.g. ``"% reference contraction"``,
        :data:`myoflow.analysis.normalisation.UNITS`); default ``% MVC``.
    """
    fs = check_rate(fs)
    env = as_signal(envelope, "envelope")
    if mvc is None:
        ref, unit = mvc_reference(env, fs, window_s=window_s), UNITS["session_peak"]
    else:
        ref, unit = np.asarray(mvc, dtype=np.float64).reshape(-1), unit or UNITS["mvc"]
        if ref.size != env.shape[1]:
            raise ValueError(f"mvc has {ref.size} value(s) but the envelope has {env.shape[1]} channel(s)")
    bad = np.flatnonzero(~(np.isfinite(ref) & (ref > 0)))
    if bad.size:
        raise ValueError(f"normalisation reference of channel {int(bad[0])} is {ref[bad[0]]}: need > 0")
    return Normalised(np.ascontiguousarray(env * (100.0 / ref).astype(np.float32)), unit, ref)


def analysis_envelope(envelope: np.ndarray, fs: float, params: ActivationParams | None = None) -> np.ndarray:
    """Square root of the zero-phase low-passed power of ``envelope`` ``(n, ch)``; float32.

    Lost samples (NaN) stay NaN; for the filter they are bridged by linear interpolation, so
    the envelope next to a gap is not dragged towards zero."""
    fs = check_rate(fs)
    params = params or ActivationParams()
    env = as_signal(envelope, "envelope", dtype=np.float64)
    cutoff = min(params.detection_hz, 0.4 * fs)
    sos = butter(2, cutoff, fs=fs, output="sos")
    if env.shape[0] <= 3 * (2 * len(sos) + 1):
        return env.astype(np.float32)
    power = sosfiltfilt(sos, interpolate_nan(env) ** 2, axis=0)
    out = np.sqrt(np.maximum(power, 0.0))
    out[~np.isfinite(env)] = np.nan
    return np.ascontiguousarray(out, dtype=np.float32)


@dataclass(frozen=True)
class RestLevels:
    """Per channel ``(ch,)``: resting ``mean`` and ``sd`` of the analysis envelope, the
    ``rest_threshold`` and ``onset_threshold`` (module docstring), all in the envelope unit."""

    mean: np.ndarray
    sd: np.ndarray
    rest_threshold: np.ndarray
    onset_threshold: np.ndarray


def rest_levels(
    analysis_env: np.ndarray,
    fs: float,
    params: ActivationParams | None = None,
    baseline: Baseline | None = None,
    window_s: float = 1.0,
) -> RestLevels:
    """Rest statistics and thresholds of each channel.

    Parameters
    ----------
    analysis_env
        ``(n, ch)`` analysis envelope (:func:`analysis_envelope`) of the session, normalised.
    fs
        Sample rate in Hz.
    params
        Threshold parameters.
    baseline
        Known rest statistics (e.g. a marked rest period); default: each channel's quietest
        ``window_s`` window (:func:`myoflow.dsp.rest.quietest_baseline`).
    """
    fs = check_rate(fs)
    params = params or ActivationParams()
    env = as_signal(analysis_env, "analysis_env")
    if baseline is None:
        baseline = quietest_baseline(env, fs, window_s=window_s, skip_s=0.5)
    m, s = baseline.mean, baseline.sd
    if m.size != env.shape[1]:
        raise ValueError(f"baseline has {m.size} channel(s) but the envelope has {env.shape[1]}")
    rest = np.maximum(params.rest_floor_pct, m + 3.0 * s)
    r, d = params.resting_tone_pct, params.onset_margin_pct
    onset = np.maximum(np.sqrt(m**2 + (r + d) ** 2 - r**2), m + params.h_sd * s)
    return RestLevels(m, s, rest, onset)


@dataclass(frozen=True)
class MuscleActivation:
    """One muscle in one rep (module docstring). Levels in the session's unit, times in ms/s."""

    peak_pct: float
    mean_pct: float
    onset_ms: float | None
    offset_ms: float | None
    time_above_s: float


def muscle_activation(
    env: np.ndarray,
    fs: float,
    t0: float,
    start_s: float,
    top_s: float,
    bottom_s: float,
    levels: RestLevels,
    params: ActivationParams | None = None,
) -> list[MuscleActivation]:
    """Activation metrics of every channel over one rep.

    Parameters
    ----------
    env
        ``(n, ch)`` analysis envelope of the rep's window, normalised; sample 0 at ``t0`` (s).
    fs
        Sample rate in Hz.
    start_s, top_s, bottom_s
        Movement onset, top and bottom of the rep (s, same clock as ``t0``).
    levels
        The session's rest levels.
    """
    params = params or ActivationParams()
    x = as_signal(env, "env")
    n = x.shape[0]

    def idx(t: float) -> int:
        return int(np.clip(round((t - t0) * fs), 0, n))

    i_search, i_start, i_top, i_bot = (
        idx(start_s - params.onset_search_s),
        idx(start_s),
        idx(top_s),
        idx(bottom_s),
    )
    thr = levels.onset_threshold
    h = 3.0  # the threshold is handed to detect_onsets as mean + h * ((thr - mean) / h)
    base = Baseline(levels.mean, np.maximum((thr - levels.mean) / h, 1e-12))
    intervals = detect_onsets(x[i_search:], fs, base, OnsetParams(h, h, params.min_on_s, params.min_off_s))
    active = x[i_start:i_bot]
    out = []
    for c in range(x.shape[1]):
        onset_ms = offset_ms = None
        on = intervals[c]
        # An onset at the first sample of the search, or at the first sample after lost ones,
        # only says the rise happened before it: no onset time.
        known = on[:, 0] > 0
        known[known] = np.isfinite(x[i_search + on[known, 0] - 1, c])
        first = on[known & (on[:, 0] <= i_top - i_search)]
        if first.size:
            onset_ms = ((i_search + first[0, 0]) / fs + t0 - start_s) * 1000.0
            if first[0, 1] < x.shape[0] - i_search:
                offset_ms = ((i_search + first[0, 1]) / fs + t0 - start_s) * 1000.0
        col = active[:, c]
        finite = col[np.isfinite(col)]
        out.append(
            MuscleActivation(
                peak_pct=float(finite.max()) if finite.size else float("nan"),
                mean_pct=float(finite.mean()) if finite.size else float("nan"),
                onset_ms=onset_ms,
                offset_ms=offset_ms,
                time_above_s=float(np.count_nonzero(col > thr[c]) / fs),
            )
        )
    return out
