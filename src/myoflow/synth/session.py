"""Synthetic glute-bridge and deadlift/RDL sessions with their ground truth.

``generate_session(SessionConfig(...))`` builds the movement (:mod:`myoflow.synth.imu`), the
muscle activations (:mod:`myoflow.synth.activation`), surface EMG whose RMS follows them
(:mod:`myoflow.synth.emg`) plus mains hum, motion artefacts and a DC offset, the IMU signals,
and one :class:`RepTruth` per rep. Every rep starts at rest at the bottom (for the deadlift:
hips flexed, bar on the floor). Randomness comes from the seed only, split into independent
streams, so the rep plan and the truth do not depend on the sample rates.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from scipy.fft import next_fast_len

from myoflow._checks import check_option, check_positive, check_rate
from myoflow.stream import Block, StreamInfo
from myoflow.synth.activation import (
    DEFAULT_MVC_UV, REST_PCT, SHAPES, ActivationModel, activation_events, muscle_of,
)
from myoflow.synth.emg import burst_activation, surface_emg
from myoflow.synth.imu import (
    KINEMATICS, SEGMENTS, MovementTimeline, RepPlan, imu_signals, plan_reps,
)

DEFAULT_PLACEMENTS = ("glute_max_r", "biceps_femoris_r", "semitendinosus_r", "glute_med_r")
#: Default hip flexion (deg) where gluteus maximus takes over from the hamstrings.
DEFAULT_CROSSOVER_DEG = {"glute_bridge": 20.0, "rdl": 40.0}
#: Preset -> (noise floor uV RMS, mains hum uV amplitude, motion artefact uV peak).
NOISE_PRESETS = {
    "clean": (1.0, 0.0, 0.0),
    "typical": (3.0, 4.0, 30.0),
    "noisy": (8.0, 15.0, 80.0),
}


def _in(unit: str) -> str:
    return f" {unit}" if unit else ""


def _check_range(value: float, name: str, lo: float, hi: float, unit: str = "") -> float:
    """Return ``value`` as a float, or raise naming ``name`` unless ``lo <= value <= hi``."""
    if lo > 0:
        v = check_positive(value, name, unit)
    else:
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number{_in(unit)}, got {value!r}") from None
    if not (math.isfinite(v) and lo <= v <= hi):
        raise ValueError(f"{name} must be in [{lo}, {hi}]{_in(unit)}, got {value!r}")
    return v


@dataclass(frozen=True)
class SessionConfig:
    """What to synthesise. Durations in s, rates in Hz, amplitudes in uV, levels in % MVC.

    Parameters
    ----------
    exercise : ``"glute_bridge"`` (supine) or ``"rdl"`` (deadlift/RDL, standing).
    n_reps, reps_per_set, set_pause_s : reps in total, per set (None: one set), rest between sets.
    emg_rate, imu_rate : 200-2000 Hz and 20-1000 Hz.
    seed : everything random derives from it.
    placements : EMG channels, ``<muscle>_<l|r>`` for glute_max, biceps_femoris,
        semitendinosus, glute_med.
    mvc_uv : RMS at MVC per channel (None: 320/260/230/180 uV by muscle).
    peak_pct : concentric peak per channel (None: bridge ~45/30/26/20, RDL ~40/36/38/18 %),
        jittered +-10 % per rep.
    concentric_s, top_hold_s, eccentric_s, bottom_rest_s, tempo_jitter : nominal phase
        durations and their uniform relative jitter per rep.
    lead_in_s, tail_s : rest before the first and after the last rep.
    tense_reps, tense_muscles : 0-based reps that do not relax at the bottom, and which
        placements hold the tension (None: all).
    residual_pct : ``(low, high)``: the residual tension is drawn uniformly from it.
    crossover_deg, crossover_jitter_deg : target hip flexion of the glute takeover (one value
        or one per rep; None: 20 deg bridge, 40 deg RDL) and the SD of its per-rep jitter.
    stall_reps, stall_s : reps whose hip extension pauses (for ``stall_s``) just before the
        crossover.
    partial_reps, partial_fraction : reps that reach only this fraction of the range.
    activation_lead_s : the EMG leads the movement by this electromechanical delay.
    noise_preset : ``"clean"``, ``"typical"`` or ``"noisy"`` (see :data:`NOISE_PRESETS`).
    noise_uv, snr_db, hum_uv, artefact_uv : explicit overrides of the preset; ``snr_db`` sets
        the noise floor from the mean MVC RMS (give it or ``noise_uv``, not both).
    hum_hz : mains frequency, 50 or 60.
    dc_offset_uv : added to every channel (one value or one per channel).
    imu_segments : worn IMUs, a subset of ``("pelvis", "thigh")`` (empty: none).
    imu_wobble_deg, acc_noise_g, gyro_noise_dps, gyro_bias_dps : IMU imperfections.
    """

    exercise: str = "glute_bridge"
    n_reps: int = 10
    reps_per_set: int | None = None
    set_pause_s: float = 20.0
    emg_rate: float = 1000.0
    imu_rate: float = 100.0
    seed: int = 0
    placements: tuple[str, ...] = DEFAULT_PLACEMENTS
    mvc_uv: tuple[float, ...] | None = None
    peak_pct: tuple[float, ...] | None = None
    concentric_s: float = 1.0
    top_hold_s: float = 0.7
    eccentric_s: float = 1.8
    bottom_rest_s: float = 1.5
    tempo_jitter: float = 0.1
    lead_in_s: float = 3.0
    tail_s: float = 3.0
    tense_reps: tuple[int, ...] = ()
    tense_muscles: tuple[str, ...] | None = None
    residual_pct: tuple[float, float] = (8.0, 20.0)
    crossover_deg: float | tuple[float, ...] | None = None
    crossover_jitter_deg: float = 0.0
    stall_reps: tuple[int, ...] = ()
    stall_s: float = 0.6
    partial_reps: tuple[int, ...] = ()
    partial_fraction: float = 0.5
    activation_lead_s: float = 0.1
    noise_preset: str = "typical"
    noise_uv: float | None = None
    snr_db: float | None = None
    hum_uv: float | None = None
    hum_hz: float = 50.0
    artefact_uv: float | None = None
    dc_offset_uv: float | tuple[float, ...] = 0.0
    imu_segments: tuple[str, ...] = SEGMENTS
    imu_wobble_deg: float = 1.0
    acc_noise_g: float = 0.004
    gyro_noise_dps: float = 0.15
    gyro_bias_dps: float = 0.8

    def __post_init__(self) -> None:
        for name in ("placements", "tense_reps", "stall_reps", "partial_reps", "imu_segments",
                     "residual_pct", "mvc_uv", "peak_pct", "tense_muscles", "crossover_deg",
                     "dc_offset_uv"):
            value = getattr(self, name)
            if isinstance(value, (list, np.ndarray)):
                object.__setattr__(self, name, tuple(value))
        check_option(self.exercise, "exercise", SHAPES)
        for name, lo, hi in (("n_reps", 1, 500), ("reps_per_set", 1, 500), ("seed", 0, 2**63)):
            v = getattr(self, name)
            if v is None and name == "reps_per_set":
                continue
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
                raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {v!r}")
        _check_range(check_rate(self.emg_rate, "emg_rate"), "emg_rate", 200, 2000, "Hz")
        _check_range(check_rate(self.imu_rate, "imu_rate"), "imu_rate", 20, 1000, "Hz")
        for name, lo, hi in (
            ("concentric_s", 0.3, 5), ("top_hold_s", 0, 10), ("eccentric_s", 0.3, 6),
            ("bottom_rest_s", 0.2, 20), ("tempo_jitter", 0, 0.3), ("lead_in_s", 1.5, 60),
            ("tail_s", 1.5, 60), ("set_pause_s", 2, 600), ("stall_s", 0.1, 3),
            ("partial_fraction", 0.2, 0.9), ("activation_lead_s", 0, 0.2),
            ("crossover_jitter_deg", 0, 10), ("imu_wobble_deg", 0, 10),
            ("acc_noise_g", 0, 0.5), ("gyro_noise_dps", 0, 20), ("gyro_bias_dps", 0, 20),
        ):
            _check_range(getattr(self, name), name, lo, hi, "s" if name.endswith("_s") else "")
        if not self.placements or len(set(self.placements)) != len(self.placements):
            raise ValueError(f"placements must be distinct and non-empty, got {self.placements!r}")
        for p in self.placements:
            muscle_of(p)
        for name in ("mvc_uv", "peak_pct"):
            values = getattr(self, name)
            if values is not None and len(values) != len(self.placements):
                raise ValueError(
                    f"{name} needs one value per placement ({len(self.placements)}), got {values!r}"
                )
        for v in self.mvc_uv or ():
            _check_range(v, "mvc_uv", 20, 2000, "uV")
        for v in self.peak_pct or ():
            _check_range(v, "peak_pct", 5, 100, "% MVC")
        for name in ("tense_reps", "stall_reps", "partial_reps"):
            bad = [k for k in getattr(self, name) if not 0 <= k < self.n_reps]
            if bad:
                raise ValueError(f"{name} must index reps 0..{self.n_reps - 1}, got {bad}")
        if self.tense_muscles is not None and not set(self.tense_muscles) <= set(self.placements):
            raise ValueError(
                f"tense_muscles {self.tense_muscles!r} must be among placements {self.placements!r}"
            )
        res = self.residual_pct
        if len(res) != 2 or not 5.0 <= res[0] <= res[1] <= 40.0:
            raise ValueError(
                f"residual_pct must be (low, high) with 5 <= low <= high <= 40 % MVC, got {res!r}"
            )
        self.crossover_targets()
        check_option(self.noise_preset, "noise_preset", NOISE_PRESETS)
        if self.noise_uv is not None and self.snr_db is not None:
            raise ValueError("give noise_uv or snr_db, not both")
        for name in ("noise_uv", "hum_uv", "artefact_uv"):
            if getattr(self, name) is not None:
                _check_range(getattr(self, name), name, 0, 1000, "uV")
        if self.snr_db is not None:
            _check_range(self.snr_db, "snr_db", 0, 80, "dB")
        check_option(self.hum_hz, "hum_hz", (50, 60))
        if self.hum_hz >= self.emg_rate / 2:
            raise ValueError(
                f"hum_hz {self.hum_hz} Hz must be below the Nyquist frequency of emg_rate "
                f"{self.emg_rate} Hz ({self.emg_rate / 2} Hz)"
            )
        dc = self.dc_offset_uv
        if isinstance(dc, tuple) and len(dc) != len(self.placements):
            raise ValueError(f"dc_offset_uv needs one value or one per placement, got {dc!r}")
        if not np.all(np.isfinite(np.asarray(dc, dtype=np.float64))):
            raise ValueError(f"dc_offset_uv must be finite, got {dc!r}")
        if len(set(self.imu_segments)) != len(self.imu_segments):
            raise ValueError(f"imu_segments must be distinct, got {self.imu_segments!r}")
        for seg in self.imu_segments:
            check_option(seg, "imu_segments", SEGMENTS)

    def crossover_targets(self) -> np.ndarray:
        """Nominal crossover hip angle per rep (deg), before jitter; validated against the range."""
        value = self.crossover_deg
        if value is None:
            value = DEFAULT_CROSSOVER_DEG[self.exercise]
        targets = np.asarray(value, dtype=np.float64)
        if targets.ndim == 0:
            targets = np.full(self.n_reps, float(targets))
        if targets.shape != (self.n_reps,):
            raise ValueError(
                f"crossover_deg needs one value or one per rep ({self.n_reps}), got {value!r}"
            )
        lo, hi = self.crossover_band()
        if not np.all((targets >= lo) & (targets <= hi)):
            raise ValueError(
                f"crossover_deg must lie within [{lo:.1f}, {hi:.1f}] deg hip flexion for "
                f"{self.exercise}, got {value!r}"
            )
        return targets

    def crossover_band(self) -> tuple[float, float]:
        """Allowed crossover hip angles (deg): the middle 70 % of the exercise's range."""
        bottom, top = KINEMATICS[self.exercise].hip_range
        return top + 0.15 * (bottom - top), bottom - 0.15 * (bottom - top)

    def noise_levels(self) -> tuple[float, float, float]:
        """Resolved ``(noise floor uV RMS, hum uV amplitude, artefact uV peak)``."""
        noise, hum, art = NOISE_PRESETS[self.noise_preset]
        if self.noise_uv is not None:
            noise = float(self.noise_uv)
        elif self.snr_db is not None:
            noise = float(np.mean(self.mvc_values())) / 10 ** (self.snr_db / 20)
        hum = hum if self.hum_uv is None else float(self.hum_uv)
        art = art if self.artefact_uv is None else float(self.artefact_uv)
        return noise, hum, art

    def mvc_values(self) -> np.ndarray:
        """MVC RMS amplitude per placement, uV."""
        if self.mvc_uv is not None:
            return np.asarray(self.mvc_uv, dtype=np.float64)
        return np.array([DEFAULT_MVC_UV[muscle_of(p)] for p in self.placements])


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
    ``crossover_pct`` is its position in the concentric phase, 0-100.
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


@dataclass(frozen=True, eq=False)
class SyntheticSession:
    """A generated session: signals, truth and the noiseless model behind them.

    ``emg`` ``(n, ch)`` float32 uV at ``config.emg_rate`` with ``emg_times`` float64 s;
    ``activation_pct`` ``(n, ch)`` float32, the noiseless activation; ``imu`` segment ->
    ``(acc (m, 3) g, gyro (m, 3) deg/s)`` float32 at ``imu_times``; ``hip_angle`` and
    ``segment_angles`` (deg, float64) are true at ``imu_times`` whether IMUs are worn or not;
    ``gyro_bias`` segment -> (3,) deg/s; ``dc_offset_uv`` per channel.
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

    def activation_at(self, times: np.ndarray) -> np.ndarray:
        """Noiseless activation (% MVC) at any ``times`` (s), shape ``(n, ch)`` float64."""
        return self.model(times)

    def hip_angle_at(self, times: np.ndarray) -> np.ndarray:
        """True hip flexion (deg) at any ``times`` (s)."""
        return self.model.kinematics.hip_at(self.model.timeline.progress(times)[0])

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
                info = StreamInfo(f"synth/{seg}/{kind}", kind, self.config.imu_rate,
                                  ("x", "y", "z"), (seg,) * 3)
                blocks.append(Block(info, data, self.imu_times, 0))
        return blocks


def _plan(cfg: SessionConfig, rng: np.random.Generator) -> tuple[list[RepPlan], np.ndarray]:
    """Rep timing with seeded jitter, and the crossover target of each rep (deg)."""
    kin = KINEMATICS[cfg.exercise]
    nominal = (cfg.concentric_s, cfg.top_hold_s, cfg.eccentric_s, cfg.bottom_rest_s)
    tempo = (1.0 + rng.uniform(-cfg.tempo_jitter, cfg.tempo_jitter, (cfg.n_reps, 4))) * nominal
    s_top = 1.0 - rng.uniform(0.0, 0.04, cfg.n_reps) * (cfg.tempo_jitter > 0)
    s_top[list(cfg.partial_reps)] = cfg.partial_fraction
    jitter = rng.standard_normal(cfg.n_reps) * cfg.crossover_jitter_deg
    cross = np.clip(cfg.crossover_targets() + jitter, *cfg.crossover_band())
    stall_at = [
        float(np.clip(kin.progress_at_hip(cross[k]) - 0.08, 0.1, s_top[k] - 0.1))
        if k in cfg.stall_reps else None
        for k in range(cfg.n_reps)
    ]
    sets = np.arange(cfg.n_reps) // (cfg.reps_per_set or cfg.n_reps)
    reps = plan_reps(tempo, s_top, sets, cfg.lead_in_s, cfg.set_pause_s, stall_at, cfg.stall_s)
    return reps, cross


def _extras(
    cfg: SessionConfig, reps: list[RepPlan], t: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Mains hum, motion artefacts at movement onsets and DC offset, ``(n, ch)`` float64 uV."""
    _, hum_uv, art_uv = cfg.noise_levels()
    n_ch, fs = len(cfg.placements), cfg.emg_rate
    phase = rng.uniform(0, 2 * np.pi, (2, n_ch))
    out = hum_uv * np.sin(2 * np.pi * cfg.hum_hz * t[:, None] + phase[0])
    if 3 * cfg.hum_hz < fs / 2:
        out += 0.1 * hum_uv * np.sin(2 * np.pi * 3 * cfg.hum_hz * t[:, None] + phase[1])
    starts = np.array([[r.t_on, r.t_ecc] for r in reps]).ravel()
    shape = (starts.size, n_ch)
    amp = art_uv * rng.uniform(0.5, 1.0, shape) * rng.choice([-1.0, 1.0], shape)
    freq = rng.uniform(1.5, 5.0, shape)
    decay = rng.uniform(0.1, 0.25, shape)
    if art_uv > 0:
        for j, t0 in enumerate(starts):
            i0, i1 = np.searchsorted(t, [t0, t0 + 1.5])
            dt = t[i0:i1, None] - t0
            out[i0:i1] += amp[j] * np.sin(2 * np.pi * freq[j] * dt) * np.exp(-dt / decay[j])
    return out + np.broadcast_to(np.asarray(cfg.dc_offset_uv, dtype=np.float64), (n_ch,))


def generate_session(config: SessionConfig) -> SyntheticSession:
    """Synthesise the session described by ``config`` (deterministic for its seed)."""
    cfg = config
    streams = np.random.SeedSequence(cfg.seed).spawn(4)
    rng_plan, rng_emg, rng_extra, rng_imu = (np.random.default_rng(s) for s in streams)
    kin = KINEMATICS[cfg.exercise]
    reps, cross = _plan(cfg, rng_plan)
    n_ch = len(cfg.placements)
    if cfg.peak_pct is not None:
        base_peak = np.asarray(cfg.peak_pct, dtype=np.float64)
    else:
        base_peak = np.array([SHAPES[cfg.exercise][muscle_of(p)].peak_pct for p in cfg.placements])
    peak = base_peak * (1.0 + rng_plan.uniform(-0.1, 0.1, (cfg.n_reps, n_ch)))
    residual = rng_plan.uniform(*cfg.residual_pct, (cfg.n_reps, n_ch))
    tense = np.zeros((cfg.n_reps, n_ch), dtype=bool)
    holders = [p in (cfg.tense_muscles or cfg.placements) for p in cfg.placements]
    tense[list(cfg.tense_reps)] = holders
    timeline = MovementTimeline(reps)
    model = ActivationModel(reps, timeline, kin, cfg.exercise, cfg.placements, peak, tense,
                            residual, cross, cfg.activation_lead_s)
    duration = reps[-1].t_end + cfg.tail_s
    n = int(round(duration * cfg.emg_rate))
    # synthesise over an FFT-friendly length (the noise is shaped by one FFT), keep n samples
    padded_times = np.arange(next_fast_len(n, real=True)) / cfg.emg_rate
    act_padded = model(padded_times)
    emg_times, act = padded_times[:n], act_padded[:n]
    mvc = cfg.mvc_values()
    noise_uv = cfg.noise_levels()[0]
    emg = surface_emg(act_padded * (mvc / 100.0), cfg.emg_rate, rng_emg, noise_uv)[:n]
    emg = np.ascontiguousarray(emg + _extras(cfg, reps, emg_times, rng_extra), dtype=np.float32)
    imu_times = np.arange(int(round(duration * cfg.imu_rate))) / cfg.imu_rate
    imu, bias = imu_signals(imu_times, timeline, kin, cfg.imu_segments, rng_imu,
                            acc_noise_g=cfg.acc_noise_g, gyro_noise_dps=cfg.gyro_noise_dps,
                            gyro_bias_dps=cfg.gyro_bias_dps, wobble_deg=cfg.imu_wobble_deg)
    angles = {seg: a[0] for seg, a in kin.angles(*timeline.progress(imu_times)).items()}
    truth = []
    for rep, ev in zip(reps, activation_events(model, duration), strict=True):
        muscles = {
            p: MuscleTruth(ev.onset[c], ev.offset[c], not tense[rep.index, c],
                           ev.bottom_min_pct[c], ev.peak_pct[c])
            for c, p in enumerate(cfg.placements)
        }
        x = ev.crossover
        hip_x = None if x is None else float(kin.hip_at(timeline.progress(np.array([x]))[0][0]))
        pct = None if x is None else 100.0 * (x - rep.t_on) / (rep.t_top - rep.t_on)
        truth.append(RepTruth(
            rep.index, rep.set_index, rep.t_on, rep.t_top, rep.t_ecc, rep.t_bot, rep.t_end, muscles,
            x, hip_x, pct, rep.stall is not None, rep.stall[0] if rep.stall else None,
            rep.stall[1] if rep.stall else None, rep.index in cfg.partial_reps, rep.s_top,
            float(kin.hip_at(0.0)), float(kin.hip_at(rep.s_top)),
        ))
    return SyntheticSession(
        cfg, emg, emg_times, cfg.placements, dict(zip(cfg.placements, mvc.tolist(), strict=True)),
        np.ascontiguousarray(act, dtype=np.float32), imu, imu_times,
        angles["thigh"] - angles["pelvis"], angles, bias,
        np.broadcast_to(np.asarray(cfg.dc_offset_uv, float), (n_ch,)).copy(), truth, model,
    )


@dataclass(frozen=True, eq=False)
class MvcTrial:
    """A calibration recording: each placement contracts maximally in turn.

    ``emg`` ``(n, ch)`` float32 uV at ``fs`` with ``times``; ``plateaus`` placement ->
    ``(start, end)`` s of its 100 % MVC plateau; ``activation_pct`` the noiseless activation.
    """

    emg: np.ndarray
    times: np.ndarray
    fs: float
    placements: tuple[str, ...]
    mvc_uv: dict[str, float]
    plateaus: dict[str, tuple[float, float]]
    activation_pct: np.ndarray


def mvc_trial(
    config: SessionConfig | None = None,
    contraction_s: float = 4.0,
    rest_s: float = 3.0,
    ramp_s: float = 0.5,
    coactivation_pct: float = 5.0,
) -> MvcTrial:
    """Maximum voluntary contractions, one placement after the other, with rest around each.

    Uses ``config``'s placements, MVC amplitudes, EMG rate, noise floor, hum, DC offset and
    seed (a stream separate from the session's). Each contraction ramps up over ``ramp_s``,
    holds 100 % MVC until ``contraction_s`` after its start, then ramps down; the other
    muscles co-contract at ``coactivation_pct`` meanwhile.
    """
    cfg = config or SessionConfig()
    _check_range(contraction_s, "contraction_s", 1.0, 30.0, "s")
    _check_range(rest_s, "rest_s", 0.5, 60.0, "s")
    _check_range(ramp_s, "ramp_s", 0.05, contraction_s / 2, "s")
    _check_range(coactivation_pct, "coactivation_pct", 0.0, 50.0, "% MVC")
    fs, n_ch = cfg.emg_rate, len(cfg.placements)
    onsets = rest_s + np.arange(n_ch) * (contraction_s + ramp_s + rest_s)
    n = int(round((onsets[-1] + contraction_s + ramp_s + rest_s) * fs))
    union = burst_activation(n, fs, onsets, np.full(n_ch, contraction_s), 1.0, ramp_s)
    act = np.empty((n, n_ch))
    for c in range(n_ch):
        own = burst_activation(n, fs, onsets[c : c + 1], [contraction_s], 1.0, ramp_s)
        act[:, c] = REST_PCT + (100.0 - REST_PCT) * own + coactivation_pct * (union - own)
    streams = np.random.SeedSequence([cfg.seed, 1]).spawn(2)
    rng_emg, rng_extra = (np.random.default_rng(s) for s in streams)
    mvc = cfg.mvc_values()
    times = np.arange(n) / fs
    emg = surface_emg(act * (mvc / 100.0), fs, rng_emg, cfg.noise_levels()[0])
    quiet = dataclasses.replace(cfg, artefact_uv=0.0)
    emg = np.ascontiguousarray(emg + _extras(quiet, [], times, rng_extra), dtype=np.float32)
    plateaus = {
        p: (float(o + ramp_s), float(o + contraction_s))
        for p, o in zip(cfg.placements, onsets, strict=True)
    }
    mvc_map = dict(zip(cfg.placements, mvc.tolist(), strict=True))
    return MvcTrial(emg, times, fs, cfg.placements, mvc_map, plateaus,
                    np.ascontiguousarray(act, dtype=np.float32))


def glute_bridge_session(**overrides: object) -> SyntheticSession:
    """A glute-bridge session: ``SessionConfig(exercise="glute_bridge", **overrides)``."""
    return generate_session(SessionConfig(**{"exercise": "glute_bridge", **overrides}))


def rdl_session(**overrides: object) -> SyntheticSession:
    """A deadlift/RDL session: ``SessionConfig(exercise="rdl", **overrides)``."""
    return generate_session(SessionConfig(**{"exercise": "rdl", **overrides}))
