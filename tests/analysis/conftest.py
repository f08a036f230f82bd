"""Synthetic sessions run through the offline metric core, and their comparison with truth.

The generator's truth is read here, in the tests only; ``myoflow.analysis`` never sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from myoflow.analysis.reps import movement_angle
from myoflow.analysis.session_metrics import SessionMetrics, analyse_arrays
from myoflow.dsp.imu import SagittalTiltFilter
from myoflow.dsp.normalise import mvc_reference
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.synth.calibration import mvc_trial
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import SyntheticSession, generate_session


def run_synthetic(
    cfg: SessionConfig, scale: float = 1.0, calibrate: bool = True, **kwargs: object
) -> tuple[SyntheticSession, SessionMetrics]:
    """Generate ``cfg``, compute zero-phase envelopes, the IMU angle and every metric."""
    session = generate_session(cfg)
    fs = cfg.emg_rate
    profile = profile_for_rate(fs, cfg.hum_hz)
    env = envelope_offline(session.emg * np.float32(scale), fs, profile)
    mvc = None
    if calibrate:
        mvc = mvc_reference(envelope_offline(mvc_trial(cfg).emg * np.float32(scale), fs, profile), fs)
    phi = {
        seg: SagittalTiltFilter(cfg.imu_rate).process(acc, gyro) for seg, (acc, gyro) in session.imu.items()
    }
    movement = movement_angle(phi.get("pelvis"), phi.get("thigh")) if phi else None
    metrics = analyse_arrays(env, fs, session.placements, mvc, movement, cfg.imu_rate, **kwargs)
    return session, metrics


@dataclass
class Comparison:
    """Detected versus true, over one or more sessions."""

    sessions: int = 0
    count_errors: list[tuple[int, int]] = field(default_factory=list)
    onset_ms: list[float] = field(default_factory=list)
    verdicts: list[bool] = field(default_factory=list)
    crossover_ms: list[float] = field(default_factory=list)
    crossover_deg: list[float] = field(default_factory=list)
    crossover_exists: list[bool] = field(default_factory=list)
    stall_agrees: list[bool] = field(default_factory=list)
    partial_agrees: list[bool] = field(default_factory=list)
    set_agrees: list[bool] = field(default_factory=list)

    def add(self, session: SyntheticSession, metrics: SessionMetrics) -> None:
        self.sessions += 1
        if len(metrics.results) != len(session.truth):
            self.count_errors.append((len(metrics.results), len(session.truth)))
            return
        hip_mode = metrics.context.mode == "hip"
        for res, truth in zip(metrics.results, session.truth, strict=True):
            for name in session.placements:
                true_onset, onset = truth.muscles[name].onset_s, res.muscles[name].onset_ms
                if true_onset is not None and onset is not None:
                    self.onset_ms.append((res.start_s + onset / 1000.0 - true_onset) * 1000.0)
                self.verdicts.append(res.relaxation[name].relaxed == truth.muscles[name].relaxed)
            self.set_agrees.append(res.set_index == truth.set_index)
            h = res.handover
            if h is None:
                continue
            self.crossover_exists.append((h.crossover_s is None) == (truth.crossover_s is None))
            if h.crossover_s is not None and truth.crossover_s is not None:
                self.crossover_ms.append((h.crossover_s - truth.crossover_s) * 1000.0)
                if hip_mode and h.crossover_hip_deg is not None:
                    self.crossover_deg.append(h.crossover_hip_deg - truth.crossover_hip_deg)
            if metrics.context.mode != "emg":
                self.stall_agrees.append((h.stall is not None) == truth.stall)
                self.partial_agrees.append(res.partial == truth.partial)


def median_abs(values: list[float]) -> float:
    return float(np.median(np.abs(values))) if values else float("nan")


@pytest.fixture(scope="session")
def synthetic() -> object:
    """The :func:`run_synthetic` function."""
    return run_synthetic


#: The accuracy grid: exercise x noise preset x EMG rate x IMU worn (both segments, or none).
GRID = [
    (exercise, preset, rate, imu)
    for exercise in ("glute_bridge", "rdl")
    for preset in ("clean", "typical", "noisy")
    for rate in (200.0, 2000.0)
    for imu in (("pelvis", "thigh"), ())
]


def grid_config(k: int, exercise: str, preset: str, rate: float, imu: tuple[str, ...]) -> SessionConfig:
    """Session ``k`` of the grid: 12 reps in 2 sets, 3 tense, 2 stalls, 1 partial, and a
    crossover drawn per rep across the exercise's allowed band."""
    band = SessionConfig(exercise=exercise).crossover_band()
    rng = np.random.default_rng(1000 + k)
    return SessionConfig(
        exercise=exercise,
        n_reps=12,
        reps_per_set=6,
        set_pause_s=8.0,
        emg_rate=rate,
        noise_preset=preset,
        seed=k,
        tense_reps=(1, 5, 8),
        stall_reps=(3, 10),
        partial_reps=(6,),
        crossover_deg=tuple(rng.uniform(band[0], band[1], 12)),
        imu_segments=imu,
    )


@pytest.fixture(scope="session")
def accuracy_grid() -> dict[tuple, Comparison]:
    """Key ``(exercise, preset, rate, imu_worn)`` -> comparison of its session with truth."""
    out = {}
    for k, (exercise, preset, rate, imu) in enumerate(GRID):
        comp = Comparison()
        comp.add(*run_synthetic(grid_config(k, exercise, preset, rate, imu)))
        out[(exercise, preset, rate, bool(imu))] = comp
    return out


def pooled(grid: dict[tuple, Comparison], **where: object) -> Comparison:
    """All comparisons whose key matches ``where`` (exercise, preset, rate, imu) merged."""
    names = ("exercise", "preset", "rate", "imu")
    merged = Comparison()
    for key, comp in grid.items():
        if all(key[names.index(n)] == v for n, v in where.items()):
            merged.sessions += comp.sessions
            for f in Comparison.__dataclass_fields__:
                if f != "sessions":
                    getattr(merged, f).extend(getattr(comp, f))
    return merged


@pytest.fixture(scope="session")
def pool() -> object:
    """The :func:`pooled` function."""
    return pooled


@pytest.fixture(scope="session")
def med_abs() -> object:
    """The :func:`median_abs` function."""
    return median_abs
