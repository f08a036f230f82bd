"""The demo: a synthetic session streamed through the live signal core, summarised per rep.

Kept apart from the command line so tests and notebooks can run it too.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TextIO

import numpy as np

from myoflow.analysis.activation import UNITS, analysis_envelope
from myoflow.analysis.rep_summary import RepResult, analyse_reps
from myoflow.analysis.reps import segment_reps
from myoflow.analysis.session_metrics import build_context
from myoflow.dsp.pipeline import profile_for_rate
from myoflow.live import LiveProcessor, calibrate_mvc
from myoflow.synth.calibration import mvc_trial
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import SyntheticSession, generate_session

#: Approximate duration of one rep (concentric + top hold + eccentric + bottom rest), seconds.
_REP_S = 5.0
_LEAD_TAIL_S = 6.0


@dataclass(frozen=True)
class DemoSettings:
    """What the demo synthesises and how it streams it (validated)."""

    seconds: float = 45.0
    exercise: str = "glute_bridge"
    emg_rate: float = 1000.0
    mains_hz: float = 50.0
    seed: int = 7
    chunk_s: float = 0.02
    realtime: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.seconds) and self.seconds >= 12.0):
            raise ValueError(
                f"--seconds must be at least 12 (one rep with rest around it), got {self.seconds}"
            )
        if not 200.0 <= self.emg_rate <= 2000.0:
            raise ValueError(f"--rate must be between 200 and 2000 Hz, got {self.emg_rate}")
        if not 0.001 <= self.chunk_s <= 1.0:
            raise ValueError(f"--chunk-ms must be between 1 and 1000 ms, got {self.chunk_s * 1000:g}")

    def session_config(self) -> SessionConfig:
        n_reps = max(1, int((self.seconds - _LEAD_TAIL_S) // _REP_S))
        tense = tuple(i for i in range(n_reps) if i % 4 == 2)  # every 4th rep stays tense
        return SessionConfig(
            exercise=self.exercise,
            n_reps=n_reps,
            emg_rate=self.emg_rate,
            imu_rate=100.0,
            seed=self.seed,
            tense_reps=tense,
            hum_hz=self.mains_hz,
        )


@dataclass(frozen=True)
class DemoReport:
    seconds: float
    reps: list[RepResult]
    session: SyntheticSession


def run_demo(settings: DemoSettings, out: TextIO) -> DemoReport:
    """Synthesise, calibrate, stream in chunks, summarise; print as it goes to ``out``."""
    config = settings.session_config()
    session = generate_session(config)
    profile = profile_for_rate(config.emg_rate, mains_hz=settings.mains_hz)
    mvc = calibrate_mvc(mvc_trial(config).emg, config.emg_rate, profile)
    live = LiveProcessor(config.emg_rate, session.placements, mvc, config.imu_rate, profile)
    notches = ", ".join(f"{f:g}" for f in profile.notch_freqs(config.emg_rate)) or "none"
    print(
        f"myoflow demo: {config.exercise.replace('_', ' ')}, {config.n_reps} reps, "
        f"EMG {config.emg_rate:g} Hz x {len(session.placements)} ({', '.join(session.placements)}), "
        f"IMU {config.imu_rate:g} Hz (pelvis, thigh)",
        file=out,
    )
    print(
        f"profile '{profile.name}': notches at {notches} Hz; live envelope delay "
        f"{live.delay_ms:.0f} ms; chunks of {settings.chunk_s * 1000:g} ms",
        file=out,
    )

    _stream(session, live, settings)
    angle = live.hip_angle()
    reps = segment_reps(angle, config.imu_rate)
    pct = live.envelope_pct()
    ctx = build_context(
        analysis_envelope(pct, config.emg_rate),
        config.emg_rate,
        session.placements,
        UNITS["mvc"],
        reps,
        config.imu_rate,
        "hip",
    )
    # the live envelope lags the muscle by the pipeline's delay: its sample 0 shows time -delay
    summary = analyse_reps(
        reps,
        config.imu_rate,
        pct,
        config.emg_rate,
        ctx,
        angle,
        config.imu_rate,
        emg_t0=-live.delay_ms / 1000.0,
    )
    _print_table(summary, session, out)
    return DemoReport(float(session.emg_times[-1]), summary, session)


def _stream(session: SyntheticSession, live: LiveProcessor, settings: DemoSettings) -> None:
    """Feed EMG and IMU in chunks of ``chunk_s``, in time order, optionally at real speed."""
    cfg = session.config
    n_emg = max(1, int(round(settings.chunk_s * cfg.emg_rate)))
    n_imu_total = session.imu_times.size
    started = time.monotonic()
    imu_done = 0
    for first in range(0, session.emg.shape[0], n_emg):
        chunk_end_s = (first + n_emg) / cfg.emg_rate
        live.feed_emg(session.emg[first : first + n_emg])
        imu_to = min(n_imu_total, int(chunk_end_s * cfg.imu_rate))
        if imu_to > imu_done:
            for segment, (acc, gyro) in session.imu.items():
                live.feed_imu(segment, acc[imu_done:imu_to], gyro[imu_done:imu_to])
            imu_done = imu_to
        if settings.realtime:
            ahead = chunk_end_s - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
    if imu_done < n_imu_total:
        for segment, (acc, gyro) in session.imu.items():
            live.feed_imu(segment, acc[imu_done:], gyro[imu_done:])


def _print_table(summary: list[RepResult], session: SyntheticSession, out: TextIO) -> None:
    muscles = session.placements
    glute = next((m for m in muscles if m.startswith("glute_max")), muscles[0])
    print(
        f"\n{'rep':>3} {'start':>6} {'conc':>5} {'ROM':>5}  "
        + "  ".join(f"{_short(m):>11}" for m in muscles)
        + f"  {'bottom ' + _short(glute):>14} {'relaxed':>8} {'truth':>6}",
        file=out,
    )
    print(
        f"{'':>3} {'s':>6} {'s':>5} {'deg':>5}  "
        + "  ".join(f"{'peak%/onset':>11}" for _ in muscles)
        + f"  {'min % MVC':>14}",
        file=out,
    )
    truth = session.truth
    agree = 0
    for rep in summary:
        cells = []
        for m in muscles:
            mr = rep.muscles[m]
            onset = "-" if mr.onset_ms is None else f"{mr.onset_ms:+.0f}"
            cells.append(f"{mr.peak_pct:5.0f}/{onset:>5}")
        g = rep.relaxation[glute]
        true_rep = _matching_truth(rep, truth)
        true_relaxed = "?" if true_rep is None else ("yes" if true_rep.muscles[glute].relaxed else "no")
        agree += true_rep is not None and true_rep.muscles[glute].relaxed == g.relaxed
        print(
            f"{rep.index:>3} {rep.start_s:6.1f} {rep.concentric_s:5.2f} {rep.rom_deg:5.0f}  "
            + "  ".join(f"{c:>11}" for c in cells)
            + f"  {g.bottom_min_pct:14.1f} {'yes' if g.relaxed else 'NO':>8} {true_relaxed:>6}",
            file=out,
        )
    print(
        f"\nreps found: {len(summary)} (truth {len(truth)}); relaxed verdicts agreeing with truth: "
        f"{agree}/{len(truth)}",
        file=out,
    )
    errors = onset_errors_ms(summary, truth)
    if errors.size:
        print(
            f"muscle onsets vs truth: median error {np.median(np.abs(errors)):.0f} ms over "
            f"{errors.size} onsets",
            file=out,
        )
    print(
        "onset: ms from movement onset (negative = before the hip moved), where the "
        "delay-corrected envelope rises 2 % MVC above rest (and 3 SD above the baseline)",
        file=out,
    )


def onset_errors_ms(summary: list[RepResult], truth: list) -> np.ndarray:
    """Detected minus true onset time (ms) for every muscle onset present in both."""
    errors = []
    for rep in summary:
        true_rep = _matching_truth(rep, truth)
        if true_rep is None:
            continue
        for name, mr in rep.muscles.items():
            true_onset = true_rep.muscles[name].onset_s
            if mr.onset_ms is not None and true_onset is not None:
                errors.append((rep.start_s + mr.onset_ms / 1000.0 - true_onset) * 1000.0)
    return np.asarray(errors)


def _matching_truth(rep: RepResult, truth: list) -> object | None:
    best = min(truth, key=lambda r: abs(r.onset_s - rep.start_s), default=None)
    return best if best is not None and abs(best.onset_s - rep.start_s) < 1.0 else None


def _short(placement: str) -> str:
    return placement.replace("_r", "").replace("_l", "").replace("biceps_femoris", "biceps_fem")[:11]
