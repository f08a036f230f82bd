"""Varied EMG burst trials with known onsets: richer than any detector's assumptions.

:func:`generate_trial` draws a sequence of muscle bursts of one shape class and hides them in
what real recordings add. The truth (:class:`TrialTruth`) is the noiseless activation and the
times where it **leaves its resting level** (onset) and gets back to it (offset); detectors never
see it. Shape classes (:data:`SHAPE_CLASSES`), every burst with its own random draw:

``step``
    linear rise in 10-60 ms, hold 0.3-1.2 s, fall in 50-200 ms;
``ramp``
    slow rise in 0.3-1.5 s, linear or concave (quarter sine: fastest at the start), hold
    0.1-0.5 s, fall in 0.1-0.6 s;
``plateau``
    rise in 80-250 ms, a 1.5-4 s hold with a 1-3 Hz +-15 % wobble, fall in 0.1-0.3 s;
``double``
    two bursts (rise 30-200 ms, hold 0.15-0.4 s) 0.2-0.4 s apart: two onsets.

Every activation shape starts with a non-zero slope at its onset (a kink), so the onset is a
well-defined instant. Around the bursts (:class:`TrialConfig`): a resting tone, incomplete
relaxation (the level after a burst stays up by a random residual until the next one),
co-activation (channel 1 follows channel 0's bursts at 20-50 %), a white noise floor set by the
SNR, baseline wander, motion artefacts (half of them at burst onsets), ECG bleed, mains hum with
harmonics and a DC offset. Each trial starts with at least 2 s of rest; :func:`mvc_trial` gives
a separate maximal contraction for % MVC normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from myoflow._checks import check_option, check_positive, check_rate
from myoflow.synth.emg import emg_noise
from myoflow.synth.nuisance import baseline_wander, ecg_bleed, mains_hum, motion_artefacts

SHAPE_CLASSES = ("step", "ramp", "plateau", "double")
#: A co-activation burst smaller than this (% MVC above rest) is neither truth nor a miss.
MIN_TRUTH_PCT = 4.0
#: Typical contraction (% MVC) the SNR refers to: noise RMS = (this % of MVC) / snr.
SNR_REFERENCE_PCT = 30.0


@dataclass(frozen=True)
class TrialConfig:
    """What one synthetic trial holds (module docstring). Levels in % MVC or uV as named."""

    shape: str = "ramp"
    fs: float = 1000.0
    duration_s: float = 30.0
    snr: float = 20.0
    tonic_pct: float = 1.0
    residual_pct: float = 0.0
    coactivation: bool = False
    wander_uv: float = 0.0
    artefact_uv: float = 0.0
    ecg_uv: float = 0.0
    mains_hz: float = 50.0
    mains_uv: float = 0.0
    peak_pct: tuple[float, float] = (15.0, 60.0)
    seed: int = 0

    def __post_init__(self) -> None:
        check_option(self.shape, "shape", SHAPE_CLASSES)
        check_rate(self.fs)
        check_positive(self.duration_s, "duration_s", "s")
        check_positive(self.snr, "snr")


@dataclass(frozen=True)
class TrialTruth:
    """Ground truth per channel: onsets/offsets (s), the burst shape of each onset, the
    channel's resting tone (% MVC) and onsets too small to count (``ignored_s``)."""

    onsets_s: tuple[np.ndarray, ...]
    offsets_s: tuple[np.ndarray, ...]
    shapes: tuple[tuple[str, ...], ...]
    ignored_s: tuple[np.ndarray, ...]
    activation_pct: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class Trial:
    """``emg`` ``(n, ch)`` float32 uV at ``fs``; ``mvc_uv`` ``(ch,)`` RMS of a maximal
    contraction; ``truth`` is for scoring only."""

    emg: np.ndarray
    fs: float
    mvc_uv: np.ndarray
    config: TrialConfig
    truth: TrialTruth


def _rise(u: np.ndarray, concave: bool) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return np.sin(0.5 * np.pi * u) if concave else u


def _burst_pieces(shape: str, rng: np.random.Generator) -> list[tuple[float, float, float, bool, float]]:
    """``(rise_s, hold_s, fall_s, concave, wobble)`` of each burst of one event."""
    if shape == "step":
        return [(rng.uniform(0.01, 0.06), rng.uniform(0.3, 1.2), rng.uniform(0.05, 0.2), False, 0.0)]
    if shape == "ramp":
        concave = bool(rng.random() < 0.5)
        return [(rng.uniform(0.3, 1.5), rng.uniform(0.1, 0.5), rng.uniform(0.1, 0.6), concave, 0.0)]
    if shape == "plateau":
        return [(rng.uniform(0.08, 0.25), rng.uniform(1.5, 4.0), rng.uniform(0.1, 0.3), False, 0.15)]
    return [
        (rng.uniform(0.03, 0.2), rng.uniform(0.15, 0.4), rng.uniform(0.05, 0.15), False, 0.0)
        for _ in range(2)
    ]


def _activation(cfg: TrialConfig, n: int, rng: np.random.Generator):
    """Channel 0's activation above the resting tone (% MVC), its onsets and offsets (s).

    Each burst rises from the level the last one left (its residual) and falls to a new
    residual (0 unless ``residual_pct``), which holds until the next burst."""
    fs = cfg.fs
    t = np.arange(n) / fs
    act = np.zeros(n)
    onsets, offsets = [], []
    now, resid = rng.uniform(2.0, 3.0), 0.0
    while True:
        pieces = _burst_pieces(cfg.shape, rng)
        span = sum(p[0] + p[1] + p[2] for p in pieces) + 0.4 * (len(pieces) - 1)
        if now + span + 1.0 > cfg.duration_s:
            break
        peak = rng.uniform(*cfg.peak_pct)
        new_resid = rng.uniform(0.0, cfg.residual_pct) if cfg.residual_pct > 0 else 0.0
        for k, (rise, hold, fall, concave, wobble) in enumerate(pieces):
            base = resid
            end_level = new_resid if k == len(pieces) - 1 else resid
            top_pct = peak * (1.0 if k == 0 else rng.uniform(0.6, 1.0))
            i0, i1 = np.searchsorted(t, [now, now + rise])
            i2, i3 = np.searchsorted(t, [now + rise + hold, now + rise + hold + fall])
            act[i0:i1] = base + (top_pct - base) * _rise((t[i0:i1] - now) / rise, concave)
            hold_t = t[i1:i2] - t[i1] if i2 > i1 else t[i1:i2]
            mod = 1.0 + wobble * np.sin(2 * np.pi * rng.uniform(1.0, 3.0) * hold_t) if wobble else 1.0
            act[i1:i2] = top_pct * mod
            act[i2:i3] = top_pct + (end_level - top_pct) * (t[i2:i3] - t[i2]) / fall
            act[i3:] = end_level
            onsets.append(now)
            offsets.append(now + rise + hold + fall)
            now = offsets[-1] + (rng.uniform(0.2, 0.4) if k < len(pieces) - 1 else 0.0)
        resid = new_resid
        now += rng.uniform(0.6, 2.5)
    return act, np.array(onsets), np.array(offsets)


def generate_trial(cfg: TrialConfig) -> Trial:
    """One trial of two channels (module docstring); the same config gives the same trial."""
    rng = np.random.default_rng(cfg.seed)
    fs, n = cfg.fs, int(round(cfg.duration_s * cfg.fs))
    t = np.arange(n) / fs
    act0, on0, off0 = _activation(cfg, n, rng)
    pct0 = cfg.tonic_pct + act0
    shapes0 = tuple([cfg.shape] * on0.size)
    if cfg.coactivation:
        share = rng.uniform(0.2, 0.5)
        pct1 = cfg.tonic_pct + share * act0
        peaks = np.array([act0[(t >= a) & (t <= b)].max() for a, b in zip(on0, off0, strict=True)])
        big = share * peaks >= MIN_TRUTH_PCT
        on1, off1, ign1 = on0[big], off0[big], on0[~big]
        shapes1 = tuple(s for s, b in zip(shapes0, big, strict=True) if b)
    else:
        act1, on1, off1 = _activation(cfg, n, rng)
        pct1 = cfg.tonic_pct + act1
        ign1, shapes1 = np.array([]), tuple([cfg.shape] * on1.size)
    pct = np.stack([pct0, pct1], axis=1)
    mvc_uv = rng.uniform(150.0, 400.0, 2)
    emg = _record(pct, mvc_uv, cfg, np.concatenate([on0, on1]), rng)
    truth = TrialTruth((on0, on1), (off0, off1), (shapes0, shapes1), (np.array([]), ign1), pct)
    return Trial(emg, fs, mvc_uv, cfg, truth)


def _record(pct: np.ndarray, mvc_uv: np.ndarray, cfg: TrialConfig, onsets: np.ndarray, rng) -> np.ndarray:
    """Muscle EMG from the activation plus everything the skin and the room add, float32 uV."""
    n, ch = pct.shape
    fs = cfg.fs
    t = np.arange(n) / fs
    muscle = emg_noise(n, ch, fs, rng) * (pct / 100.0 * mvc_uv)
    noise_uv = SNR_REFERENCE_PCT / 100.0 * mvc_uv / cfg.snr
    out = muscle + rng.standard_normal((n, ch)) * noise_uv
    for c in range(ch):
        out[:, c] += rng.uniform(-300.0, 300.0)
        if cfg.wander_uv:
            out[:, c] += baseline_wander(t, cfg.wander_uv, rng)
        if cfg.artefact_uv:
            at_onsets = onsets[rng.random(onsets.size) < 0.5] + rng.uniform(-0.05, 0.15)
            random = rng.uniform(0.0, cfg.duration_s, max(1, int(cfg.duration_s / 10)))
            out[:, c] += motion_artefacts(t, np.concatenate([at_onsets, random]), cfg.artefact_uv, rng)
        if cfg.ecg_uv:
            out[:, c] += ecg_bleed(t, cfg.ecg_uv * rng.uniform(0.5, 1.0), rng)
        if cfg.mains_uv:
            out[:, c] += mains_hum(t, cfg.mains_hz, cfg.mains_uv, fs, rng)
    return out.astype(np.float32)


def mvc_trial(trial: Trial, seconds: float = 6.0) -> np.ndarray:
    """A separate maximal contraction of every channel of ``trial``: 2 s rest, 3 s at 100 % MVC
    (0.2 s ramps), rest; same noise floor and rate. ``(n, ch)`` float32 uV."""
    cfg = trial.config
    rng = np.random.default_rng(cfg.seed + 7919)
    fs = cfg.fs
    n = int(round(seconds * fs))
    t = np.arange(n) / fs
    shape = np.clip(np.minimum((t - 2.0) / 0.2, (5.0 - t) / 0.2), 0.0, 1.0)
    pct = cfg.tonic_pct + 100.0 * np.repeat(shape[:, None], trial.mvc_uv.size, axis=1)
    muscle = emg_noise(n, pct.shape[1], fs, rng) * (pct / 100.0 * trial.mvc_uv)
    noise_uv = SNR_REFERENCE_PCT / 100.0 * trial.mvc_uv / cfg.snr
    return (muscle + rng.standard_normal(muscle.shape) * noise_uv).astype(np.float32)


#: Nuisance presets of the accuracy benchmark: name -> TrialConfig fields.
CONDITIONS: dict[str, dict[str, object]] = {
    "clean": {"snr": 30.0},
    "low_snr": {"snr": 4.0},
    "tonic": {"snr": 15.0, "tonic_pct": 3.0, "residual_pct": 6.0},
    "coactivation": {"snr": 15.0, "coactivation": True},
    "skin": {"snr": 10.0, "wander_uv": 200.0, "artefact_uv": 150.0},
    "ecg_mains60": {"snr": 10.0, "ecg_uv": 40.0, "mains_hz": 60.0, "mains_uv": 30.0},
    "mains50": {"snr": 10.0, "mains_uv": 50.0},
}
