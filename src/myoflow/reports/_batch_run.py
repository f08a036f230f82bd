"""Run one function over many jobs: in this process, in a local spawn process pool, or on a
Dask distributed cluster; results come back as ``(job index, outcome)`` as they finish.

An outcome is the function's return value, or the exception raised instead (a job's failure
never stops the others). Used by :func:`myoflow.reports.batch.batch_analyze`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
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
    context = get_context("spawn")
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
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ImportError(
            "running on a cluster (scheduler=...) needs dask distributed: pip install 'myoflow[batch]'"
        ) from None
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
