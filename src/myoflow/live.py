"""Live processing of one session's EMG and IMU streams, chunk by chunk as they arrive.

The same code serves the demo, the BLE ingest and replayed recordings: each call takes the
samples that just arrived and returns what they confirm. Results accumulate for the summary at
the end (the dashboard reads them through ring buffers instead).

Steps per EMG chunk: :class:`~myoflow.dsp.pipeline.EmgPipeline` (band filter, notches,
envelope), % MVC normalisation, and, once ``baseline_s`` of rest has been seen, streaming onset
detection against that baseline. Per IMU chunk: a sagittal complementary filter per segment;
the hip flexion angle is thigh minus pelvis.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from myoflow._checks import as_signal, check_option, check_positive, check_rate
from myoflow.dsp.imu import SagittalTiltFilter, hip_flexion
from myoflow.dsp.normalise import PercentMvc, mvc_reference
from myoflow.dsp.onsets import Baseline, OnsetEvent, OnsetParams, StreamingOnsetDetector, baseline_from
from myoflow.dsp.pipeline import EmgPipeline, EmgProfile, profile_for_rate
from myoflow.stream import Block, Event, Gap


def calibrate_mvc(
    emg: np.ndarray, fs: float, profile: EmgProfile | None = None, window_s: float = 0.5
) -> np.ndarray:
    """MVC reference per channel (same envelope units as live) from a calibration recording
    ``(n_samples, n_channels)``: peak of the ``window_s`` moving average of the live envelope."""
    envelope = EmgPipeline(fs, profile).process(emg).envelope
    return mvc_reference(envelope, fs, window_s=window_s)


class _Growing:
    """Append-only store of ``(n, ch)`` chunks, concatenated when read."""

    def __init__(self) -> None:
        self._parts: list[np.ndarray] = []

    def append(self, x: np.ndarray) -> None:
        self._parts.append(x)

    def array(self) -> np.ndarray:
        if len(self._parts) > 1:
            self._parts = [np.concatenate(self._parts)]
        return self._parts[0] if self._parts else np.empty((0, 0), dtype=np.float32)

    def __len__(self) -> int:
        return sum(p.shape[0] for p in self._parts)


class LiveProcessor:
    """Processes a session's EMG and IMU chunks as they arrive.

    Parameters
    ----------
    emg_fs
        EMG sample rate in Hz.
    placements
        Muscle per EMG channel.
    mvc
        MVC reference per channel in envelope units (:func:`calibrate_mvc`).
    imu_fs
        IMU sample rate in Hz (pelvis and thigh sampled together).
    profile
        EMG profile; default from the rate.
    baseline_s
        Seconds of rest at the start used as the onset baseline.
    onset_params
        Onset thresholds and minimum durations.
    """

    def __init__(
        self,
        emg_fs: float,
        placements: tuple[str, ...],
        mvc: np.ndarray,
        imu_fs: float,
        profile: EmgProfile | None = None,
        baseline_s: float = 2.0,
        onset_params: OnsetParams | None = None,
    ) -> None:
        self.emg_fs = check_rate(emg_fs, "emg_fs")
        self.imu_fs = check_rate(imu_fs, "imu_fs")
        self.placements = tuple(placements)
        self.pipeline = EmgPipeline(self.emg_fs, profile)
        self.percent = PercentMvc(mvc, channel_labels=self.placements)
        self.baseline_samples = int(check_positive(baseline_s, "baseline_s", "s") * self.emg_fs)
        self.onset_params = onset_params or OnsetParams()
        self.baseline: Baseline | None = None
        self.detector: StreamingOnsetDetector | None = None
        self.events: list[OnsetEvent] = []
        self._pct = _Growing()
        self._tilt = {seg: SagittalTiltFilter(self.imu_fs) for seg in ("pelvis", "thigh")}
        self._phi = {seg: _Growing() for seg in self._tilt}

    @property
    def delay_ms(self) -> float:
        """Delay of the live envelope behind the muscle, in ms."""
        return self.pipeline.delay_ms

    def feed_emg(self, chunk: np.ndarray) -> list[OnsetEvent]:
        """Process raw EMG ``(n, n_channels)``; return the onsets/offsets it confirms."""
        pct = self.percent(self.pipeline.process(chunk).envelope)
        self._pct.append(pct)
        if self.detector is not None:
            new = self.detector.process(pct)
        elif len(self._pct) >= self.baseline_samples:
            seen = self._pct.array()
            skip = self.baseline_samples // 4  # let the filters settle before measuring rest
            self.baseline = baseline_from(seen[skip : self.baseline_samples])
            self.detector = StreamingOnsetDetector(
                self.emg_fs, pct.shape[1], self.baseline, self.onset_params
            )
            new = self.detector.process(seen)
        else:
            new = []
        self.events.extend(new)
        return new

    def feed_imu(self, segment: str, acc: np.ndarray, gyro: np.ndarray) -> None:
        """Process one segment's accelerometer (g) and gyro (deg/s) chunk, each ``(n, 3)``."""
        if segment not in self._tilt:
            raise ValueError(f"unknown IMU segment {segment!r}; expected one of {sorted(self._tilt)}")
        self._phi[segment].append(self._tilt[segment].process(as_signal(acc, "acc"), as_signal(gyro, "gyro")))

    def envelope_pct(self) -> np.ndarray:
        """Every envelope sample so far, ``(n, n_channels)`` in % MVC."""
        return self._pct.array()

    def hip_angle(self) -> np.ndarray:
        """Hip flexion angle so far, ``(n,)`` degrees (samples both segments have reached)."""
        pelvis, thigh = self._phi["pelvis"].array().ravel(), self._phi["thigh"].array().ravel()
        n = min(pelvis.size, thigh.size)
        return hip_flexion(thigh[:n], pelvis[:n])

    def onset_intervals(self) -> list[np.ndarray]:
        """Per channel, ``(k, 2)`` confirmed onset/offset sample indices (offset -1 while on)."""
        per_channel: list[list[list[int]]] = [[] for _ in self.placements]
        for ev in self.events:
            if ev.kind == "onset":
                per_channel[ev.channel].append([ev.sample, -1])
            elif per_channel[ev.channel]:
                per_channel[ev.channel][-1][1] = ev.sample
        return [np.array(p, dtype=np.int64).reshape(-1, 2) for p in per_channel]

    def rest_threshold_pct(self) -> np.ndarray:
        """Rest threshold per channel in % MVC: max(0.5 % MVC, baseline mean + 3 SD)."""
        if self.baseline is None:
            raise ValueError(
                f"no rest baseline yet: the first {self.baseline_samples / self.emg_fs:.1f} s "
                "of EMG at rest are needed"
            )
        return np.maximum(0.5, self.baseline.mean + 3.0 * self.baseline.sd)


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
                ref = self.mvc.get(place or "", self.mvc.get(label))
                ok = isinstance(ref, (int, float)) and ref > 0
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
