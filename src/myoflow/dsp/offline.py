"""Fast offline (zero-phase) EMG processing for whole recordings.

Forward-backward IIR filtering (``sosfiltfilt``) applies the magnitude response ``|H(f)|^2``
with zero phase. :func:`zero_phase_fft` applies that same response in the frequency domain,
block by block (overlap-save), so a band-pass with a dozen mains notches costs one FFT pair per
block instead of two passes through every section, and memory stays bounded for hour-long files.

:func:`envelope_zero_phase` then rectifies and low-passes at a reduced rate: a ~6 Hz envelope does
not need 2 kHz samples. The result matches ``sosfiltfilt(band) -> abs -> sosfiltfilt(low-pass)``
to well under 1 % of the envelope peak away from the first and last second (edges are padded
differently); ``benchmarks/bench_dsp.py`` measures both the speed and the error.
"""

from __future__ import annotations

import numpy as np
import scipy.fft as sfft
from scipy import signal

from myoflow._checks import as_signal, check_positive, check_rate

#: The zero-phase kernel is truncated where it has decayed below this fraction of its peak.
KERNEL_TOLERANCE = 1e-6
_BLOCK = 1 << 17


def zero_phase_kernel_halfwidth(sos: np.ndarray, fs: float, max_s: float = 10.0) -> int:
    """Samples after which the zero-phase kernel of ``sos`` (impulse response of ``|H|^2``)
    stays below :data:`KERNEL_TOLERANCE` of its peak; the overlap each block needs on each side.
    """
    fs = check_rate(fs)
    n = sfft.next_fast_len(int(2 * max_s * fs), real=True)
    _, h = signal.sosfreqz(sos, worN=np.fft.rfftfreq(n, 1.0 / fs), fs=fs)
    kernel = np.abs(sfft.irfft(np.abs(h) ** 2, n=n))[: n // 2]
    above = np.flatnonzero(kernel > KERNEL_TOLERANCE * kernel.max())
    halfwidth = int(above[-1]) + 1 if above.size else 1
    if halfwidth >= n // 2 - 1:
        raise ValueError(
            f"the filter's zero-phase kernel does not decay within {max_s} s at fs={fs} Hz; "
            "its poles are too close to the unit circle for offline FFT filtering"
        )
    return halfwidth


def zero_phase_fft(x: np.ndarray, fs: float, sos: np.ndarray, workers: int = -1) -> np.ndarray:
    """Apply the zero-phase response ``|H(f)|^2`` of ``sos`` along axis 0.

    Parameters
    ----------
    x
        Shape ``(n_samples, n_channels)`` (1-D is one channel).
    fs
        Sample rate in Hz.
    sos
        Second-order sections designed for ``fs`` (e.g. a band-pass cascaded with notches).
    workers
        Threads for the FFTs (``-1``: all cores).

    Returns
    -------
    Shape ``(n_samples, n_channels)``, float32. Both ends are extended by odd reflection (as
    ``sosfiltfilt`` does) over the kernel's half-width before filtering.
    """
    x = as_signal(x)
    out = np.empty_like(x)
    for start, block in _filtered_blocks(x, check_rate(fs), sos, 1, 1, workers):
        out[start : start + block.shape[0]] = block
    return out


def envelope_zero_phase(
    x: np.ndarray,
    fs: float,
    band_sos: np.ndarray,
    cutoff_hz: float = 6.0,
    order: int = 4,
    workers: int = -1,
) -> np.ndarray:
    """Zero-phase EMG envelope: ``|zero_phase(band_sos)(x)|`` low-passed at ``cutoff_hz``.

    How it saves work, and what that costs in accuracy (measured in ``benchmarks/``):

    * the band-passed signal is produced block by block and is rectified and averaged over
      ``D``-sample blocks at once, never stored at the full rate;
    * when the band's upper edge (where ``|H|^2`` has fallen below 1e-3) is below ``fs / 4``,
      the inverse FFT is taken at half the rate (the spectrum above ``fs / 4`` is ~zero);
    * the Butterworth low-pass of ``order`` (forward and backward) runs on the block means at
      ``fs / D``, with ``fs / D`` near 40 x ``cutoff_hz``, and is interpolated linearly back
      to ``fs`` between block centres (no delay is added).

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
    x = as_signal(x)
    n, ch = x.shape
    if n == 0:
        return x.copy()
    shrink = 2 if _band_top(band_sos, fs) < fs / 4 else 1
    factor = max(1, int(fs // (40.0 * cutoff_hz)) // shrink) * shrink
    if n < 4 * factor:
        rectified = np.abs(zero_phase_fft(x, fs, band_sos, workers))
        sos = signal.butter(order, cutoff_hz, "lowpass", fs=fs, output="sos")
        return _filtfilt(sos, rectified)
    sub = factor // shrink  # block length at the reduced inverse-FFT rate
    means = np.empty((-(-n // factor), ch), dtype=np.float32)
    for start, block in _filtered_blocks(x, fs, band_sos, shrink, factor, workers):
        rect = np.abs(block)
        full = rect.shape[0] // sub
        k = start // factor
        means[k : k + full] = rect[: full * sub].reshape(full, sub, ch).mean(axis=1)
        if rect.shape[0] % sub:
            means[k + full] = rect[full * sub :].mean(axis=0)
    low = signal.butter(order, cutoff_hz, "lowpass", fs=fs / factor, output="sos")
    smooth = _filtfilt(low, means)
    return _upsample_linear(smooth, factor, n)


def _filtfilt(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``sosfiltfilt`` along axis 0, with its edge padding shortened for very short inputs."""
    padlen = min(x.shape[0] - 1, 3 * (2 * len(sos) + 1))
    return signal.sosfiltfilt(sos, x, axis=0, padlen=padlen).astype(np.float32)


def _filtered_blocks(x, fs, sos, shrink, align, workers):
    """Yield ``(start, block)``: consecutive pieces of ``x`` filtered with ``|H|^2``, by
    overlap-save FFTs. ``block`` holds samples ``start ..`` at rate ``fs / shrink``; every
    ``start`` is a multiple of ``align``."""
    n = x.shape[0]
    margin = zero_phase_kernel_halfwidth(sos, fs)
    margin += (-margin) % shrink
    padded = _odd_extend(x, margin)
    nfft = sfft.next_fast_len(max(_BLOCK, 4 * margin) + 2 * margin, real=True)
    nfft += (-nfft) % (2 * shrink)
    step = nfft - 2 * margin
    step -= step % (align * shrink)
    freqs = np.fft.rfftfreq(nfft, 1.0 / fs)[: nfft // (2 * shrink) + 1]
    _, h = signal.sosfreqz(sos, worN=freqs, fs=fs)
    gain = (np.abs(h) ** 2 / shrink).astype(np.float32)[:, np.newaxis]
    if shrink > 1:
        gain[-1] = 0.0  # the new Nyquist bin: drop it rather than fold it
    for start in range(0, n, step):
        stop = min(start + step, n)
        spec = sfft.rfft(padded[start : stop + 2 * margin], n=nfft, axis=0, workers=workers)
        spec = spec[: gain.shape[0]]
        spec *= gain
        out = sfft.irfft(spec, n=nfft // shrink, axis=0, workers=workers)
        lo = margin // shrink
        yield start, out[lo : lo + -(-(stop - start) // shrink)]


def _band_top(sos: np.ndarray, fs: float) -> float:
    """Highest frequency (Hz) where ``|H|^2`` of ``sos`` is still above 1e-3."""
    freqs = np.linspace(0.0, fs / 2, 2049)
    _, h = signal.sosfreqz(sos, worN=freqs, fs=fs)
    above = np.flatnonzero(np.abs(h) ** 2 > 1e-3)
    return float(freqs[above[-1]]) if above.size else 0.0


def _upsample_linear(slow: np.ndarray, factor: int, n: int) -> np.ndarray:
    """Values at block centres ``k * factor + (factor - 1) / 2`` -> ``n`` samples, linear in
    between and constant beyond the first and last centre. Shape ``(n, channels)``, float32."""
    nb, ch = slow.shape
    offset = (factor - 1) / 2.0
    lead = int(np.ceil(offset))  # samples before the first centre
    frac = ((np.arange(factor) + (lead - offset)) / factor).astype(np.float32)[None, :, None]
    slope = np.diff(slow, axis=0)[:, None, :]
    middle = (slow[:-1, None, :] + slope * frac).reshape(-1, ch)
    out = np.empty((n, ch), dtype=np.float32)
    out[:lead] = slow[0]
    body = middle[: max(0, n - lead)]
    out[lead : lead + body.shape[0]] = body
    out[lead + body.shape[0] :] = slow[-1]
    return out


def _odd_extend(x: np.ndarray, width: int) -> np.ndarray:
    """Extend both ends of ``x`` (axis 0) by ``width`` samples of odd reflection (width capped
    at the signal's length - 1; the rest is constant)."""
    n = x.shape[0]
    w = min(width, n - 1)
    left = 2 * x[0] - x[w:0:-1]
    right = 2 * x[-1] - x[-2 : -w - 2 : -1]
    first = left[:1] if w else x[:1]
    last = right[-1:] if w else x[-1:]
    parts = [np.repeat(first, width - w, axis=0), left, x, right, np.repeat(last, width - w, axis=0)]
    return np.concatenate(parts, axis=0)
