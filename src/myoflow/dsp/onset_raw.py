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
  expected power is ``v(t) = b0 + b1 ((rho + u)^2 - rho^2)``, ``u`` the rise from 0 to 1 and
  ``rho`` the resting tone relative to the rise (:data:`RHO_GRID`; ``rho > 0``: the power
  rises linearly at the onset, ``rho = 0``: quadratically); ``d`` on a log grid of 10 ms -
  1.6 s (:data:`RISE_GRID_S`);
* **coarse fit** on ~10 ms blocks (``coarse_rate_hz``): weighted least squares (a block's power
  is a scaled chi-square variable whose SD is proportional to its mean, so weights are
  ``1 / v^2``: a Gamma quasi-likelihood) with ``v`` the smoothed power (``passes > 1``: refitted
  with ``v`` from the best model); every candidate ``c`` and template at once (the sums
  are correlations of the data with each template, by FFT);
* **fine fit** on ~2 ms blocks (``block_rate_hz``; one sample at 200 Hz): within
  ``likelihood_span_s`` of the coarse best, each candidate's template is refitted and scored
  by the Gamma likelihood of the block powers (shape estimated from the residuals); the best
  ``c`` is refined between blocks by a parabola;
* **uncertainty**: the half-width of the ``c`` within one log-likelihood unit of the best,
  widened by :data:`UNCERTAINTY_SCALE` (calibrated to hold the true onset about 68 % of the
  time on the burst generator), s.

The function reads only the raw samples from ``lookback_s + settle_s`` before the detection to
``peak_window_s`` after it: live (a buffer of raw EMG) and offline (the whole recording) give
the same number from the same samples.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from scipy.signal import sosfilt, sosfilt_zi

from myoflow._checks import check_positive, check_range, check_rate
from myoflow.dsp.onset_refine import _first_peak  # one rule for the first local peak of a rise

#: Rise durations ``d`` (s) of the clipped-ramp amplitude model.
RISE_GRID_S = tuple(float(v) for v in np.geomspace(0.01, 1.6, 7))
#: Resting amplitude relative to the rise (``rho`` of the module docstring).
RHO_GRID = (0.0, 0.15)
#: The likelihood interval treats blocks as independent; EMG samples are correlated and the model
#: is approximate, so the raw interval held the true onset in only 42-49 % of the benchmark's
#: onsets: widened by this factor it holds 68 % (calibrated on 7 conditions x 4 classes at each
#: rate of ``benchmarks/bench_accuracy.py``, seed 1; needed 1.7-2.3).
UNCERTAINTY_SCALE = 2.0
#: 1: linear and concave (quarter-sine) rises; 0: linear only.
SHAPES = 1
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
    smooth_s: float = 0.05
    settle_s: float = 0.5
    passes: int = 1
    peak_smooth_s: float = 0.15
    likelihood_span_s: float = 0.05
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
    fs = check_rate(fs)
    p = params or RawRefineParams()
    raw = np.asarray(raw).reshape(-1)
    n = raw.size
    step_f = max(1, int(round(fs / p.block_rate_hz)))
    step = step_f * max(1, int(round(fs / p.coarse_rate_hz / step_f)))
    fr, fr_f = fs / step, fs / step_f
    lo = max(int(earliest), detected - int(round(p.lookback_s * fs)), 0)
    hi = min(n, detected + int(round(p.peak_window_s * fs)))
    if detected >= n or detected - lo < 3 * step or hi - detected < 3 * step:
        return float(detected), float("nan")
    x = _causal(raw, lo, hi, sos, int(round(p.settle_s * fs))) ** 2
    nb = x.size // step
    power = x[: nb * step].reshape(nb, step).mean(axis=1)
    ok = np.isfinite(power)
    if ok.sum() < 8:
        return float(detected), float("nan")
    power = np.where(ok, power, 0.0)
    smooth = _smooth(power, ok, max(1, int(round(p.smooth_s * fr))))
    det_b = min(nb - 1, (detected - lo) // step)
    slow = _smooth(power, ok, max(1, int(round(p.peak_smooth_s * fr))))
    base = float(np.min(slow[: det_b + 1]))
    after = slow[det_b:]
    peak_i = _first_peak(after)
    top = base + p.rise_frac * (after[peak_i] - base)
    reach = np.flatnonzero(after[: peak_i + 1] >= top)
    end = max(det_b + (int(reach[0]) if reach.size else peak_i) + 1, det_b + 3)
    y, w_ok, v = power[:end], ok[:end].astype(np.float64), smooth[:end]
    if y.size < 8:
        return float(detected), float("nan")
    floor = max(1e-3 * float(v.max()), 0.2 * base, 1e-300)
    # coarse: least squares over every candidate block and template (iteratively reweighted)
    weights = w_ok / np.maximum(v, floor) ** 2
    fit = _fit(y, weights, fr, step, sos)
    for _ in range(p.passes - 1):
        fit = _fit(y, w_ok / np.maximum(fit.model(fit.best), floor) ** 2, fr, step, sos)
    # fine: the Gamma likelihood of fine block powers near the coarse best, its template
    r = step // step_f
    xf = x[: end * step].reshape(end * r, step_f).mean(axis=1)
    okf = np.isfinite(xf)
    yf, wf = np.where(okf, xf, 0.0), okf.astype(np.float64)
    mu_c = np.repeat(np.maximum(fit.model(fit.best), floor), r)
    half = int(round(p.likelihood_span_s * fr_f))
    cands = np.arange(max(r, fit.best * r - half), min(yf.size - 2 * r, fit.best * r + half + 1))
    if cands.size < 3:
        return float(detected), float("nan")
    # the likelihood from fine_pre_s before the first candidate on (earlier blocks are rest for
    # every candidate: they only pin the level)
    sub = max(0, int(cands[0]) - int(round(p.fine_pre_s * fr_f)))
    yf, wf, okf, mu_c = yf[sub:], wf[sub:], okf[sub:], mu_c[sub:]
    nfft = 1 << int(np.ceil(np.log2(2 * (yf.size + sub))))
    rows = _templates(fr_f, step_f, nfft, sos)[0][fit.which[np.minimum(cands // r, fit.which.size - 1)]]
    lag = np.arange(sub, sub + yf.size)[None, :] - cands[:, None]
    m = np.where(lag >= 0, np.take_along_axis(rows, np.maximum(lag, 0), axis=1), 0.0)
    w = wf / mu_c**2
    s_w, s_y = float(w.sum()), float(w @ yf)
    s_r, s_rr, s_ry = m @ w, (m * m) @ w, m @ (w * yf)
    det = np.maximum(s_w * s_rr - s_r**2, 1e-300)
    b1 = np.maximum((s_w * s_ry - s_r * s_y) / det, 0.0)
    b0 = (s_y - b1 * s_r) / s_w
    models = np.maximum(b0[:, None] + b1[:, None] * m, floor)
    ratio = yf / models
    nll = (wf * (np.log(models) + ratio)).sum(axis=1)
    k = int(np.argmin(nll))
    resid = ratio[k][okf] - 1.0
    shape = 1.0 / max(float(resid.var()), 1e-12)  # Gamma shape: the blocks' effective dof / 2
    dll = shape * (nll - nll[k])
    c = float(cands[k])
    if 0 < k < cands.size - 1:
        a, b, d = dll[k - 1], dll[k], dll[k + 1]
        den = a - 2 * b + d
        if den > 0:
            c += float(np.clip(0.5 * (a - d) / den, -0.5, 0.5))
    inside = cands[dll <= 1.0]
    unc = 0.5 * float(inside.max() - inside.min() + 1) / fr_f if inside.size else 0.5 / fr_f
    unc *= UNCERTAINTY_SCALE
    # fine block j covers samples [lo + j step_f, lo + (j + 1) step_f): its start is the onset
    return float(lo + c * step_f), unc


def _causal(raw: np.ndarray, lo: int, hi: int, sos: np.ndarray, settle: int) -> np.ndarray:
    """``raw[lo:hi]`` through the causal ``sos``, started ``settle`` samples earlier (at rest on
    the first finite sample: no step from a DC offset); lost samples are bridged by 0 and come
    out NaN."""
    a = max(0, lo - settle)
    seg = np.asarray(raw[a:hi], dtype=np.float64)
    lost = ~np.isfinite(seg)
    if lost.all():
        return np.full(hi - lo, np.nan)
    first = seg[np.argmax(~lost)]
    seg = np.where(lost, first, seg)
    out, _ = sosfilt(sos, seg, zi=_zi(sos) * first)
    out[lost] = np.nan
    return out[lo - a :]


def _zi(sos: np.ndarray) -> np.ndarray:
    """``sosfilt_zi(sos)`` (cached: a few designs are reused)."""
    key = sos.tobytes()
    if key not in _ZI:
        _ZI[key] = sosfilt_zi(sos)
    return _ZI[key]


_ZI: dict[bytes, np.ndarray] = {}


def _smooth(power: np.ndarray, ok: np.ndarray, width: int) -> np.ndarray:
    """Centred moving mean of the finite blocks (``width`` blocks)."""
    k = np.ones(width)
    num = np.convolve(power * ok, k, mode="same")
    den = np.convolve(ok.astype(np.float64), k, mode="same")
    return num / np.maximum(den, 1.0)


def _templates(fr: float, step: int, nfft: int, sos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(T, spectrum of T, spectrum of T^2)`` of every template of the model, ``T`` shape
    ``(n_templates, nfft // 2)``: the power of each ramp through the causal filter ``sos``
    (white EMG: its power spreads by the filter's squared impulse response), averaged over
    blocks of ``step`` samples, starting at the changepoint (cached)."""
    key = (fr, step, nfft, sos.tobytes())
    if key not in _CACHE:
        if len(_CACHE) > 32:
            _CACHE.clear()
        fs = fr * step
        m = nfft // 2
        h2 = _impulse_energy(sos, fs)
        tau = np.arange(m * step) / fs
        rows = []
        for d in RISE_GRID_S:
            lin = np.clip(tau / d, 0.0, 1.0)
            for u in (lin, np.sin(0.5 * np.pi * lin))[: 1 + SHAPES]:
                for rho in RHO_GRID:
                    pw = np.convolve((rho + u) ** 2 - rho**2, h2)[: tau.size]
                    rows.append(pw.reshape(m, step).mean(axis=1))
        t = np.asarray(rows)
        full = np.zeros((t.shape[0], nfft))
        full[:, :m] = t
        _CACHE[key] = (t, np.fft.rfft(full, axis=1), np.fft.rfft(full**2, axis=1))
    return _CACHE[key]


_CACHE: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def _impulse_energy(sos: np.ndarray, fs: float) -> np.ndarray:
    """Squared impulse response of ``sos`` (sum 1), cut where 99.9 % of its energy has passed."""
    imp = np.zeros(max(8, int(fs)))
    imp[0] = 1.0
    e = sosfilt(sos, imp) ** 2
    cum = np.cumsum(e) / e.sum()
    e = e[: int(np.searchsorted(cum, 0.999)) + 1]
    return e / e.sum()


@dataclass(frozen=True)
class _Fit:
    """Least-squares fit at every candidate block ``j``: template row ``which[j]``, level
    ``b0[j]``, rise ``b1[j]``; ``best`` the candidate with the least residual."""

    templates: np.ndarray
    which: np.ndarray
    b0: np.ndarray
    b1: np.ndarray
    best: int

    def model(self, j: int) -> np.ndarray:
        """Expected block power ``(n,)`` with the changepoint at block ``j``."""
        return self.models(np.array([j]))[0]

    def models(self, js: np.ndarray) -> np.ndarray:
        """:meth:`model` for each candidate of ``js``, ``(len(js), n)``."""
        lag = np.arange(self.which.size)[None, :] - js[:, None]
        rows = self.templates[self.which[js]]
        vals = np.take_along_axis(rows, np.maximum(lag, 0), axis=1)
        return self.b0[js, None] + self.b1[js, None] * np.where(lag >= 0, vals, 0.0)


def _fit(y: np.ndarray, w: np.ndarray, fr: float, step: int, sos: np.ndarray) -> _Fit:
    """Weighted least squares ``y ~ b0 + b1 T(t - c)`` for ``c`` at each block of ``y`` and
    every template ``T``: the best template per candidate (all at once, by FFT)."""
    n = y.size
    nfft = 1 << int(np.ceil(np.log2(2 * n)))
    t, spec, spec2 = _templates(fr, step, nfft, sos)
    wy = w * y
    s_w, s_y, s_yy = float(w.sum()), float(wy.sum()), float(wy @ y)
    fw, fwy = np.fft.rfft(w, nfft), np.fft.rfft(wy, nfft)
    # sum_m v[m] T[m - j] for every j: a correlation, conj in the frequency domain
    s_r = np.fft.irfft(fw[None, :] * np.conj(spec), nfft)[:, :n]
    s_rr = np.fft.irfft(fw[None, :] * np.conj(spec2), nfft)[:, :n]
    s_ry = np.fft.irfft(fwy[None, :] * np.conj(spec), nfft)[:, :n]
    det = s_w * s_rr - s_r**2
    scale = float(np.max(np.abs(s_rr)))
    good = (det > 1e-9 * s_w * np.abs(s_rr)) & (s_rr > 1e-9 * scale)
    with np.errstate(invalid="ignore", divide="ignore"):
        b1 = np.where(good, (s_w * s_ry - s_r * s_y) / np.where(good, det, 1.0), 0.0)
    b1 = np.maximum(b1, 0.0)
    b0 = (s_y - b1 * s_r) / s_w
    sse = s_yy + s_w * b0**2 + b1**2 * s_rr - 2 * b0 * s_y - 2 * b1 * s_ry + 2 * b0 * b1 * s_r
    sse = np.maximum(sse, 0.0)
    which = np.argmin(sse, axis=0)
    cols = np.arange(n)
    best_sse = sse[which, cols]
    best = int(np.argmin(best_sse[1 : n - 2])) + 1
    return _Fit(t, which, b0[which, cols], b1[which, cols], best)
