"""EMG envelopes and conditioning for streams: rectify + low-pass, moving RMS / MAV, Teager-Kaiser.

Every stage carries its state between chunks and reports ``delay_ms``, the lag of its output
behind the input, so a live display can say what delay it shows. Zero-phase (offline) envelopes
of whole recordings are in :mod:`myoflow.dsp.offline`.
"""

from __future__ import annotations

import numpy as np

from myoflow._checks import as_signal, check_positive, check_rate
from myoflow.dsp.design import lowpass
from myoflow.dsp.filters import SosFilter, check_chunk

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
        assert ring is not None  # made by process() before the first _mean
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
