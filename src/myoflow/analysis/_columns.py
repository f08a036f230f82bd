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
    edges = np.linspace(0, ch, min(threads, ch) + 1).round().astype(int)
    groups = [x[:, a:b] for a, b in zip(edges[:-1], edges[1:], strict=True)]
    parts = map_threads(f, groups, len(groups))
    out = np.empty((x.shape[0], ch), dtype=np.result_type(*parts))
    for (a, b), part in zip(zip(edges[:-1], edges[1:], strict=True), parts, strict=True):
        out[:, a:b] = part
    return out
