"""Column-wise work on two threads: the long whole-session passes over ``(n, ch)`` arrays."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from myoflow._threads import map_threads

#: Threads a whole-session column-wise pass is split over (two cores on a small machine).
COLUMN_THREADS = 2


def by_columns(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, threads: int = COLUMN_THREADS
) -> np.ndarray:
    """``f(x)`` computed as ``f`` of ``threads`` groups of ``x``'s columns on as many threads,
    joined column by column: the same numbers as ``f(x)`` when ``f`` treats every column on its
    own and returns ``(n, ch)``. ``x`` ``(n, ch)``; numpy and scipy release the GIL in their
    long loops, so the groups run at once."""
    ch = x.shape[1]
    if threads < 2 or ch < 2:
        return f(x)
    spans = _spans(ch, threads)
    parts = map_threads(f, [x[:, a:b] for a, b in spans], len(spans))
    out = np.empty((x.shape[0], ch), dtype=np.result_type(*parts))
    for (a, b), part in zip(spans, parts, strict=True):
        out[:, a:b] = part
    return out


def fill_by_columns(
    f: Callable[[np.ndarray, np.ndarray], object],
    x: np.ndarray,
    out: np.ndarray,
    threads: int = COLUMN_THREADS,
) -> np.ndarray:
    """:func:`by_columns` for an ``f(part, out_part)`` that writes its result into ``out_part``
    (the same columns of ``out`` ``(n, ch)``): no array per group and no copy to join them
    (a whole session's envelope is hundreds of MB of fresh memory). Returns ``out``."""
    spans = _spans(x.shape[1], threads) if threads >= 2 and x.shape[1] >= 2 else [(0, x.shape[1])]
    map_threads(lambda span: f(x[:, span[0] : span[1]], out[:, span[0] : span[1]]), spans, len(spans))
    return out


def _spans(ch: int, threads: int) -> list[tuple[int, int]]:
    """``[begin, end)`` of ``min(threads, ch)`` groups of ``ch`` columns, as even as they come."""
    edges = np.linspace(0, ch, min(threads, ch) + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]
