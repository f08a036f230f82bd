"""Shared helpers for the benchmark scripts: timing medians and the closing JSON line."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def median_time(fn: Callable[[], Any], repeats: int = 5, warmup: int = 1) -> tuple[float, Any]:
    """Median wall time of ``fn()`` in seconds over ``repeats`` runs (after ``warmup``), and
    the last result."""
    result = None
    for _ in range(warmup):
        result = fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), result


def machine() -> dict[str, Any]:
    import os

    return {"python": platform.python_version(), "cores": os.cpu_count(), "numpy": np.__version__}


def print_figures(figures: dict[str, Any]) -> None:
    """One aligned ``name value`` line per figure (floats to 4 significant digits)."""
    for key, value in figures.items():
        print(f"{key:40s} {value:.4g}" if isinstance(value, float) else f"{key:40s} {value}")


def finish(figures: dict[str, Any]) -> None:
    """Print the benchmark's figures as the last line, one JSON object (rounded)."""

    def tidy(v: Any) -> Any:
        if isinstance(v, float):
            return round(v, 4)
        return v

    print(json.dumps({k: tidy(v) for k, v in figures.items()}))
