"""Where did the muscle leave rest? A variance changepoint fit on the raw EMG itself.

Surface EMG is zero-mean noise whose variance follows the muscle's activation: rest noise and
tonic activity give a constant variance, a contraction raises it. The onset is where the
variance leaves its resting level. :func:`refine_onset_raw` moves a threshold detection back to
that instant by fitting the *power of the filtered EMG* (no envelope filter in between, which
would spread a sharp rise over ~100 ms) with a changepoint model (two-phase regression, Hinkley
1971; a variance changepoint as for zero-mean Gaussian noise; for EMG onsets by changepoints see
Staude & Wolf 1999, Staude et al. 2001):

* **filter**: the raw samples around the detection go through a *causal* band filter with
  notches (:func:`refine_sos`), started ``settle_s`` earlier: a causal filter spreads a burst's
  power only after its start, a zero-phase one (and its notches' ringing) also hundreds of ms
  before it (measured: 2 kHz steps were fitted up to 290 ms early on zero-phase band-passed
  EMG). The model includes the causal spread (the filter's squared impulse response);
* **window**: from ``lookback_s`` before the detection (not before ``earliest``: the previous
  burst's end) to where the block power, smoothed over ``peak_smooth_s``, first reaches
  ``rise_frac`` of the way from its pre-detection minimum to the burst's first local peak;
* **model**: the EMG amplitude is constant (rest noise and tone) before ``c``, then rises for
  ``d`` seconds (linearly, or as a quarter sine: fastest at the start) to a plateau, so the
  expected power is ``v(t) = b0 + b1 ((rho + u)^2 - rho^2) = b0 + a1 u + a2 u^2``, ``u`` the
  rise from 0 to 1 and ``rho = a1 / (2 a2)`` the resting tone relative to the rise (``rho > 0``:
  the power rises linearly at the onset, ``rho = 0``: quadratically). ``b0``, ``a1 >= 0`` and
  ``a2 >= 0`` are fitted (linear least squares with two non-negative terms), so the tone is
  estimated, not chosen from a grid; ``d`` on a log grid of 10 ms - 1.6 s (:data:`RISE_GRID_S`);
* **coarse fit** on ~10 ms blocks (``coarse_rate_hz``): weighted least squares (a block's power
  is a scaled chi-square variable whose SD is proportional to its mean, so weights are
  ``1 / v^2``: a Gamma quasi-likelihood) with ``v`` the power smoothed over ``smooth_s``
  (``passes > 1``: refitted with ``v`` from the best model); every candidate ``c`` and rise at
  once (the sums are correlations of the data with each template, by FFT);
* **fine fit** on ~2 ms blocks (``block_rate_hz``; one sample at 200 Hz): every
  :data:`CAND_SPACING_S` (or block) within ``likelihood_span_s`` of the coarse best is a
  candidate ``c``; with the coarse best's rise
  ``d`` at that place, ``b0, a1, a2`` are refitted by reweighted least squares
  (:data:`FINE_PASSES`, weights ``1 / model^2`` of the candidate's own model) and the candidate
  is scored by the Gamma likelihood of the block powers (shape estimated from the residuals,
  divided by ``1 + 2 sum(acf)`` over :data:`ACF_SPAN_S` of the residuals' autocorrelation:
  neighbouring blocks of band-limited EMG are not independent);
* **onset**: the *mean* of ``c`` under that likelihood (flat prior over the candidates), not its
  maximum: on a slow rise the likelihood is skewed (the first tens of ms of a ramp are buried in
  the rest noise) and its maximum lies late (measured: 6-11 ms later on ramps at 1-2 kHz,
  +8-19 ms median bias);
* **uncertainty**: the SD of ``c`` under the same likelihood, times :data:`UNCERTAINTY_SCALE`
  (calibrated to hold the true onset about 68 % of the time on the burst generator), s.

The function reads only the raw samples from ``lookback_s + settle_s`` before the detection to
``peak_window_s`` after it: live (a buffer of raw EMG) and offline (the whole recording) give
the same number from the same samples. Every step runs on all of a channel's windows at once
(:func:`refine_onsets_raw`): the windows in :mod:`myoflow.dsp.onset_raw_window`, the model and
the coarse fit in :mod:`myoflow.dsp.onset_raw_fit`, the fine fit and the posterior in
:mod:`myoflow.dsp.onset_raw_fine`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from myoflow._checks import check_positive, check_range, check_rate
from myoflow.dsp.onset_raw_fine import CAND_SPACING_S, FineInput, fine_onsets
from myoflow.dsp.onset_raw_fit import FINE_PASSES, RISE_GRID_S, SHAPES, _fast_len, coarse_fit, templates
from myoflow.dsp.onset_raw_window import Windows, fit_windows

#: The likelihood's SD of ``c`` times this factor holds the true onset in 68 % of the matched
#: onsets of ``benchmarks/bench_accuracy.py``'s grid (7 conditions x 4 classes x 3 rates) with
#: seeds 4-7 (not the seeds it reports: 0-1): 0.94-1.53 by class and rate, 1.12 overall.
UNCERTAINTY_SCALE = 1.1
#: High-pass (Hz) of the refinement's filter: above most ECG (QRS) and motion-artefact power,
#: below most EMG power (measured: 40 Hz beat 20 and 60 Hz on the benchmark's ramps).
REFINE_HIGHPASS_HZ = 40.0
#: Below this rate the profile's own high-pass is kept (above 40 Hz a 200 Hz strap holds too
#: little EMG power: measured worse on plateaus and ramps).
REFINE_MIN_RATE_HZ = 900.0


@lru_cache(maxsize=32)
def refine_sos(fs: float, mains_hz: float | None = 50.0) -> np.ndarray:
    """The causal filter :func:`refine_onset_raw` runs on raw EMG at ``fs`` Hz: the rate's
    default profile (:func:`myoflow.dsp.pipeline.profile_for_rate`: band or high-pass, mains
    notches) with its high-pass at :data:`REFINE_HIGHPASS_HZ`; one SOS cascade."""
    from myoflow.dsp.pipeline import profile_for_rate

    prof = profile_for_rate(check_rate(fs), mains_hz)
    if fs >= REFINE_MIN_RATE_HZ:
        prof = replace(prof, highpass_hz=REFINE_HIGHPASS_HZ)
    return prof.band_sos(fs)


@dataclass(frozen=True)
class RawRefineParams:
    """Parameters of :func:`refine_onset_raw` (module docstring); times in s, rates in Hz."""

    lookback_s: float = 1.6
    rise_frac: float = 0.9
    peak_window_s: float = 2.0
    block_rate_hz: float = 500.0
    coarse_rate_hz: float = 100.0
    smooth_s: float = 0.2
    settle_s: float = 0.5
    passes: int = 1
    peak_smooth_s: float = 0.3
    likelihood_span_s: float = 0.1
    fine_pre_s: float = 0.5

    def __post_init__(self) -> None:
        for name in (
            "lookback_s",
            "peak_window_s",
            "block_rate_hz",
            "smooth_s",
            "settle_s",
            "peak_smooth_s",
            "likelihood_span_s",
            "coarse_rate_hz",
        ):
            check_positive(getattr(self, name), name)
        check_range(self.rise_frac, "rise_frac", 0.1, 1.0)


#: The default parameters, made once (their checks cost ~10 us a call).
_DEFAULT_PARAMS = RawRefineParams()


def refine_onset_raw(
    raw: np.ndarray,
    fs: float,
    detected: int,
    sos: np.ndarray,
    earliest: int = 0,
    params: RawRefineParams | None = None,
) -> tuple[float, float]:
    """Refined onset (fractional sample index into ``raw``) and its uncertainty (s).

    Parameters
    ----------
    raw
        ``(n,)`` raw EMG of one channel, any unit (NaN where lost). Only the samples from
        ``lookback_s + settle_s`` before ``detected`` to ``peak_window_s`` after it are read.
    fs
        Its rate in Hz.
    detected
        Sample where a threshold detector fired (inside ``raw``).
    sos
        The causal band filter and notches (``EmgProfile.band_sos``), run forward over the
        window from ``settle_s`` before it (a causal filter spreads a burst's power only
        *after* its start; the model includes that spread).
    earliest
        No onset before this sample (the end of the previous burst, or the data start).
    params
        :class:`RawRefineParams`.

    Returns
    -------
    ``(index, uncertainty_s)``; ``(detected, nan)`` when the window is too short to fit.
    """
    at, unc = refine_onsets_raw(raw, fs, np.array([detected]), sos, np.array([earliest]), params)
    return float(at[0]), float(unc[0])


def refine_onsets_raw(
    raw: np.ndarray,
    fs: float,
    detected: np.ndarray,
    sos: np.ndarray,
    earliest: np.ndarray | None = None,
    params: RawRefineParams | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Every onset of one channel in one call: :func:`refine_onset_raw` of each detection.

    ``detected`` ``(k,)`` samples where a threshold detector fired, ``earliest`` ``(k,)`` (None:
    0) the earliest sample each onset may take; ``raw``, ``fs``, ``sos``, ``params`` as for
    :func:`refine_onset_raw` (which is this function with ``k = 1``). Every step runs on all
    windows at once (rows of 2-D arrays), so each onset is the same number, to float rounding,
    whichever other detections share the call.

    Returns
    -------
    ``(indices, uncertainties_s)``, both ``(k,)`` float: fractional sample indices into ``raw``
    and the uncertainty in s; ``detected[i]`` and NaN where the window is too short to fit.
    """
    fs = check_rate(fs)
    p = params or _DEFAULT_PARAMS
    raw = np.asarray(raw).reshape(-1)
    det = np.asarray(detected, dtype=np.int64).reshape(-1)
    ear = np.zeros_like(det) if earliest is None else np.asarray(earliest, dtype=np.int64).reshape(-1)
    if ear.shape != det.shape:
        raise ValueError(f"earliest must have one sample per detection ({det.size}); got {ear.size}")
    n = raw.size
    step_f = max(1, int(round(fs / p.block_rate_hz)))
    step = step_f * max(1, int(round(fs / p.coarse_rate_hz / step_f)))
    at, unc = det.astype(np.float64), np.full(det.size, np.nan)
    lo = np.maximum(np.maximum(ear, det - int(round(p.lookback_s * fs))), 0)
    hi = np.minimum(n, det + int(round(p.peak_window_s * fs)))
    idx = np.flatnonzero((det >= 0) & (det < n) & (det - lo >= 3 * step) & (hi - det >= 3 * step))
    if not idx.size:
        return at, unc
    fr = fs / step
    widths = (max(1, int(round(p.smooth_s * fr))), max(1, int(round(p.peak_smooth_s * fr))))
    win = fit_windows(
        raw,
        lo[idx],
        det[idx],
        hi[idx],
        sos,
        int(round(p.settle_s * fs)),
        (step, step_f),
        widths,
        p.rise_frac,
        fs,
    )
    go = np.flatnonzero(win.end >= 8)
    if go.size:
        c, u = _fit(win, go, fs, sos, p, step, step_f)
        done = np.isfinite(u)
        at[idx[go[done]]] = lo[idx[go[done]]] + c[done] * step_f
        unc[idx[go[done]]] = u[done]
    return at, unc


def _fit(
    win: Windows, rows: np.ndarray, fs: float, sos: np.ndarray, p: RawRefineParams, step: int, step_f: int
) -> tuple[np.ndarray, np.ndarray]:
    """The coarse and fine fits of the windows ``rows`` of ``win``: the onset (fine blocks after
    the window's start) and its uncertainty (s; NaN where too few candidates)."""
    fr, fr_f, r = fs / step, fs / step_f, step // step_f
    end = win.end[rows]
    width = int(end.max())
    inside = np.arange(width)[None, :] < end[:, None]
    full = bool(inside.all())  # every window as long as the longest (always so for one window)
    y = win.power[rows, :width] if full else np.where(inside, win.power[rows, :width], 0.0)
    w_ok = (win.ok[rows, :width] if full else inside & win.ok[rows, :width]).astype(np.float64)
    v = win.smooth[rows, :width]
    top = v.max(axis=1) if full else np.where(inside, v, -np.inf).max(axis=1)
    floor = np.maximum(np.maximum(1e-3 * top, 0.2 * win.base[rows]), 1e-150)
    # coarse: least squares over every candidate block and template (iteratively reweighted)
    fit = coarse_fit(y, w_ok / np.maximum(v, floor[:, None]) ** 2, end, fr, step, sos)
    for _ in range(p.passes - 1):
        fit = coarse_fit(y, w_ok / np.maximum(fit.model(), floor[:, None]) ** 2, end, fr, step, sos)
    # fine: the Gamma likelihood of fine block powers near the coarse best, its template
    mu = np.repeat(np.maximum(fit.model(), floor[:, None]), r, axis=1)  # (k, width * r)
    xf = win.fine[rows, : width * r]
    okf = np.isfinite(xf) if full else np.isfinite(xf) & np.repeat(inside, r, axis=1)
    nf = end * r
    half = int(round(p.likelihood_span_s * fr_f))
    every = max(1, int(round(CAND_SPACING_S * fr_f)))  # candidates on a grid of ~4 ms or finer
    c0 = np.maximum(r, fit.best * r - half)
    c1 = np.minimum(nf - 2 * r, fit.best * r + half + 1)
    # the likelihood from fine_pre_s before the first candidate on (earlier blocks are rest for
    # every candidate: they only pin the level)
    return fine_onsets(
        FineInput(
            y=np.where(okf, xf, 0.0),
            ok=okf,
            w0=okf / mu**2,
            which=fit.which,
            end=end,
            floor=floor,
            c0=c0,
            ncand=np.maximum(0, -((c0 - c1) // every)),  # ceil((c1 - c0) / every)
            sub=np.maximum(0, c0 - int(round(p.fine_pre_s * fr_f))),
            bank=templates(fr_f, step_f, _fast_len(2 * max(int(nf.max()), 1)), sos)[0],
            every=every,
            r=r,
            fr=fr_f,
            scale=UNCERTAINTY_SCALE,
        )
    )


__all__ = [
    "FINE_PASSES",
    "RISE_GRID_S",
    "SHAPES",
    "RawRefineParams",
    "refine_onset_raw",
    "refine_onsets_raw",
    "refine_sos",
]
