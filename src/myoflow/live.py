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

import numpy as np

from myoflow._checks import as_signal, check_positive, check_rate
from myoflow.dsp.imu import SagittalTiltFilter, hip_flexion
from myoflow.dsp.normalise import PercentMvc, mvc_reference
from myoflow.dsp.onsets import Baseline, OnsetEvent, OnsetParams, StreamingOnsetDetector, baseline_from
from myoflow.dsp.pipeline import EmgPipeline, EmgProfile


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
