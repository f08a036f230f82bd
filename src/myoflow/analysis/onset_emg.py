"""The raw EMG the ``changepoint`` onset method reads, and the one call both live and offline make.

The ``changepoint`` onset (:func:`myoflow.dsp.onset_raw.refine_onset_raw`) moves each threshold
detection of the analysis envelope back to where the variance of the EMG itself left rest. It
needs the raw samples around the detection: offline from the recording, live from a buffer of
the stream's raw samples (:class:`RawHistory`). :func:`changepoint_onset` is the only place
either path turns a detection time into an onset, so the two give the same number from the
same samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from myoflow._checks import check_rate
from myoflow.dsp.onset_raw import RawRefineParams, refine_onsets_raw, refine_sos

#: Detection and earliest times are taken on this grid (Hz) of the clock (the live grid's rate).
GRID_HZ = 100.0
#: Raw EMG needed before a rep window's start (s): the fit's look-back and filter settling.
RAW_LEAD_S = RawRefineParams().lookback_s + RawRefineParams().settle_s


@dataclass(frozen=True)
class RawEmg:
    """Raw EMG of the analysed muscles: ``samples`` ``(n, ch)`` (uV, NaN where lost or where a
    muscle has no raw channel), rate ``fs`` (Hz), sample 0 at ``t0`` (s, the analysis clock);
    ``mains_hz`` for the refinement's notches (:func:`myoflow.dsp.onset_raw.refine_sos`)."""

    samples: np.ndarray
    fs: float
    t0: float
    mains_hz: float | None = 50.0

    def __post_init__(self) -> None:
        check_rate(self.fs)
        if np.ndim(self.samples) != 2:
            raise ValueError(f"raw EMG must be (n_samples, n_channels); got shape {np.shape(self.samples)}")

    def window(self, begin_s: float, end_s: float) -> RawEmg:
        """The samples from ``begin_s - RAW_LEAD_S`` to ``end_s`` (s), as a new :class:`RawEmg`."""
        n = self.samples.shape[0]
        i0 = int(np.clip(np.floor((begin_s - RAW_LEAD_S - self.t0) * self.fs), 0, n))
        i1 = int(np.clip(np.ceil((end_s - self.t0) * self.fs) + 1, i0, n))
        return RawEmg(self.samples[i0:i1], self.fs, self.t0 + i0 / self.fs, self.mains_hz)

    def has(self, c: int) -> bool:
        """Whether muscle column ``c`` holds any raw sample."""
        return bool(np.isfinite(self.samples[:, c]).any())


def changepoint_onset(
    raw: RawEmg, c: int, detected_s: float, earliest_s: float
) -> tuple[float, float | None]:
    """Onset (s, the analysis clock) of muscle column ``c`` refined from a threshold detection at
    ``detected_s``, never before ``earliest_s``, and its uncertainty (ms, None when the fit
    could not run: then the onset is the detection)."""
    at, unc = changepoint_onsets(raw, c, np.array([detected_s]), np.array([earliest_s]))
    return float(at[0]), (None if np.isnan(unc[0]) else float(unc[0]))


def changepoint_onsets(
    raw: RawEmg, c: int, detected_s: np.ndarray, earliest_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`changepoint_onset` of every detection of muscle column ``c`` in one call
    (:func:`myoflow.dsp.onset_raw.refine_onsets_raw`): ``detected_s`` and ``earliest_s`` ``(k,)``
    (s); returns onsets (s) and uncertainties (ms, NaN where the fit could not run: there the
    onset is the detection), both ``(k,)``, the same numbers as one call per detection."""
    # on a 10 ms grid of the clock (the live analysis grid): live detections (on that grid) and
    # offline ones (at the EMG rate) in the same cell give the same window, hence the same onset
    det_s = np.ceil(np.asarray(detected_s, dtype=np.float64).reshape(-1) * GRID_HZ - 1e-6) / GRID_HZ
    ear_s = np.ceil(np.asarray(earliest_s, dtype=np.float64).reshape(-1) * GRID_HZ - 1e-6) / GRID_HZ
    det = np.rint((det_s - raw.t0) * raw.fs).astype(np.int64)
    earliest = np.maximum(0, np.rint((ear_s - raw.t0) * raw.fs).astype(np.int64))
    onsets, unc_ms = det_s.copy(), np.full(det_s.size, np.nan)
    inside = np.flatnonzero((det >= 0) & (det < raw.samples.shape[0]))
    if inside.size:
        sos = refine_sos(raw.fs, raw.mains_hz)
        at, unc = refine_onsets_raw(raw.samples[:, c], raw.fs, det[inside], sos, earliest[inside])
        fitted = np.isfinite(unc)
        onsets[inside[fitted]] = raw.t0 + at[fitted] / raw.fs
        unc_ms[inside[fitted]] = unc[fitted] * 1000.0
    return onsets, unc_ms


class RawHistory:
    """The last ``seconds`` of one EMG stream's raw samples, placed by their times (live).

    Sample ``k`` of the stream (counted from its first sample at the nominal ``fs``) is kept at
    position ``k``; samples lost in a gap stay NaN. :meth:`read` gives a :class:`RawEmg` window
    on the same clock as the samples' times.
    """

    def __init__(self, fs: float, n_channels: int, seconds: float = 30.0) -> None:
        self.fs = check_rate(fs)
        self._cap = int(np.ceil(seconds * self.fs))
        self._buf = np.full((self._cap, n_channels), np.nan, dtype=np.float32)
        self._t_first: float | None = None
        self._end = 0  # one past the newest sample index written

    def write(self, times: np.ndarray, data: np.ndarray) -> None:
        """Store a block's samples ``(n, ch)`` with their times ``(n,)`` (s)."""
        if len(times) == 0:
            return
        if self._t_first is None:
            self._t_first = float(times[0])
        idx = np.rint((np.asarray(times, dtype=np.float64) - self._t_first) * self.fs).astype(np.int64)
        top = int(idx.max()) + 1
        if top > self._end:  # positions newly entering the ring are cleared first
            fresh = np.arange(max(self._end, top - self._cap), top)
            self._buf[fresh % self._cap] = np.nan
            self._end = top
        keep = idx >= self._end - self._cap
        self._buf[idx[keep] % self._cap] = np.asarray(data, dtype=np.float32)[keep]

    @property
    def first_s(self) -> float | None:
        """Time (s) of the stream's first sample, None before any."""
        return self._t_first

    def read(self, begin_s: float, end_s: float, mains_hz: float | None) -> RawEmg | None:
        """The samples from ``begin_s - RAW_LEAD_S`` to ``end_s`` (NaN where not kept), or None
        before any sample arrived."""
        if self._t_first is None:
            return None
        i0 = int(np.floor((begin_s - RAW_LEAD_S - self._t_first) * self.fs))
        i1 = int(np.ceil((end_s - self._t_first) * self.fs)) + 1
        i0 = max(i0, 0)
        idx = np.arange(i0, max(i0, i1))
        out = np.full((idx.size, self._buf.shape[1]), np.nan, dtype=np.float32)
        kept = (idx < self._end) & (idx >= self._end - self._cap)
        out[kept] = self._buf[idx[kept] % self._cap]
        return RawEmg(out, self.fs, self._t_first + i0 / self.fs, mains_hz)
