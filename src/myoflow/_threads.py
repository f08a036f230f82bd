"""Independent pieces of array work on a few threads of our own.

NumPy's loops and SciPy's FFTs and filters release the GIL, so whole pieces (FFT blocks, chunks
of a threshold scan, groups of channels, batches of reps) run in parallel on several cores; one
helper for dsp and analysis. Each call makes its own short-lived pool:
nothing lingers between calls, and a caller running in its own thread is unaffected.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def thread_count(workers: int, items: int) -> int:
    """Threads to use for ``items`` pieces: ``workers`` (``-1``: one per core), at most one
    per piece, at least 1."""
    wanted = (os.cpu_count() or 1) if workers == -1 else max(1, workers)
    return max(1, min(items, wanted))


def map_threads(fn: Callable[[T], R], items: Iterable[T], workers: int = -1) -> list[R]:
    """``[fn(item) for item in items]``, on :func:`thread_count` threads; re-raises the first
    error."""
    items = list(items)
    threads = thread_count(workers, len(items))
    if threads == 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(threads, thread_name_prefix="myoflow") as pool:
        return list(pool.map(fn, items))
