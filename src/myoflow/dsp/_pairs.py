"""Two real channels as the real and imaginary parts of one complex signal, for IIR filters.

A recursive filter is bound by the latency of its multiply-adds, not by arithmetic, so
filtering one complex signal costs little more than one real one: channel pairs run in about
0.6 of the time of the two channels apart. With **real** coefficients each part gets exactly
the real filter's numbers: the real part of ``b * (re + i im)`` is ``b * re - 0 * im``, i.e.
``b * re`` rounded once (the other product is an exact zero), and sums are taken part by part.
Initial states must be scaled part by part too (:func:`scaled`), as the real filter would.
Only finite channels are paired (:func:`pairable`): ``0 * inf`` and ``0 * nan`` are NaN, so a
non-finite sample would leak into its partner channel.
"""

from __future__ import annotations

import numpy as np


def pairable(rows: np.ndarray) -> bool:
    """Whether ``rows`` ``(r, n)`` may be filtered as complex pairs: two rows or more, all finite."""
    return rows.shape[0] > 1 and bool(np.isfinite(rows).all())


def pack(rows: np.ndarray) -> np.ndarray:
    """``(r, n)`` real rows -> ``(ceil(r / 2), n)`` complex: rows ``0, 2, ...`` as real parts,
    ``1, 3, ...`` as imaginary parts (0 after an odd last row)."""
    out = np.empty(((rows.shape[0] + 1) // 2, rows.shape[1]), dtype=np.complex128)
    out.real = rows[0::2]
    half = rows.shape[0] // 2
    out.imag[:half] = rows[1::2]
    out.imag[half:] = 0.0
    return out


def unpack_into(out: np.ndarray, packed: np.ndarray) -> None:
    """Write :func:`pack`'s rows back as the columns of ``out`` ``(n, r)`` (real)."""
    out[:, 0::2] = packed.real.T
    out[:, 1::2] = packed.imag[: out.shape[1] // 2].T


def scaled(scale: np.ndarray | float, first: np.ndarray) -> np.ndarray:
    """``scale * first`` with each part of a complex ``first`` multiplied on its own (what the
    real filter of each channel computes); ``scale`` real, broadcast against ``first``."""
    if not np.iscomplexobj(first):
        return np.asarray(scale * first, dtype=np.float64)
    re = scale * first.real
    out = np.empty(re.shape, dtype=np.complex128)
    out.real = re
    out.imag = scale * first.imag
    return out
