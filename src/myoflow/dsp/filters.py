"""Stateful multichannel SOS filtering for streams: state carried from chunk to chunk.

Speed note: :func:`scipy.signal.sosfilt` spends ~30 us per call validating and moving axes, more
than the whole live budget for a 40-sample chunk. :class:`SosFilter` therefore calls scipy's
compiled SOS kernel (``scipy.signal._sosfilt._sosfilt``, the routine ``sosfilt`` itself ends in)
on channel-major float64 buffers; when that private name is missing it falls back to the public
``sosfilt`` with identical results (``tests/dsp/test_filters.py`` checks both paths).

Zero-phase (offline) filtering of whole recordings is in :mod:`myoflow.dsp.offline`.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from myoflow._checks import as_signal, check_channels, check_rate
from myoflow.dsp.design import NotchDesign, as_sos, group_delay_ms, passband

try:  # the compiled loop behind scipy.signal.sosfilt: (sos, x[n_signals, n], zi[n_signals, k, 2])
    from scipy.signal._sosfilt import _sosfilt as _sos_kernel
except ImportError:  # pragma: no cover - depends on the scipy build
    _sos_kernel = None


def sosfilt_inplace(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> None:
    """Filter ``x`` in place along its last axis, updating ``zi`` in place.

    Parameters
    ----------
    sos
        ``(n_sections, 6)`` float64, C-contiguous (as from :func:`myoflow.dsp.design.as_sos`).
    x
        ``(n_signals, n_samples)`` float64, C-contiguous: channel-major.
    zi
        ``(n_signals, n_sections, 2)`` float64, C-contiguous: the filter state.
    """
    if _sos_kernel is not None:
        _sos_kernel(sos, x, zi)
    else:  # tests reach this branch by monkeypatching _sos_kernel
        y, zf = signal.sosfilt(sos, x, axis=-1, zi=zi.transpose(1, 0, 2))
        x[...] = y
        zi[...] = zf.transpose(1, 0, 2)


class SosFilter:
    """A causal IIR filter (second-order sections) run over a stream, chunk by chunk.

    Parameters
    ----------
    sos
        ``(n_sections, 6)`` second-order sections designed for ``fs`` (see
        :mod:`myoflow.dsp.design`; join band-pass and notches with :func:`cascade`).
    fs
        Sample rate in Hz.
    passband
        ``(f_lo, f_hi)`` in Hz over which :attr:`delay_ms` averages the group delay; ``None``
        uses the filter's own -3 dB passband (:func:`myoflow.dsp.design.passband`).

    Notes
    -----
    The state starts at the filter's steady state for a constant input equal to the first
    sample (``sosfilt_zi`` scaled per channel), so a DC offset such as raw ADC counts around
    2053 produces no start-up transient. The first chunk fixes the channel count. Arithmetic
    is float64, output float32. A NaN in the input poisons the state until :meth:`reset`.
    """

    def __init__(self, sos: np.ndarray, fs: float, *, passband: tuple[float, float] | None = None):
        self.sos = as_sos(sos)
        if self.sos.shape[0] == 0:
            raise ValueError("sos has no sections: nothing to filter")
        self.fs = check_rate(fs)
        self.passband = _passband_of(self.sos, self.fs, passband)
        self._zi_unit = np.ascontiguousarray(signal.sosfilt_zi(self.sos))  # (k, 2)
        self._delay_ms: float | None = None
        self.reset()

    def reset(self) -> None:
        """Forget the state and the channel count: the next chunk starts afresh."""
        self._zi: np.ndarray | None = None
        self._n_channels: int | None = None

    @property
    def delay_ms(self) -> float:
        """Group delay averaged over :attr:`passband`, in milliseconds."""
        if self._delay_ms is None:
            self._delay_ms = group_delay_ms(self.sos, self.fs, *self.passband)
        return self._delay_ms

    def process(self, x: np.ndarray) -> np.ndarray:
        """Filter one chunk ``(n_samples, n_channels)`` (1-D is one channel); float32, same shape."""
        x = np.asarray(x)
        if x.ndim == 1:
            x = x[:, np.newaxis]
        if self._n_channels is None:
            x = as_signal(x, dtype=np.float64)  # full checks once, on the first chunk
            self._n_channels = x.shape[1]
        elif x.ndim != 2 or x.shape[1] != self._n_channels:
            check_chunk(x, self._n_channels, "SosFilter")
        if x.shape[0] == 0:
            return np.empty((0, self._n_channels), dtype=np.float32)
        buf = np.array(x.T, dtype=np.float64, order="C")
        if self._zi is None:
            self._zi = self._zi_unit[np.newaxis, :, :] * buf[:, :1, np.newaxis]
        sosfilt_inplace(self.sos, buf, self._zi)
        return np.ascontiguousarray(buf.T, dtype=np.float32)


def cascade(*sos_arrays: np.ndarray | NotchDesign) -> np.ndarray:
    """Join SOS arrays (or :class:`~myoflow.dsp.design.NotchDesign`) into one, run in one pass.

    Empty ``(0, 6)`` arrays (a notch design with no notch in band) are allowed.
    """
    parts = [as_sos(s.sos if isinstance(s, NotchDesign) else s) for s in sos_arrays]
    if not parts:
        raise ValueError("cascade needs at least one sos array")
    return np.ascontiguousarray(np.concatenate(parts, axis=0))


def check_chunk(x: np.ndarray, n_channels: int, what: str) -> None:
    """Raise the error for a chunk that is not ``(n_samples, n_channels)`` (called on mismatch)."""
    if x.ndim != 2:
        raise ValueError(f"{what} chunks must have shape (n_samples, n_channels), got shape {x.shape}")
    check_channels(x, n_channels, what)


def _passband_of(sos: np.ndarray, fs: float, band: tuple[float, float] | None) -> tuple[float, float]:
    if band is None:
        return passband(sos, fs)
    try:
        lo, hi = (float(v) for v in band)
    except (TypeError, ValueError):
        raise ValueError(f"passband must be a pair (f_lo, f_hi) in Hz, got {band!r}") from None
    if not 0.0 <= lo <= hi <= fs / 2:
        raise ValueError(f"passband {lo:g}-{hi:g} Hz must lie within 0-{fs / 2:g} Hz (fs={fs:g} Hz)")
    return lo, hi
