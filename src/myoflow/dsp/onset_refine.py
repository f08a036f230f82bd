"""Where did the muscle leave rest? Refining a threshold detection back to the departure.

A threshold detector fires where the envelope has *risen enough*: on a slow rise (a glute
ramping up over a second) that is tens to hundreds of ms after the muscle started, and on a
sharp step the zero-phase envelope filters have already spread the rise ~100 ms *before* the
step. Here each detection is moved to where the activation departs its baseline by a
**changepoint fit** (two-phase regression, Hinkley 1971; for EMG onsets see Staude & Wolf 1999
and Staude et al. 2001) of a model that knows the envelope's own smoothing:

* the fit window runs from ``lookback_s`` before the detection (or the end of the previous
  burst, whichever is later) to where the envelope first reaches ``rise_frac`` of the way from
  its baseline to the burst's first local peak;
* model: the activation ``a(t)`` is flat before ``c`` and then rises linearly for ``d`` seconds
  to a plateau (a clipped ramp: a step when ``d`` is short, a slow ramp when long); the
  envelope filter smooths the amplitude (impulse response ``Ka``), the analysis smoother the
  power (``Kp``; :func:`envelope_kernels`), and noise and muscle activity add in power, so
  ``y(t)^2 = b0 + b1 (Kp * (Ka * a_{c,d})^2)(t)``, fitted by weighted least squares (weights
  ``1 / y^4``: an envelope's power fluctuates in proportion to its level, so these are relative
  residuals and the quiet foot of the rise counts as much as its top) for every ``c`` on the
  fit grid and every ``d`` of a log-spaced grid (10 ms - 1.6 s);
* the onset is the ``c`` of the best ``(c, d)`` over every fit-grid sample (all candidates at
  once: the sums of the fit are correlations of the data with each template, done by FFT),
  refined between grid points by a parabola;
* **uncertainty**: the profile likelihood of ``c`` (Gaussian errors, variance from the best
  fit, the sample count reduced to the envelope's independent samples, about
  ``2 x bandwidth x duration``): the half-width of the set of ``c`` within 1 log-likelihood unit
  of the best (about a 68 % interval), in seconds; at least half a fit-grid step.

The fit runs on the envelope decimated to at most ``max_rate_hz`` (an envelope low-passed at a
few Hz holds nothing faster), so each refinement is a few small matrix products.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import fftconvolve

from myoflow._checks import check_positive, check_rate

#: Rise durations ``d`` (s) of the clipped-ramp model.
RISE_GRID_S = tuple(float(v) for v in np.geomspace(0.01, 1.6, 12))


@dataclass(frozen=True)
class RefineParams:
    """Parameters of :func:`refine_onset` (module docstring); times in s."""

    lookback_s: float = 1.6
    rise_frac: float = 0.9
    peak_window_s: float = 2.0
    max_rate_hz: float = 100.0
    bandwidth_hz: float = 6.0

    def __post_init__(self) -> None:
        for name in ("lookback_s", "peak_window_s", "max_rate_hz", "bandwidth_hz"):
            check_positive(getattr(self, name), name)


def refine_onset(
    y: np.ndarray,
    fs: float,
    detected: int,
    earliest: int = 0,
    params: RefineParams | None = None,
    kernels: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[float, float]:
    """Refined onset (fractional sample index into ``y``) and its uncertainty (s).

    Parameters
    ----------
    y
        ``(n,)`` non-negative envelope of one channel (finite around the onset).
    fs
        Its rate in Hz.
    detected
        Sample where a threshold detector fired.
    earliest
        No onset before this sample (the end of the previous burst, or the search start).
    params
        :class:`RefineParams`.
    kernels
        ``(Ka, Kp)``: odd-length, centred impulse responses (sum 1) at ``fs`` of the filters
        between the activation and ``y``, on amplitude and on power (:func:`envelope_kernels`);
        None: no smoothing.

    Returns
    -------
    ``(index, uncertainty_s)``; ``(detected, nan)`` when the window is too short to fit.
    """
    fs = check_rate(fs)
    p = params or RefineParams()
    x = np.asarray(y, dtype=np.float64)
    n = x.size
    lo = max(int(earliest), detected - int(round(p.lookback_s * fs)), 0)
    peak_hi = min(n, detected + int(round(p.peak_window_s * fs)))
    if detected >= n or peak_hi <= detected + 1 or detected - lo < 3:
        return float(detected), float("nan")
    seg_pre = x[lo : detected + 1]
    base = float(np.nanmin(seg_pre)) if np.isfinite(seg_pre).any() else float("nan")
    after = x[detected:peak_hi]
    if not np.isfinite(base) or not np.isfinite(after).any():
        return float(detected), float("nan")
    step = max(1, int(fs // p.max_rate_hz))
    # the first local maximum after the detection bounds the rise (a second burst does not count)
    peak_i = _first_peak(after[::step]) * step
    top = base + p.rise_frac * (after[peak_i] - base)
    reach = np.flatnonzero(after[: peak_i + 1] >= top)
    hi = detected + (int(reach[0]) if reach.size else peak_i) + 1
    idx = np.arange(lo, hi, step)
    seg = x[idx]
    ok = np.isfinite(seg)
    if ok.sum() < 5:
        return float(detected), float("nan")
    idx, seg = idx[ok], seg[ok]
    t = (idx - idx[0]) / fs
    cands = t[1:-2]
    sse = _ramp_sse(seg**2, step, fs, kernels)[1:-2]
    k = int(np.argmin(sse))
    c = cands[k]
    if 0 < k < cands.size - 1:
        a, b, d = sse[k - 1], sse[k], sse[k + 1]
        den = a - 2 * b + d
        if den > 0:
            c += 0.5 * (a - d) / den * (cands[1] - cands[0])
    # profile likelihood half-width, with the independent sample count of a band-limited envelope
    n_eff = max(4.0, min(t.size, 2.0 * p.bandwidth_hz * (t[-1] - t[0] + 1.0 / fs)))
    var = max(float(sse[k]) / max(n_eff - 3.0, 1.0), 1e-300)
    dll = (sse - sse[k]) * (n_eff / t.size) / (2.0 * var)
    inside = cands[dll <= 1.0]
    unc = max(0.5 * float(inside.max() - inside.min()) if inside.size else 0.0, 0.5 * step / fs)
    return float(idx[0] + c * fs), unc


def _first_peak(seg: np.ndarray) -> int:
    """Index of the first local maximum of ``seg`` that is at least as high as everything
    within the following 10 % of ``seg`` (a noisy envelope wiggles on its way up)."""
    size = np.array([seg.size])
    return int(first_peaks(seg[None, :], size, size - 1)[0][0])


def first_peaks(seg: np.ndarray, size: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_first_peak` of each row ``seg[i, :size[i]]`` of ``seg`` ``(k, m)`` (NaN: never a
    peak), when only ``seg[i, :last[i] + 1]`` is known yet (``last[i] >= size[i] - 1``: all).

    Returns ``(index, settled)`` ``(k,)``: where ``settled`` is False the first peak lies beyond
    what is known (more of the row is needed); the index is then meaningless."""
    cols = np.arange(seg.shape[1])[None, :]
    s = np.where(np.isfinite(seg) & (cols < size[:, None]), seg, -np.inf)
    w = np.maximum(1, size // 10)
    # the maximum of s[i : i + w + 1] (past the end: -inf) for every i
    if (w == w[0]).all():  # one width (always so for one row)
        ahead = _max_ahead(s, int(w[0]))
    else:
        ahead = np.empty_like(s)
        for v in np.unique(w).tolist():
            at = w == v
            ahead[at] = _max_ahead(s[at], v)
    complete = last >= size - 1
    # a candidate counts only where it and the w values after it are known
    known = np.where(complete, size, last - w + 1)[:, None]
    hit = (s >= np.maximum.accumulate(s, axis=1)) & (s >= ahead) & (cols < known)
    found = hit.any(axis=1)
    index = np.where(found, np.argmax(hit, axis=1), np.argmax(s, axis=1))
    return index, found | complete


def _max_ahead(s: np.ndarray, w: int) -> np.ndarray:
    """``max(s[i, j : j + w + 1])`` for every ``(i, j)`` of ``s`` ``(k, m)`` (-inf past the
    end): the maxima of numpy's sliding-window view of ``s`` padded with ``w`` times -inf."""
    k, m = s.shape
    padded = np.full((k, m + w), -np.inf)
    padded[:, :m] = s
    return np.lib.stride_tricks.sliding_window_view(padded, w + 1, axis=1).max(axis=2)


def _ramp_templates(
    fs: float, kernels: tuple[np.ndarray, np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray]:
    """``(tau, R)``: the power of each clipped ramp of :data:`RISE_GRID_S` starting at
    ``tau = 0`` seen through ``kernels``, ``R`` shape ``(len(RISE_GRID_S), len(tau))``
    (cached per kernel pair)."""
    key = (fs, _fingerprint(kernels))
    if key not in _TEMPLATES:
        if len(_TEMPLATES) > 16:
            _TEMPLATES.clear()
        _TEMPLATES[key] = _make_templates(fs, kernels)
    return _TEMPLATES[key]


_TEMPLATES: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def _fingerprint(kernels: tuple[np.ndarray, np.ndarray] | None) -> tuple | None:
    """A cheap cache key of a kernel pair (sizes and a spread of samples)."""
    if kernels is None:
        return None
    return tuple(
        (k.size, *np.asarray(k[:: max(1, k.size // 64)], dtype=np.float64).round(15).tolist())
        for k in kernels
    )


def _make_templates(
    fs: float, kernels: tuple[np.ndarray, np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray]:
    half = 0 if kernels is None else (kernels[0].size + kernels[1].size) // 2
    span = RISE_GRID_S[-1] + 4.0
    tau = (np.arange(-half, int(span * fs) + half + 1)) / fs
    ramps = np.clip(tau[None, :] / np.asarray(RISE_GRID_S)[:, None], 0.0, 1.0)
    if kernels is None:
        return tau, ramps**2
    amp = fftconvolve(ramps, kernels[0][None, :], mode="same", axes=1)
    return tau, fftconvolve(amp**2, kernels[1][None, :], mode="same", axes=1)


def _ramp_sse(
    y: np.ndarray, step: int, fs: float, kernels: tuple[np.ndarray, np.ndarray] | None
) -> np.ndarray:
    """Least weighted residual over the rise durations of ``y ~ b0 + b1 R_d(t - c)`` for a
    changepoint ``c`` at each sample of ``y`` (``y`` sampled every ``step`` samples of ``fs``).

    Candidates and data share one grid, so every sum over the data is a correlation of the
    data with the template, computed for all candidates and templates at once by FFT."""
    h, m, nfft, spec, spec2 = _template_spectra(fs, step, kernels, y.size)
    n = y.size
    # an envelope's fluctuation grows with its level (sd of power ~ power): weight by 1 / y^2
    w = 1.0 / np.maximum(y, 1e-6 * max(float(y.max()), 1e-300)) ** 2
    wy = w * y
    s_w, s_y, s_yy = w.sum(), wy.sum(), float(wy @ y)
    fw, fwy = np.fft.rfft(w, nfft), np.fft.rfft(wy, nfft)
    # sum_n v[n] T[n - j + h] for every j: a convolution with the reversed template, at
    # p = j - h + m - 1
    s_r = np.fft.irfft(spec * fw, nfft)
    s_rr = np.fft.irfft(spec2 * fw, nfft)
    s_ry = np.fft.irfft(spec * fwy, nfft)
    at = np.arange(n) - h + m - 1
    ok = (at >= 0) & (at < nfft)
    sse = np.full((spec.shape[0], n), np.inf)
    cols = at[ok]
    sse[:, ok] = _linear_sse(s_r[:, cols], s_rr[:, cols], s_ry[:, cols], s_w, s_y, s_yy)
    return sse.min(axis=0)


def _template_spectra(fs: float, step: int, kernels, n: int):
    """``(h, m, nfft, spectra of the reversed templates, of their squares)`` on the fit grid
    (every ``step`` samples), FFT size a power of two for ``n`` data samples (cached)."""
    tau, templates = _ramp_templates(fs, kernels)
    half = int(round(-tau[0] * fs))
    start = half % step
    grid = templates[:, start::step]  # template samples at multiples of step / fs
    m = grid.shape[1]
    nfft = 1 << int(np.ceil(np.log2(n + m - 1)))
    key = (fs, step, nfft, _fingerprint(kernels))
    if key not in _SPECTRA:
        if len(_SPECTRA) > 16:
            _SPECTRA.clear()
        rev = grid[:, ::-1]
        _SPECTRA[key] = (np.fft.rfft(rev, nfft, axis=1), np.fft.rfft(rev * rev, nfft, axis=1))
    spec, spec2 = _SPECTRA[key]
    return half // step, m, nfft, spec, spec2


_SPECTRA: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def _linear_sse(
    s_r: np.ndarray, s_rr: np.ndarray, s_ry: np.ndarray, s_w: float, s_y: float, s_yy: float
) -> np.ndarray:
    """Weighted residual sum of squares of ``y ~ b0 + b1 r`` (``b1 >= 0``) from the weighted
    sums ``sum w r``, ``sum w r^2``, ``sum w r y``, ``sum w``, ``sum w y``, ``sum w y^2``."""
    det = s_w * s_rr - s_r**2
    # a template that barely overlaps the data is ill-conditioned (and FFT sums carry rounding):
    # fit the level alone there
    scale = float(np.max(np.abs(s_rr))) if s_rr.size else 0.0  # over every template and lag
    good = (det > 1e-8 * s_w * np.abs(s_rr)) & (s_rr > 1e-7 * scale)
    with np.errstate(invalid="ignore", divide="ignore"):
        b1 = np.where(good, (s_w * s_ry - s_r * s_y) / np.where(good, det, 1.0), 0.0)
    b1 = np.maximum(b1, 0.0)  # a rise, never a fall
    b0 = (s_y - b1 * s_r) / s_w
    sse = s_yy + s_w * b0**2 + b1**2 * s_rr - 2 * b0 * s_y - 2 * b1 * s_ry + 2 * b0 * b1 * s_r
    return np.maximum(sse, 0.0)


def envelope_kernels(
    fs: float, profile, detection_hz: float | None = 6.0, half_s: float = 0.6
) -> tuple[np.ndarray, np.ndarray]:
    """``(Ka, Kp)``: impulse responses (odd length, centred, sum 1) at ``fs`` Hz of the offline
    envelope of ``profile`` (:func:`myoflow.dsp.pipeline.envelope_offline`) and of the analysis
    smoothing at ``detection_hz`` (:func:`myoflow.dsp.smooth.positive_lowpass`; None: none).
    A low-pass envelope smooths the rectified amplitude (``Ka``); a moving-RMS envelope and the
    analysis smoother smooth power (``Kp``)."""
    from myoflow.dsp.design import lowpass
    from myoflow.dsp.offline import zero_phase_fft
    from myoflow.dsp.pipeline import LIVE_ENVELOPE_ORDER
    from myoflow.dsp.smooth import matched_lowpass

    fs = check_rate(fs)
    half = int(round(half_s * fs))
    imp = np.zeros(2 * half + 1)
    imp[half] = 1.0
    amp, pw = imp.copy(), imp.copy()
    if profile.envelope == "lowpass":
        low = lowpass(fs, profile.envelope_hz, LIVE_ENVELOPE_ORDER)
        amp = np.asarray(zero_phase_fft(imp[:, None], fs, low, passes=1), dtype=np.float64)[:, 0]
    else:
        w = max(1, int(round(profile.window_s * fs)))
        pw = np.convolve(imp, np.ones(w) / w, mode="same")
    if detection_hz is not None:
        pw = matched_lowpass(pw, fs, min(detection_hz, 0.4 * fs))
    return amp / amp.sum(), pw / pw.sum()
