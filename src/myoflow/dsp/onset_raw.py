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
* **fine fit** on ~2 ms blocks (``block_rate_hz``; one sample at 200 Hz): every block within
  ``likelihood_span_s`` of the coarse best is a candidate ``c``; with the coarse best's rise
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
#: The likelihood's SD of ``c`` times this factor holds the true onset in 68 % of the matched
#: onsets of ``benchmarks/bench_accuracy.py``'s grid (7 conditions x 4 classes x 3 rates) with
#: seeds 4-7 (not the seeds it reports: 0-1): 0.94-1.53 by class and rate, 1.12 overall.
UNCERTAINTY_SCALE = 1.1
#: Reweighting passes of the fine fit (1: weights from the coarse fit's best model only).
FINE_PASSES = 2
#: Lags (s) over which the fine blocks' residual autocorrelation tempers the likelihood.
ACF_SPAN_S = 0.02
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
    nll, models = _fine_nll(rows, cands, sub, yf, wf, wf / mu_c**2, floor)
    k = int(np.argmin(nll))
    resid = (yf / models[k])[okf] - 1.0
    shape = 1.0 / max(float(resid.var()), 1e-12)  # Gamma shape: the blocks' effective dof / 2
    # neighbouring blocks are correlated (band-limited EMG): the independent-block likelihood
    # counts each piece of information about 1 + 2 sum(acf) times
    rr = resid - resid.mean()
    lags = range(1, max(1, int(round(ACF_SPAN_S * fr_f))) + 1)
    acf = sum(float(rr[j:] @ rr[: rr.size - j]) for j in lags) / max(float(rr @ rr), 1e-300)
    dll = shape / max(1.0, 1.0 + 2.0 * acf) * (nll - nll[k])
    # the posterior mean of c (flat prior over the candidates) rather than the likelihood's
    # maximum: on a slow rise the likelihood is skewed (the first tens of ms of a ramp are buried
    # in the rest noise) and its maximum lies late
    post = np.exp(-dll)
    c = float(post @ cands / post.sum())
    # its spread: the posterior SD (at least half a fine block)
    unc = max(float(np.sqrt(post @ (cands - c) ** 2 / post.sum())), 0.5) / fr_f
    unc *= UNCERTAINTY_SCALE
    # fine block j covers samples [lo + j step_f, lo + (j + 1) step_f): its start is the onset
    return float(lo + c * step_f), unc


def _fine_nll(
    rows: np.ndarray, cands: np.ndarray, sub: int, y: np.ndarray, ok: np.ndarray, w0: np.ndarray, floor: float
) -> tuple[np.ndarray, np.ndarray]:
    """Gamma negative log-likelihood ``(n_cands,)`` of the fine block powers ``y`` (from block
    ``sub`` on; ``ok`` 1 where finite) and the fitted models ``(n_cands, n)`` with the changepoint
    at each fine block of ``cands`` and its rise ``rows[i]`` (``(2, m)``: the ``u`` and ``u^2``
    templates); fitted by reweighted least squares from the weights ``w0``."""
    lag = np.arange(sub, sub + y.size)[None, :] - cands[:, None]
    at = np.maximum(lag, 0)
    m1 = np.where(lag >= 0, np.take_along_axis(rows[:, 0], at, axis=1), 0.0)
    m2 = np.where(lag >= 0, np.take_along_axis(rows[:, 1], at, axis=1), 0.0)
    w = np.broadcast_to(w0, m1.shape)
    models = m1
    for _ in range(FINE_PASSES):
        # a Gamma quasi-likelihood: weights 1 / model^2, each candidate its own model
        wy = w * y
        b0, a1, a2, _ = _nnls2(
            w.sum(axis=1),
            wy.sum(axis=1),
            (wy * y).sum(axis=1),
            (m1 * w).sum(axis=1),
            (m2 * w).sum(axis=1),
            (m1 * m1 * w).sum(axis=1),
            (m2 * m2 * w).sum(axis=1),
            (m1 * m2 * w).sum(axis=1),
            (m1 * wy).sum(axis=1),
            (m2 * wy).sum(axis=1),
        )
        models = np.maximum(b0[:, None] + a1[:, None] * m1 + a2[:, None] * m2, floor)
        w = ok / models**2
    return (ok * (np.log(models) + y / models)).sum(axis=1), models


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


def _templates(fr: float, step: int, nfft: int, sos: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``(T, spectra)``: every rise of the model through the causal filter ``sos``, ``T`` shape
    ``(n_rises, 2, nfft // 2)``: for each rise ``u`` (:data:`RISE_GRID_S` x :data:`SHAPES`) the
    power templates of ``u`` and ``u^2`` (white EMG: power spreads by the filter's squared
    impulse response), averaged over blocks of ``step`` samples, starting at the changepoint;
    ``spectra``: the FFTs of ``T1``, ``T2``, ``T1^2``, ``T2^2``, ``T1 T2`` (keys ``1 2 11 22 12``;
    cached)."""
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
                rows.append([_block_mean(np.convolve(v, h2)[: tau.size], m, step) for v in (u, u * u)])
        t = np.asarray(rows)
        full = np.zeros((t.shape[0], 2, nfft))
        full[:, :, :m] = t
        t1, t2 = full[:, 0], full[:, 1]
        spectra = {
            k: np.fft.rfft(v, axis=1)
            for k, v in (("1", t1), ("2", t2), ("11", t1 * t1), ("22", t2 * t2), ("12", t1 * t2))
        }
        _CACHE[key] = (t, spectra)
    return _CACHE[key]


_CACHE: dict[tuple, tuple[np.ndarray, dict[str, np.ndarray]]] = {}


def _block_mean(v: np.ndarray, m: int, step: int) -> np.ndarray:
    """Means of ``m`` consecutive blocks of ``step`` samples of ``v``."""
    return v[: m * step].reshape(m, step).mean(axis=1)


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
    """Least-squares fit at every candidate block ``j``: rise ``which[j]`` (a row of
    ``templates``), level ``b0[j]``, weights ``a1[j]``, ``a2[j]`` of its ``u`` and ``u^2``
    templates; ``best`` the candidate with the least residual."""

    templates: np.ndarray
    which: np.ndarray
    b0: np.ndarray
    a1: np.ndarray
    a2: np.ndarray
    best: int

    def model(self, j: int) -> np.ndarray:
        """Expected block power ``(n,)`` with the changepoint at block ``j``."""
        lag = np.arange(self.which.size) - j
        t1, t2 = self.templates[self.which[j]]
        at = np.maximum(lag, 0)
        rise = np.where(lag >= 0, self.a1[j] * t1[at] + self.a2[j] * t2[at], 0.0)
        return self.b0[j] + rise


def _fit(y: np.ndarray, w: np.ndarray, fr: float, step: int, sos: np.ndarray) -> _Fit:
    """Weighted least squares ``y ~ b0 + a1 T1(t - c) + a2 T2(t - c)`` (``a1, a2 >= 0``) for
    ``c`` at each block of ``y`` and every rise: the best rise per candidate (all at once, by
    FFT)."""
    n = y.size
    nfft = 1 << int(np.ceil(np.log2(2 * n)))
    t, spec = _templates(fr, step, nfft, sos)
    wy = w * y
    s_w, s_y, s_yy = float(w.sum()), float(wy.sum()), float(wy @ y)
    fw, fwy = np.conj(np.fft.rfft(w, nfft)), np.conj(np.fft.rfft(wy, nfft))

    def corr(f: np.ndarray, k: str) -> np.ndarray:
        # sum_m v[m] T[m - j] for every j: a correlation
        return np.fft.irfft(np.conj(f[None, :] * spec[k]), nfft)[:, :n]

    b0, a1, a2, sse = _nnls2(
        s_w,
        s_y,
        s_yy,
        corr(fw, "1"),
        corr(fw, "2"),
        corr(fw, "11"),
        corr(fw, "22"),
        corr(fw, "12"),
        corr(fwy, "1"),
        corr(fwy, "2"),
    )
    which = np.argmin(sse, axis=0)
    cols = np.arange(n)
    best_sse = sse[which, cols]
    best = int(np.argmin(best_sse[1 : n - 2])) + 1
    return _Fit(t, which, b0[which, cols], a1[which, cols], a2[which, cols], best)


def _nnls2(
    s_w: float, s_y: float, s_yy: float, s1, s2, s11, s22, s12, sy1, sy2
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least squares ``y ~ b0 + a1 r1 + a2 r2`` with ``a1, a2 >= 0``, from the weighted
    sums (``s1 = sum w r1``, ``s12 = sum w r1 r2``, ``sy1 = sum w y r1``, ...; arrays of any one
    shape, one fit per element): ``(b0, a1, a2, residual sum of squares)``."""
    c11 = s11 - s1 * s1 / s_w
    c22 = s22 - s2 * s2 / s_w
    c12 = s12 - s1 * s2 / s_w
    cy1 = sy1 - s1 * s_y / s_w
    cy2 = sy2 - s2 * s_y / s_w
    cyy = s_yy - s_y * s_y / s_w
    # a template that barely overlaps the data is ill-conditioned (and FFT sums carry rounding)
    tiny1 = c11 <= 1e-9 * np.maximum(s11, 1e-300)
    tiny2 = c22 <= 1e-9 * np.maximum(s22, 1e-300)
    det = c11 * c22 - c12 * c12
    both = ~(tiny1 | tiny2) & (det > 1e-9 * np.abs(c11 * c22))
    with np.errstate(invalid="ignore", divide="ignore"):
        a1 = np.where(both, (c22 * cy1 - c12 * cy2) / np.where(both, det, 1.0), -1.0)
        a2 = np.where(both, (c11 * cy2 - c12 * cy1) / np.where(both, det, 1.0), -1.0)
        only1 = np.where(tiny1, 0.0, np.maximum(cy1, 0.0) / np.where(tiny1, 1.0, c11))
        only2 = np.where(tiny2, 0.0, np.maximum(cy2, 0.0) / np.where(tiny2, 1.0, c22))
    inside = (a1 >= 0) & (a2 >= 0)
    sse_both = cyy - a1 * cy1 - a2 * cy2
    sse1, sse2 = cyy - only1 * cy1, cyy - only2 * cy2
    use1 = ~inside & (sse1 <= sse2)
    a1 = np.where(inside, a1, np.where(use1, only1, 0.0))
    a2 = np.where(inside, a2, np.where(use1, 0.0, only2))
    sse = np.where(inside, sse_both, np.where(use1, sse1, sse2))
    b0 = (s_y - a1 * s1 - a2 * s2) / s_w
    return b0, a1, a2, np.maximum(sse, 0.0)
