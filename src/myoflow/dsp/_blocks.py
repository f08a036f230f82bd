"""The overlap-save FFT engine behind :mod:`myoflow.dsp.offline`: zero-phase gains, kernel
half-widths, block sizes, and filtering a recording block by block.

Two real channels ride in one complex FFT (see :func:`each_filtered_block`); blocks run on one
thread per core. Inputs are trusted: :mod:`myoflow.dsp.offline` checks them.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.fft as sfft
from scipy import signal

from myoflow._threads import map_threads

#: The zero-phase kernel is truncated where it has decayed below this fraction of its peak.
KERNEL_TOLERANCE = 1e-6
#: FFT blocks aim at this many times the kernel's half-width (at least _MIN_BLOCK samples): the
#: overlap then costs ~1/8 of each block; larger blocks fall out of the caches and gain nothing.
_BLOCK_PER_MARGIN = 16
_MIN_BLOCK = 8192


#: ``[(sos, power), ...]``: a cascade whose zero-phase gain is the product of ``|H_i|^power_i``.
Stages = list[tuple[np.ndarray, int]]


def _gain(stages: Stages, fs: float, n_fft: int, n_bins: int) -> np.ndarray:
    """Product of ``|H_i(f)|^p_i`` over the stages at the first ``n_bins`` bins of an
    ``n_fft``-point real FFT at ``fs`` Hz (cached: recordings reuse a few designs)."""
    key = tuple((sos.tobytes(), sos.shape, power) for sos, power in stages)
    return _cached_gain(key, fs, n_fft, n_bins)


@functools.lru_cache(maxsize=64)
def _cached_gain(key: tuple, fs: float, n_fft: int, n_bins: int) -> np.ndarray:
    freqs = np.fft.rfftfreq(n_fft, 1.0 / fs)[:n_bins]
    gain = np.ones(freqs.size)
    for raw, shape, power in key:
        sos = np.frombuffer(raw, dtype=np.float64).reshape(shape)
        if len(sos):
            _, h = signal.sosfreqz(sos, worN=freqs, fs=fs)
            gain *= np.abs(h) ** power
    gain.setflags(write=False)
    return gain


def halfwidth(stages: Stages, fs: float, max_s: float = 10.0) -> int:
    """Samples after which the stages' zero-phase kernel stays below :data:`KERNEL_TOLERANCE`
    of its peak (cached); ``ValueError`` if it does not decay within ``max_s`` seconds."""
    key = tuple((sos.tobytes(), sos.shape, power) for sos, power in stages)
    return _cached_halfwidth(key, fs, max_s)


@functools.lru_cache(maxsize=64)
def _cached_halfwidth(key: tuple, fs: float, max_s: float) -> int:
    n = sfft.next_fast_len(int(2 * max_s * fs), real=True)
    kernel = np.abs(sfft.irfft(_cached_gain(key, fs, n, n // 2 + 1), n=n))[: n // 2]
    above = np.flatnonzero(kernel > KERNEL_TOLERANCE * kernel.max())
    last = int(above[-1]) + 1 if above.size else 1
    if last >= n // 2 - 1:
        raise ValueError(
            f"the filter's zero-phase kernel does not decay within {max_s} s at fs={fs} Hz; "
            "its poles are too close to the unit circle for offline FFT filtering"
        )
    return last


def each_filtered_block(x, fs, stages, shrink, align, workers, consume) -> None:
    """Filter ``x`` with the stages' zero-phase response by overlap-save FFTs and call
    ``consume(start, block)`` for each consecutive piece: ``block`` ``(rows, width)`` holds
    samples ``start ..`` at rate ``fs / shrink`` in its first ``x.shape[1]`` columns (``width``
    is the channel count rounded up to even; an extra column is padding) and every ``start``
    is a multiple of ``align``.

    Two real channels ride in one complex FFT (channel ``2k`` as the real part, ``2k + 1`` as
    the imaginary part: a float32 ``(n, 2m)`` block *is* a complex64 ``(n, m)`` one). The
    zero-phase gain is real and even, so it filters both parts independently and the inverse
    FFT hands back the filtered channels in place, in their order: no packing, no unpacking,
    and one complex transform costs less than two real ones.

    Blocks run on ``workers`` threads at once (``-1``: one per core), each with one-thread FFTs:
    whole blocks in parallel scale better than one block's FFT split over threads, and the
    per-block work in ``consume`` runs in parallel too. ``consume`` must only write rows of its
    own block.
    """
    n, ch = x.shape
    width = ch + ch % 2
    margin = halfwidth(stages, fs)
    margin += (-margin) % shrink
    nfft = _block_size(n, margin, align * shrink, 2 * shrink)
    step = nfft - 2 * margin
    step -= step % (align * shrink)
    gain = _tiled_gain(stages, fs, nfft, shrink, width)
    lo = margin // shrink

    def one(start: int) -> None:
        stop = min(start + step, n)
        seg, own = _complex_pairs(x, start - margin, start - margin + nfft, stop + margin, width)
        spec = sfft.fft(seg, axis=0, workers=1, overwrite_x=own)
        if np.isfinite(spec[0]).all():
            if shrink > 1:
                spec = _lowest_bins(spec, nfft // shrink)
            flat = spec.view(np.float32)
            np.multiply(flat, gain, out=flat)
            out = sfft.ifft(spec, axis=0, workers=1, overwrite_x=True).view(np.float32)
        else:  # a lost (NaN) sample would spoil its partner channel's block too
            out = _one_channel_per_transform(x, start - margin, stop + margin, nfft, shrink, gain, width)
        consume(start, out[lo : lo + -(-(stop - start) // shrink)])

    map_threads(one, range(0, n, step), workers)


def _block_size(n: int, margin: int, align: int, multiple: int) -> int:
    """FFT length for ``n`` samples in blocks of equal length: about ``_BLOCK_PER_MARGIN x
    margin``, fewer blocks if the data is short; useful length a multiple of ``align``."""
    useful = max(max(_MIN_BLOCK, _BLOCK_PER_MARGIN * margin) - 2 * margin, align)
    blocks = -(-n // useful)
    return _fft_size(-(-n // blocks) + 2 * margin + align, multiple)


def _fft_size(at_least: int, multiple: int) -> int:
    """Smallest FFT length ``2^a x {1, 3, 5}`` >= ``at_least`` that is a multiple of ``multiple``
    (a power of 2): pocketfft is fastest on these (measured on (n, 4) complex64 blocks: 76800 =
    2^10 x 3 x 5^2 cost 7 % more per sample than 81920 = 2^14 x 5; factors 7 and 11 more still)."""
    sizes = []
    for odd in (1, 3, 5):
        size = odd * multiple
        while size < at_least:
            size *= 2
        sizes.append(size)
    return min(sizes)


def _tiled_gain(stages: Stages, fs: float, nfft: int, shrink: int, width: int) -> np.ndarray:
    """The zero-phase gain at the bins of an ``nfft // shrink``-point two-sided spectrum of
    ``nfft``-point frequencies (bin ``k`` and ``-k`` alike; the new Nyquist bin dropped when
    ``shrink > 1`` rather than folded; divided by ``shrink``: the shorter inverse FFT
    normalises by fewer points), repeated for the ``width`` float32 columns of a complex64
    ``(rows, width / 2)`` spectrum: one contiguous multiply instead of a broadcast one."""
    m = nfft // shrink
    one_sided = _gain(stages, fs, nfft, nfft // 2 + 1)
    k = np.arange(m)
    gain = (one_sided[np.minimum(k, m - k)] / shrink).astype(np.float32)
    if shrink > 1:
        gain[m // 2] = 0.0
    return np.repeat(gain[:, np.newaxis], width, axis=1)


def _complex_pairs(x: np.ndarray, a: int, b: int, used: int, width: int) -> tuple[np.ndarray, bool]:
    """Rows ``a .. b`` of float32 ``x`` as complex64 ``(b - a, width / 2)`` (``width``: the
    channel count rounded up to even), and whether that is a copy (``False``: a view of ``x``,
    which must not be overwritten). Only rows ``a .. used`` matter: when a copy is needed they
    are taken as :func:`_segment` extends ``x``, and the rest is zero."""
    n, ch = x.shape
    if a >= 0 and b <= n and ch == width:
        return x[a:b].view(np.complex64), False
    block = np.zeros((b - a, width), dtype=np.float32)
    block[: used - a, :ch] = _segment(x, a, used)
    return block.view(np.complex64), True


def _one_channel_per_transform(
    x: np.ndarray, a: int, used: int, nfft: int, shrink: int, gain: np.ndarray, width: int
) -> np.ndarray:
    """What one block of :func:`each_filtered_block` gives, ``(nfft // shrink, width)``, with
    each channel in a transform of its own (imaginary part zero): for blocks holding NaN or
    infinite samples, which the FFT spreads over the whole block of their column, so that
    they spoil only their own channel, as filtering each channel alone would."""
    ch = x.shape[1]
    block = np.zeros((nfft, ch), dtype=np.complex64)
    block.real[: used - a] = _segment(x, a, used)
    spec = sfft.fft(block, axis=0, workers=1, overwrite_x=True)
    if shrink > 1:
        spec = _lowest_bins(spec, nfft // shrink)
    with np.errstate(invalid="ignore"):  # inf x a zero of the gain: NaN, as it should be
        spec *= gain[:, :1]  # every column of the tiled gain is the same
    out = np.zeros((spec.shape[0], width), dtype=np.float32)
    out[:, :ch] = sfft.ifft(spec, axis=0, workers=1, overwrite_x=True).real
    return out


def _lowest_bins(spec: np.ndarray, m: int) -> np.ndarray:
    """The ``m``-point two-sided spectrum of the lowest frequencies of ``spec`` (bins
    ``0 .. m/2 - 1`` and ``-(m/2 - 1) .. -1``; the new Nyquist bin is zero)."""
    half = m // 2
    out = np.empty((m, spec.shape[1]), dtype=spec.dtype)
    out[:half] = spec[:half]
    out[half] = 0
    out[half + 1 :] = spec[spec.shape[0] - half + 1 :]
    return out


def band_top(stages: Stages, fs: float) -> float:
    """Highest frequency (Hz) where the stages' zero-phase gain is still above 1e-3."""
    n_fft = 4096
    gain = _gain(stages, fs, n_fft, n_fft // 2 + 1)
    above = np.flatnonzero(gain > 1e-3)
    return float(above[-1] * fs / n_fft) if above.size else 0.0


def _segment(x: np.ndarray, a: int, b: int) -> np.ndarray:
    """Rows ``a .. b`` of ``x`` extended beyond its ends by odd reflection (as ``sosfiltfilt``
    pads), constant where the reflection runs out; a view when no extension is needed."""
    n = x.shape[0]
    if a >= 0 and b <= n:
        return x[a:b]
    seg = np.empty((b - a, x.shape[1]), dtype=x.dtype)
    lo, hi = min(max(a, 0), b), max(min(b, n), a)
    seg[lo - a : hi - a] = x[lo:hi]
    if a < lo:  # row i < 0 mirrors row -i about row 0
        rows = np.arange(a, lo)
        seg[: lo - a] = 2 * x[0] - x[np.minimum(-rows, n - 1)]
    if hi < b:  # row i >= n mirrors row 2 (n - 1) - i about row n - 1
        rows = np.arange(hi, b)
        seg[hi - a :] = 2 * x[-1] - x[np.maximum(2 * (n - 1) - rows, 0)]
    return seg
