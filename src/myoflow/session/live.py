"""Live signal-core helpers shared by the demo, the recorder, the dashboard and replay.

* :func:`calibrate_mvc`: MVC references from a calibration contraction, in the units of the
  live envelope (defined in :mod:`myoflow.analysis.normalisation`, re-exported here).
* :class:`EnvelopeSummary`: a sink that runs every EMG stream through the live signal core and
  keeps a running summary (``myoflow replay`` prints it).

Per-rep live analytics are :class:`myoflow.analysis.live.LiveAnalysis`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from myoflow._checks import check_option
from myoflow.analysis.normalisation import calibrate_mvc, lookup_mvc
from myoflow.dsp.pipeline import EmgPipeline, profile_for_rate
from myoflow.stream import Block, Event, Gap

__all__ = ["EnvelopeSummary", "calibrate_mvc"]


class EnvelopeSummary:
    """A replay sink that runs every EMG stream through the live signal core and summarises it.

    Each EMG stream gets its own :class:`~myoflow.dsp.pipeline.EmgPipeline` (the profile for
    its rate, ``mains_hz`` notches); after a gap the pipeline restarts, as live processing
    does, since filtering across missing samples would invent signal. Per channel it keeps the
    running mean and the peak of the envelope (in the stream's unit) and when the peak
    happened: memory does not grow with the recording.

    Parameters
    ----------
    mains_hz
        50 or 60 (Hz) mains notches, or None.
    mvc
        Optional MVC reference (envelope units) by placement or channel label: the summary
        then also gives mean and peak in % MVC.
    """

    def __init__(self, mains_hz: float | None = 50.0, mvc: dict[str, float] | None = None) -> None:
        self.mains_hz = check_option(mains_hz, "mains_hz", (50, 60, None))
        self.mvc = dict(mvc or {})
        self._pipes: dict[str, EmgPipeline] = {}
        self._acc: dict[str, dict[str, Any]] = {}

    def on_block(self, block: Block) -> None:
        """Filter an EMG block (other kinds are ignored) and update its channels' summary."""
        info = block.stream
        if info.kind != "emg":
            return
        pipe = self._pipes.get(info.name)
        if pipe is None:
            try:
                pipe = EmgPipeline(info.rate, profile_for_rate(info.rate, self.mains_hz))
            except ValueError as exc:
                raise ValueError(f"EMG stream {info.name!r} cannot be processed live: {exc}") from None
            self._pipes[info.name] = pipe
            n = info.n_channels
            self._acc[info.name] = {
                "n": 0,
                "sum": np.zeros(n),
                "peak": np.full(n, -np.inf),
                "peak_t": np.zeros(n),
                "info": info,
            }
        env = pipe.process(block.data).envelope
        a = self._acc[info.name]
        a["n"] += env.shape[0]
        a["sum"] += env.sum(axis=0, dtype=np.float64)
        i = np.argmax(env, axis=0)
        top = env[i, np.arange(env.shape[1])]
        better = top > a["peak"]
        a["peak"] = np.where(better, top, a["peak"])
        a["peak_t"] = np.where(better, block.times[i], a["peak_t"])

    def on_gap(self, gap: Gap) -> None:
        """Restart the stream's pipeline: the next block starts afresh."""
        pipe = self._pipes.get(gap.stream.name)
        if pipe is not None:
            pipe.reset()

    def on_event(self, event: Event) -> None:
        """Events do not change the envelope."""

    def summary(self) -> dict[str, list[dict[str, Any]]]:
        """Per EMG stream, per channel: ``channel``, ``placement``, ``unit``, ``mean``, ``peak``,
        ``peak_time_s`` (host clock), and ``mean_pct_mvc``/``peak_pct_mvc`` when an MVC
        reference is known (else None)."""
        out: dict[str, list[dict[str, Any]]] = {}
        for name, a in self._acc.items():
            info = a["info"]
            rows = []
            for c, label in enumerate(info.channels):
                place = info.placements[c] if info.placements else None
                mean = float(a["sum"][c] / a["n"]) if a["n"] else math.nan
                peak = float(a["peak"][c])
                ref = lookup_mvc(self.mvc, info.name, label, place)
                ok = ref is not None
                rows.append(
                    {
                        "channel": label,
                        "placement": place,
                        "unit": info.unit,
                        "mean": mean,
                        "peak": peak,
                        "peak_time_s": float(a["peak_t"][c]),
                        "mean_pct_mvc": 100 * mean / ref if ok else None,
                        "peak_pct_mvc": 100 * peak / ref if ok else None,
                    }
                )
            out[name] = rows
        return out

    @property
    def delay_ms(self) -> dict[str, float]:
        """Live envelope delay per EMG stream, ms."""
        return {name: p.delay_ms for name, p in self._pipes.items()}
