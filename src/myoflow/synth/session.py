"""Synthetic glute-bridge and deadlift/RDL sessions with their ground truth.

``generate_session(SessionConfig(...))`` builds the movement (:mod:`myoflow.synth.imu`), the
muscle activations (:mod:`myoflow.synth.activation`), surface EMG whose RMS follows them
(:mod:`myoflow.synth.emg`) plus mains hum, motion artefacts and a DC offset
(:mod:`myoflow.synth.artefacts`), the IMU signals, and one :class:`RepTruth` per rep. Every rep
starts at rest at the bottom (for the deadlift: hips flexed, bar on the floor). Randomness comes
from the seed only, split into independent streams, so the rep plan and the truth do not depend
on the sample rates. What to synthesise is a :class:`~myoflow.synth.config.SessionConfig`; the
matching MVC calibration trial is :func:`myoflow.synth.calibration.mvc_trial`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.fft import next_fast_len

from myoflow.stream import Block, StreamInfo
from myoflow.synth.activation import ActivationModel, activation_events, muscle_of, shapes_for
from myoflow.synth.artefacts import emg_artefacts
from myoflow.synth.config import SessionConfig
from myoflow.synth.emg import surface_emg
from myoflow.synth.exercises import MOTIONS, exercise_facts, muscle_role
from myoflow.synth.imu import GLUTE_BRIDGE, KINEMATICS, MovementTimeline, RepPlan, imu_signals, plan_reps
from myoflow.synth.motion3d import orientation_signals
from myoflow.synth.poses import joint_chain, quat_mul

#: With the antagonist strategy the prime movers keep their tension for this share of the
#: eccentric phase and let go in the rest of it, as the antagonist bursts at its end.
BURST_KEEP = 0.97


@dataclass(frozen=True)
class MuscleTruth:
    """One muscle in one rep, from its noiseless activation.

    ``onset_s``/``offset_s``: when the activation rises above / falls below its resting
    level by the margin (``REST_PCT + ONSET_MARGIN_PCT`` = 1 + 2 % MVC); None when the muscle
    never rests before / after the rep. ``relaxed``: per the config (not a tense rep for this
    muscle). ``bottom_min_pct``: minimum over the bottom rest; ``peak_pct``: maximum in the rep.
    """

    onset_s: float | None
    offset_s: float | None
    relaxed: bool
    bottom_min_pct: float
    peak_pct: float


@dataclass(frozen=True)
class RepTruth:
    """Ground truth of one rep. Times in s on the session clock, angles in deg.

    ``onset_s`` is the movement onset (concentric start), ``top_s`` top reached,
    ``eccentric_start_s``, ``bottom_s`` eccentric end (bottom reached), ``end_s`` end of the
    bottom rest. The crossover is where the noiseless ``G/(G+H)`` (mean glute max over mean
    hamstrings, % MVC) rises through 0.5 and stays >= 0.5 for 100 ms (None if never);
    ``crossover_pct`` is its position in the concentric phase, 0-100. For the exercises that
    are not hinges the ``hip_*`` angles are the family's anatomical angle (abduction, rotation,
    hike, knee lift, pelvis lift). ``hold_s``: the hold (top reached to lowering begun) of an
    isometric exercise, else None; ``antagonist_burst_s``: when the antagonist burst of this
    rep starts (EMG time), None without one. A rep of ``stepping`` is one stride (one step of
    each leg).
    """

    index: int
    set_index: int
    onset_s: float
    top_s: float
    eccentric_start_s: float
    bottom_s: float
    end_s: float
    muscles: dict[str, MuscleTruth]
    crossover_s: float | None
    crossover_hip_deg: float | None
    crossover_pct: float | None
    stall: bool
    stall_start_s: float | None
    stall_end_s: float | None
    partial: bool
    rom_fraction: float
    hip_bottom_deg: float
    hip_top_deg: float
    hold_s: float | None = None
    antagonist_burst_s: float | None = None


@dataclass(frozen=True, eq=False)
class SyntheticSession:
    """A generated session: signals, truth and the noiseless model behind them.

    ``emg`` ``(n, ch)`` float32 uV at ``config.emg_rate`` with ``emg_times`` float64 s;
    ``activation_pct`` ``(n, ch)`` float32, the noiseless activation; ``imu`` segment ->
    ``(acc (m, 3) g, gyro (m, 3) deg/s)`` float32 at ``imu_times``; ``hip_angle`` and
    ``segment_angles`` (deg, float64) are true at ``imu_times`` whether IMUs are worn or not;
    ``gyro_bias`` segment -> (3,) deg/s; ``dc_offset_uv`` per channel. ``orientation``:
    segment -> ``(m, 4)`` segment-to-world quaternions ``(w, x, y, z)`` as a strap's fusion
    would report them (z-up world). For the exercises that are not hinges ``hip_angle`` and
    ``segment_angles`` hold the family's noiseless anatomical angle (module
    :mod:`myoflow.synth.motion3d`); ``family`` is the movement family.
    """

    config: SessionConfig
    emg: np.ndarray
    emg_times: np.ndarray
    placements: tuple[str, ...]
    mvc_uv: dict[str, float]
    activation_pct: np.ndarray
    imu: dict[str, tuple[np.ndarray, np.ndarray]]
    imu_times: np.ndarray
    hip_angle: np.ndarray
    segment_angles: dict[str, np.ndarray]
    gyro_bias: dict[str, np.ndarray]
    dc_offset_uv: np.ndarray
    truth: list[RepTruth]
    model: ActivationModel
    orientation: dict[str, np.ndarray]
    family: str = "sagittal_hinge"

    def activation_at(self, times: np.ndarray) -> np.ndarray:
        """Noiseless activation (% MVC) at any ``times`` (s), shape ``(n, ch)`` float64."""
        return self.model(times)

    def hip_angle_at(self, times: np.ndarray) -> np.ndarray:
        """True hip flexion (deg) at any ``times`` (s) (hinges; the family angle otherwise)."""
        return self.model.kinematics.hip_at(self.model.timeline.progress(times)[0])

    def quat_blocks(self) -> list[Block]:
        """One quaternion Block per worn segment (streams ``"synth/<segment>/quat"``, w x y z)."""
        return [
            Block(
                StreamInfo(
                    f"synth/{seg}/quat", "quat", self.config.imu_rate, ("w", "x", "y", "z"), (seg,) * 4
                ),
                np.ascontiguousarray(q, np.float32),
                self.imu_times,
                0,
            )
            for seg, q in self.orientation.items()
        ]

    def emg_block(self) -> Block:
        """The whole EMG as one :class:`~myoflow.stream.Block` (stream ``"synth/emg"``)."""
        rate = self.config.emg_rate
        info = StreamInfo("synth/emg", "emg", rate, self.placements, self.placements)
        return Block(info, self.emg, self.emg_times, 0)

    def imu_blocks(self) -> list[Block]:
        """One acc and one gyro Block per worn segment (streams ``"synth/<segment>/acc"``...)."""
        blocks = []
        for seg, (acc, gyro) in self.imu.items():
            for kind, data in (("acc", acc), ("gyro", gyro)):
                info = StreamInfo(
                    f"synth/{seg}/{kind}", kind, self.config.imu_rate, ("x", "y", "z"), (seg,) * 3
                )
                blocks.append(Block(info, data, self.imu_times, 0))
        return blocks


def _kinematics(cfg: SessionConfig) -> object:
    """The hinge's sagittal kinematics; for the other families a stand-in whose 'hip angle' is
    the family angle (the activation model reads only its progress mapping)."""
    if cfg.is_hinge:
        return KINEMATICS[cfg.motion]
    m = MOTIONS[cfg.motion]
    return type(GLUTE_BRIDGE)((0.0, 0.0), (m.start_deg, m.start_deg + m.amplitude_deg), {})


def _plan(cfg: SessionConfig, rng: np.random.Generator) -> tuple[list[RepPlan], np.ndarray]:
    """Rep timing with seeded jitter, and the crossover target of each rep (deg)."""
    kin = _kinematics(cfg)
    hold = cfg.hold_seconds()
    nominal = (cfg.concentric_s, cfg.top_hold_s if hold is None else hold, cfg.eccentric_s, cfg.bottom_rest_s)
    tempo = (1.0 + rng.uniform(-cfg.tempo_jitter, cfg.tempo_jitter, (cfg.n_reps, 4))) * nominal
    if hold is not None:  # a hold lasts what it is asked to (the truth of the benchmark)
        tempo[:, 1] = hold
    s_top = 1.0 - rng.uniform(0.0, cfg.rom_jitter, cfg.n_reps) * (cfg.tempo_jitter > 0)
    s_top[list(cfg.partial_reps)] = cfg.partial_fraction
    jitter = rng.standard_normal(cfg.n_reps) * cfg.crossover_jitter_deg
    cross = np.clip(cfg.crossover_targets() + jitter, *cfg.crossover_band())
    stall_at = [
        (float(np.clip(kin.progress_at_hip(cross[k]) - 0.08, 0.1, s_top[k] - 0.1)) if cfg.is_hinge else 0.5)  # type: ignore[attr-defined]
        if k in cfg.stall_reps
        else None
        for k in range(cfg.n_reps)
    ]
    sets = np.arange(cfg.n_reps) // (cfg.reps_per_set or cfg.n_reps)
    reps = plan_reps(tempo, s_top, sets, cfg.lead_in_s, cfg.set_pause_s, stall_at, cfg.stall_s)
    return reps, cross


def session_duration(config: SessionConfig) -> float:
    """Length (s) of the session :func:`generate_session` makes of ``config``, from its rep plan
    alone (no signal is synthesised)."""
    rng_plan = np.random.default_rng(np.random.SeedSequence(config.seed).spawn(4)[0])
    reps, _ = _plan(config, rng_plan)
    return float(reps[-1].t_end + config.tail_s)


def generate_session(config: SessionConfig) -> SyntheticSession:
    """Synthesise the session described by ``config`` (deterministic for its seed)."""
    cfg = config
    streams = np.random.SeedSequence(cfg.seed).spawn(4)
    rng_plan, rng_emg, rng_extra, rng_imu = (np.random.default_rng(s) for s in streams)
    kin = _kinematics(cfg)
    reps, cross = _plan(cfg, rng_plan)
    n_ch = len(cfg.placements)
    if cfg.peak_pct is not None:
        base_peak = np.asarray(cfg.peak_pct, dtype=np.float64)
    else:
        table = shapes_for(cfg.exercise)
        base_peak = np.array([table[muscle_of(p)].peak_pct for p in cfg.placements])
    peak = base_peak * (1.0 + rng_plan.uniform(-0.1, 0.1, (cfg.n_reps, n_ch)))
    residual = rng_plan.uniform(*cfg.residual_pct, (cfg.n_reps, n_ch))
    tense = np.zeros((cfg.n_reps, n_ch), dtype=bool)
    holders = [p in (cfg.tense_muscles or cfg.placements) for p in cfg.placements]
    tense[list(cfg.tense_reps)] = holders
    timeline = MovementTimeline(reps)
    facts = exercise_facts(cfg.exercise)
    antagonist = np.array([muscle_role(facts, muscle_of(p)) == "antagonist" for p in cfg.placements])
    burst = np.zeros((cfg.n_reps, n_ch))
    burst_reps = range(cfg.n_reps) if cfg.burst_reps is None else cfg.burst_reps
    burst[list(burst_reps)] = np.where(antagonist, cfg.antagonist_burst_pct, 0.0)
    model = ActivationModel(
        reps,
        timeline,
        kin,  # type: ignore[arg-type]
        cfg.exercise,
        cfg.placements,
        peak,
        tense,
        residual,
        cross,
        cfg.activation_lead_s,
        burst,
        cfg.antagonist_burst_s,
        cfg.after_set_relax_s,
    )
    duration = reps[-1].t_end + cfg.tail_s
    if burst.any():  # reciprocal inhibition: the target holds on until the burst, then lets go
        prime = [muscle_role(facts, muscle_of(p)) == "prime" for p in cfg.placements]
        rows = np.flatnonzero(burst.any(axis=1))
        cols = np.flatnonzero(prime)
        model.keep_rk[np.ix_(rows, cols)] = np.maximum(model.keep_rk[np.ix_(rows, cols)], BURST_KEEP)
    events = activation_events(model, duration)
    n = int(round(duration * cfg.emg_rate))
    # synthesise over an FFT-friendly length (the noise is shaped by one FFT), keep n samples
    padded_times = np.arange(next_fast_len(n, real=True)) / cfg.emg_rate
    act_padded = model(padded_times)
    emg_times, act = padded_times[:n], act_padded[:n]
    mvc = cfg.mvc_values()
    noise_uv = cfg.noise_levels()[0]
    emg = surface_emg(act_padded * (mvc / 100.0), cfg.emg_rate, rng_emg, noise_uv)[:n]
    extra = emg_artefacts(cfg, reps, emg_times, rng_extra)
    emg = np.ascontiguousarray(emg + extra, dtype=np.float32)
    imu_times = np.arange(int(round(duration * cfg.imu_rate))) / cfg.imu_rate
    if cfg.is_hinge:
        imu, orientation, bias, angles, hip = _hinge_imu(cfg, kin, timeline, imu_times, rng_imu)  # type: ignore[arg-type]
    else:
        holds = [(r.t_top, r.t_ecc) for r in reps] if cfg.hold_seconds() is not None else []
        imu, orientation, bias, hip = orientation_signals(
            cfg.motion,
            MOTIONS[cfg.motion],
            imu_times,
            timeline.progress(imu_times)[0],
            holds,
            cfg.imu_segments,
            cfg.side,
            rng_imu,
            wobble_deg=cfg.imu_wobble_deg,
            acc_noise_g=cfg.acc_noise_g,
            gyro_noise_dps=cfg.gyro_noise_dps,
            gyro_bias_dps=cfg.gyro_bias_dps,
            heading_drift_dps=cfg.heading_drift_dps,
        )
        angles = {seg: hip for seg in ("pelvis", "thigh")}
    bursts = model.burst_starts()
    truth = []
    for rep, ev in zip(reps, events, strict=True):
        muscles = {
            p: MuscleTruth(
                ev.onset[c], ev.offset[c], not tense[rep.index, c], ev.bottom_min_pct[c], ev.peak_pct[c]
            )
            for c, p in enumerate(cfg.placements)
        }
        x = ev.crossover
        hip_x = None if x is None else float(kin.hip_at(timeline.progress(np.array([x]))[0][0]))
        pct = None if x is None else 100.0 * (x - rep.t_on) / (rep.t_top - rep.t_on)
        truth.append(
            RepTruth(
                rep.index,
                rep.set_index,
                rep.t_on,
                rep.t_top,
                rep.t_ecc,
                rep.t_bot,
                rep.t_end,
                muscles,
                x,
                hip_x,
                pct,
                rep.stall is not None,
                rep.stall[0] if rep.stall else None,
                rep.stall[1] if rep.stall else None,
                rep.index in cfg.partial_reps,
                rep.s_top,
                float(kin.hip_at(0.0)),  # type: ignore[attr-defined]
                float(kin.hip_at(rep.s_top)),  # type: ignore[attr-defined]
                rep.t_ecc - rep.t_top if cfg.hold_seconds() is not None else None,
                bursts[rep.index],
            )
        )
    return SyntheticSession(
        cfg,
        emg,
        emg_times,
        cfg.placements,
        dict(zip(cfg.placements, mvc.tolist(), strict=True)),
        np.ascontiguousarray(act, dtype=np.float32),
        imu,
        imu_times,
        hip,
        angles,
        bias,
        np.broadcast_to(np.asarray(cfg.dc_offset_uv, float), (n_ch,)).copy(),
        truth,
        model,
        orientation,
        cfg.family,
    )


def _hinge_imu(
    cfg: SessionConfig,
    kin: object,
    timeline: MovementTimeline,
    imu_times: np.ndarray,
    rng: np.random.Generator,
) -> tuple[dict, dict, dict, dict, np.ndarray]:
    """Sagittal IMU of a hinge (:func:`myoflow.synth.imu.imu_signals`) and the matching
    quaternions: the standing pose turned by the segment angle, then the sensor's roll."""
    rolls: dict[str, np.ndarray] = {}
    imu, bias = imu_signals(
        imu_times,
        timeline,
        kin,  # type: ignore[arg-type]
        cfg.imu_segments,
        rng,
        acc_noise_g=cfg.acc_noise_g,
        gyro_noise_dps=cfg.gyro_noise_dps,
        gyro_bias_dps=cfg.gyro_bias_dps,
        wobble_deg=cfg.imu_wobble_deg,
        roll_out=rolls,
    )
    angles = {seg: a[0] for seg, a in kin.angles(*timeline.progress(imu_times)).items()}  # type: ignore[attr-defined]
    orientation = {
        seg: quat_mul(joint_chain("standing", [("y", -angles[seg])]), joint_chain_roll(rolls[seg]))
        for seg in cfg.imu_segments
    }
    return imu, orientation, bias, angles, angles["thigh"] - angles["pelvis"]


def joint_chain_roll(roll_deg: np.ndarray) -> np.ndarray:
    """Quaternions of the sensor's roll about the segment's x axis, ``(n, 4)``."""
    half = 0.5 * np.radians(roll_deg)
    q = np.zeros((half.size, 4))
    q[:, 0], q[:, 1] = np.cos(half), np.sin(half)
    return q


def glute_bridge_session(**overrides: object) -> SyntheticSession:
    """A glute-bridge session: ``SessionConfig(exercise="glute_bridge", **overrides)``."""
    return generate_session(SessionConfig(**{"exercise": "glute_bridge", **overrides}))


def rdl_session(**overrides: object) -> SyntheticSession:
    """A deadlift/RDL session: ``SessionConfig(exercise="rdl", **overrides)``."""
    return generate_session(SessionConfig(**{"exercise": "rdl", **overrides}))
