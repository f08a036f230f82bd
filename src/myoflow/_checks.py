"""Argument checks shared by the signal core: one place for shapes, dtypes, rates and messages."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TypeVar

import numpy as np


def as_signal(x: np.ndarray, name: str = "x", dtype: type = np.float32) -> np.ndarray:
    """Return ``x`` as a C-contiguous ``(n_samples, n_channels)`` array of ``dtype``.

    A 1-D array is one channel. Anything with more than two dimensions is a ``ValueError``
    that says which shape came.
    """
    arr = np.asarray(x)
    if arr.ndim == 1:
        arr = arr[:, np.newaxis]
    elif arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n_samples, n_channels), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise ValueError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=dtype)


def check_rate(fs: float, name: str = "fs") -> float:
    """Return the sample rate ``fs`` in Hz as a float, or raise if it is not a positive number."""
    if isinstance(fs, bool) or not isinstance(fs, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} (sample rate in Hz) must be a number, got {fs!r}")
    fs = float(fs)
    if not math.isfinite(fs) or fs <= 0:
        raise ValueError(f"{name} (sample rate in Hz) must be positive and finite, got {fs}")
    return fs


def check_positive(value: float, name: str, unit: str = "") -> float:
    """Return ``value`` as a float, or raise naming ``name`` if it is not a positive finite number."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number{_unit(unit)}, got {value!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive number{_unit(unit)}, got {value!r}")
    return v


def check_range(value: float, name: str, lo: float, hi: float, unit: str = "") -> float:
    """Return ``value`` as a float, or raise naming ``name`` unless ``lo <= value <= hi``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number{_unit(unit)}, got {value!r}") from None
    if not (math.isfinite(v) and lo <= v <= hi):
        raise ValueError(f"{name} must be in [{lo}, {hi}]{_unit(unit)}, got {value!r}")
    return v


_T = TypeVar("_T")


def check_option(value: _T, name: str, allowed: Iterable[object]) -> _T:
    """Return ``value`` if it is one of ``allowed``, else a ``ValueError`` listing the choices."""
    allowed = list(allowed)
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"Invalid value for {name!r}: allowed values are {choices}, but got {value!r}")
    return value


def check_channels(x: np.ndarray, n_channels: int, what: str) -> None:
    """Raise if a chunk's channel count differs from the one a stateful stage was started with."""
    if x.shape[1] != n_channels:
        raise ValueError(
            f"{what} was started with {n_channels} channel(s) but got a chunk of shape {x.shape}"
        )


def _unit(unit: str) -> str:
    return f" (in {unit})" if unit else ""
