"""What a synthetic session contains: :class:`SessionConfig`, its validation and its presets.

A :class:`SessionConfig` is a frozen, validated description (exercise, rep plan, rates, muscles,
noise, IMUs); :func:`myoflow.synth.session.generate_session` turns it into signals and truth and
:func:`myoflow.synth.calibration.mvc_trial` into a calibration recording. Besides validation it
resolves the values derived from it: crossover targets and band, noise levels, MVC amplitudes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from myoflow._checks import check_option, check_range, check_rate
from myoflow.synth.activation import DEFAULT_MVC_UV, muscle_of
from myoflow.synth.exercises import HINGES, default_placements, exercise_facts
from myoflow.synth.imu import KINEMATICS, SEGMENTS

DEFAULT_PLACEMENTS = ("glute_max_r", "biceps_femoris_r", "semitendinosus_r", "glute_med_r")
#: Default hip flexion (deg) where gluteus maximus takes over from the hamstrings.
DEFAULT_CROSSOVER_DEG = {
    "glute_bridge": 20.0,
    "single_leg_glute_bridge": 20.0,
    "hip_thrust": 25.0,
    "rdl": 40.0,
    "deadlift": 45.0,
}
#: Preset -> (noise floor uV RMS, mains hum uV amplitude, motion artefact uV peak).
NOISE_PRESETS = {
    "clean": (1.0, 0.0, 0.0),
    "typical": (3.0, 4.0, 30.0),
    "noisy": (8.0, 15.0, 80.0),
}


#: Most reps in one synthetic session (a long one is synthesised piece by piece: myoflow.synth.chain).
MAX_REPS = 1000


@dataclass(frozen=True)
class SessionConfig:
    """What to synthesise. Durations in s, rates in Hz, amplitudes in uV, levels in % MVC.

    Parameters
    ----------
    exercise : any exercise of :func:`myoflow.synth.exercises.synth_names` (the 12 shipped ones;
        an alias is resolved to its name): the hinges (glute bridge, single-leg bridge, hip
        thrust, RDL, deadlift) move in the sagittal plane; the others move as their movement
        family does (:mod:`myoflow.synth.motion3d`).
    n_reps, reps_per_set, set_pause_s : reps in total, per set (None: one set), rest between sets.
    emg_rate, imu_rate : 200-2000 Hz and 20-1000 Hz.
    seed : everything random derives from it.
    placements : EMG channels, ``<muscle>_<l|r>`` for glute_max, biceps_femoris,
        semitendinosus, glute_med, tfl, adductor_longus, rectus_femoris (empty: the exercise's
        defaults, :func:`myoflow.synth.exercises.default_placements`); their side is the
        working side.
    mvc_uv : RMS at MVC per channel (None: 320/260/230/180 uV by muscle).
    peak_pct : concentric peak per channel (None: bridge ~45/30/26/20, RDL ~40/36/38/18 %),
        jittered +-10 % per rep.
    concentric_s, top_hold_s, eccentric_s, bottom_rest_s, tempo_jitter : nominal phase
        durations and their uniform relative jitter per rep.
    rom_jitter : each rep reaches ``1 - U(0, rom_jitter)`` of the full range (when
        ``tempo_jitter`` > 0).
    lead_in_s, tail_s : rest before the first and after the last rep.
    tense_reps, tense_muscles : 0-based reps that do not relax at the bottom, and which
        placements hold the tension (None: all).
    residual_pct : ``(low, high)``: the residual tension is drawn uniformly from it.
    after_set_relax_s : how long a muscle still tense at the end of a set's last rep takes to
        return to rest after it, s (1 s: relaxed well inside the 10 s after-set window; 30 s:
        "not relaxed" after the set).
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
    heading_drift_dps : heading drift of the synthetic strap quaternions (non-hinge families).
    hold_s : length of each hold of an isometric exercise (None: the exercise's, e.g. 30 s);
        replaces ``top_hold_s`` there.
    antagonist_burst_pct, antagonist_burst_s, burst_reps : a brief burst (peak % MVC, s) of
        every antagonist channel near the end of the eccentric phase (0: none), in ``burst_reps``
        (None: every rep).
    """

    exercise: str = "glute_bridge"
    n_reps: int = 10
    reps_per_set: int | None = None
    set_pause_s: float = 20.0
    emg_rate: float = 1000.0
    imu_rate: float = 100.0
    seed: int = 0
    placements: tuple[str, ...] = ()
    mvc_uv: tuple[float, ...] | None = None
    peak_pct: tuple[float, ...] | None = None
    concentric_s: float = 1.0
    top_hold_s: float = 0.7
    eccentric_s: float = 1.8
    bottom_rest_s: float = 1.5
    tempo_jitter: float = 0.1
    rom_jitter: float = 0.04
    lead_in_s: float = 3.0
    tail_s: float = 3.0
    tense_reps: tuple[int, ...] = ()
    tense_muscles: tuple[str, ...] | None = None
    residual_pct: tuple[float, float] = (8.0, 20.0)
    after_set_relax_s: float = 1.0
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
    heading_drift_dps: float = 0.05
    hold_s: float | None = None
    antagonist_burst_pct: float = 0.0
    antagonist_burst_s: float = 0.25
    burst_reps: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        for name in (
            "placements",
            "tense_reps",
            "stall_reps",
            "partial_reps",
            "imu_segments",
            "residual_pct",
            "mvc_uv",
            "peak_pct",
            "tense_muscles",
            "crossover_deg",
            "dc_offset_uv",
            "burst_reps",
        ):
            value = getattr(self, name)
            if isinstance(value, (list, np.ndarray)):
                object.__setattr__(self, name, tuple(value))
        facts = exercise_facts(self.exercise)
        object.__setattr__(self, "exercise", facts.name)
        if not self.placements:
            object.__setattr__(self, "placements", default_placements(facts))
        for name, lo, hi in (("n_reps", 1, MAX_REPS), ("reps_per_set", 1, MAX_REPS), ("seed", 0, 2**63)):
            v = getattr(self, name)
            if v is None and name == "reps_per_set":
                continue
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
                raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {v!r}")
        check_range(check_rate(self.emg_rate, "emg_rate"), "emg_rate", 200, 2000, "Hz")
        check_range(check_rate(self.imu_rate, "imu_rate"), "imu_rate", 20, 1000, "Hz")
        for name, lo, hi in (
            ("concentric_s", 0.3, 5),
            ("top_hold_s", 0, 10),
            ("eccentric_s", 0.3, 6),
            ("bottom_rest_s", 0.2, 20),
            ("tempo_jitter", 0, 0.3),
            ("rom_jitter", 0, 0.3),
            ("lead_in_s", 1.5, 60),
            ("tail_s", 1.5, 60),
            ("after_set_relax_s", 0.2, 600),
            ("set_pause_s", 2, 600),
            ("stall_s", 0.1, 3),
            ("partial_fraction", 0.2, 0.9),
            ("activation_lead_s", 0, 0.2),
            ("crossover_jitter_deg", 0, 10),
            ("imu_wobble_deg", 0, 10),
            ("acc_noise_g", 0, 0.5),
            ("gyro_noise_dps", 0, 20),
            ("gyro_bias_dps", 0, 20),
            ("heading_drift_dps", 0, 5),
            ("antagonist_burst_pct", 0, 60),
            ("antagonist_burst_s", 0.1, 0.6),
        ):
            check_range(getattr(self, name), name, lo, hi, "s" if name.endswith("_s") else "")
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
            check_range(v, "mvc_uv", 20, 2000, "uV")
        for v in self.peak_pct or ():
            check_range(v, "peak_pct", 5, 100, "% MVC")
        if self.hold_s is not None:
            check_range(self.hold_s, "hold_s", 2, 120, "s")
        for name in ("tense_reps", "stall_reps", "partial_reps", "burst_reps"):
            bad = [k for k in getattr(self, name) or () if not 0 <= k < self.n_reps]
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
                check_range(getattr(self, name), name, 0, 1000, "uV")
        if self.snr_db is not None:
            check_range(self.snr_db, "snr_db", 0, 80, "dB")
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

    @property
    def is_hinge(self) -> bool:
        """True for the sagittal hinges (their kinematics and hamstring-glute crossover)."""
        return self.motion in HINGES

    @property
    def motion(self) -> str:
        """The synthetic motion (a shipped exercise's; :func:`~myoflow.synth.exercises.exercise_facts`)."""
        return exercise_facts(self.exercise).motion

    @property
    def side(self) -> str:
        """The working side: the side of the first placement (``"l"``/``"r"``)."""
        return self.placements[0].rpartition("_")[2]

    @property
    def family(self) -> str:
        """The exercise's movement family (the registry's)."""
        return exercise_facts(self.exercise).family

    def hold_seconds(self) -> float | None:
        """Hold length (s) of an isometric exercise, None for the others."""
        facts = exercise_facts(self.exercise)
        if facts.family != "isometric_hold":
            return None
        return float(self.hold_s if self.hold_s is not None else facts.hold_s or 30.0)

    def crossover_targets(self) -> np.ndarray:
        """Nominal crossover hip angle per rep (deg), before jitter; validated against the range
        (NaN for exercises that are not hinges: no crossover)."""
        if not self.is_hinge:
            if self.crossover_deg is not None:
                raise ValueError(f"crossover_deg applies to the hinges only, not to {self.exercise}")
            return np.full(self.n_reps, np.nan)
        value = self.crossover_deg
        if value is None:
            value = DEFAULT_CROSSOVER_DEG[self.motion]
        targets = np.asarray(value, dtype=np.float64)
        if targets.ndim == 0:
            targets = np.full(self.n_reps, float(targets))
        if targets.shape != (self.n_reps,):
            raise ValueError(f"crossover_deg needs one value or one per rep ({self.n_reps}), got {value!r}")
        lo, hi = self.crossover_band()
        if not np.all((targets >= lo) & (targets <= hi)):
            raise ValueError(
                f"crossover_deg must lie within [{lo:.1f}, {hi:.1f}] deg hip flexion for "
                f"{self.exercise}, got {value!r}"
            )
        return targets

    def crossover_band(self) -> tuple[float, float]:
        """Allowed crossover hip angles (deg): the middle 70 % of the exercise's range."""
        if not self.is_hinge:
            return float("nan"), float("nan")
        bottom, top = KINEMATICS[self.motion].hip_range
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
