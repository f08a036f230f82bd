"""Activation per muscle per rep: normalisation, rest levels, onsets, peak, mean, time above.

Definitions (with references in ``docs/metrics.md``):

* **Normalisation.** Envelopes are expressed in % of each channel's MVC reference, or, when no
  MVC was calibrated, in % of the channel's *session peak* (the largest 0.5 s mean of its own
  envelope); the unit label says which (:data:`UNITS`).
* **Analysis envelope.** The zero-phase envelope's power is low-passed once more (zero phase,
  ``detection_hz``, a positive-kernel smoother: :func:`myoflow.dsp.smooth.positive_lowpass`)
  and square-rooted: the same amplitude scale, less variance at rest, and never clamped (the
  power stays non-negative by construction, so no sample is an artificial 0).
* **Rest levels** per channel from the resting baseline (mean ``m``, SD ``s`` of the analysis
  envelope at rest): rest threshold ``max(rest_floor_pct, m + 3 s)`` (issue definition), and an
  onset threshold ``max(sqrt(m^2 + (r + d)^2 - r^2), m + h s)``: the Hodges & Bui criterion
  ``m + h s``, and at least a rise of ``d`` (``onset_margin_pct``) above a resting tone ``r``
  (``resting_tone_pct``) with the recording noise removed in power (noise and muscle
  activity add in quadrature in an envelope, so ``env^2 - m^2`` is the same with or without
  noise).
* **Rest without a quiet second**: the rest window is the lowest 1 s
  (:func:`myoflow.dsp.rest.quietest_baseline`); when it gives an onset threshold above
  ``REST_MAX_FRAC`` of the channel's session peak (continuous movement such as walking),
  0.5 s and then 0.25 s windows chosen as the steadiest low stretch (level + 2 SD) are
  tried; if none works the channel is marked ``rest_found=False`` ("no resting period
  found") instead of getting a threshold above its own peak. **Per-rep local baseline**:
  for such a channel each rep's thresholds come from the steadiest 0.2 s before its
  movement onset. (A channel that has a session rest but is still
  active when a rep's search starts keeps "no onset", as after a tense rep.)
* **Onset / offset**: detection is the first run above the onset threshold lasting ``min_on_s``
  that starts within ``onset_search_s`` before movement onset and the top (movement cycles:
  the cycle's end); its end (below for
  ``min_off_s``). ``onset_method="threshold"`` reports that crossing (the default is ``"changepoint"``); with
  ``"refined"`` the onset is moved to where the activation left its baseline
  (:func:`myoflow.dsp.onset_refine.refine_onset`) and carries an uncertainty (ms, about a 68 %
  interval half-width); ``"changepoint"`` moves it to where the variance of the raw EMG left
  rest (:func:`myoflow.analysis.onset_emg.changepoint_onset`; needs the raw EMG, ``raw``;
  without it the threshold crossing is reported), with an uncertainty. Accuracy of each on
  independent truth: ``benchmarks/bench_accuracy.py`` and docs/metrics.md.
  Reported in ms relative to movement onset (negative = before the hip moved). A muscle
  already above the threshold when the search starts has no onset (``None``).
* **Peak / mean**: maximum and mean of the analysis envelope from movement onset to the bottom.
* **Time above**: seconds above the onset threshold from movement onset to the bottom.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from myoflow._checks import as_signal, check_positive, check_range, check_rate
from myoflow.analysis._lowpass import butter_lowpass, zero_phase
from myoflow.analysis._nan import interpolate_nan
from myoflow.analysis.onset_emg import RawEmg, changepoint_onset
from myoflow.analysis.onset_names import DEFAULT_ONSET_METHOD, check_onset_method
from myoflow.analysis.onset_names import ONSET_METHODS as _ONSET_METHODS
from myoflow.dsp.normalise import mvc_reference
from myoflow.dsp.onset_refine import RefineParams, envelope_kernels, refine_onset
from myoflow.dsp.onsets import Baseline, OnsetParams, detect_onsets
from myoflow.dsp.pipeline import profile_for_rate
from myoflow.dsp.rest import SD_WEIGHT, quietest_baseline, quietest_window
from myoflow.dsp.smooth import matched_lowpass

#: The analysis smoother runs at about this rate (block means above it), Hz.
SMOOTH_RATE_HZ = 200.0
#: Onset methods of the analysis (module docstring; the registry is
#: :mod:`myoflow.analysis.onset_names`).
ONSET_METHODS = _ONSET_METHODS
#: An onset threshold above this share of the channel's session peak means no rest was found.
REST_MAX_FRAC = 0.5
#: Rest windows (s) tried in turn when no baseline is given.
REST_WINDOWS_S = (1.0, 0.5, 0.25)
#: Length (s) of a rep's local baseline window.
LOCAL_REST_S = 0.2

#: Averaging window (s) of a channel's session peak (:func:`normalise` without an MVC).
PEAK_WINDOW_S = 0.5
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
    onset_method: str = DEFAULT_ONSET_METHOD

    def __post_init__(self) -> None:
        check_onset_method(self.onset_method)
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
    window_s: float = PEAK_WINDOW_S,
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


def analysis_envelope(
    envelope: np.ndarray, fs: float, params: ActivationParams | None = None, out: np.ndarray | None = None
) -> np.ndarray:
    """Square root of the zero-phase low-passed power of ``envelope`` ``(n, ch)``; float32,
    written into ``out`` (a float32 ``(n, ch)`` array, e.g. some columns of a larger one) when
    given.

    Lost samples (NaN) stay NaN; for the filter they are bridged by linear interpolation, so
    the envelope next to a gap is not dragged towards zero. Above :data:`SMOOTH_RATE_HZ` the
    power is averaged in blocks, smoothed at the block rate and interpolated back linearly
    between block centres (an envelope holds nothing that fast; block means and linear
    interpolation of non-negative values stay non-negative)."""
    fs = check_rate(fs)
    params = params or ActivationParams()
    env = _float_rows(envelope)  # float32 stays float32; a column group of a session is not copied
    if out is not None and (out.shape != env.shape or out.dtype != np.float32):
        raise ValueError(f"out must be a float32 array of shape {env.shape}, got {out.dtype} {out.shape}")
    bridged = interpolate_nan(env)  # ``env`` itself when nothing is lost
    factor = max(1, int(fs // SMOOTH_RATE_HZ))
    n = env.shape[0]
    if not (factor > 1 and n >= 4 * factor):
        power = np.asarray(bridged, dtype=np.float64) ** 2
        power = matched_lowpass(power, fs, min(params.detection_hz, 0.4 * fs))
        root = np.sqrt(power)  # power >= 0 by construction: nothing to clip
        root[~np.isfinite(env)] = np.nan
        if out is None:
            return np.ascontiguousarray(root, dtype=np.float32)
        out[...] = root
        return out
    full = n // factor
    blocks = np.empty((full + (n % factor > 0), env.shape[1]))
    for a in range(0, full, _ROWS // factor):  # block means of the power, a slice of rows at a time
        b = min(full, a + _ROWS // factor)
        power = np.asarray(bridged[a * factor : b * factor], dtype=np.float64) ** 2
        power = power.reshape(b - a, factor, -1)
        total = power[:, 0] + power[:, 1]  # ``mean(axis=1)``'s order of additions, without its
        for m in range(2, factor):  # 8-element inner loops
            total += power[:, m]
        np.divide(total, factor, out=blocks[a:b])
    if n % factor:
        blocks[-1] = (np.asarray(bridged[full * factor :], dtype=np.float64) ** 2).mean(axis=0)
    slow = matched_lowpass(blocks, fs / factor, min(params.detection_hz, 0.4 * fs / factor))
    centres = np.minimum(np.arange(blocks.shape[0]) * factor + 0.5 * (factor - 1), n - 1)
    return _upsampled_root(slow, centres, factor, env, lost=bridged is not env, out=out)


#: Rows of a full-rate signal processed at once by :func:`analysis_envelope` (bounded memory).
_ROWS = 1 << 16


def _float_rows(x: np.ndarray) -> np.ndarray:
    """``x`` as ``(n, ch)`` float32 or float64 (:func:`~myoflow._checks.as_signal`), without a
    copy when it already is one, in any memory layout (e.g. some columns of a longer array)."""
    arr = np.asarray(x)
    if arr.ndim == 2 and arr.dtype in (np.float32, np.float64):
        return arr
    return as_signal(arr, "envelope", dtype=_float_type(arr))


def _float_type(x: np.ndarray) -> type:
    """``x``'s dtype when it is float32 or float64, else float64."""
    kind = np.asarray(x).dtype
    return kind.type if kind in (np.float32, np.float64) else np.float64


def _upsampled_root(
    slow: np.ndarray,
    centres: np.ndarray,
    factor: int,
    env: np.ndarray,
    lost: bool = True,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """``sqrt`` of ``np.interp(arange(n), centres, slow[:, c])`` for every column ``c`` as float32
    ``(n, ch)``, NaN where ``env`` is not finite (looked for only when ``lost``). Between
    regular centres (``k * factor + (factor - 1) / 2``) numpy's arithmetic is repeated a block
    of ``factor`` rows at a time (``slope * (row - centre) + value``: the same numbers, without
    a search per row)."""
    n, ch = env.shape
    c0 = 0.5 * (factor - 1)
    last = int(np.flatnonzero(centres == np.arange(centres.size) * factor + c0)[-1])
    head = factor // 2  # rows before it lie before the first centre
    offsets = head + np.arange(factor) - c0  # row minus centre, for each row of a block
    slopes = np.diff(slow[: last + 1], axis=0) / np.diff(centres[: last + 1])[:, np.newaxis]
    if out is None:
        out = np.empty((n, ch), dtype=np.float32)
    step = max(1, _ROWS // factor)
    for j0 in range(0, last, step):
        j1 = min(last, j0 + step)
        power = np.empty((j1 - j0, factor, ch))
        term = np.empty((j1 - j0, ch))
        for m in range(factor):  # one row of every block at a time: long contiguous loops
            np.multiply(slopes[j0:j1], offsets[m], out=term)
            np.add(term, slow[j0:j1], out=power[:, m])
        r0, r1 = head + j0 * factor, head + j1 * factor
        np.sqrt(power.reshape(r1 - r0, ch), out=out[r0:r1])  # in float64, rounded once to float32
    ends = np.r_[0:head, head + last * factor : n]  # before the first centre, after the last regular one
    x = ends.astype(np.float64)
    for c in range(ch):
        out[ends, c] = np.sqrt(np.interp(x, centres, slow[:, c]))
    if lost:
        out[~np.isfinite(env)] = np.nan
    return out


def crossover_envelope(envelope: np.ndarray, fs: float, cutoff_hz: float) -> np.ndarray:
    """The envelopes the glute share is computed from: ``sqrt`` of the power low-passed by a
    zero-phase 2nd-order Butterworth at ``cutoff_hz`` (``sosfiltfilt``), ``(n, ch)`` float32.

    Only the *ratio* ``G / (G + H)`` of two such envelopes is used, never a level against a
    threshold, so the rare undershoot below zero (clipped here) decides no verdict; the
    positive-kernel smoother of :func:`analysis_envelope` moved the crossing of the % session
    peak share enough to lose crossovers in borderline reps (measured on the CLI test session).
    """
    fs = check_rate(fs)
    env = as_signal(envelope, "envelope", dtype=np.float64)
    sos = butter_lowpass(2, min(cutoff_hz, 0.4 * fs), fs)
    if env.shape[0] <= 3 * (2 * len(sos) + 1):
        return env.astype(np.float32)
    bridged = interpolate_nan(env)  # ``env`` itself when every sample is finite
    power = zero_phase(sos, np.square(bridged))  # sosfiltfilt's numbers, cheaper
    np.maximum(power, 0.0, out=power)
    np.sqrt(power, out=power)  # in place: the numbers of ``sqrt(maximum(power, 0))``
    if bridged is not env:
        power[~np.isfinite(env)] = np.nan
    return np.ascontiguousarray(power, dtype=np.float32)


@dataclass(frozen=True)
class RestLevels:
    """Per channel ``(ch,)``: resting ``mean`` and ``sd`` of the analysis envelope, the
    ``rest_threshold`` and ``onset_threshold`` (module docstring), all in the envelope unit;
    ``rest_found`` False where no resting period was found (None: found everywhere);
    ``rest_s`` ``(ch, 2)`` the rest window ``[begin, end)`` of each channel (s from the
    envelope's sample 0; None when the baseline was given), the rest period of the classic
    onset methods (:mod:`myoflow.analysis.onset_classic`)."""

    mean: np.ndarray
    sd: np.ndarray
    rest_threshold: np.ndarray
    onset_threshold: np.ndarray
    rest_found: np.ndarray | None = None
    rest_s: np.ndarray | None = None

    def found(self, c: int) -> bool:
        """Whether channel ``c`` has a resting period."""
        return True if self.rest_found is None else bool(self.rest_found[c])


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
        Known rest statistics (e.g. a marked rest period); default: each channel's steadiest
        low ``window_s`` window (:func:`myoflow.dsp.rest.quietest_baseline`), then shorter
        windows (:data:`REST_WINDOWS_S`) for channels whose threshold would lie above
        :data:`REST_MAX_FRAC` of their peak; a channel where none works gets
        ``rest_found=False``.
    window_s
        The first rest window (s); short windows (0.1 s) are allowed.
    """
    fs = check_rate(fs)
    params = params or ActivationParams()
    env = as_signal(analysis_env, "analysis_env")
    if baseline is not None:
        if baseline.mean.size != env.shape[1]:
            raise ValueError(
                f"baseline has {baseline.mean.size} channel(s) but the envelope has {env.shape[1]}"
            )
        return _levels(baseline.mean, baseline.sd, params)
    skip = min(0.5, 0.1 * env.shape[0] / fs)
    peak = _session_peak(env)
    levels = None
    for k, w in enumerate((window_s, *[v for v in REST_WINDOWS_S if v < window_s])):
        if env.shape[0] / fs - 2 * skip < w:
            continue
        base, bounds = quietest_window(env, fs, window_s=w, skip_s=skip, sd_weight=SD_WEIGHT if k else 0.0)
        where = bounds / fs
        trial = _levels(base.mean, base.sd, params)
        ok = trial.onset_threshold < REST_MAX_FRAC * peak
        if levels is None:
            levels = trial
        else:  # keep what worked with the longer window; take the shorter one where it did not
            keep, kept_s = levels.rest_found, levels.rest_s
            assert keep is not None and kept_s is not None  # set at the end of every pass below
            levels = _levels(
                np.where(keep, levels.mean, base.mean), np.where(keep, levels.sd, base.sd), params
            )
            where = np.where(keep[:, np.newaxis], kept_s, where)
            ok = keep | ok
        levels = RestLevels(levels.mean, levels.sd, levels.rest_threshold, levels.onset_threshold, ok, where)
        if ok.all():
            break
    if levels is None:
        raise ValueError(
            f"envelope lasts {env.shape[0] / fs:.2f} s: too short for a {window_s} s rest window"
        )
    return levels


def _session_peak(env: np.ndarray) -> np.ndarray:
    """Each channel's 99.5th percentile of the finite samples (its peak, robust to spikes)."""
    out = np.empty(env.shape[1])
    step = max(1, env.shape[0] // 200_000)  # an envelope is smooth: a subsample gives the peak
    for c in range(env.shape[1]):
        col = env[::step, c][np.isfinite(env[::step, c])]
        out[c] = np.percentile(col, 99.5) if col.size else np.inf
    return out


def _levels(m: np.ndarray, s: np.ndarray, params: ActivationParams) -> RestLevels:
    rest = np.maximum(params.rest_floor_pct, m + 3.0 * s)
    r, d = params.resting_tone_pct, params.onset_margin_pct
    onset = np.maximum(np.sqrt(m**2 + (r + d) ** 2 - r**2), m + params.h_sd * s)
    return RestLevels(np.asarray(m, dtype=np.float64), np.asarray(s, dtype=np.float64), rest, onset)


@dataclass(frozen=True)
class MuscleActivation:
    """One muscle in one rep (module docstring). Levels in the session's unit, times in ms/s.
    ``onset_uncertainty_ms``: half-width of the refined onset's ~68 % interval (None for
    threshold onsets or without an onset)."""

    peak_pct: float
    mean_pct: float
    onset_ms: float | None
    offset_ms: float | None
    time_above_s: float
    onset_uncertainty_ms: float | None = None


def muscle_activation(
    env: np.ndarray,
    fs: float,
    t0: float,
    start_s: float,
    top_s: float,
    bottom_s: float,
    levels: RestLevels,
    params: ActivationParams | None = None,
    raw: RawEmg | None = None,
) -> list[MuscleActivation]:
    """Activation metrics of every channel over one rep.

    Parameters
    ----------
    env
        ``(n, ch)`` analysis envelope of the rep's window, normalised; sample 0 at ``t0`` (s).
    fs
        Sample rate in Hz.
    start_s, top_s, bottom_s
        Movement onset, top and bottom of the rep (s, same clock as ``t0``); the onset search
        ends at ``top_s`` (for movement cycles the caller passes the cycle's end:
        :func:`myoflow.analysis.rep_summary.onset_search_end_s`).
    levels
        The session's rest levels.
    raw
        The raw EMG around the rep (muscle columns as in ``env``), for ``"changepoint"`` onsets.
    """
    params = params or ActivationParams()
    det = rep_detections(env, fs, t0, start_s, top_s, bottom_s, levels, params)
    at: list[float | None] = [None] * len(det.found)
    unc: list[float | None] = [None] * len(det.found)
    kernels = onset_kernels(fs, params.detection_hz) if params.onset_method == "refined" else None
    for c, found in enumerate(det.found):
        if found is None:
            continue
        if params.onset_method == "changepoint" and raw is not None and raw.has(c):
            at_s, unc[c] = changepoint_onset(raw, c, det.detected_s(c), det.earliest_s(c))
            at[c] = (at_s - t0) * fs
        elif kernels is not None:
            col = np.nan_to_num(det.env[:, c].astype(np.float64), nan=0.0)
            i, u = refine_onset(
                col, fs, int(found[0]), found[1], RefineParams(bandwidth_hz=params.detection_hz), kernels
            )
            at[c], unc[c] = i, (u * 1000.0 if np.isfinite(u) else None)
    return det.activations(at, unc)


@dataclass(frozen=True)
class RepDetections:
    """The threshold stage of :func:`muscle_activation` for one rep (:func:`rep_detections`).

    ``env`` ``(n, ch)`` analysis envelope from ``t0`` (s) at ``fs`` Hz; ``found[c]``: channel
    ``c``'s detection as samples into ``env`` ``(onset, earliest refined onset, offset or
    None)``, or None (no onset); ``thr`` ``(ch,)`` the onset thresholds; ``i_start``,
    ``i_bot``: movement onset and bottom (samples)."""

    env: np.ndarray
    fs: float
    t0: float
    start_s: float
    i_start: int
    i_bot: int
    thr: np.ndarray
    found: list[tuple[float, int, int | None] | None]

    def detected_s(self, c: int) -> float:
        """Channel ``c``'s threshold onset (s, the clock of ``t0``)."""
        found = self.found[c]
        assert found is not None
        return found[0] / self.fs + self.t0

    def earliest_s(self, c: int) -> float:
        """The earliest time (s) channel ``c``'s refined onset may take (the end of an earlier
        burst in the search, else the window start)."""
        found = self.found[c]
        assert found is not None
        return self.t0 + found[1] / self.fs

    def activations(
        self, at: Sequence[float | None], unc_ms: Sequence[float | None]
    ) -> list[MuscleActivation]:
        """Every channel's :class:`MuscleActivation` with onsets ``at`` (samples into ``env``,
        None: the threshold onset) and their uncertainties (ms or None)."""
        x, fs = self.env, self.fs
        active = x[self.i_start : self.i_bot]
        out = []
        for c, found in enumerate(self.found):
            onset_ms = offset_ms = unc = None
            if found is not None:
                refined = at[c]
                onset = found[0] if refined is None else refined
                unc = unc_ms[c]
                onset_ms = (onset / fs + self.t0 - self.start_s) * 1000.0
                if found[2] is not None:
                    offset_ms = (found[2] / fs + self.t0 - self.start_s) * 1000.0
            col = active[:, c]
            finite = col[np.isfinite(col)]
            out.append(
                MuscleActivation(
                    peak_pct=float(finite.max()) if finite.size else float("nan"),
                    mean_pct=float(finite.mean()) if finite.size else float("nan"),
                    onset_ms=onset_ms,
                    offset_ms=offset_ms,
                    time_above_s=float(np.count_nonzero(col > self.thr[c]) / fs),
                    onset_uncertainty_ms=unc,
                )
            )
        return out


def rep_detections(
    env: np.ndarray,
    fs: float,
    t0: float,
    start_s: float,
    top_s: float,
    bottom_s: float,
    levels: RestLevels,
    params: ActivationParams,
) -> RepDetections:
    """Threshold onsets of every channel over one rep (arguments as :func:`muscle_activation`)."""
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
    thr, mean = _rep_thresholds(x[:i_start], fs, levels, params)
    h = 3.0  # the threshold is handed to detect_onsets as mean + h * ((thr - mean) / h)
    base = Baseline(mean, np.maximum((thr - mean) / h, 1e-12))
    intervals = detect_onsets(x[i_search:], fs, base, OnsetParams(h, h, params.min_on_s, params.min_off_s))
    found: list[tuple[float, int, int | None] | None] = []
    for c in range(x.shape[1]):
        on = intervals[c]
        # An onset at the first sample of the search, or at the first sample after lost ones,
        # only says the rise happened before it: no onset time.
        known = on[:, 0] > 0
        known[known] = np.isfinite(x[i_search + on[known, 0] - 1, c])
        first = on[known & (on[:, 0] <= i_top - i_search)]
        if not first.size:
            found.append(None)
            continue
        prev = on[on[:, 1] <= first[0, 0]]
        earliest = i_search + int(prev[-1, 1]) if prev.size else 0
        off = i_search + int(first[0, 1]) if first[0, 1] < n - i_search else None
        found.append((float(i_search + first[0, 0]), earliest, off))
    return RepDetections(x, fs, t0, start_s, i_start, i_bot, thr, found)


def _rep_thresholds(
    before: np.ndarray, fs: float, levels: RestLevels, params: ActivationParams
) -> tuple[np.ndarray, np.ndarray]:
    """Onset thresholds and baseline means ``(ch,)`` for one rep: the session's, or the rep's
    local baseline (the steadiest :data:`LOCAL_REST_S` before movement onset) for channels
    without a resting period (``levels.rest_found``)."""
    thr, mean = levels.onset_threshold.copy(), levels.mean.copy()
    win = int(round(LOCAL_REST_S * fs))
    use = ~np.array([levels.found(c) for c in range(thr.size)], dtype=bool)
    if before.shape[0] < max(win, 3) or not use.any():
        return thr, mean
    local = quietest_baseline(np.nan_to_num(before), fs, window_s=win / fs, skip_s=0.0, sd_weight=SD_WEIGHT)
    lv = _levels(local.mean, local.sd, params)
    return np.where(use, lv.onset_threshold, thr), np.where(use, lv.mean, mean)


@lru_cache(maxsize=16)
def onset_kernels(fs: float, detection_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """The envelope and analysis-smoothing kernels of the default profile at ``fs`` (Hz), for
    :func:`myoflow.dsp.onset_refine.refine_onset`."""
    return envelope_kernels(fs, profile_for_rate(fs), min(detection_hz, 0.4 * fs))
