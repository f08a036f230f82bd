"""Co-contraction of an agonist/antagonist pair: Winter's common-area index.

For two normalised envelopes ``a`` (agonist) and ``b`` (antagonist) over a window,

``CCI = 100 * 2 * integral(min(a, b) dt) / integral(a + b dt)``  (%)

(Falconer & Winter 1985; Winter 1990): the area the two curves share, as a percentage of their
mean area. 100 % when the envelopes are identical, 0 % when they never overlap. Both must be in
the same normalised unit (% MVC or % session peak); see ``docs/metrics.md``.
"""

from __future__ import annotations

import numpy as np

from myoflow._checks import check_rate


def cocontraction_index(agonist: np.ndarray, antagonist: np.ndarray) -> float:
    """Winter's common-area index (%) of two envelopes ``(n,)`` sampled together.

    NaN samples (dropped data) are left out of both integrals; NaN when nothing remains or
    both envelopes are zero. Negative values (none in an envelope) count as 0.
    """
    a = np.asarray(agonist, dtype=np.float64).ravel()
    b = np.asarray(antagonist, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"agonist and antagonist must have the same shape, got {a.shape} and {b.shape}")
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = np.maximum(a[ok], 0.0), np.maximum(b[ok], 0.0)
    total = float(np.sum(a + b))
    return 200.0 * float(np.sum(np.minimum(a, b))) / total if total > 0 else float("nan")


def cocontraction_in_window(
    agonist: np.ndarray, antagonist: np.ndarray, fs: float, t0: float, begin_s: float, end_s: float
) -> float:
    """:func:`cocontraction_index` over ``[begin_s, end_s)`` of envelopes starting at ``t0`` (s)."""
    fs = check_rate(fs)
    n = np.asarray(agonist).shape[0]
    i0 = int(np.clip(round((begin_s - t0) * fs), 0, n))
    i1 = int(np.clip(round((end_s - t0) * fs), i0, n))
    return cocontraction_index(np.asarray(agonist)[i0:i1], np.asarray(antagonist)[i0:i1])
