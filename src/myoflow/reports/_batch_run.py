"""Run one function over many jobs: in this process, in a local spawn process pool, or on a
Dask distributed cluster; results come back as ``(job index, outcome)`` as they finish.

An outcome is the function's return value, or the exception raised instead (a job's failure
never stops the others). Used by :func:`myoflow.reports.batch.batch_analyze`.

Local workers do not re-run the caller's main script. A ``spawn`` worker normally imports the
parent's ``__main__`` first (to find functions defined there), so a plain script that calls
``batch_analyze(..., workers=2)`` without an ``if __name__ == "__main__":`` guard would start
the batch again inside every worker, which multiprocessing refuses (every file then failed
with a traceback per worker). The job function lives in an importable module, so the workers
are started with ``__main__`` hidden (:class:`_LibraryProcess`); only a function defined in
``__main__`` itself needs the script imported, and gets the standard spawn workers.
"""

from __future__ import annotations

import sys
import types
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import Any

__all__ = ["run_dask", "run_inline", "run_local"]

Outcome = Any  # the function's result, or the exception that came instead


def run_inline(fn: Callable[..., Any], jobs: Sequence[tuple]) -> Iterator[tuple[int, Outcome]]:
    """``(index, outcome)`` of each job in turn, in this process."""
    for i, args in enumerate(jobs):
        try:
            yield i, fn(*args)
        except Exception as exc:
            yield i, exc


def run_local(fn: Callable[..., Any], jobs: Sequence[tuple], workers: int) -> Iterator[tuple[int, Outcome]]:
    """``(index, outcome)`` as the jobs finish in a spawn pool of ``workers`` processes, at most
    ``2 x workers`` in flight. When a worker process dies, the jobs in flight are rerun one by
    one in a fresh process; one that kills it again yields :class:`BrokenProcessPool`."""
    context = get_context("spawn") if getattr(fn, "__module__", None) == "__main__" else _LIBRARY_SPAWN
    todo = deque(enumerate(jobs))
    suspects: deque[tuple[int, tuple]] = deque()
    pool = None
    try:
        while todo or suspects:
            if suspects:
                i, args = suspects.popleft()
                with ProcessPoolExecutor(1, mp_context=context) as alone:
                    yield i, _outcome(alone.submit(fn, *args))
                continue
            pool = pool or ProcessPoolExecutor(workers, mp_context=context)
            running: dict[Future, tuple[int, tuple]] = {}
            broken = False
            while (todo or running) and not broken:
                while todo and len(running) < 2 * workers:
                    i, args = todo.popleft()
                    running[pool.submit(fn, *args)] = (i, args)
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    i, args = running.pop(fut)
                    result = _outcome(fut)
                    if isinstance(result, BrokenProcessPool):
                        broken = True
                        suspects.append((i, args))
                    else:
                        yield i, result
            if broken:  # the rest in flight fail the same way, or finished before the crash
                for fut in running:
                    i, args = running[fut]
                    result = _outcome(fut)
                    if isinstance(result, BrokenProcessPool):
                        suspects.append((i, args))
                    else:
                        yield i, result
                pool.shutdown(wait=True)
                pool = None
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


class _LibraryProcess(SpawnProcess):
    """A spawn process that does not import the parent's ``__main__`` before its job.

    The child learns what to import from the parent's ``sys.modules["__main__"]`` while it is
    being started (``multiprocessing.spawn.get_preparation_data``); for that moment only, the
    parent's main module is replaced by an empty one, so the child runs no part of the script.
    """

    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            return SpawnProcess._Popen(process_obj)
        finally:
            sys.modules["__main__"] = main


class _LibrarySpawnContext(SpawnContext):
    Process = _LibraryProcess


_LIBRARY_SPAWN = _LibrarySpawnContext()


def _outcome(fut: Future) -> Outcome:
    try:
        return fut.result()
    except BrokenProcessPool as exc:
        return BrokenProcessPool(f"the worker process died while analysing this file ({exc})")
    except Exception as exc:
        return exc


def run_dask(fn: Callable[..., Any], jobs: Sequence[tuple], scheduler: Any) -> Iterator[tuple[int, Outcome]]:
    """``(index, outcome)`` as the jobs finish on a Dask cluster, at most twice its threads
    (at least 4) in flight; a client made from an address is closed at the end."""
    from myoflow._extras import require

    require("distributed", "running on a cluster (scheduler=...)")
    from distributed import Client, as_completed

    own = isinstance(scheduler, str)
    client = Client(scheduler) if own else scheduler
    try:
        todo = deque(enumerate(jobs))
        index: dict[str, int] = {}

        def submit(n: int) -> list[Any]:
            futs = []
            for _ in range(min(n, len(todo))):
                i, args = todo.popleft()
                fut = client.submit(fn, *args, pure=False)
                index[fut.key] = i
                futs.append(fut)
            return futs

        window = max(4, 2 * sum(client.nthreads().values()))
        queue = as_completed(submit(window))
        for fut in queue:
            i = index.pop(fut.key)
            try:
                result = fut.result()
            except Exception as exc:  # e.g. KilledWorker: the file crashed workers repeatedly
                result = exc
            fut.release()
            yield i, result
            if todo:
                window = max(4, 2 * sum(client.nthreads().values()))  # workers may join
                for new in submit(window - len(index)):
                    queue.add(new)
    finally:
        if own:
            client.close()
