"""Fast offline (zero-phase) EMG processing for whole recordings.

:func:`zero_phase_fft` applies a filter's magnitude response with zero phase in the frequency
domain, block by block (overlap-save): a band-pass with a dozen mains notches costs one FFT pair
per block instead of a pass through every section, and memory stays bounded for hour-long files.

``passes`` says which magnitude: ``passes=1`` is ``|H(f)|``, the magnitude of the *live* causal
filter, so an offline envelope equals the live one without its delay (the pipeline's default);
``passes=2`` is ``|H(f)|^2``, what forward-backward filtering (``sosfiltfilt``) applies.

:func:`envelope_zero_phase` rectifies and low-passes at a reduced rate: a ~6 Hz envelope does
not need 2 kHz samples. With ``passes=2`` it matches ``sosfiltfilt(band) -> abs ->
sosfiltfilt(low-pass)`` to well under 1 % of the envelope peak away from the first and last
second (edges are padded differently); ``benchmarks/bench_dsp.py`` measures speed and error.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.fft as sfft
from scipy import signal

from myoflow._checks import as_signal, check_positive, check_rate
from myoflow.dsp._threads import map_threads, thread_count

#: The zero-phase kernel is truncated where it has decayed below this fraction of its peak.
KERNEL_TOLERANCE = 1e-6
#: FFT blocks aim at this many times the kernel's half-width (at least _MIN_BLOCK samples): the
#: overlap then costs ~1/8 of each block; larger blocks fall out of the caches and gain nothing.
_BLOCK_PER_MARGIN = 16
_MIN_BLOCK = 8192


Stages = list[tuple[np.ndarray, int]]


def zero_phase_kernel_halfwidth(sos: np.ndarray, fs: float, passes: int = 2, max_s: float = 10.0) -> int:
    """Samples after which the zero-phase kernel of ``sos`` (impulse response of
    ``|H|^passes``) stays below :data:`KERNEL_TOLERANCE` of its peak; the overlap each block
    needs on each side.
    """
    return _halfwidth([(sos, passes)], check_rate(fs), max_s)


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


def _halfwidth(stages: Stages, fs: float, max_s: float = 10.0) -> int:
    key = tuple((sos.tobytes(), sos.shape, power) for sos, power in stages)
    return _cached_halfwidth(key, fs, max_s)


@functools.lru_cache(maxsize=64)
def _cached_halfwidth(key: tuple, fs: float, max_s: float) -> int:
    n = sfft.next_fast_len(int(2 * max_s * fs), real=True)
    kernel = np.abs(sfft.irfft(_cached_gain(key, fs, n, n // 2 + 1), n=n))[: n // 2]
    above = np.flatnonzero(kernel > KERNEL_TOLERANCE * kernel.max())
    halfwidth = int(above[-1]) + 1 if above.size else 1
    if halfwidth >= n // 2 - 1:
        raise ValueError(
            f"the filter's zero-phase kernel does not decay within {max_s} s at fs={fs} Hz; "
            "its poles are too close to the unit circle for offline FFT filtering"
        )
    return halfwidth


def zero_phase_fft(
    x: np.ndarray,
    fs: float,
    sos: np.ndarray,
    passes: int = 2,
    notch_sos: np.ndarray | None = None,
    workers: int = -1,
) -> np.ndarray:
    """Apply the magnitude response ``|H(f)|^passes`` of ``sos`` with zero phase along axis 0.

    Parameters
    ----------
    x
        Shape ``(n_samples, n_channels)`` (1-D is one channel).
    fs
        Sample rate in Hz.
    sos
        Second-order sections designed for ``fs`` (e.g. a band-pass cascaded with notches).
    passes
        1: the magnitude of one causal pass (as live); 2: forward-backward (as ``sosfiltfilt``).
    notch_sos
        Mains notches, always applied forward-backward (``|H|^2``): one pass's magnitude has a
        kink at the notch frequency, whose kernel decays too slowly to truncate.
    workers
        Blocks filtered at once, one thread each (``-1``: one per core).

    Returns
    -------
    Shape ``(n_samples, n_channels)``, float32. Both ends are extended by odd reflection (as
    ``sosfiltfilt`` does) over the kernel's half-width before filtering.
    """
    x = as_signal(x)
    out = np.empty_like(x)

    def store(start: int, block: np.ndarray) -> None:
        out[start : start + block.shape[0]] = block[:, : out.shape[1]]

    _each_filtered_block(x, check_rate(fs), _stages(sos, passes, notch_sos), 1, 1, workers, store)
    return out


def envelope_zero_phase(
    x: np.ndarray,
    fs: float,
    band_sos: np.ndarray,
    cutoff_hz: float = 6.0,
    order: int = 2,
    passes: int = 1,
    notch_sos: np.ndarray | None = None,
    workers: int = -1,
) -> np.ndarray:
    """Zero-phase EMG envelope: ``x`` band-filtered, rectified, low-passed at ``cutoff_hz``.

    Both filters apply ``|H|^passes`` with zero phase: with ``passes=1`` and the live designs
    (band ``band_sos``, Butterworth low-pass of ``order``) the result is the live envelope
    without its delay; ``passes=2`` reproduces ``sosfiltfilt`` of both. ``notch_sos`` and
    ``workers`` as in :func:`zero_phase_fft`.

    How it saves work, and what that costs in accuracy (measured in ``benchmarks/``):

    * the band-passed signal is produced block by block and is rectified and averaged over
      ``D``-sample blocks at once, never stored at the full rate;
    * when the band's upper edge (where ``|H|^2`` has fallen below 1e-3) is below ``fs / 4``,
      the inverse FFT is taken at half the rate (the spectrum above ``fs / 4`` is ~zero);
    * the Butterworth low-pass runs on the block means at ``fs / D``, with ``fs / D`` near
      40 x ``cutoff_hz``, and is interpolated linearly back to ``fs`` between block centres
      (no delay is added).

    Returns
    -------
    Shape ``(n_samples, n_channels)``, float32, same units as ``x``.
    """
    fs = check_rate(fs)
    cutoff_hz = check_positive(cutoff_hz, "cutoff_hz", "Hz")
    if cutoff_hz >= fs / 2:
        raise ValueError(
            f"envelope cut-off {cutoff_hz} Hz is impossible at fs={fs} Hz: it must be below "
            f"the Nyquist frequency ({fs / 2} Hz)"
        )
    stages = _stages(band_sos, passes, notch_sos)
    x = as_signal(x)
    n, ch = x.shape
    if n == 0:
        return x.copy()
    shrink = 2 if _band_top(stages, fs) < fs / 4 else 1
    factor = max(1, int(fs // (40.0 * cutoff_hz)) // shrink) * shrink
    if n < 4 * factor:
        rectified = np.abs(zero_phase_fft(x, fs, band_sos, passes, notch_sos, workers))
        low = signal.butter(order, cutoff_hz, "lowpass", fs=fs, output="sos")
        return zero_phase_fft(rectified, fs, low, passes, workers=workers)
    sub = factor // shrink  # block length at the reduced inverse-FFT rate
    means = np.empty((-(-n // factor), ch), dtype=np.float32)
    # `sub` consecutive rows of `width` values are one row of `sub * width` values; a matrix
    # product with `sub` stacked identities / sub averages them (far faster than strided adds)
    # and drops a padding column.
    width = ch + ch % 2
    unit = np.eye(width, ch, dtype=np.float32)
    averaging = np.kron(np.full((sub, 1), 1.0 / sub, dtype=np.float32), unit)

    def average(start: int, block: np.ndarray) -> None:
        rect = np.abs(block, out=block)
        full = rect.shape[0] // sub
        k = start // factor
        flat = rect[: full * sub].reshape(full, sub * width)
        _matmul(lambda i, j: flat[i:j], full, averaging, means[k : k + full])
        if rect.shape[0] % sub:
            means[k + full] = rect[full * sub :, :ch].mean(axis=0)

    _each_filtered_block(x, fs, stages, shrink, factor, workers, average)
    low = signal.butter(order, cutoff_hz, "lowpass", fs=fs / factor, output="sos")
    smooth = zero_phase_fft(means, fs / factor, low, passes, workers=workers)
    return _upsample_linear(smooth, factor, n, workers)


def _stages(sos: np.ndarray, passes: int, notch_sos: np.ndarray | None) -> Stages:
    if passes not in (1, 2):
        raise ValueError(f"passes must be 1 (live magnitude) or 2 (forward-backward), got {passes!r}")
    return [(sos, passes)] if notch_sos is None else [(sos, passes), (notch_sos, 2)]


def _each_filtered_block(x, fs, stages, shrink, align, workers, consume) -> None:
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
    margin = _halfwidth(stages, fs)
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
        if shrink > 1:
            spec = _lowest_bins(spec, nfft // shrink)
        flat = spec.view(np.float32)
        np.multiply(flat, gain, out=flat)
        out = sfft.ifft(spec, axis=0, workers=1, overwrite_x=True).view(np.float32)
        consume(start, out[lo : lo + -(-(stop - start) // shrink)])

    map_threads(one, range(0, n, step), workers)


def _block_size(n: int, margin: int, align: int, multiple: int) -> int:
    """FFT length for ``n`` samples in blocks of equal length: about ``_BLOCK_PER_MARGIN x
    margin``, fewer blocks if the data is short; useful length a multiple of ``align``."""
    useful = max(max(_MIN_BLOCK, _BLOCK_PER_MARGIN * margin) - 2 * margin, align)
    blocks = -(-n // useful)
    return _fft_size(-(-n // blocks) + 2 * margin + align, multiple)


def _fft_size(at_least: int, multiple: int) -> int:
    """Smallest 5-smooth FFT length (factors 2, 3, 5 only: pocketfft's factors 7 and 11 are
    markedly slower) >= ``at_least`` that is a multiple of ``multiple``."""
    size = sfft.next_fast_len(at_least, real=True)
    while size % multiple:
        size = sfft.next_fast_len(size + 1, real=True)
    return size


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


def _lowest_bins(spec: np.ndarray, m: int) -> np.ndarray:
    """The ``m``-point two-sided spectrum of the lowest frequencies of ``spec`` (bins
    ``0 .. m/2 - 1`` and ``-(m/2 - 1) .. -1``; the new Nyquist bin is zero)."""
    half = m // 2
    out = np.empty((m, spec.shape[1]), dtype=spec.dtype)
    out[:half] = spec[:half]
    out[half] = 0
    out[half + 1 :] = spec[spec.shape[0] - half + 1 :]
    return out


def _band_top(stages: Stages, fs: float) -> float:
    """Highest frequency (Hz) where the stages' zero-phase gain is still above 1e-3."""
    n_fft = 4096
    gain = _gain(stages, fs, n_fft, n_fft // 2 + 1)
    above = np.flatnonzero(gain > 1e-3)
    return float(above[-1] * fs / n_fft) if above.size else 0.0


def _upsample_linear(slow: np.ndarray, factor: int, n: int, workers: int = 1) -> np.ndarray:
    """Values at block centres ``k * factor + (factor - 1) / 2`` -> ``n`` samples, linear in
    between and constant beyond the first and last centre. Shape ``(n, channels)``, float32;
    ``workers`` threads share the work (``-1``: one per core)."""
    nb, ch = slow.shape
    offset = (factor - 1) / 2.0
    lead = int(np.ceil(offset))  # samples before the first centre
    frac = ((np.arange(factor) + (lead - offset)) / factor).astype(np.float32)
    # One interval between centres = `factor` output rows = one row of factor * ch values:
    # [value, slope] at the interval's first centre times [tiled identities; identities * frac].
    eye = np.eye(ch, dtype=np.float32)
    weights = np.vstack([np.tile(eye, factor), np.kron(frac[None, :], eye)])
    out = np.empty((n, ch), dtype=np.float32)
    out[:lead] = slow[0]
    body = min(nb - 1, max(0, n - lead) // factor)  # whole intervals between centres that fit
    if body:

        def coef(i: int, j: int) -> np.ndarray:  # [value, slope] of intervals i .. j
            return np.hstack([slow[i:j], slow[i + 1 : j + 1] - slow[i:j]])

        _matmul(coef, body, weights, out[lead : lead + body * factor].reshape(body, factor * ch), workers)
    done = lead + body * factor
    if done < n:  # a partial interval, then the last centre's value
        k = min(body, nb - 2) if nb > 1 else 0
        tail = np.arange(done, n) - lead - k * factor
        out[done:] = slow[k] + (slow[k + 1] - slow[k] if nb > 1 else 0) * np.clip(
            ((tail + (lead - offset)) / factor).astype(np.float32)[:, None], 0, None
        )
        beyond = np.arange(done, n) > (nb - 1) * factor + offset
        out[done:][beyond] = slow[-1]
    return out


#: Largest m * k * n of one matrix product that OpenBLAS runs on a single thread (its
#: SMP_THRESHOLD_MIN * GEMM_MULTITHREAD_THRESHOLD); larger products wake its threads, which
#: then compete with the FFT threads for the cores.
_ONE_THREAD_GEMM = 65536 * 4


def _matmul(rows_of, m: int, b: np.ndarray, out: np.ndarray, workers: int = 1) -> None:
    """``out[:] = A @ b`` for the ``m`` rows of ``A`` that ``rows_of(i, j)`` gives (rows
    ``i .. j``, contiguous), spread over ``workers`` threads of our own (``-1``: one per core).

    Each thread's rows go to BLAS as one stacked product of pieces small enough for one BLAS
    thread (NumPy loops over the pieces in C): OpenBLAS's own threads, woken by larger
    products, spin against ours and anyone else's on a shared machine.
    """
    rows = max(1, _ONE_THREAD_GEMM // (out.shape[1] * b.shape[0]))
    pieces = -(-m // rows)
    # a few runs of whole pieces per thread: a thread that loses its core leaves less undone
    span = rows * -(-pieces // (4 * thread_count(workers, pieces)))

    def part(first: int) -> None:
        last = min(first + span, m)
        a, dest = rows_of(first, last), out[first:last]
        whole = (last - first) // rows * rows
        if whole:
            stack = (whole // rows, rows)
            np.matmul(a[:whole].reshape(*stack, a.shape[1]), b, out=dest[:whole].reshape(*stack, b.shape[1]))
        if whole < last - first:
            np.matmul(a[whole:], b, out=dest[whole:])

    map_threads(part, range(0, m, span), workers)


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
