"""The vectorised run scan behind :mod:`myoflow.dsp.onsets`: the onset state machine over a chunk.

The state machine, per channel, is the one documented in :mod:`myoflow.dsp.onsets`: off -> on
after ``min_on`` consecutive samples strictly above the on-threshold, on -> off after ``min_off``
consecutive samples strictly below the off-threshold, each event dated at the first sample of
its run; a non-finite sample breaks the run it falls in.

Both detectors share this one scan. Runs of above-threshold and below-threshold samples are
found with ``numpy.diff`` over all channels at once; runs long enough to count are merged by
start sample, and the state machine's transitions are exactly the places where the kind of run
changes (an above-run while "on", or a below-run while "off", changes nothing). Qualifying
above- and below-runs are disjoint, so sorting them by start also sorts them by the sample at
which they were confirmed. :class:`OnsetState` carries the state and the lengths of the runs
still open at the end of a chunk, so any chunking gives exactly the batch result.

Inputs are trusted: the public detectors check signals, thresholds and durations first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

_NEVER = np.iinfo(np.int64).min // 4  # start of the virtual run that carries the state


@dataclass
class OnsetState:
    """Everything the streaming detector carries between chunks.

    Attributes
    ----------
    n_seen
        Samples processed so far (the stream index of the next chunk's first sample).
    on
        Shape ``(n_channels,)`` bool: the state machine's state per channel.
    run_above, run_below
        Shape ``(n_channels,)`` int64: length of the run of above-on-threshold
        (below-off-threshold) samples that ends the data seen so far, 0 if none.
    """

    n_channels: int
    n_seen: int = 0
    on: np.ndarray = field(init=False)
    run_above: np.ndarray = field(init=False)
    run_below: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.on = np.zeros(self.n_channels, dtype=bool)
        self.run_above = np.zeros(self.n_channels, dtype=np.int64)
        self.run_below = np.zeros(self.n_channels, dtype=np.int64)


_Arrays4 = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


_Runs = tuple[np.ndarray, np.ndarray, np.ndarray]


def _runs(masks: tuple[np.ndarray, ...], n_ch: int) -> _Runs:
    """Runs of ``True`` in each of the first ``n_ch`` columns of every mask ``(n, width)`` (the
    columns beyond ``n_ch`` are padding, all ``False``; see :func:`_compare`); the columns of
    the ``k``-th mask count as channels ``k * n_ch ..``, so all masks are done at once.

    Returns ``(channel, start, end)`` per run (rows ``start .. end``), sorted by channel then
    start.
    """
    n = masks[0].shape[0]
    row, col, rises = _flips(masks, n_ch)
    first = np.flatnonzero(np.concatenate([m[0, :n_ch] for m in masks]))
    last = np.flatnonzero(np.concatenate([m[-1, :n_ch] for m in masks]))
    s_ch = np.concatenate([first, col[rises]])
    s_row = np.concatenate([np.zeros(first.size, np.int64), row[rises]])
    e_ch = np.concatenate([col[~rises], last])
    e_row = np.concatenate([row[~rises], np.full(last.size, n, np.int64)])
    # Re-sort by channel (stably: rows stay in order) so the k-th start pairs with the k-th end.
    s_order = np.argsort(s_ch, kind="stable")
    return s_ch[s_order], s_row[s_order], e_row[np.argsort(e_ch, kind="stable")]


def _carried(runs: _Runs, carry: np.ndarray, n: int, n_ch: int) -> _Arrays4:
    """Runs of one chunk of ``n`` rows with the run left open by the previous chunk:
    a run touching row 0 is extended back by ``carry[ch]`` samples. Returns ``(channel,
    start, length, trailing)``; ``trailing`` ``(n_ch,)`` is the length of each channel's run
    that reaches the last row (0 if none)."""
    ch, start, end = runs
    start = start - np.where(start == 0, carry[ch], 0)
    length = end - start
    trailing = np.zeros(n_ch, dtype=np.int64)
    tail = end == n
    trailing[ch[tail]] = length[tail]
    return ch, start, length, trailing


def _flips(masks: tuple[np.ndarray, ...], n_ch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(row, column, value)`` of every change ``mask[row - 1, c] != mask[row, c]`` of the
    masks' first ``n_ch`` columns (``column`` numbered across the masks as in :func:`_runs`;
    ``value`` is ``mask[row, c]``: ``True`` where a run starts); within a column, rows ascend.

    Each row of a mask (``width`` bytes: 1, 2, 4 or a multiple of 8) is read as one or a few
    integers, so the rows where anything changes are found with one integer comparison per
    row instead of one per channel, and the channels that changed in them are the nonzero
    bytes of the two rows' XOR.
    """
    width = masks[0].shape[1]
    words = [m.view(np.dtype(f"u{min(width, 8)}")) for m in masks]  # (n, width / itemsize)
    changed = np.zeros(masks[0].shape[0] - 1, dtype=bool)
    for w in words:
        diff = w[1:] != w[:-1]
        changed |= diff[:, 0] if diff.shape[1] == 1 else diff.any(axis=1)
    rows = np.flatnonzero(changed) + 1
    found = []
    for k, w in enumerate(words):
        now = w[rows]
        flip = np.flatnonzero((now ^ w[rows - 1]).view(np.uint8).reshape(-1))  # row-major bytes
        value = now.view(np.uint8).reshape(-1)[flip] != 0
        found.append((rows[flip // width], flip % width + k * n_ch, value))
    return tuple(np.concatenate(parts) for parts in zip(*found, strict=True))  # type: ignore[return-value]


def _width(n_ch: int) -> int:
    """Bytes per mask row: ``n_ch`` padded to 1, 2, 4 or a multiple of 8 (see :func:`_flips`)."""
    return n_ch if n_ch in (1, 2, 4) else 4 if n_ch == 3 else -(-n_ch // 8) * 8


_ROWS_PER_LINE = 1024  # rows compared as one line of ``_ROWS_PER_LINE * ch`` values (see _compare)


def _compare(op: np.ufunc, x: np.ndarray, thr: np.ndarray) -> np.ndarray:
    """``op(x, thr)`` for ``x`` ``(n, ch)`` against per-channel ``thr`` ``(ch,)``, as a bool
    array ``(n, width)``: the first ``ch`` columns hold the result, the rest (padding up to
    :func:`_width`) are ``False``.

    Broadcasting a row of ``ch`` thresholds runs NumPy's inner loop over only ``ch`` values;
    comparing lines of ``_ROWS_PER_LINE`` rows against the thresholds tiled as often is ~3x
    faster and gives the same result.
    """
    n, n_ch = x.shape
    width = _width(n_ch)
    if width != n_ch:
        out = np.zeros((n, width), dtype=bool)
        op(x, thr, out=out[:, :n_ch])
        return out
    out = np.empty((n, n_ch), dtype=bool)
    bulk = n - n % _ROWS_PER_LINE
    if bulk and x.flags.c_contiguous:
        line = _ROWS_PER_LINE * n_ch
        op(x[:bulk].reshape(-1, line), np.tile(thr, _ROWS_PER_LINE), out=out[:bulk].reshape(-1, line))
    else:
        bulk = 0
    op(x[bulk:], thr, out=out[bulk:])
    return out


def chunk_runs(x: np.ndarray, thr_on: np.ndarray, thr_off: np.ndarray) -> tuple[_Runs, _Runs]:
    """The runs above ``thr_on`` and below ``thr_off`` in chunk ``x`` ``(n >= 1, ch)``, in the
    chunk's rows and without any carried state: chunks may be done in any order, at once."""
    n_ch = x.shape[1]
    ch, start, end = _runs((_compare(np.greater, x, thr_on), _compare(np.less, x, thr_off)), n_ch)
    k = int(np.searchsorted(ch, n_ch))  # channels n_ch .. are the below-runs
    return (ch[:k], start[:k], end[:k]), (ch[k:] - n_ch, start[k:], end[k:])


def scan(
    x: np.ndarray,
    thr_on: np.ndarray,
    thr_off: np.ndarray,
    min_on: int,
    min_off: int,
    state: OnsetState,
) -> _Arrays4:
    """Run the state machine over chunk ``x`` ``(n, ch)``, updating ``state`` in place.

    ``thr_on`` and ``thr_off`` ``(ch,)`` are the on- and off-thresholds in the unit of ``x``;
    ``min_on`` and ``min_off`` the minimum run lengths in samples (>= 1). Returns
    ``(channel, is_onset, sample, confirmed_at)`` of the events confirmed in this chunk,
    ordered by channel then sample; samples are stream indices.
    """
    if x.shape[0] == 0:
        none = np.empty(0, np.int64)
        return none, np.empty(0, bool), none, none
    return advance(state, x.shape[0], *chunk_runs(x, thr_on, thr_off), min_on, min_off)


def advance(state: OnsetState, n: int, above: _Runs, below: _Runs, min_on: int, min_off: int) -> _Arrays4:
    """The state machine over the next ``n`` samples, given their :func:`chunk_runs`: updates
    ``state`` and returns the events as :func:`scan` does."""
    n_ch = state.n_channels
    a_ch, a_start, a_len, a_tail = _carried(above, state.run_above, n, n_ch)
    b_ch, b_start, b_len, b_tail = _carried(below, state.run_below, n, n_ch)
    a_ok = a_len >= min_on
    b_ok = b_len >= min_off
    # One virtual run per channel, before everything, stands for the current state.
    ch = np.concatenate([np.arange(n_ch), a_ch[a_ok], b_ch[b_ok]])
    start = np.concatenate([np.full(n_ch, _NEVER), a_start[a_ok], b_start[b_ok]])
    is_on = np.concatenate([state.on, np.ones(a_ok.sum(), bool), np.zeros(b_ok.sum(), bool)])
    order = np.lexsort((start, ch))
    ch, start, is_on = ch[order], start[order], is_on[order]
    # A transition is a run whose kind differs from the previous run of the same channel;
    # each channel's virtual run comes first, so it is never one itself.
    change = np.flatnonzero((is_on[1:] != is_on[:-1]) & (ch[1:] == ch[:-1])) + 1
    ev_ch, ev_on, ev_start = ch[change], is_on[change], start[change]
    ev_conf = ev_start + np.where(ev_on, min_on - 1, min_off - 1)
    last = np.r_[np.flatnonzero(ch[1:] != ch[:-1]), ch.size - 1]
    state.on = is_on[last].copy()
    state.run_above = a_tail
    state.run_below = b_tail
    offset = state.n_seen
    state.n_seen += n
    return ev_ch, ev_on, ev_start + offset, ev_conf + offset
