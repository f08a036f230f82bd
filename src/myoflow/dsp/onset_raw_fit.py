"""The model and least-squares fits of the ``changepoint`` onset (:mod:`myoflow.dsp.onset_raw`).

Power templates of each rise through the causal refinement filter, the coarse fit of every
candidate changepoint and rise at once (weighted least squares by FFT correlation), the fine fit
of a few candidates (reweighted least squares, Gamma likelihood) and the two-term non-negative
least squares both use. Block powers, templates and weights are arrays of block means (s of
samples averaged per block); no unit is assumed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.signal import sosfilt

#: Rise durations ``d`` (s) of the clipped-ramp amplitude model.
RISE_GRID_S = tuple(float(v) for v in np.geomspace(0.01, 1.6, 7))
#: 1: linear and concave (quarter-sine) rises; 0: linear only.
SHAPES = 1
#: Reweighting passes of the fine fit (1: weights from the coarse fit's best model only).
FINE_PASSES = 2


def templates(fr: float, step: int, nfft: int, sos: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
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
class CoarseFit:
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


def coarse_fit(y: np.ndarray, w: np.ndarray, fr: float, step: int, sos: np.ndarray) -> CoarseFit:
    """Weighted least squares ``y ~ b0 + a1 T1(t - c) + a2 T2(t - c)`` (``a1, a2 >= 0``) for
    ``c`` at each block of ``y`` and every rise: the best rise per candidate (all at once, by
    FFT)."""
    n = y.size
    nfft = 1 << int(np.ceil(np.log2(2 * n)))
    t, spec = templates(fr, step, nfft, sos)
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
    return CoarseFit(t, which, b0[which, cols], a1[which, cols], a2[which, cols], best)


def _nnls2(
    s_w: float | np.ndarray,
    s_y: float | np.ndarray,
    s_yy: float | np.ndarray,
    s1,
    s2,
    s11,
    s22,
    s12,
    sy1,
    sy2,
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


def fine_nll(
    rows: np.ndarray, cands: np.ndarray, y: np.ndarray, ok: np.ndarray, w0: np.ndarray, floor: float
) -> tuple[np.ndarray, Callable[[int], np.ndarray]]:
    """Gamma negative log-likelihood ``(n_cands,)`` of the fine block powers ``y`` (``ok`` 1 where
    finite) with the changepoint at each block of ``cands`` (ascending) and its rise ``rows[i]``
    (``(2, m)``: the ``u`` and ``u^2`` templates), fitted by reweighted least squares from the
    weights ``w0``; and a function giving candidate ``i``'s model ``(n,)``.

    Blocks before the first candidate are rest for every candidate (model ``b0``): they enter
    through a few sums, so the candidate x block arrays start at the first candidate."""
    q = int(cands[0])
    yp, okp, w0p = y[:q], ok[:q], w0[:q]
    n_p, y_p = float(okp.sum()), float(yp.sum())
    pre = (float(w0p.sum()), float(w0p @ yp), float((w0p * yp) @ yp))  # sum w, w y, w y^2
    y, ok, w0 = y[q:], ok[q:], w0[q:]
    lag = np.arange(q, q + y.size)[None, :] - cands[:, None]
    at = np.maximum(lag, 0)
    m1 = np.where(lag >= 0, np.take_along_axis(rows[:, 0], at, axis=1), 0.0)
    m2 = np.where(lag >= 0, np.take_along_axis(rows[:, 1], at, axis=1), 0.0)
    sw_p, swy_p, swyy_p = (np.full(cands.size, v) for v in pre)
    y2 = y * y
    # first pass: the weights w0 are common to every candidate (matrix-vector products)
    m1w, m2w = m1 * w0, m2 * w0
    sums = (float(w0.sum()), float(w0 @ y), float(w0 @ y2), m1 @ w0, m2 @ w0)
    models, level = m1, np.ones(cands.size)
    for _ in range(FINE_PASSES):
        # a Gamma quasi-likelihood: weights 1 / model^2, each candidate its own model
        s_w, s_y, s_yy, s1, s2 = sums
        b0, a1, a2, _ = _nnls2(
            s_w + sw_p,
            s_y + swy_p,
            s_yy + swyy_p,
            s1,
            s2,
            np.einsum("ij,ij->i", m1w, m1),
            np.einsum("ij,ij->i", m2w, m2),
            np.einsum("ij,ij->i", m1w, m2),
            m1w @ y,
            m2w @ y,
        )
        models = b0[:, None] + a1[:, None] * m1
        models += a2[:, None] * m2
        np.maximum(models, floor, out=models)
        level = np.maximum(b0, floor)  # the model before the changepoint
        w = ok / (models * models)
        m1w, m2w = m1 * w, m2 * w
        sums = (w.sum(axis=1), w @ y, w @ y2, m1w.sum(axis=1), m2w.sum(axis=1))
        inv2 = 1.0 / level**2
        sw_p, swy_p, swyy_p = n_p * inv2, float(yp @ okp) * inv2, float((yp * yp) @ okp) * inv2
    nll = (ok * (np.log(models) + y / models)).sum(axis=1) + n_p * np.log(level) + y_p / level

    def model(i: int) -> np.ndarray:
        return np.concatenate([np.full(q, level[i]), models[i]])

    return nll, model
