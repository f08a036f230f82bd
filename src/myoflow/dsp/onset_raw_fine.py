"""The fine fit and the onset posterior of the ``changepoint`` onset (:mod:`myoflow.dsp.onset_raw`).

Candidates ``c`` every :data:`CAND_SPACING_S` within ``likelihood_span_s`` of the coarse best,
each scored by the Gamma likelihood of the fine block powers (:func:`fine_nll`), tempered by the
residuals' autocorrelation; the onset is the mean of ``c`` under that likelihood, its
uncertainty the SD. Many windows at once (rows), in chunks of similar length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from myoflow.dsp.onset_raw_fit import FineFit, fine_nll, rows_from

#: Spacing (s) of the fine fit's candidates, at least one fine block (measured: 4 ms scores as
#: every 2 ms block on the benchmark's ramps, within 0.2 ms, at half the cost).
CAND_SPACING_S = 0.004
#: Lags (s) over which the fine blocks' residual autocorrelation tempers the likelihood.
ACF_SPAN_S = 0.02
#: Elements of each candidate x block array of one chunk of windows.
BUDGET = 150_000


@dataclass(frozen=True)
class FineInput:
    """What the fine fit of ``k`` windows reads: fine block powers ``y`` ``(k, nf)`` (0 where
    not ``ok``), weights ``w0`` from the coarse fit's best model, the coarse ``which`` rise per
    coarse block ``(k, n)``, the window's coarse blocks ``end`` ``(k,)``, the least model power
    ``floor`` ``(k,)``; the candidates from fine block ``c0`` on (``ncand`` of them, ``every``
    blocks apart), the likelihood from block ``sub`` on; ``bank`` the fine templates
    ``(rises, 2, m)``, ``r`` fine blocks per coarse block, ``fr`` the fine block rate (Hz) and
    the uncertainty's scale."""

    y: np.ndarray
    ok: np.ndarray
    w0: np.ndarray
    which: np.ndarray
    end: np.ndarray
    floor: np.ndarray
    c0: np.ndarray
    ncand: np.ndarray
    sub: np.ndarray
    bank: np.ndarray
    every: int
    r: int
    fr: float
    scale: float


def fine_onsets(f: FineInput) -> tuple[np.ndarray, np.ndarray]:
    """Onsets (fine blocks after each window's start) and uncertainties (s) ``(k,)``; NaN
    uncertainty where a window has fewer than 3 candidates."""
    k = f.y.shape[0]
    onset, unc = np.zeros(k), np.full(k, np.nan)
    rows = np.flatnonzero(f.ncand >= 3)
    nb = f.end * f.r - f.c0  # blocks from the first candidate on
    pre = _pre_sums(f)
    order = rows if rows.size < 2 else rows[np.argsort(nb[rows], kind="stable")]
    cm = int(f.ncand.max()) if k else 0
    i = 0
    while i < order.size:
        j = i + 1
        while j < order.size and (j - i + 1) * cm * int(nb[order[j]]) <= BUDGET:
            j += 1
        ch = order[i:j]
        onset[ch], unc[ch] = _chunk(f, ch, pre[ch])
        i = j
    return onset, unc


def _pre_sums(f: FineInput) -> np.ndarray:
    """``(k, 6)`` sums over the fine blocks ``[sub, c0)`` of each row (rest for every candidate):
    finite blocks, ``y``, ``y^2``, ``w0``, ``w0 y``, ``w0 y^2``."""
    top = int(f.c0.max()) if f.c0.size else 0
    y, w0 = f.y[:, :top], f.w0[:, :top]
    cols = np.arange(top)[None, :]
    inside = (cols >= f.sub[:, None]) & (cols < f.c0[:, None])
    parts = np.empty((y.shape[0], 6, top))
    parts[:, 0], parts[:, 1], parts[:, 3] = f.ok[:, :top], y, w0
    np.multiply(y, y, out=parts[:, 2])
    np.multiply(w0, y, out=parts[:, 4])
    np.multiply(w0, parts[:, 2], out=parts[:, 5])
    parts *= inside[:, None, :]  # each sum along its own contiguous row, as one sum per part
    return parts.sum(axis=2)


def _chunk(f: FineInput, ch: np.ndarray, pre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`fine_onsets` of the windows ``ch``."""
    g, r, every = ch.size, f.r, f.every
    c0, end, ncand = f.c0[ch], f.end[ch], f.ncand[ch]
    nb = end * r - c0
    bm, cm = int(nb.max()), int(ncand.max())
    y, ok, w0 = (rows_from(v, ch, c0, bm) for v in (f.y, f.ok, f.w0))
    if g > 1:  # rows shorter than the longest: zeros past their end
        valid = np.arange(bm)[None, :] < nb[:, None]
        y, ok, w0 = np.where(valid, y, 0.0), valid & ok, np.where(valid, w0, 0.0)
    ok = ok.astype(np.float64)
    lag = every * np.arange(cm)  # each candidate's first block after the first candidate
    coarse = np.minimum((c0[:, None] + lag[None, :]) // r, end[:, None] - 1)
    rise = f.which[ch[:, None], coarse]  # (g, cm)
    pad = every * (cm - 1)
    tp = np.zeros(f.bank.shape[:2] + (pad + bm,))
    tp[:, :, pad:] = f.bank[:, :, :bm]
    st = tp.strides  # (rises, 2, pad + 1, bm): every bm-block window of tp's last axis
    view = np.lib.stride_tricks.as_strided(tp, tp.shape[:2] + (pad + 1, bm), st + st[2:], writeable=False)
    off = (pad - lag)[None, :]
    fit = fine_nll(
        view[rise, 0, off],
        view[rise, 1, off],
        np.arange(cm)[None, :] < ncand[:, None],
        y,
        ok,
        w0,
        pre,
        f.floor[ch],
    )
    nll = fit.nll
    k = np.argmin(nll, axis=1)
    temper = _temper(f, ch, fit, k, nb)
    dll = temper[:, None] * (nll - nll[np.arange(g), k][:, None])
    # the posterior mean of c (flat prior over the candidates) rather than the likelihood's
    # maximum: on a slow rise the likelihood is skewed (the first tens of ms of a ramp are buried
    # in the rest noise) and its maximum lies late
    post = np.exp(-dll)
    cands = c0[:, None] + lag[None, :]
    tot = post.sum(axis=1)
    c = (post * cands).sum(axis=1) / tot
    # its spread: the posterior SD (at least half a fine block)
    sd = np.sqrt((post * (cands - c[:, None]) ** 2).sum(axis=1) / tot)
    return c, np.maximum(sd, 0.5) / f.fr * f.scale


def _temper(f: FineInput, ch: np.ndarray, fit: FineFit, k: np.ndarray, nb: np.ndarray) -> np.ndarray:
    """``(g,)`` the factor from log-likelihood differences to the posterior's: the Gamma shape
    of the best candidate ``k``'s residuals over the whole fine window, divided by
    ``1 + 2 sum(acf)`` of those residuals (neighbouring blocks of band-limited EMG are not
    independent: the independent-block likelihood counts each piece of information about that
    many times)."""
    g = ch.size
    rows = np.arange(g)
    models, level = fit.models[rows, k], fit.level[rows, k]
    q = f.c0[ch] - f.sub[ch]
    lw = q + nb
    top = int(lw.max())
    jw = np.arange(top)[None, :]
    okw = rows_from(f.ok, ch, f.sub[ch], top)
    if g == 1:  # the level up to the first candidate, then the best candidate's model
        model = np.concatenate((np.full((1, int(q[0])), level[0]), models[:, : top - int(q[0])]), axis=1)
    else:  # rows shorter than the longest: nothing past their end
        okw = okw & (jw < lw[:, None])
        model = np.where(
            jw < q[:, None],
            level[:, None],
            models[rows[:, None], np.minimum(np.maximum(jw - q[:, None], 0), models.shape[1] - 1)],
        )
    resid = np.where(okw, rows_from(f.y, ch, f.sub[ch], top) / model - 1.0, 0.0)
    finite = okw.sum(axis=1)
    if (finite != lw).any():  # lost blocks (okw lies inside jw < lw): the finite ones, in order
        order = np.argsort(~okw, axis=1, kind="stable")
        resid, okw = resid[rows[:, None], order], okw[rows[:, None], order]
    nv = np.maximum(finite, 1)
    dev = np.where(okw, resid - (resid.sum(axis=1) / nv)[:, None], 0.0)
    ss = np.einsum("ij,ij->i", dev, dev)
    shape = 1.0 / np.maximum(ss / nv, 1e-12)  # Gamma shape: the blocks' effective dof / 2
    # sum over lags 1..nlag of sum_i dev[i + j] dev[i]: every lag in one matrix product (rows of
    # dev shifted by each lag, zeros past the end)
    nlag, width = max(1, int(round(ACF_SPAN_S * f.fr))), dev.shape[1]
    padded = np.zeros((g, width + nlag))
    padded[:, :width] = dev
    st = padded.strides
    lagged = np.lib.stride_tricks.as_strided(padded[:, 1:], (g, nlag, width), (st[0], st[1], st[1]))
    acf = (lagged @ dev[:, :, None]).sum(axis=(1, 2)) / np.maximum(ss, 1e-300)
    return shape / np.maximum(1.0, 1.0 + 2.0 * acf)
