"""The per-rep metrics' filters: a cached Butterworth design and a cheaper exact ``sosfiltfilt``.

Every rep filters a few short traces (the crossover envelopes, the hip angle of the stall, the
fatigue high-pass) with the same few designs. :func:`zero_phase` gives what
``scipy.signal.sosfiltfilt(sos, x, axis=0)`` gives, bit for bit, for less: the steady state of
a design is computed once (``sosfilt_zi`` solves a linear system per call), and two channels
run as the real and imaginary parts of one complex signal (:mod:`myoflow.dsp._pairs`: each
gets the real filter's numbers; checked against SciPy in ``tests/analysis/test_lowpass.py``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.signal import butter, sosfilt, sosfilt_zi

from myoflow.dsp._pairs import pack, pairable, scaled, unpack_into


def butter_lowpass(order: int, cutoff_hz: float, fs: float) -> np.ndarray:
    """``scipy.signal.butter(order, cutoff_hz, fs=fs, output="sos")``, a fresh copy of a cached
    design (designing one costs ~0.2 ms, more than filtering a rep's envelope trace)."""
    return _design(int(order), float(cutoff_hz), float(fs)).copy()


@lru_cache(maxsize=64)
def _design(order: int, cutoff_hz: float, fs: float) -> np.ndarray:
    return butter(order, cutoff_hz, fs=fs, output="sos")


def pad_length(sos: np.ndarray) -> int:
    """Samples ``sosfiltfilt`` adds (odd extension) at each end for ``sos`` by default."""
    taps = 2 * sos.shape[0] + 1 - min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    return 3 * taps


def zero_phase(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``scipy.signal.sosfiltfilt(sos, x, axis=0)`` with its default odd padding: the same
    numbers, computed more cheaply (module docstring).

    Parameters
    ----------
    sos
        ``(sections, 6)`` real second-order sections.
    x
        ``(n,)`` or ``(n, ch)`` real signal, filtered along axis 0; ``n`` must exceed
        :func:`pad_length`.

    Returns
    -------
    float64 array of ``x``'s shape.
    """
    sos = np.asarray(sos, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    cols = x.reshape(x.shape[0], -1)
    n, ch = cols.shape
    pad = pad_length(sos)
    if n <= pad:
        raise ValueError(
            f"a zero-phase filter of {sos.shape[0]} section(s) needs more than {pad} samples, got {n}"
        )
    # channel-major odd extension, with sosfiltfilt's arithmetic (odd_ext)
    ext = np.empty((ch, n + 2 * pad))
    ext[:, pad : pad + n] = cols.T
    ext[:, :pad] = 2 * cols[0][:, np.newaxis] - cols[pad:0:-1].T
    ext[:, pad + n :] = 2 * cols[-1][:, np.newaxis] - cols[-2 : -(pad + 2) : -1].T
    zi = _steady_state(sos.tobytes(), sos.shape[0])[:, np.newaxis, :]  # (sections, 1, 2)
    paired = pairable(ext)
    if paired:
        ext = pack(ext)
    y = _forward(sos, ext, zi)
    y = _forward(sos, y[:, ::-1], zi)[:, ::-1]
    out = np.empty((n, ch))
    if paired:
        unpack_into(out, y[:, pad : pad + n])
    else:
        out[:] = y[:, pad : pad + n].T
    return out.reshape(x.shape)


def _forward(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> np.ndarray:
    """``sosfilt`` along rows of ``x`` from the steady state of each row's first sample."""
    y, _ = sosfilt(sos, x, axis=1, zi=scaled(zi, x[np.newaxis, :, :1]))
    return y


@lru_cache(maxsize=64)
def _steady_state(sos_bytes: bytes, sections: int) -> np.ndarray:
    """``sosfilt_zi`` of the design held in ``sos_bytes`` (read-only)."""
    zi = sosfilt_zi(np.frombuffer(sos_bytes, dtype=np.float64).reshape(sections, 6))
    zi.setflags(write=False)
    return zi
