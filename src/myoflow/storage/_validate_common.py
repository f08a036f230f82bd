"""What the recording checks share: plausibility limits and value tests (a leaf of
:mod:`myoflow.storage.validate`)."""

from __future__ import annotations

from typing import Any

import numpy as np

#: Largest plausible clock attribute and sample time in seconds (about year 2286 as Unix time).
MAX_CLOCK_S = 1e10
#: A gap may hold at most this many times the samples its time span allows, plus one second.
GAP_RATE_SLACK = 2.0
DEEP_ROWS = 1 << 18


class Fatal(Exception):
    """Raised inside the walk when nothing further can be checked."""


def gap_limit(rate: float, span_s: float) -> int:
    """Most samples a gap spanning ``span_s`` seconds at ``rate`` Hz may declare lost.

    ``GAP_RATE_SLACK`` times what the span allows, plus one second of samples: a gap is never
    larger than the time it covers (a device clock off by a factor of two is still accepted).
    """
    return int(GAP_RATE_SLACK * rate * max(span_s, 0.0) + rate + 1)


def clock_offset(f: Any) -> float:
    return float(f.attrs["clock_unix_s"]) - float(f.attrs["clock_monotonic_s"])


def is_int(value: Any) -> bool:
    arr = np.asarray(value)
    return arr.shape == () and np.issubdtype(arr.dtype, np.integer)


def is_real(value: Any) -> bool:
    arr = np.asarray(value)
    return arr.shape == () and arr.dtype.kind in "iuf"


def str_list(value: Any) -> list[str] | None:
    arr = np.atleast_1d(np.asarray(value, dtype=object))
    if arr.ndim != 1 or not all(isinstance(v, (str, bytes)) for v in arr):
        return None
    return [as_text(v) for v in arr]


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return as_text(value.item())
    return str(value)


def short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value.tolist() if isinstance(value, np.ndarray) else value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
