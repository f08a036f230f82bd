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

import numpy as np
from scipy import signal

from myoflow._checks import as_signal, check_positive, check_rate
from myoflow._threads import map_threads, thread_count
from myoflow.dsp._blocks import KERNEL_TOLERANCE as KERNEL_TOLERANCE  # re-exported: documented here
from myoflow.dsp._blocks import Stages, band_top, each_filtered_block, halfwidth


def zero_phase_kernel_halfwidth(sos: np.ndarray, fs: float, passes: int = 2, max_s: float = 10.0) -> int:
    """Samples after which the zero-phase kernel of ``sos`` (impulse response of
    ``|H|^passes``) stays below :data:`KERNEL_TOLERANCE` of its peak; the overlap each block
    needs on each side.
    """
    return halfwidth([(sos, passes)], check_rate(fs), max_s)


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

    each_filtered_block(x, check_rate(fs), _stages(sos, passes, notch_sos), 1, 1, workers, store)
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
    shrink = 2 if band_top(stages, fs) < fs / 4 else 1
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
        flat, dest = rect[: full * sub].reshape(full, sub * width), means[k : k + full]
        _matmul(lambda i, j: flat[i:j], full, averaging, dest)
        if not np.isfinite(dest).all():  # the product spreads a lost (NaN) sample to all columns
            with np.errstate(invalid="ignore"):
                dest[:] = rect[: full * sub, :ch].reshape(full, sub, ch).mean(axis=1)
        if rect.shape[0] % sub:
            means[k + full] = rect[full * sub :, :ch].mean(axis=0)

    each_filtered_block(x, fs, stages, shrink, factor, workers, average)
    low = signal.butter(order, cutoff_hz, "lowpass", fs=fs / factor, output="sos")
    smooth = zero_phase_fft(means, fs / factor, low, passes, workers=workers)
    return _upsample_linear(smooth, factor, n, workers)


def _stages(sos: np.ndarray, passes: int, notch_sos: np.ndarray | None) -> Stages:
    if passes not in (1, 2):
        raise ValueError(f"passes must be 1 (live magnitude) or 2 (forward-backward), got {passes!r}")
    return [(sos, passes)] if notch_sos is None else [(sos, passes), (notch_sos, 2)]


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
    if body and np.isfinite(slow).all():

        def coef(i: int, j: int) -> np.ndarray:  # [value, slope] of intervals i .. j
            return np.hstack([slow[i:j], slow[i + 1 : j + 1] - slow[i:j]])

        _matmul(coef, body, weights, out[lead : lead + body * factor].reshape(body, factor * ch), workers)
    elif body:  # the product would spread a lost (NaN) value to every channel
        with np.errstate(invalid="ignore"):
            slope = slow[1 : body + 1] - slow[:body]
            dest = out[lead : lead + body * factor].reshape(body, factor, ch)
            np.multiply(slope[:, np.newaxis, :], frac[np.newaxis, :, np.newaxis], out=dest)
            dest += slow[:body, np.newaxis, :]
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
