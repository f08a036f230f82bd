"""Research prototype (issue 12): a cheap amplitude-changepoint onset refinement.

Not part of myoflow: ``proto_onset_fast.py`` measures it against the ``changepoint`` method
(:mod:`myoflow.dsp.onset_raw`) and documents why it did not replace it. Same question - where
did the EMG leave rest? - with far fewer operations per onset:

* **amplitude blocks** (:func:`fir_amplitude`): the raw samples around each detection through a
  sparse causal FIR ``(1 - mean(z^-P .. z^-mP)) (1 - z^-L)``: ``P`` a whole number of mains
  periods (zeros at DC and at every mains harmonic), ``L`` ~2 ms (a broad band-pass peaking near
  ``fs / 2L``); three to six additions per sample, no settling: a buffer holding the window and
  ``mP + L`` samples of history gives the same numbers as the whole recording. The block
  amplitude is the root mean square over ``block_s``. :func:`refine_from_blocks` takes any
  whole-recording block amplitudes instead (measured: the zero-phase envelope's, see
  ``proto_onset_fast.py``);
* **window**: ``pre_s`` before the detection (not before ``earliest``) to where the power, lightly
  smoothed (``cross_smooth_s``), first reaches ``rise_frac`` of the way from its resting minimum
  to its maximum within ``post_s`` after the detection (smoothed over ``peak_smooth_s``);
* **model**: amplitude ``b0`` before block ``c``, ``b0 + a1 r + a2 r^2`` after it (``r`` the time
  since ``c``; ``a1, a2 >= 0``): a hinge, continuous at ``c``, fitted by weighted least squares
  (weights ``1 / v^2``: an amplitude's SD is proportional to its mean). Every candidate ``c`` at
  once from suffix sums of ``w t^m`` (m <= 4) and ``w y t^m`` (m <= 2), O(1) per candidate: first
  every ``stride`` blocks with weights from the smoothed amplitude, then twice every block within
  ``span_s`` of the best, with weights from the best model. On block *power* instead (the
  changepoint method's scale) least squares fails at 200 Hz: chi-square blocks of 1-2 degrees of
  freedom, single huge blocks dominate (ramps and plateaus fitted 20-30 ms late);
* **onset**: the posterior mean of ``c`` (flat prior; Gaussian likelihood tempered by the
  residuals' variance and autocorrelation), its uncertainty the posterior SD. At ``fs >=
  kappa_min_rate_hz`` the onset moves back by ``kappa * b0 / slope`` (``slope`` the fitted rise's
  mean slope): a ramp's amplitude over a noise floor is a hyperbola ``sqrt(N^2 + (A u)^2)``, so a
  hinge fitted over the rise meets the rest level about ``N / A`` late (measured +8..+12 ms on
  ramps at 1-2 kHz without it).

All of a channel's detections at once (rows of 2-D arrays, in chunks sorted by fit length);
each row depends only on its own window.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from myoflow.dsp.onset_raw_fit import _nnls2  # the two-term non-negative least squares

#: Block times are divided by this in the polynomial sums (keeps their powers near 1).
TSCALE = 100.0
#: Windows fitted together (sorted by fit length, each chunk trimmed to its longest).
CHUNK = 64
#: Windows filtered together (rows that stay in the caches).
FIR_ROWS = 32


@dataclass(frozen=True)
class FastParams:
    """Parameters of :func:`refine_fast` (module docstring); times in s, rates in Hz."""

    pre_s: float = 1.0
    post_s: float = 1.0
    block_s: float = 0.004
    smooth_s: float = 0.1
    peak_smooth_s: float = 0.1
    cross_smooth_s: float = 0.02
    base_smooth_s: float = 0.1
    rise_frac: float = 0.9
    min_rest_s: float = 0.1
    span_s: float = 0.1
    stride: int = 4
    acf_s: float = 0.02
    comb_m: int = 4
    diff_s: float = 0.002
    kappa: float = 0.1
    kappa_max_s: float = 0.1
    kappa_min_rate_hz: float = 900.0


def fir_spec(fs: float, mains_hz: float | None, diff_s: float = 0.002) -> tuple[int, int]:
    """``(P, L)``: the comb's delay (a whole number of mains periods in samples; 0 without
    mains) and the difference's lag (samples) at ``fs`` Hz."""
    lag = max(1, int(round(fs * diff_s)))
    if not mains_hz:
        return 0, lag
    per = fs / mains_hz
    for m in range(1, 6):
        if abs(per * m - round(per * m)) < 1e-6:
            return int(round(per * m)), lag
    return int(round(per)), lag


def fir_amplitude(
    raw: np.ndarray, starts: np.ndarray, n_blocks: int, blk: int, p: int, lag: int, m: int
) -> np.ndarray:
    """``(k, n_blocks)`` block amplitudes (RMS of the FIR output over ``blk`` samples) of the
    windows of ``raw`` ``(n,)`` starting at samples ``starts`` ``(k,)``; NaN where a sample is
    lost or outside ``raw``."""
    hist = m * p + lag
    out = np.empty((starts.size, n_blocks))
    for i in range(0, starts.size, FIR_ROWS):
        out[i : i + FIR_ROWS] = _fir_rows(raw, starts[i : i + FIR_ROWS] - hist, n_blocks, blk, p, lag, m)
    return out


def _fir_rows(
    raw: np.ndarray, a0: np.ndarray, n_blocks: int, blk: int, p: int, lag: int, m: int
) -> np.ndarray:
    """:func:`fir_amplitude` of a few windows whose history starts at samples ``a0``."""
    n = raw.size
    width = n_blocks * blk
    full = width + m * p + lag
    if a0.min() >= 0 and a0.max() + full <= n:
        seg = np.lib.stride_tricks.sliding_window_view(raw, full)[a0].astype(np.float32)
    else:
        pos = a0[:, None] + np.arange(full)[None, :]
        seg = raw[np.clip(pos, 0, n - 1)].astype(np.float32)
        seg[(pos < 0) | (pos >= n)] = np.nan
    z = seg
    if p:
        z = seg[:, m * p :].copy()
        acc = seg[:, (m - 1) * p : full - p].copy()
        for i in range(2, m + 1):
            acc += seg[:, (m - i) * p : full - i * p]
        acc *= np.float32(1.0 / m)
        z -= acc
    y = z[:, lag:] - z[:, :-lag]
    y *= y
    out = y[:, :width:blk].astype(np.float64)
    for i in range(1, blk):
        out += y[:, i:width:blk]
    out *= 1.0 / blk
    return np.sqrt(out, out=out)


def refine_fast(
    raw: np.ndarray,
    fs: float,
    det: np.ndarray,
    earliest: np.ndarray,
    mains_hz: float | None,
    params: FastParams | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Refined onsets (fractional samples into ``raw`` ``(n,)``) and uncertainties (s) of the
    detections ``det`` ``(k,)`` (samples), none before ``earliest`` ``(k,)``; ``(det, NaN)``
    where no fit. ``mains_hz`` sets the comb (None: no comb)."""
    q = params or FastParams()
    if fs < q.kappa_min_rate_hz:
        q = replace(q, kappa=0.0)
    raw = np.asarray(raw).reshape(-1)
    det = np.asarray(det, dtype=np.int64).reshape(-1)
    ear = np.maximum(np.asarray(earliest, dtype=np.int64).reshape(-1), 0)
    if not det.size:
        return det.astype(np.float64), np.zeros(0)
    p, lag = fir_spec(fs, mains_hz, q.diff_s)
    blk = max(1, int(round(fs * q.block_s)))
    pre_b, post_b = int(round(q.pre_s * fs / blk)), int(round(q.post_s * fs / blk))
    starts = det - pre_b * blk
    amp = fir_amplitude(raw, starts, pre_b + post_b, blk, p, lag, q.comb_m)
    # the first block whose FIR history does not reach before `earliest`
    lo_b = np.ceil((ear + q.comb_m * p + lag - starts) / blk).astype(np.int64)
    cb, sd = fit_onsets(amp, lo_b, pre_b, blk / fs, q)
    bad = ~np.isfinite(sd)
    return np.where(bad, det, starts + cb * blk), np.where(bad, np.nan, sd * blk / fs)


def refine_from_blocks(
    amp: np.ndarray,
    factor: int,
    fs: float,
    det: np.ndarray,
    earliest: np.ndarray,
    params: FastParams | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`refine_fast` from a whole recording's block amplitudes ``amp`` ``(n_blocks,)``
    (block ``i``: samples ``i * factor`` to ``(i + 1) * factor``; NaN where lost)."""
    q = params or FastParams()
    if fs < q.kappa_min_rate_hz:
        q = replace(q, kappa=0.0)
    det = np.asarray(det, dtype=np.int64).reshape(-1)
    ear = np.maximum(np.asarray(earliest, dtype=np.int64).reshape(-1), 0)
    bsec = factor / fs
    pre_b, post_b = int(round(q.pre_s / bsec)), int(round(q.post_s / bsec))
    first = det // factor - pre_b
    pos = first[:, None] + np.arange(pre_b + post_b)[None, :]
    inside = (pos >= 0) & (pos < amp.size)
    win = np.where(inside, amp[np.clip(pos, 0, amp.size - 1)], np.nan).astype(np.float64)
    cb, sd = fit_onsets(win, -(-ear // factor) - first, pre_b, bsec, q)
    bad = ~np.isfinite(sd)
    return np.where(bad, det, (first + cb) * factor), np.where(bad, np.nan, sd * bsec)


def _movmean(cs: np.ndarray, cn: np.ndarray, width: int) -> np.ndarray:
    """Centred moving mean over ``width`` blocks (clipped to the window) from the running sums
    ``cs`` of the values and ``cn`` of the counts, both ``(k, n + 1)``."""
    n = cs.shape[1] - 1
    lo, hi = width // 2, (width - 1) // 2 + 1

    def span(c: np.ndarray) -> np.ndarray:
        pad = np.concatenate([np.repeat(c[:, :1], lo, axis=1), c, np.repeat(c[:, -1:], hi, axis=1)], axis=1)
        return pad[:, lo + hi : lo + hi + n] - pad[:, :n]

    return span(cs) / np.maximum(span(cn), 1.0)


def _products(w: np.ndarray, y: np.ndarray, tc: np.ndarray) -> np.ndarray:
    """``(8, k, n)``: ``w tc^m`` (m = 0..4) and ``w y tc^m`` (m = 0..2)."""
    v = np.empty((8,) + w.shape)
    v[0] = w
    for m in range(1, 5):
        np.multiply(v[m - 1], tc, out=v[m])
    np.multiply(w, y, out=v[5])
    np.multiply(v[5], tc, out=v[6])
    np.multiply(v[6], tc, out=v[7])
    return v


def _suffix(v: np.ndarray) -> np.ndarray:
    """Sums from each column to the last, along the last axis."""
    return np.cumsum(v[..., ::-1], axis=-1)[..., ::-1]


def _fit_at(sums: np.ndarray, cols: np.ndarray, c: np.ndarray, total: tuple) -> tuple:
    """The hinge fit ``(b0, a1, a2, sse)`` with the changepoint at time ``c`` ``(k, C)`` (block
    units / :data:`TSCALE`), from the suffix sums ``(8, k, n)`` at columns ``cols`` ``(k, C)``
    and the window totals ``(sum w, sum w y, sum w y^2)``."""
    g = np.take_along_axis(sums, np.broadcast_to(cols[None], (8,) + cols.shape), axis=2)
    a0, a1, a2, a3, a4, b0, b1, b2 = g
    c2 = c * c
    t1 = a1 - c * a0
    t2 = a2 - 2 * c * a1 + c2 * a0
    t3 = a3 - 3 * c * a2 + 3 * c2 * a1 - c2 * c * a0
    t4 = a4 - 4 * c * a3 + 6 * c2 * a2 - 4 * c2 * c * a1 + c2 * c2 * a0
    u1 = b1 - c * b0
    u2 = b2 - 2 * c * b1 + c2 * b0
    with np.errstate(invalid="ignore", divide="ignore"):  # windows without blocks: no fit
        return _nnls2(*total, t1, t2, t2, t4, t3, u1, u2)


def fit_onsets(
    amp: np.ndarray, lo_b: np.ndarray, pre_b: int, bsec: float, q: FastParams
) -> tuple[np.ndarray, np.ndarray]:
    """Onsets (blocks from each window's start, fractional) and their posterior SD (blocks;
    NaN where no fit) of block amplitudes ``amp`` ``(k, n)`` (``bsec`` s each): the detection
    at block ``pre_b``, no block before ``lo_b`` ``(k,)`` used."""
    k, n = amp.shape
    lo_b = np.clip(lo_b, 0, max(pre_b - 8, 0))
    cols = np.arange(n)[None, :]
    ok = np.isfinite(amp) & (cols >= lo_b[:, None])
    y = np.where(ok, amp, 0.0)
    pw = y * y
    cs, cn = np.zeros((k, n + 1)), np.zeros((k, n + 1))
    np.cumsum(pw, axis=1, out=cs[:, 1:])
    np.cumsum(ok, axis=1, out=cn[:, 1:])

    def width(s: float) -> int:
        return max(1, int(round(s / bsec)))

    base = _movmean(cs, cn, width(q.base_smooth_s))
    base = np.where((cols < pre_b) & (cols >= lo_b[:, None] + 5), base, np.inf).min(axis=1)
    peak = np.where(cols >= pre_b, _movmean(cs, cn, width(q.peak_smooth_s)), -np.inf).max(axis=1)
    top = base + q.rise_frac * (peak - base)
    cross = _movmean(cs, cn, width(q.cross_smooth_s))
    end = np.maximum(np.argmax((cols >= pre_b) & (cross >= top[:, None]), axis=1) + 1, pre_b + 3)
    floor = np.sqrt(np.maximum(1e-3 * peak, 0.2 * base))
    order = np.argsort(end, kind="stable")
    cb, sd = np.zeros(k), np.full(k, np.nan)
    reach = width(q.smooth_s) // 2 + 1
    for i in range(0, k, CHUNK):
        ch = order[i : i + CHUNK]
        m = int(end[ch].max())
        top_col = min(n, m + reach) + 1
        v = np.sqrt(_movmean(cs[ch, :top_col], cn[ch, :top_col], width(q.smooth_s))[:, :m])
        cb[ch], sd[ch] = _fit_chunk(y[ch, :m], ok[ch, :m], v, floor[ch], end[ch], lo_b[ch], pre_b, width, q)
    return cb, sd


def _fit_chunk(y, ok, v, floor, end, lo_b, pre_b, width, q: FastParams) -> tuple[np.ndarray, np.ndarray]:
    """:func:`fit_onsets` of one chunk of windows (``y`` ``(g, m)`` trimmed to their longest)."""
    k, n = y.shape
    cols = np.arange(n)[None, :]
    inside = ok & (cols < end[:, None])
    w_in = inside.astype(np.float64)
    floor = floor[:, None]
    v = np.maximum(v, floor)
    t = (cols - pre_b) / TSCALE
    tc = t + 0.5 / TSCALE  # block centres
    rows = np.arange(k)[:, None]
    c_lo, c_hi = lo_b + width(q.min_rest_s), end - 3

    def totals(w: np.ndarray) -> tuple:
        wy = w * y
        return (w.sum(axis=1)[:, None], wy.sum(axis=1)[:, None], (wy * y).sum(axis=1)[:, None])

    # pass 1: every stride-th candidate (sums per group of blocks), weights from the smoothed
    # amplitude
    w = w_in / (v * v)
    groups = np.arange(0, n, max(1, q.stride))
    prod = _products(w, y, tc)
    sums = _suffix(np.add.reduceat(prod, groups, axis=2) if q.stride > 1 else prod)
    cand = np.broadcast_to(groups[None, :], (k, groups.size))
    valid = (cand >= c_lo[:, None]) & (cand <= c_hi[:, None])
    fit = _fit_at(sums, np.broadcast_to(np.arange(groups.size)[None, :], cand.shape), t[0, cand], totals(w))
    pick = np.argmin(np.where(valid, fit[3], np.inf), axis=1)
    best, coef = cand[rows[:, 0], pick], [f[rows[:, 0], pick] for f in fit[:3]]
    half = width(q.span_s)
    band = np.arange(-half, half + 1)[None, :]
    for it in range(2):
        # weights from the best model; every candidate within span_s of the best, from suffix
        # sums over the blocks from the band's start on
        b0, a1, a2 = coef
        r = np.maximum(t - t[0, best][:, None], 0.0)
        mu = np.maximum(b0[:, None] + a1[:, None] * r + a2[:, None] * r * r, floor)
        w = w_in / (mu * mu)
        first = np.maximum(best - half, 0)
        span_n = int((end - first).max())
        idx = first[:, None] + np.arange(span_n)[None, :]
        inb = idx < n
        idx = np.minimum(idx, n - 1)
        sums = _suffix(_products(np.where(inb, w[rows, idx], 0.0), y[rows, idx], tc[0, idx]))
        cand = best[:, None] + band
        valid = (cand >= c_lo[:, None]) & (cand <= c_hi[:, None]) & (cand >= 0)
        at = np.clip(cand - first[:, None], 0, span_n - 1)
        fit = _fit_at(sums, at, t[0, np.clip(cand, 0, n - 1)], totals(w))
        sse = np.where(valid, fit[3], np.inf)
        pick = np.argmin(sse, axis=1)
        if it == 0:
            best, coef = cand[rows[:, 0], pick], [f[rows[:, 0], pick] for f in fit[:3]]
    # tempering: the residuals' precision, divided by 1 + 2 sum(acf) over acf_s
    res = np.where(inside, y / mu - 1.0, 0.0)
    n_in = np.maximum(inside.sum(axis=1), 1)
    res = np.where(inside, res - (res.sum(axis=1) / n_in)[:, None], 0.0)
    ss = np.maximum(np.einsum("ij,ij->i", res, res), 1e-12)
    acf = sum(np.einsum("ij,ij->i", res[:, j:], res[:, :-j]) for j in range(1, width(q.acf_s) + 1)) / ss
    temper = (n_in / ss) / np.maximum(1.0, 1.0 + 2.0 * acf)
    low = sse.min(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", over="ignore"):
        post = np.where(valid, np.exp(-0.5 * temper[:, None] * (sse - low)), 0.0)
    tot = post.sum(axis=1)
    good = (tot > 0) & (c_hi - c_lo >= 2) & np.isfinite(low[:, 0])
    tot = np.where(good, tot, 1.0)
    cb = (post * cand).sum(axis=1) / tot
    sd = np.sqrt((post * (cand - cb[:, None]) ** 2).sum(axis=1) / tot)
    if q.kappa:  # the hyperbola's lag: kappa * rest amplitude / mean slope of the fitted rise
        b0, a1, a2 = (f[rows[:, 0], pick] for f in fit[:3])
        slope = np.maximum(a1 + a2 * np.maximum((end - cand[rows[:, 0], pick]) / TSCALE, 1e-9), 1e-300)
        cb = cb - np.minimum(q.kappa * np.maximum(b0, 0.0) / slope * TSCALE, width(q.kappa_max_s))
    return cb, np.where(good, np.maximum(sd, 0.5), np.nan)
