"""The fit windows of the ``changepoint`` onset (:mod:`myoflow.dsp.onset_raw`), many at once.

For each detection: the raw samples from ``settle`` before the window's start ``lo`` go through
the causal refinement filter (at rest on their first finite sample: no step from a DC offset) and
become fine power blocks from ``lo`` on; the block power smoothed over ``peak_smooth_s`` gives the
resting level before the detection and the burst's first local peak after it
(:func:`myoflow.dsp.onset_refine.first_peaks`), and the fit window ends where that smoothed
power first reaches ``rise_frac`` of the way from the one to the other.

The filter runs only as far as that needs: every window first to the first of :data:`REACH_S`
after its detection, further (in the end to ``peak_window_s``) only where the first peak is not
settled by then. The filter carries its state over, so the numbers are those of filtering every
window to its end. Windows of similar look-back are filtered together (rows of one 2-D pass).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import sosfilt, sosfilt_zi

from myoflow.dsp.onset_raw_fit import rows_from
from myoflow.dsp.onset_refine import first_peaks  # one rule for the first local peak of a rise

#: The filter first runs to the first of these times (s) after each detection (the burst's first
#: peak usually lies within it), windows whose first peak is not settled by then to the next, and
#: so on, the last to their end.
REACH_S = (0.6, 1.2)
#: Fewer windows than this in a group are filtered to their end in one pass.
STAGED_MIN = 8
#: Windows filtered together (rows of one 2-D filter pass), sorted by their look-back.
GROUP = 64


@dataclass(frozen=True)
class Windows:
    """The fit windows of ``k`` detections. ``fine`` ``(k, nf)``: fine block powers (``step_f``
    samples, NaN where lost) from ``lo`` on; ``power`` / ``ok`` / ``smooth`` ``(k, nc)``: coarse
    block powers (``step`` samples; 0 where lost or past what was filtered), where they are
    finite, and their moving mean over ``smooth_s``; ``end`` ``(k,)``: the fit window's coarse
    blocks (0: too short or too sparse to fit); ``base`` ``(k,)``: the smoothed resting power."""

    fine: np.ndarray
    power: np.ndarray
    ok: np.ndarray
    smooth: np.ndarray
    end: np.ndarray
    base: np.ndarray


@dataclass(frozen=True)
class _Spec:
    """What every window shares: filter, settling (samples), block lengths (samples), moving
    means (coarse blocks: weights, peak search), ``rise_frac`` and the rate (Hz)."""

    sos: np.ndarray
    settle: int
    step: int
    step_f: int
    widths: tuple[int, int]
    rise_frac: float
    fs: float


def fit_windows(
    raw: np.ndarray,
    lo: np.ndarray,
    det: np.ndarray,
    hi: np.ndarray,
    sos: np.ndarray,
    settle: int,
    steps: tuple[int, int],
    widths: tuple[int, int],
    rise_frac: float,
    fs: float,
) -> Windows:
    """The :class:`Windows` of detections ``det`` ``(k,)`` with windows ``[lo, hi)`` of ``raw``
    ``(n,)`` (samples): filter ``sos`` started ``settle`` samples before ``lo``; ``steps``: the
    coarse and fine block lengths (samples); ``widths``: the moving means (coarse blocks) of the
    weights (``smooth_s``) and of the peak search (``peak_smooth_s``); ``fs`` (Hz)."""
    spec = _Spec(sos, settle, steps[0], steps[1], widths, rise_frac, fs)
    k = det.size
    nb = (hi - lo) // spec.step
    nc = int(nb.max()) if k else 0
    r = spec.step // spec.step_f
    out = Windows(
        np.full((k, nc * r), np.nan),
        np.zeros((k, nc)),
        np.zeros((k, nc), dtype=bool),
        np.zeros((k, nc)),
        np.zeros(k, dtype=np.int64),
        np.zeros(k),
    )
    order = np.arange(k) if k < 2 else np.argsort(det - lo, kind="stable")
    for g in range(0, k, GROUP):
        _group(raw, order[g : g + GROUP], lo, det, hi, nb, spec, out)
    return out


def _group(
    raw: np.ndarray,
    rows: np.ndarray,
    lo: np.ndarray,
    det: np.ndarray,
    hi: np.ndarray,
    nb: np.ndarray,
    spec: _Spec,
    out: Windows,
) -> None:
    """:func:`fit_windows` of the windows ``rows``: filtered to each reach of :data:`REACH_S`
    after the detection in turn (then to the window's end), as long as their first peak is not
    settled; written into ``out``."""
    start = lo[rows] - spec.settle  # the filter's start (before the data: held at rest there)
    full = hi[rows] - start
    left = np.arange(rows.size)  # windows not settled yet
    y, zf, first, done_w = np.zeros((rows.size, 0)), None, None, 0
    # a few windows: each extra pass costs more calls than the samples it saves
    for reach in (*(REACH_S if rows.size >= STAGED_MIN else ()), None):
        ahead = int(full[left].max())
        if reach is not None:
            ahead = min(ahead, int((det[rows[left]] - start[left]).max()) + int(reach * spec.fs))
        if ahead <= done_w:
            continue
        a = start[left] + done_w
        seg, lost, first_now = _inputs(
            raw, a, np.minimum(start[left] + ahead, hi[rows[left]]), ahead - done_w, hi[rows[left]], first
        )
        zi = _zi(spec.sos)[:, None, :] * first_now[None, :, None] if zf is None else zf
        y_now, zf = sosfilt(spec.sos, seg, axis=1, zi=zi)
        y_now[lost] = np.nan
        y = np.concatenate([y, y_now], axis=1) if done_w else y_now
        done_w, first = ahead, first_now
        settled = _scan(y, rows[left], lo, det, nb, spec, out, complete=full[left] <= ahead)
        keep = np.flatnonzero(~settled)
        if not keep.size:
            return
        left, y, zf, first = left[keep], y[keep], zf[:, keep], first[keep]


def _inputs(
    raw: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    width: int,
    hi: np.ndarray,
    first: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(seg, lost, first)``: row ``j`` of ``seg`` ``(g, width)`` holds ``raw[start[j] + t]``
    for ``t < stop[j] - start[j]``; lost samples (``lost``) and samples before the data are
    ``first[j]`` (default: the first finite sample up to ``hi[j]``), after ``stop`` 0."""
    seg = np.zeros((start.size, width))
    lost = np.zeros((start.size, width), dtype=bool)
    own = first is None
    first = np.zeros(start.size) if first is None else first
    for j, (a, b) in enumerate(zip(start.tolist(), stop.tolist(), strict=True)):
        row = np.asarray(raw[max(a, 0) : b], dtype=np.float64)
        at = max(a, 0) - a
        seg[j, at : at + row.size] = row
        if own:
            if row.size and np.isfinite(row[0]):
                first[j] = row[0]
            else:  # the first finite sample of the window
                rest = np.asarray(raw[max(a, 0) : hi[j]], dtype=np.float64)
                good = np.flatnonzero(np.isfinite(rest))
                first[j] = rest[good[0]] if good.size else 0.0
            seg[j, :at] = first[j]
    bad = ~np.isfinite(seg)
    if bad.any():
        lost[:] = bad
        seg[bad] = np.broadcast_to(first[:, None], seg.shape)[bad]
    return seg, lost, first


def _scan(
    y: np.ndarray,
    rows: np.ndarray,
    lo: np.ndarray,
    det: np.ndarray,
    nb: np.ndarray,
    spec: _Spec,
    out: Windows,
    complete: np.ndarray,
) -> np.ndarray:
    """Block powers, resting level, first peak and fit window of the filtered windows ``y``
    (rows ``rows``; ``complete``: filtered to their end); writes the windows that are settled
    into ``out`` and returns which are."""
    r = spec.step // spec.step_f
    nbr = nb[rows]
    nf = (y.shape[1] - spec.settle) // spec.step_f
    sq = y[:, spec.settle : spec.settle + nf * spec.step_f]
    fine = _block_means(sq * sq, spec.step_f)
    ncol = min(nf // r, int(nbr.max()))
    avail = np.where(complete, nbr, np.minimum(nbr, nf // r))  # coarse blocks filtered
    power = _block_means(fine[:, : ncol * r], r)
    cols = np.arange(ncol)[None, :]
    ok = np.isfinite(power) & (cols < avail[:, None])
    power = np.where(ok, power, 0.0)
    smooth, slow = moving_means(power, ok, spec.widths)
    det_b = np.minimum(nbr - 1, (det[rows] - lo[rows]) // spec.step)
    rows_ = np.arange(rows.size)
    base = np.where(cols <= det_b[:, None], slow, np.inf).min(axis=1)
    # the smoothed power from the detection on: slow[det_b:nb]
    size = nbr - det_b
    span = np.arange(int(size.max()))[None, :]
    after = rows_from(slow, rows_, det_b, span.shape[1])
    half = (spec.widths[1] - 1) // 2  # blocks after a smoothed value that it depends on
    known = np.where(complete, size - 1, avail - 1 - half - det_b)
    peak, settled = first_peaks(after, size, known)
    top = base + spec.rise_frac * (after[rows_, peak] - base)
    reach = np.argmax((after >= top[:, None]) & (span <= peak[:, None]), axis=1)
    end = np.maximum(det_b + reach + 1, det_b + 3)
    n_ok = ok.sum(axis=1)
    # settled: the first peak, the resting level, the weights and the block count are final
    need = np.maximum(det_b, end - 1) + max(half, (spec.widths[0] - 1) // 2)
    settled &= complete | ((need < avail) & (n_ok >= 8))
    in_fit = (ok & (cols < end[:, None])).sum(axis=1)  # finite blocks in the fit window
    fit = settled & (n_ok >= 8) & (end >= 8) & (in_fit >= 8)
    got = np.flatnonzero(settled)
    m = min(ncol, out.power.shape[1])
    # one window: plain (not fancy) indexing, the same copies
    at: int | np.ndarray = int(rows[got[0]]) if got.size == 1 else rows[got]
    s: int | np.ndarray = int(got[0]) if got.size == 1 else got
    out.fine[at, : m * r] = fine[s, : m * r]
    out.power[at, :m] = power[s, :m]
    out.ok[at, :m] = ok[s, :m]
    out.smooth[at, :m] = smooth[s, :m]
    out.end[at] = np.where(fit[s], end[s], 0)
    out.base[at] = base[s]
    return settled


def _block_means(x: np.ndarray, step: int) -> np.ndarray:
    """Means of consecutive blocks of ``step`` columns of ``x`` ``(g, n * step)`` (strided sums:
    faster than a mean over a short last axis)."""
    out = x[:, ::step].copy()
    for i in range(1, step):
        out += x[:, i::step]
    out *= 1.0 / step
    return out


def moving_means(power: np.ndarray, ok: np.ndarray, widths: tuple[int, ...]) -> list[np.ndarray]:
    """Centred moving means over each of ``widths`` blocks of each row of ``power`` ``(k, n)``,
    counting only the blocks where ``ok`` (``power`` is 0 elsewhere): block ``i`` averages
    ``[i - width // 2, i + (width - 1) // 2]`` (clipped to the row). One pair of running sums,
    padded so that every window's ends are plain slices, serves every width."""
    k, n = power.shape
    left = max(w // 2 for w in widths)
    right = max((w - 1) // 2 + 1 for w in widths)
    # cs[:, left + j] = sum of the first j blocks (j = 0..n); before 0: 0, past n: the total
    cs = np.zeros((k, left + n + 1 + right))
    cn = np.zeros((k, left + n + 1 + right))
    np.cumsum(power, axis=1, out=cs[:, left + 1 : left + n + 1])
    np.cumsum(ok, axis=1, dtype=np.float64, out=cn[:, left + 1 : left + n + 1])
    cs[:, left + n + 1 :] = cs[:, left + n : left + n + 1]
    cn[:, left + n + 1 :] = cn[:, left + n : left + n + 1]
    out = []
    for width in widths:
        a, b = left - width // 2, left + (width - 1) // 2 + 1  # of block 0
        total = cs[:, b : b + n] - cs[:, a : a + n]
        count = cn[:, b : b + n] - cn[:, a : a + n]
        out.append(total / np.maximum(count, 1.0))
    return out


def _zi(sos: np.ndarray) -> np.ndarray:
    """``sosfilt_zi(sos)`` (cached: a few designs are reused)."""
    key = sos.tobytes()
    if key not in _ZI:
        _ZI[key] = sosfilt_zi(sos)
    return _ZI[key]


_ZI: dict[bytes, np.ndarray] = {}
