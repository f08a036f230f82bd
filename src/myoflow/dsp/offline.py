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
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.fft as sfft
from scipy import signal

from myoflow._checks import as_signal, check_positive, check_rate

#: The zero-phase kernel is truncated where it has decayed below this fraction of its peak.
KERNEL_TOLERANCE = 1e-5
_BLOCK = 1 << 15


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
    n = sfft.next_fast_len(int(2 * max_s * fs), real=True)
    kernel = np.abs(sfft.irfft(_gain(stages, fs, n, n // 2 + 1), n=n))[: n // 2]
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
        out[start : start + block.shape[0]] = block

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
    # `sub` consecutive rows of `ch` values are one row of `sub * ch` values; a matrix product
    # with `sub` stacked identities / sub averages them (far faster than strided adds).
    averaging = np.kron(np.full((sub, 1), 1.0 / sub, dtype=np.float32), np.eye(ch, dtype=np.float32))

    def average(start: int, block: np.ndarray) -> None:
        rect = np.abs(block, out=block)
        full = rect.shape[0] // sub
        k = start // factor
        _matmul(rect[: full * sub].reshape(full, sub * ch), averaging, means[k : k + full])
        if rect.shape[0] % sub:
            means[k + full] = rect[full * sub :].mean(axis=0)

    _each_filtered_block(x, fs, stages, shrink, factor, workers, average)
    low = signal.butter(order, cutoff_hz, "lowpass", fs=fs / factor, output="sos")
    smooth = zero_phase_fft(means, fs / factor, low, passes, workers=workers)
    return _upsample_linear(smooth, factor, n)


def _stages(sos: np.ndarray, passes: int, notch_sos: np.ndarray | None) -> Stages:
    if passes not in (1, 2):
        raise ValueError(f"passes must be 1 (live magnitude) or 2 (forward-backward), got {passes!r}")
    return [(sos, passes)] if notch_sos is None else [(sos, passes), (notch_sos, 2)]


def _each_filtered_block(x, fs, stages, shrink, align, workers, consume) -> None:
    """Filter ``x`` with the stages' zero-phase response by overlap-save FFTs and call
    ``consume(start, block)`` for each consecutive piece: ``block`` holds samples ``start ..``
    at rate ``fs / shrink`` and every ``start`` is a multiple of ``align``.

    Blocks run on ``workers`` threads at once (``-1``: one per core), each with one-thread FFTs:
    whole blocks in parallel scale better than one block's FFT split over threads, and the
    per-block work in ``consume`` runs in parallel too. ``consume`` must only write rows of its
    own block.
    """
    n = x.shape[0]
    margin = _halfwidth(stages, fs)
    margin += (-margin) % shrink
    nfft = sfft.next_fast_len(max(_BLOCK, 4 * margin) + 2 * margin, real=True)
    nfft += (-nfft) % (2 * shrink)
    step = nfft - 2 * margin
    step -= step % (align * shrink)
    gain = (_gain(stages, fs, nfft, nfft // (2 * shrink) + 1) / shrink).astype(np.float32)[:, np.newaxis]
    if shrink > 1:
        gain[-1] = 0.0  # the new Nyquist bin: drop it rather than fold it

    def one(start: int) -> None:
        stop = min(start + step, n)
        spec = sfft.rfft(_segment(x, start - margin, stop + margin), n=nfft, axis=0, workers=1)
        spec = spec[: gain.shape[0]]
        spec *= gain
        out = sfft.irfft(spec, n=nfft // shrink, axis=0, workers=1)
        lo = margin // shrink
        consume(start, out[lo : lo + -(-(stop - start) // shrink)])

    starts = range(0, n, step)
    threads = min(len(starts), (os.cpu_count() or 1) if workers == -1 else max(1, workers))
    if threads <= 1:
        for start in starts:
            one(start)
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="myoflow-fft") as pool:
        for _ in pool.map(one, starts):  # re-raises the first error of any block
            pass


def _band_top(stages: Stages, fs: float) -> float:
    """Highest frequency (Hz) where the stages' zero-phase gain is still above 1e-3."""
    n_fft = 4096
    gain = _gain(stages, fs, n_fft, n_fft // 2 + 1)
    above = np.flatnonzero(gain > 1e-3)
    return float(above[-1] * fs / n_fft) if above.size else 0.0


def _upsample_linear(slow: np.ndarray, factor: int, n: int) -> np.ndarray:
    """Values at block centres ``k * factor + (factor - 1) / 2`` -> ``n`` samples, linear in
    between and constant beyond the first and last centre. Shape ``(n, channels)``, float32."""
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
        coef = np.hstack([slow[:body], slow[1 : body + 1] - slow[:body]])
        _matmul(coef, weights, out[lead : lead + body * factor].reshape(body, factor * ch))
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


def _matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """``out[:] = a @ b`` in row pieces small enough to stay on one BLAS thread."""
    rows = max(1, _ONE_THREAD_GEMM // (a.shape[1] * b.shape[1]))
    for i in range(0, a.shape[0], rows):
        np.matmul(a[i : i + rows], b, out=out[i : i + rows])


def _segment(x: np.ndarray, a: int, b: int) -> np.ndarray:
    """Rows ``a .. b`` of ``x`` extended beyond its ends by odd reflection (as ``sosfiltfilt``
    pads), constant where the reflection runs out; a view when no extension is needed."""
    n = x.shape[0]
    if a >= 0 and b <= n:
        return x[a:b]
    idx = np.arange(a, b)
    inside = np.clip(idx, 0, n - 1)
    before, after = idx < 0, idx >= n
    mirror = np.where(before, np.minimum(-idx, n - 1), np.where(after, np.maximum(2 * (n - 1) - idx, 0), idx))
    seg = x[inside].copy()
    if before.any():
        seg[before] = 2 * x[0] - x[mirror[before]]
    if after.any():
        seg[after] = 2 * x[-1] - x[mirror[after]]
    return seg
