"""Column-wise work on two threads: the long whole-session passes over ``(n, ch)`` arrays."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from myoflow._threads import map_threads

#: Threads a whole-session column-wise pass is split over (two cores on a small machine).
COLUMN_THREADS = 2


def fill_by_columns(
    f: Callable[[np.ndarray, np.ndarray], object],
    x: np.ndarray,
    out: np.ndarray,
    threads: int = COLUMN_THREADS,
) -> np.ndarray:
    """Call ``f(part, out_part)`` for ``threads`` groups of ``x``'s columns ``(n, ch)`` on as
    many threads, ``out_part`` the same columns of ``out`` ``(n, ch)``, into which ``f`` writes
    its result: the same numbers as one call over all columns when ``f`` treats every column on
    its own, with no array per group and no copy to join them (a whole session's envelope is
    hundreds of MB of fresh memory). numpy and scipy release the GIL in their long loops, so the
    groups run at once. Returns ``out``."""
    spans = _spans(x.shape[1], threads) if threads >= 2 and x.shape[1] >= 2 else [(0, x.shape[1])]
    map_threads(lambda span: f(x[:, span[0] : span[1]], out[:, span[0] : span[1]]), spans, len(spans))
    return out


def _spans(ch: int, threads: int) -> list[tuple[int, int]]:
    """``[begin, end)`` of ``min(threads, ch)`` groups of ``ch`` columns, as even as they come."""
    edges = np.linspace(0, ch, min(threads, ch) + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]
