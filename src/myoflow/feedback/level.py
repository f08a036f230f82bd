"""The feedback level of every EMG channel, live: what the mat bar and the tone follow.

:class:`FeedbackLevels` is a sink (it runs on the ingest's or the replay's thread): each EMG
stream goes through its own :class:`~myoflow.dsp.pipeline.EmgPipeline` (the same band filter
and 6 Hz low-pass as the analysis) and the band-passed signal through
:func:`~myoflow.feedback.envelope.feedback_envelope` (the lower-lag Bayesian estimate).
:meth:`FeedbackLevels.level_pct` gives the newest estimate in the analysis' unit: % of the MVC
reference (:func:`~myoflow.analysis.normalisation.lookup_mvc`, the one look-up every MVC user
calls) or, without one, % of the session peak of the low-pass envelope here.

This is display and sound only. The lanes, reps, verdicts, cues and everything recorded or
analysed offline keep the analysis envelope (:mod:`myoflow.analysis.live` live, the same
pipeline offline); the feedback level never enters them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from myoflow.analysis.normalisation import lookup_mvc
from myoflow.dsp.pipeline import EmgPipeline
from myoflow.feedback.envelope import feedback_envelope
from myoflow.stream import Block, Gap, StreamInfo

__all__ = ["FeedbackLevels"]

_GRID_REFERENCE_UV = 500.0  # centres the Bayesian level grid without an MVC (covers 0.5 uV-1 mV)


class _Stream:
    def __init__(self, info: StreamInfo) -> None:
        self.info = info
        self.pipeline = EmgPipeline(info.rate)
        self.envelope = feedback_envelope(info.rate, _GRID_REFERENCE_UV, channels=info.n_channels)
        self.latest = np.full(info.n_channels, np.nan)
        self.peak = np.zeros(info.n_channels)  # of the low-pass envelope
        self.time = float("nan")


class FeedbackLevels:
    """Newest feedback level of every EMG channel in ``streams`` (module docstring).

    Parameters
    ----------
    streams
        StreamInfos by name (non-EMG streams are ignored).
    """

    def __init__(self, streams: Mapping[str, StreamInfo]) -> None:
        self._lock = threading.Lock()
        self._streams = {name: _Stream(info) for name, info in streams.items() if info.kind == "emg"}
        #: placement (or "<stream>/<channel>") -> (stream name, column)
        self.channels: dict[str, tuple[str, int]] = {}
        for name, s in self._streams.items():
            for j, ch in enumerate(s.info.channels):
                label = s.info.placements[j] if s.info.placements else f"{name}/{ch}"
                self.channels.setdefault(label, (name, j))

    def on_block(self, block: Block) -> None:
        s = self._streams.get(block.stream.name)
        if s is None or not len(block):
            return
        out = s.pipeline.process(np.asarray(block.data, dtype=np.float32))
        level = s.envelope.process(out.filtered)[-1]
        peak = np.fmax(s.peak, np.nanmax(out.envelope, axis=0))
        with self._lock:
            s.latest, s.peak, s.time = level, peak, float(block.times[-1])

    def on_gap(self, gap: Gap) -> None:
        """A gap restarts the stream's filters and estimates (nothing is carried across)."""
        s = self._streams.get(gap.stream.name)
        if s is not None:
            s.pipeline.reset()
            s.envelope.reset()
            with self._lock:
                s.latest = np.full(s.info.n_channels, np.nan)

    def on_event(self, event: Any) -> None:
        """Events do not change the levels."""

    def level_pct(self, muscle: str, mvc: Mapping[str, Any] | None = None) -> float:
        """``muscle``'s newest feedback level in % of its MVC reference (when ``mvc`` has one)
        else in % of the session peak of its low-pass envelope; NaN before data or unknown."""
        where = self.channels.get(muscle)
        if where is None:
            return float("nan")
        name, col = where
        s = self._streams[name]
        with self._lock:
            level, peak = float(s.latest[col]), float(s.peak[col])
        ref = lookup_mvc(mvc, name, s.info.channels[col], muscle) if mvc else None
        ref = ref if ref is not None and ref > 0 else (peak if peak > 0 else None)
        return 100.0 * level / ref if ref is not None and np.isfinite(level) else float("nan")

    def newest_s(self, muscle: str) -> float:
        """Host time of the newest sample behind ``muscle``'s level (NaN before data)."""
        where = self.channels.get(muscle)
        if where is None:
            return float("nan")
        with self._lock:
            return self._streams[where[0]].time
