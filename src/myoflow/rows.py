"""Rows of a signal read when asked for: :class:`Rows` lays arrays end to end, each given as an
array or as a function that makes it (a lazily synthesised piece of a long session,
:mod:`myoflow.synth.chain`); :func:`rows_of` reads rows of an array or a :class:`Rows` alike
(the virtual straps' :class:`~myoflow.devices.virtual.samples.SessionSignal`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["Rows", "Source", "parts_of", "rows_of"]

#: One part of a :class:`Rows`: an array, or a function returning it when a row is read.
Source = np.ndarray | Callable[[], np.ndarray]


class Rows:
    """Rows of a signal laid end to end from parts, each an array or a function that makes one.

    Parameters
    ----------
    parts : sequence of (length, array or callable)
        Part ``k`` holds rows ``[offset_k, offset_k + length_k)``; a callable is asked for its
        array each time one of its rows is read (it may synthesise it or return a cached one).
    shape_tail : tuple of int
        Shape of one row (``(channels,)``; ``()`` for a 1-D signal).
    dtype : numpy dtype
        Dtype of the rows returned.
    """

    def __init__(self, parts: Sequence[tuple[int, Source]], shape_tail: tuple[int, ...], dtype: Any) -> None:
        self.parts = [(int(n), src) for n, src in parts]
        self.offsets = np.cumsum([0] + [n for n, _ in self.parts])
        self.shape = (int(self.offsets[-1]), *shape_tail)
        self.dtype = np.dtype(dtype)

    def __len__(self) -> int:
        return self.shape[0]

    def rows(self, idx: np.ndarray) -> np.ndarray:
        """Rows ``idx`` (int array, each in ``[0, len)``), shape ``(len(idx), *shape_tail)``."""
        idx = np.asarray(idx, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.shape[0]):
            raise IndexError(f"rows {idx.min()}..{idx.max()} outside 0..{self.shape[0] - 1}")
        out = np.empty((idx.size, *self.shape[1:]), self.dtype)
        part = np.searchsorted(self.offsets, idx, side="right") - 1
        for k in np.unique(part):
            mask = part == k
            src = self.parts[k][1]
            data = src if isinstance(src, np.ndarray) else src()
            out[mask] = data[idx[mask] - self.offsets[k]]
        return out


def rows_of(data: np.ndarray | Rows, idx: np.ndarray) -> np.ndarray:
    """Rows ``idx`` of an array or a :class:`Rows`."""
    return data[idx] if isinstance(data, np.ndarray) else data.rows(idx)


def parts_of(data: np.ndarray | Rows) -> list[tuple[int, Source]]:
    """``data`` as parts of a :class:`Rows` (its own parts, or the whole array)."""
    return list(data.parts) if isinstance(data, Rows) else [(data.shape[0], data)]
