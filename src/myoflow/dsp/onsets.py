"""Muscle onset and offset detection against a resting baseline, batch and streaming.

The method follows Hodges & Bui (1996): a muscle is "on" when its processed signal rises
``h`` standard deviations above the mean of a resting baseline, per channel, and stays there
for a minimum time. Two refinements make the output usable for reps:

* **hysteresis**: the offset threshold ``mean + h_off * sd`` lies at or below the onset
  threshold ``mean + h_on * sd``, so a signal hovering between the two does not chatter;
* **pairing**: the output is a state machine's list of ``(onset, offset)`` intervals, never a
  mix of unpaired crossings.

The state machine, per channel:

* off -> on when the signal is strictly above the on-threshold for ``min_on`` consecutive
  samples; the onset is the first of them;
* on -> off when the signal is strictly below the off-threshold for ``min_off`` consecutive
  samples; the offset is the first of them (so an interval ``[onset, offset)`` excludes its
  offset sample).

A non-finite sample is neither above nor below any threshold: it breaks the run it falls in.

The detection signal is an already processed envelope (rectified and low-passed, a moving RMS,
or a TKEO-conditioned envelope: the pipeline composes those stages). Hodges & Bui's moving
average before thresholding is the envelope's low-pass here, so this module adds no smoothing
of its own. The delay of a causal envelope filter adds to every onset and offset (a 2nd-order
6 Hz Butterworth low-pass delays slowly varying content by ``sqrt(2) / (2 pi 6 Hz) = 37.5 ms``).

The state machine runs as one vectorised scan over each chunk (:mod:`myoflow.dsp._onset_scan`,
which also holds the carried :class:`OnsetState`). The streaming detector carries that state
between chunks, so any chunking gives exactly the batch result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from myoflow._checks import as_signal, check_channels, check_option, check_rate
from myoflow._threads import map_threads
from myoflow.dsp._onset_scan import OnsetState, advance, chunk_runs, scan

__all__ = [
    "MIN_BASELINE_SAMPLES",
    "Baseline",
    "OnsetEvent",
    "OnsetParams",
    "OnsetState",
    "StreamingOnsetDetector",
    "baseline_from",
    "detect_onsets",
]

#: Fewest samples per channel :func:`baseline_from` accepts.
MIN_BASELINE_SAMPLES = 20


@dataclass(frozen=True)
class Baseline:
    """Resting statistics of the detection signal, one value per channel.

    Parameters
    ----------
    mean
        Shape ``(n_channels,)``: mean of the detection signal at rest, in its own unit.
    sd
        Shape ``(n_channels,)``: standard deviation at rest, same unit; every entry positive.
    """

    mean: np.ndarray
    sd: np.ndarray

    def __post_init__(self) -> None:
        mean = np.array(self.mean, dtype=np.float64).reshape(-1)
        sd = np.array(self.sd, dtype=np.float64).reshape(-1)
        if mean.shape != sd.shape or mean.size == 0:
            raise ValueError(
                f"baseline mean and sd must both have shape (n_channels,), got {mean.shape} and {sd.shape}"
            )
        if not np.all(np.isfinite(mean)):
            raise ValueError(f"baseline mean must be finite, got {mean}")
        bad = np.flatnonzero(~(np.isfinite(sd) & (sd > 0)))
        if bad.size:
            raise ValueError(
                f"baseline sd must be positive and finite, got {sd[bad[0]]} for channel {bad[0]}"
            )
        mean.flags.writeable = False
        sd.flags.writeable = False
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "sd", sd)

    @property
    def n_channels(self) -> int:
        """Number of channels of the baseline."""
        return int(self.mean.size)

    def threshold(self, h: float) -> np.ndarray:
        """``mean + h * sd``, shape ``(n_channels,)``, float64."""
        return self.mean + h * self.sd


def baseline_from(signal_segment: np.ndarray) -> Baseline:
    """Baseline statistics of a resting segment of the detection signal.

    Parameters
    ----------
    signal_segment
        Shape ``(n_samples, n_channels)`` (1-D is one channel): the processed detection signal
        while the muscles rest, with at least :data:`MIN_BASELINE_SAMPLES` finite samples per
        channel. Use a stretch after the envelope filter has settled.

    Returns
    -------
    Baseline
        Per-channel mean and (population) standard deviation, float64.

    Raises
    ------
    ValueError
        If the segment is too short, holds non-finite values, or a channel is constant
        (zero SD: a flat or disconnected channel gives no usable threshold).
    """
    seg = as_signal(signal_segment, "signal_segment", dtype=np.float64)
    n = seg.shape[0]
    if n < MIN_BASELINE_SAMPLES:
        raise ValueError(
            f"signal_segment has {n} sample(s) per channel; a baseline needs at least "
            f"{MIN_BASELINE_SAMPLES} resting samples"
        )
    finite = np.isfinite(seg)
    if not finite.all():
        ch = int(np.flatnonzero(~finite.all(axis=0))[0])
        raise ValueError(f"signal_segment holds non-finite values in channel {ch}")
    mean = seg.mean(axis=0)
    sd = seg.std(axis=0)
    flat = np.flatnonzero(~(sd > 0))
    if flat.size:
        raise ValueError(
            f"signal_segment has zero SD in channel {int(flat[0])} (constant value "
            f"{mean[flat[0]]}): a flat channel gives no onset threshold"
        )
    return Baseline(mean=mean, sd=sd)


@dataclass(frozen=True)
class OnsetParams:
    """Thresholds and minimum durations of the onset state machine.

    Parameters
    ----------
    h_on
        Onset threshold in baseline SDs above the baseline mean (Hodges & Bui used 1-3).
    h_off
        Offset threshold in baseline SDs; ``0 <= h_off <= h_on``. Lower than ``h_on`` gives
        hysteresis.
    min_on_s
        Seconds the signal must stay above the on-threshold to count as an onset; also the
        confirmation latency of an onset (see :meth:`min_samples`).
    min_off_s
        Seconds the signal must stay below the off-threshold to count as an offset.
    """

    h_on: float = 3.0
    h_off: float = 1.5
    min_on_s: float = 0.05
    min_off_s: float = 0.05

    def __post_init__(self) -> None:
        for name in ("h_on", "h_off", "min_on_s", "min_off_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise ValueError(f"{name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}")
            object.__setattr__(self, name, float(value))
        if self.h_on <= 0:
            raise ValueError(f"h_on must be a positive number of baseline SDs, got {self.h_on}")
        if not 0 <= self.h_off <= self.h_on:
            raise ValueError(
                f"h_off must lie in [0, h_on] = [0, {self.h_on}] baseline SDs (the offset "
                f"threshold may not exceed the onset threshold), got {self.h_off}"
            )
        for name in ("min_on_s", "min_off_s"):
            value = getattr(self, name)
            if value <= 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {value}")

    def min_samples(self, fs: float) -> tuple[int, int]:
        """``(min_on, min_off)`` in samples at ``fs`` Hz: rounded, at least 1 each."""
        fs = check_rate(fs)
        return max(1, round(self.min_on_s * fs)), max(1, round(self.min_off_s * fs))


@dataclass(frozen=True)
class OnsetEvent:
    """A confirmed onset or offset of one channel.

    Parameters
    ----------
    channel
        Channel index.
    kind
        ``"onset"`` or ``"offset"``.
    sample
        Stream sample index of the onset (first sample above) or offset (first sample below;
        the interval ``[onset, offset)`` excludes it).
    confirmed_at
        Sample index whose arrival confirmed the event: ``sample + min_on - 1`` for an onset,
        ``sample + min_off - 1`` for an offset. An end-of-stream offset from
        :meth:`StreamingOnsetDetector.finish` has ``sample == confirmed_at ==`` the number of
        samples seen.
    truncated
        ``True`` only for an end-of-stream offset that closes a burst still on.
    """

    channel: int
    kind: str
    sample: int
    confirmed_at: int
    truncated: bool = False


def _thresholds(baseline: Baseline, params: OnsetParams, n_channels: int) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(baseline, Baseline):
        raise ValueError(f"baseline must be a Baseline (see baseline_from), got {type(baseline).__name__}")
    if not isinstance(params, OnsetParams):
        raise ValueError(f"params must be an OnsetParams, got {type(params).__name__}")
    if baseline.n_channels != n_channels:
        raise ValueError(f"baseline has {baseline.n_channels} channel(s) but the signal has {n_channels}")
    # float32 like the signal: the comparison then runs in float32 (same result either way
    # except for values between a threshold and its float32 rounding).
    on = baseline.threshold(params.h_on).astype(np.float32)
    off = baseline.threshold(params.h_off).astype(np.float32)
    return on, off


_CHUNK = 1 << 17  # rows per scan step in detect_onsets (cache-sized)


def detect_onsets(
    signal: np.ndarray,
    fs: float,
    baseline: Baseline,
    params: OnsetParams | None = None,
    open_end: str = "close",
) -> list[np.ndarray]:
    """Paired onset/offset intervals of each channel of a detection signal.

    Parameters
    ----------
    signal
        Shape ``(n_samples, n_channels)`` (1-D is one channel): the processed detection
        signal (an envelope), in the unit the baseline was measured in.
    fs
        Sample rate in Hz; converts ``params``' durations to samples.
    baseline
        Resting statistics of the same signal (:func:`baseline_from`).
    params
        Thresholds and minimum durations; defaults to ``OnsetParams()``.
    open_end
        A burst still on after the last sample: ``"close"`` ends it at ``n_samples`` (the
        interval is truncated by the end of the data); ``"drop"`` leaves it out. A burst
        already on at the first sample gets onset 0.

    Returns
    -------
    list of numpy.ndarray
        One int64 array of shape ``(k, 2)`` per channel: rows ``(onset, offset)`` with
        ``onset < offset``, sorted, disjoint (``offset_i < onset_(i+1)``), and
        ``offset - onset >= min_on`` samples.

    Notes
    -----
    Scale invariant: multiplying the signal and the baseline segment by any positive factor
    changes no index (up to ties within float rounding of a threshold).
    """
    fs = check_rate(fs)
    params = OnsetParams() if params is None else params
    check_option(open_end, "open_end", ("close", "drop"))
    x = as_signal(signal, "signal")
    n, n_ch = x.shape
    thr_on, thr_off = _thresholds(baseline, params, n_ch)
    min_on, min_off = params.min_samples(fs)
    state = OnsetState(n_ch)
    # The scan carries its state across chunks exactly (as the streaming detector does), so
    # cache-sized chunks give the same events faster on long recordings; the runs of each chunk
    # need no state and are found on all cores, the state machine then walks them in order.
    starts = range(0, n, _CHUNK)
    runs = map_threads(lambda i: chunk_runs(x[i : i + _CHUNK], thr_on, thr_off), starts)
    parts = [
        advance(state, min(_CHUNK, n - i), *r, min_on, min_off) for i, r in zip(starts, runs, strict=True)
    ]
    parts = parts or [scan(x, thr_on, thr_off, min_on, min_off, state)]  # no samples: no events
    ev_ch = np.concatenate([p[0] for p in parts])
    order = np.argsort(ev_ch, kind="stable")  # by channel; each channel's events stay in time order
    ev_ch = ev_ch[order]
    ev_sample = np.concatenate([p[2] for p in parts])[order]
    out = []
    bounds = np.searchsorted(ev_ch, np.arange(n_ch + 1))
    for c in range(n_ch):
        samples = ev_sample[bounds[c] : bounds[c + 1]]
        if state.on[c]:  # events alternate onset/offset, so an open burst leaves one onset over
            samples = np.r_[samples, n] if open_end == "close" else samples[:-1]
        out.append(samples.reshape(-1, 2))
    return out


class StreamingOnsetDetector:
    """Chunk-by-chunk onset detection that reports exactly what :func:`detect_onsets` finds.

    Each event is reported by the :meth:`process` call whose chunk holds its confirming
    sample: an onset ``min_on - 1`` samples (``(min_on - 1) / fs`` seconds) after the onset
    sample, an offset ``min_off - 1`` samples after the offset sample; with the default
    0.05 s at 2 kHz, 49.5 ms. The envelope filter's own delay comes on top. The
    events of all :meth:`process` calls followed by :meth:`finish` pair up into
    ``detect_onsets(whole_signal, ..., open_end="close")``, whatever the chunking.

    Parameters
    ----------
    fs
        Sample rate in Hz.
    n_channels
        Channels per chunk.
    baseline
        Resting statistics of the detection signal (:func:`baseline_from`).
    params
        Thresholds and minimum durations; defaults to ``OnsetParams()``.

    Attributes
    ----------
    state : OnsetState
        The carried state: samples seen, on/off per channel, lengths of open runs.
    """

    def __init__(
        self, fs: float, n_channels: int, baseline: Baseline, params: OnsetParams | None = None
    ) -> None:
        self.fs = check_rate(fs)
        integral = isinstance(n_channels, (int, np.integer)) and not isinstance(n_channels, bool)
        if not integral or n_channels < 1:
            raise ValueError(f"n_channels must be a positive integer, got {n_channels!r}")
        self.n_channels = int(n_channels)
        self.params = OnsetParams() if params is None else params
        self.baseline = baseline
        self._thr_on, self._thr_off = _thresholds(baseline, self.params, self.n_channels)
        self.min_on, self.min_off = self.params.min_samples(self.fs)
        self.state = OnsetState(self.n_channels)

    @property
    def latency_s(self) -> tuple[float, float]:
        """Confirmation latency ``(onset, offset)`` in seconds, excluding the envelope's delay."""
        return (self.min_on - 1) / self.fs, (self.min_off - 1) / self.fs

    def process(self, chunk: np.ndarray) -> list[OnsetEvent]:
        """Feed the next ``(n, n_channels)`` samples; return the events they confirm.

        Events are ordered by confirming sample, then channel. Cost is O(n) per call.
        """
        x = as_signal(chunk, "chunk")
        check_channels(x, self.n_channels, "StreamingOnsetDetector")
        ev_ch, ev_on, ev_sample, ev_conf = scan(
            x, self._thr_on, self._thr_off, self.min_on, self.min_off, self.state
        )
        order = np.lexsort((ev_ch, ev_conf))
        kinds = np.where(ev_on, "onset", "offset")
        return [OnsetEvent(int(ev_ch[i]), str(kinds[i]), int(ev_sample[i]), int(ev_conf[i])) for i in order]

    def finish(self) -> list[OnsetEvent]:
        """End the stream: close every burst still on with a truncated offset, then reset.

        Returns
        -------
        list of OnsetEvent
            One ``"offset"`` event with ``truncated=True`` and ``sample`` = samples seen, per
            channel still on. Afterwards the detector starts again from sample 0.
        """
        end = self.state.n_seen
        events = [
            OnsetEvent(int(c), "offset", end, end, truncated=True) for c in np.flatnonzero(self.state.on)
        ]
        self.reset()
        return events

    def reset(self) -> None:
        """Forget everything: the next chunk is sample 0 of a new stream, all channels off."""
        self.state = OnsetState(self.n_channels)
