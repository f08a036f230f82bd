"""The model and least-squares fits of the ``changepoint`` onset (:mod:`myoflow.dsp.onset_raw`).

Power templates of each rise through the causal refinement filter, the coarse fit of every
candidate changepoint and rise at once (weighted least squares by FFT correlation), the fine fit
of a few candidates (reweighted least squares, Gamma likelihood) and the two-term non-negative
least squares both use. Block powers, templates and weights are arrays of block means (s of
samples averaged per block); no unit is assumed. Every fit runs on many windows at once: one
row per window, zero-padded past its own length (a zero weight or ``ok`` adds nothing), each
row's numbers the same whatever the other rows are.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.fft import next_fast_len
from scipy.signal import sosfilt

#: Rise durations ``d`` (s) of the clipped-ramp amplitude model.
RISE_GRID_S = tuple(float(v) for v in np.geomspace(0.01, 1.6, 7))
#: 1: linear and concave (quarter-sine) rises; 0: linear only.
SHAPES = 1
#: Reweighting passes of the fine fit (1: weights from the coarse fit's best model only).
FINE_PASSES = 2
#: The coarse best has more than this many finite blocks after it in the fit window.
TAIL = 2


def templates(fr: float, step: int, nfft: int, sos: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``(T, spectra)``: every rise of the model through the causal filter ``sos``, ``T`` shape
    ``(n_rises, 2, nfft // 2)``: for each rise ``u`` (:data:`RISE_GRID_S` x :data:`SHAPES`) the
    power templates of ``u`` and ``u^2`` (white EMG: power spreads by the filter's squared
    impulse response), averaged over blocks of ``step`` samples, starting at the changepoint;
    ``spectra``: the FFTs (length ``nfft``) of ``T1``, ``T2``, ``T1^2``, ``T2^2``, ``T1 T2``
    (keys ``1 2 11 22 12``; cached). A longer ``nfft`` gives the same first blocks."""
    key = (fr, step, nfft, sos.tobytes())
    if key not in _CACHE:
        if len(_CACHE) > 128:
            _CACHE.clear()
        m = nfft // 2
        t = _bank(fr, step, m, sos)[:, :, :m]
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


def _bank(fr: float, step: int, m: int, sos: np.ndarray) -> np.ndarray:
    """The templates of :func:`templates`, at least ``m`` blocks long (cached; made again, twice
    as long, when a longer one is asked for: its first blocks are the same)."""
    key = (fr, step, sos.tobytes())
    have = _BANKS.get(key)
    if have is None or have.shape[2] < m:
        if len(_BANKS) > 32:
            _BANKS.clear()
        fs = fr * step
        m = 1 << int(np.ceil(np.log2(max(m, 64))))
        h2 = _impulse_energy(sos, fs)
        tau = np.arange(m * step) / fs
        rows = []
        for d in RISE_GRID_S:
            lin = np.clip(tau / d, 0.0, 1.0)
            for u in (lin, np.sin(0.5 * np.pi * lin))[: 1 + SHAPES]:
                rows.append([_block_mean(np.convolve(v, h2)[: tau.size], m, step) for v in (u, u * u)])
        _BANKS[key] = have = np.asarray(rows)
    return have


_BANKS: dict[tuple, np.ndarray] = {}


def _nfft(n: np.ndarray | int) -> np.ndarray:
    """The FFT length of a correlation of ``n`` blocks: a fast length (5-smooth) >= ``2 n``."""
    n2 = 2 * np.maximum(np.asarray(n, dtype=np.int64), 1)
    return np.array([_fast_len(v) for v in n2.reshape(-1).tolist()], dtype=np.int64).reshape(n2.shape)


@lru_cache(maxsize=4096)
def _fast_len(n: int) -> int:
    """``scipy.fft.next_fast_len(n, real=True)`` (cached: it is slow to call)."""
    return int(next_fast_len(n, real=True))


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
    """Least-squares fits of ``k`` windows at every candidate block ``j``: ``which[i, j]`` the
    rise (a row of ``templates``) with the least residual there; ``best`` ``(k,)`` the candidate
    with the least residual of all, with its level ``b0`` and the weights ``a1``, ``a2`` of its
    ``u`` and ``u^2`` templates, ``(k,)``."""

    templates: np.ndarray
    which: np.ndarray
    best: np.ndarray
    b0: np.ndarray
    a1: np.ndarray
    a2: np.ndarray

    def model(self) -> np.ndarray:
        """Expected block powers ``(k, n)`` with each window's changepoint at its ``best``."""
        rows = np.arange(self.best.size)
        lag = np.arange(self.which.shape[1])[None, :] - self.best[:, None]
        t = self.templates[self.which[rows, self.best]]  # (k, 2, m)
        at = np.minimum(np.maximum(lag, 0), t.shape[2] - 1)
        t1, t2 = t[rows[:, None], 0, at], t[rows[:, None], 1, at]
        rise = self.a1[:, None] * t1 + self.a2[:, None] * t2
        return self.b0[:, None] + np.where(lag >= 0, rise, 0.0)


#: Elements (windows x rises x blocks) of the coarse fit's arrays at a time.
COARSE_CHUNK = 200_000


def coarse_fit(
    y: np.ndarray, w: np.ndarray, n: np.ndarray, fr: float, step: int, sos: np.ndarray
) -> CoarseFit:
    """Weighted least squares ``y ~ b0 + a1 T1(t - c) + a2 T2(t - c)`` (``a1, a2 >= 0``) for
    ``c`` at each block and every rise, for ``k`` windows: ``y``, ``w`` ``(k, >= n.max())``
    block powers and weights (row ``i`` holds ``n[i]`` blocks); the best rise per candidate (all
    at once, by FFT correlation), windows of similar length together."""
    k, width = y.shape[0], int(n.max())
    if k == 1:  # one window (the live analysis: one call per muscle and rep): no grouping
        nfft = _fast_len(2 * max(width, 1))
        which, best, sums = _coarse_rows(y, w, n, nfft, fr, step, sos)
        return CoarseFit(templates(fr, step, nfft, sos)[0], which, best, *_nnls2(*sums))
    which = np.zeros((k, width), dtype=np.int64)
    best = np.zeros(k, dtype=np.int64)
    sums = np.zeros((10, k))
    nffts = _nfft(n)
    t = templates(fr, step, int(nffts.max()), sos)[0]
    order = np.lexsort((n, nffts))
    i = 0
    while i < k:
        first = order[i]
        j = i + 1
        while (
            j < k
            and nffts[order[j]] == nffts[first]
            and (j - i + 1) * t.shape[0] * n[order[j]] <= COARSE_CHUNK
        ):
            j += 1
        rows = order[i:j]
        which[rows, : n[rows].max()], best[rows], sums[:, rows] = _coarse_rows(
            y[rows], w[rows], n[rows], int(nffts[first]), fr, step, sos
        )
        i = j
    b0, a1, a2 = _nnls2(*sums)
    return CoarseFit(t, which, best, b0, a1, a2)


def _coarse_rows(
    y: np.ndarray, w: np.ndarray, n: np.ndarray, nfft: int, fr: float, step: int, sos: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`coarse_fit` of windows sharing one FFT length ``nfft``: ``which`` ``(g, m)``,
    ``best`` ``(g,)`` and the ten sums of :func:`_nnls2` at the best ``(10, g)``."""
    m = int(n.max())
    _, spec = templates(fr, step, nfft, sos)
    w, y = w[:, :m], y[:, :m]
    wy = w * y
    s_w, s_y, s_yy = (v.sum(axis=1)[:, None, None] for v in (w, wy, wy * y))
    fw, fwy = np.conj(np.fft.rfft(w, nfft, axis=1)), np.conj(np.fft.rfft(wy, nfft, axis=1))

    # sum_m v[m] T[m - j] for every j: correlations, all seven in one inverse FFT (each row is
    # transformed on its own: the numbers of seven calls)
    pairs = ((fw, "1"), (fw, "2"), (fw, "11"), (fw, "22"), (fw, "12"), (fwy, "1"), (fwy, "2"))
    prod = np.empty((len(pairs), y.shape[0], *spec["1"].shape), dtype=np.complex128)
    for q, (f, key) in enumerate(pairs):
        np.multiply(f[:, None, :], spec[key][None], out=prod[q])
    np.conjugate(prod, out=prod)
    s = tuple(np.fft.irfft(prod, nfft, axis=3)[..., :m])
    gain = _explained(s_w, s_y, *s)
    which = np.argmax(gain, axis=1)  # (g, m): the best rise at each candidate
    top = gain.max(axis=1)  # the gain of the best rise (``gain`` at ``which``)
    cols = np.arange(m)[None, :]
    # candidates with more than TAIL finite blocks from them to the window's end (fewer leave a
    # fit of the rise to one or two blocks: ill-conditioned)
    after = np.cumsum((w > 0)[:, ::-1], axis=1)[:, ::-1]
    best = np.argmax(np.where((cols >= 1) & (after > TAIL), top, -np.inf), axis=1)
    rows = np.arange(y.shape[0])
    at = which[rows, best]
    picked = [v[rows, at, best] for v in s]
    return which, best, np.stack([s_w[:, 0, 0], s_y[:, 0, 0], s_yy[:, 0, 0], *picked])


def _explained(s_w, s_y, s1, s2, s11, s22, s12, sy1, sy2) -> np.ndarray:
    """What the fit of :func:`_nnls2` explains (``sum w (y - mean)^2`` minus its residual sum of
    squares) from the same sums, without the coefficients: the fewest operations, for the
    coarse fit's windows x rises x candidates, written into 9 arrays of that size (fresh arrays
    this large cost page faults)."""
    c11, c22, c12, cy1, cy2, det, n1, n2, tmp = np.empty((9,) + np.shape(s1))
    inv, my = 1.0 / s_w, s_y / s_w
    np.multiply(s1, inv, out=tmp)  # s1 / s_w
    np.subtract(s11, np.multiply(s1, tmp, out=c11), out=c11)
    np.subtract(s12, np.multiply(s2, tmp, out=c12), out=c12)
    np.multiply(s2, inv, out=tmp)
    np.subtract(s22, np.multiply(s2, tmp, out=c22), out=c22)
    np.subtract(sy1, np.multiply(s1, my, out=cy1), out=cy1)
    np.subtract(sy2, np.multiply(s2, my, out=cy2), out=cy2)
    # a template that barely overlaps the data is ill-conditioned (and FFT sums carry rounding)
    tiny1 = c11 <= np.multiply(np.maximum(s11, 1e-300, out=tmp), 1e-9, out=tmp)
    tiny2 = c22 <= np.multiply(np.maximum(s22, 1e-300, out=tmp), 1e-9, out=tmp)
    np.multiply(c11, c22, out=n1)  # c11 c22
    np.subtract(n1, np.multiply(c12, c12, out=det), out=det)
    inside = det > np.multiply(np.abs(n1, out=n1), 1e-9, out=n1)
    inside &= ~tiny1
    inside &= ~tiny2
    np.subtract(np.multiply(c22, cy1, out=n1), np.multiply(c12, cy2, out=tmp), out=n1)
    np.subtract(np.multiply(c11, cy2, out=n2), np.multiply(c12, cy1, out=tmp), out=n2)
    inside &= n1 >= 0
    inside &= n2 >= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        gain = np.multiply(n1, cy1, out=n1)
        gain += np.multiply(n2, cy2, out=n2)
        gain /= det
        if inside.all():  # no bound broken anywhere: no one-term fit needed
            return gain
        e1 = np.maximum(cy1, 0.0, out=cy1)
        e1 *= e1
        e1 /= c11
        e2 = np.maximum(cy2, 0.0, out=cy2)
        e2 *= e2
        e2 /= c22
    e1[tiny1] = 0.0
    e2[tiny2] = 0.0
    np.maximum(e1, e2, out=e1)
    np.copyto(e1, gain, where=inside)
    return e1


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
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least squares ``y ~ b0 + a1 r1 + a2 r2`` with ``a1, a2 >= 0``, from the weighted
    sums (``s1 = sum w r1``, ``s12 = sum w r1 r2``, ``sy1 = sum w y r1``, ...; arrays of any one
    shape, one fit per element): ``(b0, a1, a2)``. Where the unconstrained fit breaks a bound,
    the better of the two one-term fits (by residual sum of squares) is taken."""
    c11 = s11 - s1 * s1 / s_w
    c22 = s22 - s2 * s2 / s_w
    c12 = s12 - s1 * s2 / s_w
    cy1 = sy1 - s1 * s_y / s_w
    cy2 = sy2 - s2 * s_y / s_w
    # a template that barely overlaps the data is ill-conditioned (and FFT sums carry rounding)
    tiny1 = c11 <= 1e-9 * np.maximum(s11, 1e-300)
    tiny2 = c22 <= 1e-9 * np.maximum(s22, 1e-300)
    prod = c11 * c22
    det = prod - c12 * c12
    both = ~(tiny1 | tiny2) & (det > 1e-9 * np.abs(prod))
    with np.errstate(invalid="ignore", divide="ignore"):
        div = np.where(both, det, 1.0)
        a1 = np.where(both, (c22 * cy1 - c12 * cy2) / div, -1.0)
        a2 = np.where(both, (c11 * cy2 - c12 * cy1) / div, -1.0)
    inside = (a1 >= 0) & (a2 >= 0)
    if not inside.all():  # a bound is broken somewhere: the better one-term fit there
        with np.errstate(invalid="ignore", divide="ignore"):
            only1 = np.where(tiny1, 0.0, np.maximum(cy1, 0.0) / np.where(tiny1, 1.0, c11))
            only2 = np.where(tiny2, 0.0, np.maximum(cy2, 0.0) / np.where(tiny2, 1.0, c22))
        cyy = s_yy - s_y * s_y / s_w
        use1 = ~inside & (cyy - only1 * cy1 <= cyy - only2 * cy2)
        a1 = np.where(inside, a1, np.where(use1, only1, 0.0))
        a2 = np.where(inside, a2, np.where(use1, 0.0, only2))
    b0 = (s_y - a1 * s1 - a2 * s2) / s_w
    return b0, a1, a2


@dataclass(frozen=True)
class FineFit:
    """The fine fit of ``k`` windows: ``nll`` ``(k, C)`` the Gamma negative log-likelihood of each
    candidate (inf where a window has fewer), ``models`` ``(k, C, B)`` each candidate's expected
    block powers from the first candidate on, ``level`` ``(k, C)`` its level before it."""

    nll: np.ndarray
    models: np.ndarray
    level: np.ndarray


def fine_nll(
    m1: np.ndarray,
    m2: np.ndarray,
    valid: np.ndarray,
    y: np.ndarray,
    ok: np.ndarray,
    w0: np.ndarray,
    pre: np.ndarray,
    floor: np.ndarray,
) -> FineFit:
    """Gamma negative log-likelihood of the fine block powers of ``k`` windows with the
    changepoint at each candidate, its rise's ``u`` and ``u^2`` templates ``m1``, ``m2``
    ``(k, C, B)`` (zero before the candidate; ``valid`` ``(k, C)``: which candidates count), fitted by
    reweighted least squares from the weights ``w0``.

    ``y``, ``ok`` (1 where finite), ``w0``: ``(k, B)`` the blocks from the first candidate on
    (``ok`` 0 past a window's end). Blocks before the first candidate are rest for every
    candidate (model ``b0``): they enter through ``pre`` ``(k, 6)``: their count of finite
    blocks, ``sum y``, ``sum y^2``, ``sum w0``, ``sum w0 y``, ``sum w0 y^2``. ``floor`` ``(k,)``:
    the least model power."""
    n_p, y_p, yy_p = pre[:, 0:1], pre[:, 1:2], pre[:, 2:3]
    sw_p, swy_p, swyy_p = pre[:, 3:4], pre[:, 4:5], pre[:, 5:6]
    fl = floor[:, None]
    y2 = y * y
    # the candidate x block arrays: written in place (a fresh array this large costs page faults)
    models, w, m1w, m2w = (np.empty_like(m1) for _ in range(4))
    # first pass: the weights w0 are common to every candidate of a window
    np.multiply(m1, w0[:, None, :], out=m1w)
    np.multiply(m2, w0[:, None, :], out=m2w)
    sums = (
        w0.sum(axis=1)[:, None],
        (w0 * y).sum(axis=1)[:, None],
        (w0 * y2).sum(axis=1)[:, None],
        _dot(m1, w0),
        _dot(m2, w0),
    )
    for p in range(FINE_PASSES):
        # a Gamma quasi-likelihood: weights 1 / model^2, each candidate its own model
        s_w, s_y, s_yy, s1, s2 = sums
        b0, a1, a2 = _nnls2(
            s_w + sw_p,
            s_y + swy_p,
            s_yy + swyy_p,
            s1,
            s2,
            np.einsum("kcb,kcb->kc", m1w, m1),
            np.einsum("kcb,kcb->kc", m2w, m2),
            np.einsum("kcb,kcb->kc", m1w, m2),
            _dot(m1w, y),
            _dot(m2w, y),
        )
        np.multiply(m1, a1[:, :, None], out=models)
        models += b0[:, :, None]
        np.multiply(m2, a2[:, :, None], out=w)
        models += w
        np.maximum(models, fl[:, :, None], out=models)
        level = np.maximum(b0, fl)  # the model before the changepoint
        if p == FINE_PASSES - 1:
            break
        np.multiply(models, models, out=w)
        np.divide(ok[:, None, :], w, out=w)
        np.multiply(m1, w, out=m1w)
        np.multiply(m2, w, out=m2w)
        sums = (_dot(w, np.ones_like(y)), _dot(w, y), _dot(w, y2), _dot(m1w, ok), _dot(m2w, ok))
        inv2 = 1.0 / level**2
        sw_p, swy_p, swyy_p = n_p * inv2, y_p * inv2, yy_p * inv2
    np.log(models, out=w)
    np.divide(1.0, models, out=m1w)
    nll = _dot(w, ok) + _dot(m1w, y * ok) + n_p * np.log(level) + y_p / level
    nll[~valid] = np.inf
    return FineFit(nll, models, level)


def rows_from(a: np.ndarray, rows: np.ndarray, start: np.ndarray, width: int) -> np.ndarray:
    """``a[rows[i], min(start[i] + j, a.shape[1] - 1)]`` for ``j < width``: ``(g, width)``, each
    row's stretch from its own start (the last column repeated past the end). One row that
    fits is a slice (a view), not a gather: the same values without the cost of an index."""
    if rows.size == 1 and 0 <= start[0] and start[0] + width <= a.shape[1]:
        i, s = int(rows[0]), int(start[0])
        return a[i : i + 1, s : s + width]
    cols = np.minimum(start[:, None] + np.arange(width)[None, :], a.shape[1] - 1)
    return a[rows[:, None], cols]


def _dot(a: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``sum_b a[k, c, b] v[k, b]`` ``(k, C)``: a matrix-vector product per window."""
    return (a @ v[:, :, None])[:, :, 0]
