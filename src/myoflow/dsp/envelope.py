"""EMG envelopes and conditioning: rectify + low-pass, moving RMS / MAV, Teager-Kaiser energy.

Every streaming stage reports ``delay_ms``, the lag of its output behind the input, so a live
display can say what delay it shows. Offline functions have zero lag.

Offline speed (:func:`emg_envelope_offline`, measured against ``sosfiltfilt(band) -> abs ->
sosfiltfilt(6 Hz low-pass)``): the band-pass must stay zero-phase (forward-only, the envelope moves
by ~10 % of its peak whatever delay is compensated), but away from the ends forward-backward
filtering is just the gain ``|H(f)|^2``, applied here by FFT overlap-save in float32 blocks
(cost independent of the number of notches). The rectified blocks are averaged over ``D``
samples (``D = floor(fs / (60 * cutoff_hz))``: 5 at 2 kHz), low-passed forward-backward at
``fs / D`` and interpolated back linearly. The first and last few seconds, where the result
depends on how ``sosfiltfilt`` pads the edges, are recomputed at the full rate exactly as it does
and cross-faded in, so the whole envelope matches the reference to ~0.2 % of its peak.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import signal

from myoflow._checks import as_signal, check_positive, check_rate
from myoflow.dsp.design import NotchDesign, bandpass, lowpass
from myoflow.dsp.filters import (
    SosFilter,
    cascade,
    check_chunk,
    default_padlen,
    filtfilt_1d,
    filtfilt_rows,
    map_threads,
    settle_samples,
    zero_phase_fft_blocks,
)

#: The decimated envelope rate is at least this many times the envelope cut-off.
DECIMATED_RATE_PER_CUTOFF = 60.0
_UPSAMPLE_PIECE = 4096  # blocks interpolated at a time (cache-sized)
_SUB_BLOCK = 1 << 16  # moving windows: the running sum is re-synced this often (samples)


class RectifiedEnvelope:
    """Streaming envelope: full-wave rectification, then a causal Butterworth low-pass.

    Parameters
    ----------
    fs
        Sample rate in Hz.
    cutoff_hz
        Low-pass cut-off (-3 dB) in Hz.
    order
        Low-pass order.

    Notes
    -----
    :attr:`delay_ms` is the low-pass group delay at 0 Hz, the lag of slow amplitude changes
    (37.5 ms for the default 6 Hz, 2nd order). The filter starts at the steady state of the
    first rectified sample (see :class:`~myoflow.dsp.filters.SosFilter`).
    """

    def __init__(self, fs: float, cutoff_hz: float = 6.0, order: int = 2):
        self.fs = check_rate(fs)
        self.cutoff_hz = check_positive(cutoff_hz, "cutoff_hz", "Hz")
        self._lowpass = SosFilter(lowpass(self.fs, self.cutoff_hz, order), self.fs, passband=(0.0, 0.0))

    @property
    def delay_ms(self) -> float:
        """Lag of the envelope behind the signal's amplitude, in milliseconds."""
        return self._lowpass.delay_ms

    def reset(self) -> None:
        """Forget the state and the channel count."""
        self._lowpass.reset()

    def process(self, x: np.ndarray) -> np.ndarray:
        """Envelope of one chunk ``(n_samples, n_channels)``; float32, same shape."""
        return self._lowpass.process(np.abs(x))


def rectified_envelope_zero_phase(
    x: np.ndarray, fs: float, cutoff_hz: float = 6.0, order: int = 4, *, workers: int | None = None
) -> np.ndarray:
    """Offline envelope with zero lag: ``|x|`` low-passed forward-backward (Butterworth).

    Matches ``sosfiltfilt(butter(order, cutoff_hz, fs=fs, output="sos"), abs(x), axis=0)``
    (exactly for short signals, to ~0.2 % of the peak on the decimated route for long ones).

    Parameters
    ----------
    x
        ``(n_samples, n_channels)`` (1-D is one channel), already band-passed.
    fs
        Sample rate in Hz.
    cutoff_hz
        Low-pass cut-off in Hz (-3 dB per pass, -6 dB overall).
    order
        Butterworth order.
    workers
        Threads over channels (``None``: all cores for large inputs).

    Returns
    -------
    ``(n_samples, n_channels)`` float32.
    """
    fs = check_rate(fs)
    x = as_signal(x)
    n = x.shape[0]
    plan = _EnvelopePlan(fs, check_positive(cutoff_hz, "cutoff_hz", "Hz"), order, n)
    if not plan.fast:
        return plan.exact(lambda c: np.abs(x[:, c], dtype=np.float64), n, x.shape[1], workers)
    d, nb = plan.decim, n // plan.decim
    rect = np.abs(x)
    means = np.zeros((nb, x.shape[1]), dtype=np.float32)
    _accumulate_block_means(rect[: nb * d], d, means)
    heads = rect[: plan.head].astype(np.float64)
    tails = rect[n - plan.head :].astype(np.float64)
    return plan.assemble(means, heads, tails, n, workers)


def emg_envelope_offline(
    x: np.ndarray,
    fs: float,
    band: tuple[float, float] = (20.0, 450.0),
    notch: NotchDesign | None = None,
    cutoff_hz: float = 6.0,
    *,
    band_order: int = 4,
    envelope_order: int = 4,
    workers: int | None = None,
) -> np.ndarray:
    """Zero-lag EMG envelope of a whole recording: band-pass (+ notches), rectify, low-pass.

    The same result as ``sosfiltfilt(cascade(bandpass, notch)) -> abs -> sosfiltfilt(lowpass)``
    along axis 0 (to ~0.2 % of the envelope peak, edges included), several times faster; see
    the module docstring for how.

    Parameters
    ----------
    x
        ``(n_samples, n_channels)`` raw EMG (1-D is one channel), any offset.
    fs
        Sample rate in Hz.
    band
        Band-pass edges ``(low, high)`` in Hz; must fit below ``fs / 2``.
    notch
        Mains notches from :func:`~myoflow.dsp.design.mains_notch` for the same ``fs``, or ``None``.
    cutoff_hz
        Envelope low-pass cut-off in Hz.
    band_order, envelope_order
        Butterworth orders of the band-pass and of the envelope low-pass.
    workers
        Threads (``None``: all cores for large inputs).

    Returns
    -------
    ``(n_samples, n_channels)`` float32, in the units of ``x``.
    """
    fs = check_rate(fs)
    sos = bandpass(fs, band[0], band[1], band_order)
    if notch is not None:
        if not isinstance(notch, NotchDesign) or notch.fs != fs:
            got = notch.fs if isinstance(notch, NotchDesign) else type(notch).__name__
            raise ValueError(f"notch must be a NotchDesign made for fs={fs:g} Hz, got {got}")
        sos = cascade(sos, notch)
    x = np.asarray(x)
    x = as_signal(x, dtype=np.float64 if x.dtype == np.float64 else np.float32)  # no copy
    n, ch = x.shape
    plan = _EnvelopePlan(fs, check_positive(cutoff_hz, "cutoff_hz", "Hz"), envelope_order, n)
    zi = np.ascontiguousarray(signal.sosfilt_zi(sos))
    settle = settle_samples(sos, fs / band[0])
    if plan.fast and n < 4 * (plan.head + 2 * settle):
        plan.fast = False
    if not plan.fast:
        pad = min(default_padlen(sos), n - 1)
        return plan.exact(lambda c: np.abs(filtfilt_1d(sos, x[:, c], pad, zi)), n, ch, workers)
    # Both ends exactly as sosfiltfilt pads them: the first/last `head` rectified samples,
    # from windows long enough for the backward pass's start-up to have died out.
    span = plan.head + 2 * settle
    pad = default_padlen(sos)
    heads = np.abs(filtfilt_rows(sos, x[:span].T, pad, zi)[:, : plan.head]).T
    tails = np.abs(filtfilt_rows(sos, x[n - span :].T, pad, zi)[:, -plan.head :]).T
    d = plan.decim
    nb = n // d
    means = np.zeros((nb, ch), dtype=np.float32)

    def sink(start: int, block: np.ndarray) -> None:
        stop = min(start + block.shape[0], nb * d)
        if stop > start:
            np.abs(block, out=block)
            _accumulate_block_means(block[: stop - start], d, means[start // d : stop // d])

    zero_phase_fft_blocks(x, sos, fs, sink, align=d, workers=workers)
    return plan.assemble(means, heads, tails, n, workers)


class _EnvelopePlan:
    """Zero-phase low-pass of rectified channels: full rate, or decimated with exact ends.

    Decimated route: block means (``decim`` samples) of the rectified signal are low-passed
    forward-backward at ``fs / decim`` and interpolated back; over the first and last
    ``2 * edge`` samples the full-rate ``sosfiltfilt`` result (from the ``head`` samples at
    each end) is used instead, cross-faded over ``edge`` samples. ``edge`` is the settling
    time of the low-pass.
    """

    def __init__(self, fs: float, cutoff_hz: float, order: int, n: int):
        self.sos = lowpass(fs, cutoff_hz, order)
        self.zi = np.ascontiguousarray(signal.sosfilt_zi(self.sos))
        self.pad = default_padlen(self.sos)
        self.decim = max(1, int(fs // (DECIMATED_RATE_PER_CUTOFF * cutoff_hz)))
        self.edge = settle_samples(self.sos, fs / cutoff_hz)
        self.head = 3 * self.edge
        self.fast = self.decim > 1 and n >= 8 * self.edge
        if self.fast:
            self.sos_d = lowpass(fs / self.decim, cutoff_hz, order)
            self.zi_d = np.ascontiguousarray(signal.sosfilt_zi(self.sos_d))

    def _full_rate(self, r: np.ndarray) -> np.ndarray:
        return filtfilt_1d(self.sos, r, min(self.pad, r.shape[0] - 1), self.zi)

    def exact(
        self, rectified: Callable[[int], np.ndarray], n: int, ch: int, workers: int | None
    ) -> np.ndarray:
        """Full-rate route: ``rectified(c)`` gives channel ``c`` rectified, float64 (n,)."""
        out = np.empty((n, ch), dtype=np.float32)
        if n:
            for c, col in enumerate(
                map_threads(lambda c: self._full_rate(rectified(c)), range(ch), workers, n * ch)
            ):
                out[:, c] = col
        return out

    def assemble(
        self, means: np.ndarray, heads: np.ndarray, tails: np.ndarray, n: int, workers: int | None
    ) -> np.ndarray:
        """The ``(n, n_channels)`` float32 envelope from block means ``(n // decim, ch)`` and the
        rectified first and last :attr:`head` samples ``(head, ch)``."""
        k, ch = self.edge, means.shape[1]
        pad_d = min(self.pad, means.shape[0] - 1)
        groups = np.array_split(np.arange(ch), 2)
        env_d = np.concatenate(
            map_threads(
                lambda g: filtfilt_rows(self.sos_d, means[:, groups[g]].T, pad_d, self.zi_d),
                range(2),
                workers,
                n * ch,
            )
        )
        head = filtfilt_rows(self.sos, heads.T, self.pad, self.zi)[:, : 2 * k].T
        tail = filtfilt_rows(self.sos, tails.T, self.pad, self.zi)[:, -2 * k :].T
        out = np.empty((n, ch), dtype=np.float32)
        _upsample_linear(env_d.T, self.decim, out, workers)
        fade = np.linspace(1.0, 0.0, k, endpoint=False)[:, np.newaxis]
        out[:k] = head[:k]
        out[k : 2 * k] = head[k:] * fade + out[k : 2 * k] * (1.0 - fade)
        out[n - k :] = tail[k:]
        out[n - 2 * k : n - k] = tail[:k] * fade[::-1] + out[n - 2 * k : n - k] * (1.0 - fade[::-1])
        return out


def _accumulate_block_means(r: np.ndarray, d: int, out: np.ndarray) -> None:
    """``out`` (m, ch) = means of consecutive ``d``-row blocks of ``r`` (m*d, ch)."""
    np.copyto(out, r[0::d])
    for j in range(1, d):
        out += r[j::d]
    out *= np.float32(1.0 / d)


def _upsample_linear(env: np.ndarray, d: int, out: np.ndarray, workers: int | None) -> None:
    """Linear interpolation of block means ``env`` (nb, ch), centred at ``k*d + (d-1)/2``, into
    ``out`` (n, ch) float32; held constant before the first and after the last centre."""
    nb, ch = env.shape
    padded = np.concatenate((env[:1], env, env[-1:])).astype(np.float32)  # padded[k+1] = env[k]
    delta = np.diff(padded, axis=0)
    body = out[: nb * d].reshape(nb, d, ch)
    half = (d - 1) / 2.0
    phases = [(1, (j - half) / d) if j >= half else (0, 1.0 + (j - half) / d) for j in range(d)]
    parts = np.linspace(0, nb, 3).astype(int)

    def part(i: int) -> None:  # blocks parts[i]..parts[i+1], in cache-sized pieces
        tmp = np.empty((_UPSAMPLE_PIECE, ch), dtype=np.float32)
        for k0 in range(parts[i], parts[i + 1], _UPSAMPLE_PIECE):
            k1 = min(k0 + _UPSAMPLE_PIECE, parts[i + 1])
            t = tmp[: k1 - k0]
            for j, (start, w) in enumerate(phases):  # the d phases, vectorised over blocks
                np.multiply(delta[start + k0 : start + k1], np.float32(w), out=t)
                np.add(t, padded[start + k0 : start + k1], out=body[k0:k1, j])

    map_threads(part, range(2), workers, out.size)
    out[nb * d :] = env[-1]


class _MovingWindow:
    """Streaming statistic over the last ``window`` samples, O(chunk) per call.

    State: a ring of the last ``window`` values (write position = samples seen mod window) and
    their running sum, float64. Each output is the running sum plus the cumulative sum of
    (entering - leaving) values within the chunk. The running sum is recomputed exactly from the
    ring every :data:`_SUB_BLOCK` samples, so rounding never accumulates over long recordings
    and any chunking agrees with one call to float64 rounding. The first ``window - 1`` outputs
    after a start or :meth:`reset` average over the samples seen so far (1, 2, ... of them).
    """

    _what = "moving window"

    def __init__(self, fs: float, window_s: float):
        self.fs = check_rate(fs)
        window_s = check_positive(window_s, "window_s", "s")
        self.window = int(round(window_s * self.fs))
        if self.window < 1:
            raise ValueError(f"window_s={window_s:g} s is shorter than one sample at fs={self.fs:g} Hz")
        self.reset()

    @property
    def delay_ms(self) -> float:
        """Group delay of the window, ``(window - 1) / 2`` samples, in milliseconds."""
        return (self.window - 1) / 2.0 / self.fs * 1000.0

    def reset(self) -> None:
        """Forget the carried samples and the channel count."""
        self._ring: np.ndarray | None = None  # (window, n_channels) float64
        self._sum: np.ndarray | None = None  # (n_channels,) float64
        self._seen = 0  # samples since the start
        self._since_sync = 0  # samples since the running sum was recomputed from the ring

    def process(self, x: np.ndarray) -> np.ndarray:
        """Statistic for every sample of one chunk ``(n_samples, n_channels)``; float32."""
        x = np.asarray(x)
        if x.ndim == 1:
            x = x[:, np.newaxis]
        if self._ring is None:
            x = as_signal(x)
            self._ring = np.zeros((self.window, x.shape[1]))
            self._sum = np.zeros(x.shape[1])
        elif x.ndim != 2 or x.shape[1] != self._ring.shape[1]:
            check_chunk(x, self._ring.shape[1], self._what)
        out = np.empty(x.shape, dtype=np.float32)
        for start in range(0, x.shape[0], _SUB_BLOCK):
            stop = min(start + _SUB_BLOCK, x.shape[0])
            out[start:stop] = self._finish(self._mean(self._values(x[start:stop])))
        return out

    def _mean(self, v: np.ndarray) -> np.ndarray:
        w, n, ring = self.window, v.shape[0], self._ring
        if self._since_sync >= _SUB_BLOCK:
            self._sum = ring.sum(axis=0)
            self._since_sync = 0
        k = min(n, w)
        pos = self._seen % w  # ring slot of the value leaving at the first sample of v
        first = min(k, w - pos)
        leaving = np.empty_like(v)
        leaving[:first] = ring[pos : pos + first]
        leaving[first:k] = ring[: k - first]
        leaving[k:] = v[: n - k]
        pos = (self._seen + n - k) % w  # the last k values of v go into the ring from here
        first = min(k, w - pos)
        ring[pos : pos + first] = v[n - k : n - k + first]
        ring[: k - first] = v[n - k + first :]
        np.subtract(v, leaving, out=leaving)
        sums = np.cumsum(leaving, axis=0, out=leaving)
        sums += self._sum
        self._sum = sums[-1].copy()
        if self._seen < w:
            sums /= np.minimum(np.arange(self._seen + 1, self._seen + n + 1), w)[:, np.newaxis]
        else:
            sums *= 1.0 / w
        self._seen += n
        self._since_sync += n
        return sums

    def _values(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _finish(self, mean: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class MovingRms(_MovingWindow):
    """Streaming root-mean-square over the last ``window_s`` seconds (``round(window_s*fs)`` samples).

    Parameters
    ----------
    fs
        Sample rate in Hz.
    window_s
        Window length in seconds; :attr:`delay_ms` is half of it.
    """

    _what = "MovingRms"

    def _values(self, x: np.ndarray) -> np.ndarray:
        return np.square(x, dtype=np.float64)

    def _finish(self, mean: np.ndarray) -> np.ndarray:
        return np.sqrt(np.maximum(mean, 0.0, out=mean), out=mean)


class MovingMav(_MovingWindow):
    """Streaming mean absolute value over the last ``window_s`` seconds; see :class:`MovingRms`."""

    _what = "MovingMav"

    def _values(self, x: np.ndarray) -> np.ndarray:
        return np.abs(x, dtype=np.float64)

    def _finish(self, mean: np.ndarray) -> np.ndarray:
        return np.maximum(mean, 0.0, out=mean)


def tkeo(x: np.ndarray) -> np.ndarray:
    """Teager-Kaiser energy ``psi[n] = x[n]^2 - x[n-1] x[n+1]`` along axis 0, zero lag.

    The ends repeat the edge sample (``x[-1] = x[0]``, ``x[N] = x[N-1]``). Input
    ``(n_samples, n_channels)`` (1-D is one channel); output float32, same shape.
    """
    x = as_signal(x)
    if x.shape[0] == 0:
        return x.copy()
    ext = np.concatenate((x[:1], x, x[-1:]))
    return ext[1:-1] * ext[1:-1] - ext[:-2] * ext[2:]


class Tkeo:
    """Streaming Teager-Kaiser energy; the output lags the input by one sample.

    ``psi[n]`` needs ``x[n+1]``, so the output at sample ``m`` is ``psi[m-1]``, with output 0 at
    the very first sample. Hence ``Tkeo(fs).process(x) == concat([0], tkeo(x)[:-1])`` for any
    chunking. :attr:`delay_ms` is one sample.
    """

    def __init__(self, fs: float):
        self.fs = check_rate(fs)
        self.reset()

    @property
    def delay_ms(self) -> float:
        """One sample, in milliseconds."""
        return 1000.0 / self.fs

    def reset(self) -> None:
        """Forget the two carried samples and the channel count."""
        self._last: np.ndarray | None = None  # (2, n_channels): x[m-2], x[m-1]

    def process(self, x: np.ndarray) -> np.ndarray:
        """Energy for one chunk ``(n_samples, n_channels)``; float32, same shape."""
        x = np.asarray(x)
        if x.ndim == 1:
            x = x[:, np.newaxis]
        if self._last is None:
            x = as_signal(x)
            if x.shape[0] == 0:
                return x.copy()
            self._last = np.concatenate((x[:1], x[:1]))
        elif x.ndim != 2 or x.shape[1] != self._last.shape[1]:
            check_chunk(x, self._last.shape[1], "Tkeo")
        ext = np.concatenate((self._last, x), dtype=np.float32)
        self._last = ext[-2:].copy()
        return ext[1:-1] * ext[1:-1] - ext[:-2] * ext[2:]
