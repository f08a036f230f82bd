"""Stateful multichannel SOS filtering for streams, and zero-phase filtering for whole recordings.

Speed note: :func:`scipy.signal.sosfilt` spends ~30 us per call validating and moving axes, more
than the whole live budget for a 40-sample chunk. The streaming stages therefore call scipy's
compiled SOS kernel (``scipy.signal._sosfilt._sosfilt``, the routine ``sosfilt`` itself ends in)
on channel-major float64 buffers; when that private name is missing they fall back to the public
``sosfilt`` with identical results (``tests/dsp/test_filters.py`` checks both paths). The kernel
releases the GIL, so :func:`zero_phase` filters channels on parallel threads.
:func:`zero_phase_fft_blocks` is the FFT equivalent for long recordings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import scipy.fft as sfft
from scipy import signal

from myoflow._checks import as_signal, check_channels, check_rate
from myoflow.dsp.design import NotchDesign, as_sos, group_delay_ms, passband

try:  # the compiled loop behind scipy.signal.sosfilt: (sos, x[n_signals, n], zi[n_signals, k, 2])
    from scipy.signal._sosfilt import _sosfilt as _sos_kernel
except ImportError:  # pragma: no cover - depends on the scipy build
    _sos_kernel = None

_T = TypeVar("_T")
#: Below this many samples x channels, offline functions stay on the calling thread.
_THREAD_MIN_SIZE = 200_000
#: FFT filtering truncates the zero-phase kernel where it stays below this fraction of its peak.
FFT_KERNEL_TOL = 1e-7


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


def default_padlen(sos: np.ndarray) -> int:
    """Edge padding (samples) used by :func:`zero_phase`: the same default as ``sosfiltfilt``."""
    ntaps = 2 * sos.shape[0] + 1
    ntaps -= min(int(np.sum(sos[:, 2] == 0)), int(np.sum(sos[:, 5] == 0)))
    return 3 * ntaps


def zero_phase(
    sos: np.ndarray, x: np.ndarray, *, padlen: int | None = None, workers: int | None = None
) -> np.ndarray:
    """Forward-backward filter ``x`` along axis 0 (offline): zero phase, gain ``|H(f)|^2``.

    Parameters
    ----------
    sos
        ``(n_sections, 6)`` second-order sections.
    x
        ``(n_samples, n_channels)``; 1-D is one channel.
    padlen
        Samples of odd extension at each end; ``None`` uses :func:`default_padlen` (as
        ``sosfiltfilt``). Shortened to ``n_samples - 1`` for short signals.
    workers
        Threads over channels; ``None`` uses all cores for large inputs.

    Returns
    -------
    ``(n_samples, n_channels)`` float32.

    Notes
    -----
    Edges are handled as :func:`scipy.signal.sosfiltfilt` does with ``padtype="odd"``: each end
    is extended by a point reflection about the end sample (``2 x[0] - x[k]``), the forward
    pass starts at the steady state of the first extended sample and the backward pass at the
    steady state of the last forward output. Results match ``sosfiltfilt`` to float rounding.
    """
    sos = as_sos(sos)
    x = as_signal(x, dtype=np.float64)
    n, ch = x.shape
    out = np.empty((n, ch), dtype=np.float32)
    if n == 0:
        return out
    pad = min(default_padlen(sos) if padlen is None else int(padlen), n - 1)
    if pad < 0:
        raise ValueError(f"padlen must be >= 0, got {padlen}")
    zi = np.ascontiguousarray(signal.sosfilt_zi(sos)) if sos.shape[0] else None

    def one(c: int) -> None:
        out[:, c] = filtfilt_1d(sos, x[:, c], pad, zi)

    map_threads(one, range(ch), workers, n * ch)
    return out


def filtfilt_rows(sos: np.ndarray, rows: np.ndarray, pad: int, zi_unit: np.ndarray | None) -> np.ndarray:
    """Forward-backward filter each row of ``rows`` (m, n) with odd padding; float64 (m, n) view.

    The rows are independent signals (channel-major). ``sos`` must come from
    :func:`~myoflow.dsp.design.as_sos`, ``zi_unit`` from ``sosfilt_zi`` (``None`` for an empty
    cascade), ``0 <= pad < n``.
    """
    m, n = rows.shape
    ext = np.empty((m, n + 2 * pad), dtype=np.float64)
    ext[:, pad : pad + n] = rows
    if pad:
        ext[:, :pad] = 2.0 * rows[:, :1] - rows[:, pad:0:-1]
        ext[:, pad + n :] = 2.0 * rows[:, -1:] - rows[:, -2 : -pad - 2 : -1]
    if zi_unit is None:
        return ext[:, pad : pad + n]
    zi = zi_unit[np.newaxis] * ext[:, 0, np.newaxis, np.newaxis]
    sosfilt_inplace(sos, ext, zi)
    rev = np.ascontiguousarray(ext[:, ::-1])
    del ext
    zi = zi_unit[np.newaxis] * rev[:, 0, np.newaxis, np.newaxis]
    sosfilt_inplace(sos, rev, zi)
    return rev[:, pad : pad + n][:, ::-1]


def filtfilt_1d(sos: np.ndarray, xc: np.ndarray, pad: int, zi_unit: np.ndarray | None) -> np.ndarray:
    """:func:`filtfilt_rows` for one channel ``xc`` (n,); float64 (n,) view."""
    return filtfilt_rows(sos, xc[np.newaxis], pad, zi_unit)[0]


def zero_phase_halfwidth(sos: np.ndarray, fs: float) -> int:
    """Samples beyond which the zero-phase kernel of ``sos`` (the impulse response of
    ``|H(f)|^2``) stays below :data:`FFT_KERNEL_TOL` of its peak."""
    sos, fs = as_sos(sos), check_rate(fs)
    nfft = 1 << 16
    while True:
        _, h = signal.sosfreqz(sos, worN=np.fft.rfftfreq(nfft, 1.0 / fs), fs=fs)
        kernel = np.abs(sfft.irfft(np.abs(h) ** 2, n=nfft)[: nfft // 2])
        above = np.flatnonzero(kernel > FFT_KERNEL_TOL * kernel.max())
        if above[-1] < nfft // 4 or nfft >= 1 << 24:
            return int(above[-1]) + 1
        nfft *= 2


def zero_phase_fft_blocks(
    x: np.ndarray,
    sos: np.ndarray,
    fs: float,
    sink: Callable[[int, np.ndarray], None],
    *,
    align: int = 1,
    workers: int | None = None,
) -> None:
    """Zero-phase filtering by FFT overlap-save, block by block, for long recordings.

    Applies the gain ``|H(f)|^2`` of ``sos`` with zero phase (what forward-backward filtering
    converges to away from the edges), truncating its kernel at :data:`FFT_KERNEL_TOL`. Each
    filtered block is handed to ``sink(start, block)``: ``block`` is float32
    ``(m, n_channels)``, rows ``start .. start + m`` of the output, ``m`` a multiple of
    ``align`` except for the last block. Blocks reach ``sink`` from up to ``workers`` threads,
    in no particular order, so ``sink`` must only write its own rows. Within one kernel
    half-width of either end the result depends on the padding (odd reflection here) and
    differs from ``sosfiltfilt``'s; callers that need ``sosfiltfilt`` edges recompute them.

    Parameters
    ----------
    x
        ``(n_samples, n_channels)`` float32 or float64, longer than the kernel half-width.
    sos, fs
        The filter and the sample rate (Hz).
    """
    n = x.shape[0]
    half = zero_phase_halfwidth(sos, fs)
    if n <= half:
        raise ValueError(f"{n} samples is too short for FFT filtering (kernel half-width {half})")
    nfft = sfft.next_fast_len(max(1 << 15, 8 * half), real=True)
    valid = (nfft - 2 * half) // align * align
    _, h = signal.sosfreqz(sos, worN=np.fft.rfftfreq(nfft, 1.0 / fs), fs=fs)
    gain = (np.abs(h) ** 2).astype(np.float32)[:, np.newaxis]
    starts = list(range(0, n, valid))
    # A constant offset (raw ADC counts) is taken out for float32 precision and put back,
    # scaled by the 0 Hz gain, after filtering: exact, since the filter is linear.
    offset = np.array(x[0], dtype=np.float32)

    def run(group: int) -> None:
        for start in starts[group::n_groups]:
            stop = min(start + valid, n)
            lo, hi = start - half, stop + half
            if lo >= 0 and hi <= n:
                seg = np.subtract(x[lo:hi], offset, dtype=np.float32)
            else:
                seg = _odd_padded_rows(x, lo, hi) - offset
            spec = sfft.rfft(seg, n=nfft, axis=0)
            spec *= gain
            block = sfft.irfft(spec, n=nfft, axis=0)[half : half + stop - start]
            if gain[0, 0] != 0.0:
                block += gain[0] * offset
            sink(start, block)

    n_groups = min(len(starts), (os.cpu_count() or 1) if workers is None else max(int(workers), 1))
    map_threads(run, range(n_groups), n_groups, n * x.shape[1])


def _odd_padded_rows(x: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Rows ``lo .. hi`` of ``x`` (``-n < lo``, ``hi < 2n``) as a new float32 array, rows
    outside ``0 .. n`` odd-reflected about the end rows as in ``sosfiltfilt``."""
    n = x.shape[0]
    idx = np.arange(lo, hi)
    inside = np.clip(idx, 0, n - 1)
    seg = x[inside].astype(np.float32)
    before, after = idx < 0, idx >= n
    seg[before] = 2.0 * x[0] - x[np.minimum(-idx[before], n - 1)]
    seg[after] = 2.0 * x[n - 1] - x[np.maximum(2 * (n - 1) - idx[after], 0)]
    return seg


def settle_samples(sos: np.ndarray, period: float) -> int:
    """Samples after which the impulse response of ``sos`` stays below 1e-5 of its peak;
    ``period`` (samples) sets the first probe length, doubled until the response has died out."""
    length = int(40 * period) + 16
    while True:
        h = np.abs(signal.sosfilt(sos, np.r_[1.0, np.zeros(length - 1)]))
        last = int(np.flatnonzero(h > 1e-5 * h.max())[-1]) + 1
        if last < length // 2 or length > 1 << 24:
            return last
        length *= 2


def map_threads(
    func: Callable[[int], _T], items: Sequence[int] | range, workers: int | None, size: int
) -> list[_T]:
    """``[func(i) for i in items]``, on up to ``workers`` threads when ``size`` (samples) is large."""
    n_workers = (os.cpu_count() or 1) if workers is None else int(workers)
    if n_workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    n_workers = min(n_workers, len(items))
    if n_workers <= 1 or size < _THREAD_MIN_SIZE:
        return [func(i) for i in items]
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        return list(pool.map(func, items))


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
