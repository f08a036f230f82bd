"""Synthetic sessions: determinism, shapes, truth consistency, EMG realism, validation, speed."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.signal import welch

from myoflow.synth.activation import ONSET_MARGIN_PCT, REST_PCT
from myoflow.synth.calibration import mvc_trial
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import generate_session, glute_bridge_session, rdl_session

CLEAN = {"noise_preset": "clean"}
REST_THR = REST_PCT + ONSET_MARGIN_PCT


def _window_rms(x: np.ndarray, w: int) -> np.ndarray:
    n = (x.shape[0] // w) * w
    return np.sqrt(np.mean(x[:n].reshape(-1, w, x.shape[1]).astype(np.float64) ** 2, axis=1))


def test_deterministic_for_a_seed_and_different_across_seeds():
    cfg = SessionConfig(n_reps=3, seed=11, tense_reps=(1,), stall_reps=(2,))
    a, b = generate_session(cfg), generate_session(cfg)
    assert np.array_equal(a.emg, b.emg) and np.array_equal(a.emg_times, b.emg_times)
    for seg in a.imu:
        assert np.array_equal(a.imu[seg][0], b.imu[seg][0])
        assert np.array_equal(a.imu[seg][1], b.imu[seg][1])
    assert a.truth == b.truth
    c = generate_session(dataclasses.replace(cfg, seed=12))
    assert not np.array_equal(a.emg[:1000], c.emg[:1000])
    assert a.truth[1].onset_s != c.truth[1].onset_s


def test_shapes_dtypes_and_blocks():
    s = rdl_session(n_reps=2, emg_rate=500, imu_rate=50)
    n = s.emg_times.size
    assert s.emg.shape == s.activation_pct.shape == (n, 4)
    assert s.emg.dtype == np.float32 and s.emg.flags.c_contiguous
    assert s.emg_times.dtype == np.float64 and np.allclose(np.diff(s.emg_times), 1 / 500)
    assert s.imu_times.dtype == np.float64 and s.hip_angle.shape == s.imu_times.shape
    assert s.emg_times[-1] == pytest.approx(s.truth[-1].end_s + s.config.tail_s, abs=2e-3)
    assert s.placements == ("glute_max_r", "biceps_femoris_r", "semitendinosus_r", "glute_med_r")
    assert all(150 <= v <= 400 for v in s.mvc_uv.values())
    block = s.emg_block()
    assert block.stream.rate == 500 and block.stream.placements == s.placements
    kinds = sorted(b.stream.kind for b in s.imu_blocks())
    assert kinds == ["acc", "acc", "gyro", "gyro"]


def test_truth_is_rate_independent():
    cfg = SessionConfig(n_reps=4, emg_rate=1000, tense_reps=(2,), stall_reps=(1,), partial_reps=(3,))
    one = generate_session(cfg)
    two = generate_session(dataclasses.replace(cfg, emg_rate=2000, imu_rate=200))
    assert one.truth == two.truth


def _check_truth(s) -> None:
    """Invariants every session's truth must satisfy."""
    cfg = s.config
    prev_end = 0.0
    for k, r in enumerate(s.truth):
        assert r.index == k
        assert prev_end <= r.onset_s < r.top_s <= r.eccentric_start_s < r.bottom_s < r.end_s
        prev_end = r.end_s
        same_set_prev = k > 0 and s.truth[k - 1].set_index == r.set_index
        for p, m in r.muscles.items():
            tense = k in cfg.tense_reps and p in (cfg.tense_muscles or cfg.placements)
            assert m.relaxed is (not tense)
            if m.relaxed:
                assert m.bottom_min_pct < REST_THR and m.offset_s is not None
                assert r.top_s - 0.2 < m.offset_s < r.bottom_s
            else:
                assert m.bottom_min_pct > cfg.residual_pct[0] - 1e-6 and m.offset_s is None
            held = same_set_prev and not s.truth[k - 1].muscles[p].relaxed
            assert (m.onset_s is None) is held
            if m.onset_s is not None:
                assert r.onset_s - cfg.activation_lead_s - 1e-9 < m.onset_s < r.top_s
        if r.crossover_s is not None:
            assert r.onset_s < r.crossover_s <= r.top_s
            assert 0 < r.crossover_pct <= 100
            hip = np.interp(r.crossover_s, s.imu_times, s.hip_angle)
            assert hip == pytest.approx(r.crossover_hip_deg, abs=0.2)
            assert hip == pytest.approx(s.hip_angle_at(np.array([r.crossover_s]))[0], abs=0.2)
        else:
            assert r.partial  # only a partial rep may miss the handover
        if r.stall:
            assert r.onset_s < r.stall_start_s < r.stall_end_s < r.top_s
            during = np.linspace(r.stall_start_s + 1e-3, r.stall_end_s - 1e-3, 50)
            assert np.ptp(s.hip_angle_at(during)) < 1e-9
            if r.crossover_s is not None:
                assert r.crossover_s > r.stall_end_s


def test_truth_consistency_glute_bridge():
    s = glute_bridge_session(
        n_reps=8,
        reps_per_set=4,
        set_pause_s=5.0,
        tense_reps=(1, 3, 5),
        stall_reps=(2,),
        partial_reps=(6,),
        crossover_deg=(18, 20, 22, 25, 15, 20, 20, 28),
        seed=7,
    )
    _check_truth(s)
    assert [r.set_index for r in s.truth] == [0, 0, 0, 0, 1, 1, 1, 1]
    # rep 3 is tense but the last of its set: the next set starts relaxed (onsets known)
    assert all(m.onset_s is not None for m in s.truth[4].muscles.values())
    for r, target in zip(s.truth, s.config.crossover_deg, strict=True):
        if not r.partial:
            assert r.crossover_hip_deg == pytest.approx(target, abs=1.0)
    assert s.truth[6].crossover_s is None and s.truth[6].rom_fraction == 0.5
    assert s.truth[6].hip_top_deg > 20


def test_truth_consistency_rdl_with_crossover_jitter():
    s = rdl_session(n_reps=6, crossover_jitter_deg=5.0, tense_reps=(0,), tense_muscles=("glute_max_r",))
    _check_truth(s)
    angles = [r.crossover_hip_deg for r in s.truth]
    assert np.std(angles) > 1.0 and all(15 < a < 70 for a in angles)
    assert not s.truth[0].muscles["glute_max_r"].relaxed
    assert s.truth[0].muscles["biceps_femoris_r"].relaxed


def test_crossover_needs_glute_and_hamstrings():
    alone = glute_bridge_session(n_reps=2, placements=("glute_max_l",), emg_rate=200)
    assert alone.emg.shape[1] == 1 and all(r.crossover_s is None for r in alone.truth)
    both = glute_bridge_session(
        n_reps=2, placements=("glute_max_l", "glute_max_r", "biceps_femoris_l"), emg_rate=200
    )
    assert all(r.crossover_hip_deg == pytest.approx(20.0, abs=0.5) for r in both.truth)


@given(
    exercise=st.sampled_from(["glute_bridge", "rdl"]),
    n_reps=st.integers(1, 4),
    seed=st.integers(0, 2**31),
    tense=st.sets(st.integers(0, 3)),
    stall=st.sets(st.integers(0, 3)),
    partial=st.sets(st.integers(0, 3)),
    per_set=st.sampled_from([None, 1, 2]),
)
def test_truth_invariants_property(exercise, n_reps, seed, tense, stall, partial, per_set):
    cfg = SessionConfig(
        exercise=exercise,
        n_reps=n_reps,
        seed=seed,
        emg_rate=200,
        imu_rate=50,
        tense_reps=tuple(k for k in tense if k < n_reps),
        reps_per_set=per_set,
        set_pause_s=3.0,
        stall_reps=tuple(k for k in stall if k < n_reps),
        partial_reps=tuple(k for k in partial if k < n_reps),
        crossover_jitter_deg=3.0,
    )
    _check_truth(generate_session(cfg))


def test_activation_profiles_are_plausible_and_smooth():
    s = glute_bridge_session(n_reps=6, tense_reps=(2,), seed=3)
    for r in s.truth:
        if r.index in (2, 3):  # the tense rep and the one starting from its residual tension
            continue
        m = r.muscles
        assert 30 <= m["glute_max_r"].peak_pct <= 60
        assert 20 <= m["biceps_femoris_r"].peak_pct <= 40
        assert 20 <= m["semitendinosus_r"].peak_pct <= 40
        # hamstrings lead, the glute takes over later and keeps squeezing into the eccentric
        assert m["biceps_femoris_r"].onset_s < m["glute_max_r"].onset_s
        assert m["glute_max_r"].offset_s > m["biceps_femoris_r"].offset_s
    fine = np.arange(0.0, s.emg_times[-1], 1e-4)
    act = s.activation_at(fine)
    assert np.abs(np.diff(act, axis=0)).max() < 0.15  # % MVC per 0.1 ms: no jumps
    lead = s.config.activation_lead_s
    edges = (
        np.array([[r.onset_s, r.top_s, r.eccentric_start_s, r.bottom_s, r.end_s] for r in s.truth]).ravel()
        - lead
    )
    left, right = s.activation_at(edges - 1e-9), s.activation_at(edges + 1e-9)
    assert np.abs(left - right).max() < 1e-5


@pytest.mark.parametrize("seed", [2, 4])
def test_emg_rms_follows_activation(seed):
    """Windowed RMS tracks the activation; a 0.5 s window of this spectrum has ~6 % RMS spread."""
    s = glute_bridge_session(n_reps=10, emg_rate=2000, seed=seed, **CLEAN)
    mvc = np.array([s.mvc_uv[p] for p in s.placements])
    act_uv = s.activation_pct.astype(np.float64) * mvc / 100
    noise = s.config.noise_levels()[0]
    w = 500  # 0.25 s: every window, steady or not
    ratio = _window_rms(s.emg, w) / np.sqrt(_window_rms(act_uv, w) ** 2 + noise**2)
    assert np.mean(np.abs(ratio - 1) <= 0.15) >= 0.93
    assert np.median(np.abs(ratio - 1)) < 0.05
    w = 1000  # 0.5 s windows over which the activation is steady (within 20 %)
    n = (act_uv.shape[0] // w) * w
    blocks = act_uv[:n].reshape(-1, w, act_uv.shape[1])
    steady = blocks.max(axis=1) < 1.2 * blocks.min(axis=1)
    ratio = (_window_rms(s.emg, w) / np.sqrt(_window_rms(act_uv, w) ** 2 + noise**2))[steady]
    assert ratio.size > 200
    assert np.mean(np.abs(ratio - 1) <= 0.15) >= 0.98
    assert abs(np.mean(ratio) - 1) < 0.02


def test_tense_bottom_is_visible_in_the_emg():
    s = glute_bridge_session(n_reps=4, tense_reps=(1,), emg_rate=1000, seed=4)

    def bottom_rms(r):
        m = (s.emg_times > r.bottom_s + 0.2) & (s.emg_times < r.end_s - 0.1)
        x = s.emg[m].astype(np.float64)
        return np.sqrt(np.mean((x - x.mean(axis=0)) ** 2, axis=0))

    relaxed, tense = bottom_rms(s.truth[0]), bottom_rms(s.truth[1])
    assert np.all(tense > 3 * relaxed)


def test_emg_spectrum_peaks_in_band_at_2khz():
    s = glute_bridge_session(n_reps=3, emg_rate=2000, seed=1, **CLEAN)
    r = s.truth[1]
    m = (s.emg_times > r.onset_s) & (s.emg_times < r.bottom_s)
    f, p = welch(s.emg[m, 0].astype(np.float64), fs=2000, nperseg=512)
    assert 50 <= f[np.argmax(p)] <= 150
    assert p[f > 500].mean() < 0.05 * p.max()


@pytest.mark.parametrize("hum_hz", [50, 60])
def test_mains_hum_at_configured_frequency(hum_hz):
    s = glute_bridge_session(n_reps=1, emg_rate=1000, hum_hz=hum_hz, hum_uv=20.0, seed=6)
    m = s.emg_times < s.truth[0].onset_s - 0.5
    x, t = s.emg[m].astype(np.float64), s.emg_times[m]
    f, p = welch(x[:, 1], fs=1000, nperseg=1000)
    assert f[np.argmax(p)] == pytest.approx(hum_hz, abs=1.0)
    amp = 2 * np.abs(np.mean(x * np.exp(-2j * np.pi * hum_hz * t)[:, None], axis=0))
    assert np.allclose(amp, 20.0, rtol=0.1)


def test_motion_artefacts_and_dc_offset():
    kw = {"n_reps": 3, "emg_rate": 1000, "seed": 9}
    base = glute_bridge_session(artefact_uv=0.0, **kw)
    art = glute_bridge_session(artefact_uv=50.0, dc_offset_uv=(100.0, -50.0, 0.0, 25.0), **kw)
    diff = art.emg.astype(np.float64) - base.emg - np.array([100.0, -50.0, 0.0, 25.0])
    starts = np.array([[r.onset_s, r.eccentric_start_s] for r in art.truth]).ravel()
    near = np.zeros(diff.shape[0], dtype=bool)
    for t0 in starts:
        near |= (art.emg_times >= t0) & (art.emg_times < t0 + 1.5)
    assert np.abs(diff[~near]).max() < 1e-3
    assert 10 < np.abs(diff).max() <= 50.5
    f, p = welch(diff[:, 0], fs=1000, nperseg=2048)
    assert p[f < 20].sum() > 0.95 * p.sum()
    assert np.allclose(art.dc_offset_uv, [100, -50, 0, 25])


def test_noise_presets_and_snr():
    assert SessionConfig(noise_preset="clean").noise_levels() == (1.0, 0.0, 0.0)
    noisy = SessionConfig(noise_preset="noisy", hum_uv=2.0).noise_levels()
    assert noisy[0] > 5 and noisy[1] == 2.0
    cfg = SessionConfig(snr_db=40.0, mvc_uv=(300, 300, 300, 300))
    assert cfg.noise_levels()[0] == pytest.approx(3.0)
    s = generate_session(dataclasses.replace(cfg, n_reps=1, hum_uv=0.0, artefact_uv=0.0))
    rest = s.emg[s.emg_times < 2.5].astype(np.float64)
    expected = np.sqrt(3.0**2 + (REST_PCT / 100 * 300) ** 2)
    assert np.sqrt(np.mean(rest**2)) == pytest.approx(expected, rel=0.1)


def test_mvc_trial_normalises():
    cfg = SessionConfig(emg_rate=1000, noise_preset="clean", mvc_uv=(300, 250, 200, 150))
    trial = mvc_trial(cfg, contraction_s=4.0, rest_s=2.0)
    assert trial.emg.shape == (trial.times.size, 4) and trial.emg.dtype == np.float32
    for c, p in enumerate(trial.placements):
        t0, t1 = trial.plateaus[p]
        assert t1 - t0 == pytest.approx(3.5)
        m = (trial.times > t0) & (trial.times < t1)
        rms = np.sqrt(np.mean(trial.emg[m, c].astype(np.float64) ** 2))
        assert rms == pytest.approx(trial.mvc_uv[p], rel=0.08)
        rest = trial.times < 1.5
        assert np.sqrt(np.mean(trial.emg[rest, c].astype(np.float64) ** 2)) < 0.03 * trial.mvc_uv[p]
    # normalised by its own MVC, the session's glute peaks land where the truth says
    s = generate_session(dataclasses.replace(cfg, n_reps=2))
    assert s.mvc_uv == trial.mvc_uv


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"exercise": "squat"}, "exercise"),
        ({"n_reps": 0}, "n_reps"),
        ({"n_reps": 2.5}, "n_reps"),
        ({"emg_rate": 100}, "emg_rate"),
        ({"emg_rate": 4000}, "emg_rate"),
        ({"emg_rate": float("nan")}, "emg_rate"),
        ({"imu_rate": 5}, "imu_rate"),
        ({"placements": ("glute_max_r", "quad_r")}, "quad_r"),
        ({"placements": ("glute_max",)}, "glute_max"),
        ({"placements": ("glute_max_r", "glute_max_r")}, "distinct"),
        ({"mvc_uv": (300.0,)}, "mvc_uv"),
        ({"mvc_uv": (1.0, 300, 300, 300)}, "mvc_uv"),
        ({"peak_pct": (200, 30, 30, 20)}, "peak_pct"),
        ({"concentric_s": 0.0}, "concentric_s"),
        ({"eccentric_s": 60}, "eccentric_s"),
        ({"tempo_jitter": 0.9}, "tempo_jitter"),
        ({"tense_reps": (10,)}, "tense_reps"),
        ({"stall_reps": (-1,)}, "stall_reps"),
        ({"tense_muscles": ("glute_max_l",)}, "tense_muscles"),
        ({"residual_pct": (30.0, 10.0)}, "residual_pct"),
        ({"crossover_deg": 60.0}, "crossover_deg"),
        ({"crossover_deg": (20.0, 21.0)}, "crossover_deg"),
        ({"partial_fraction": 1.0}, "partial_fraction"),
        ({"noise_preset": "loud"}, "noise_preset"),
        ({"noise_uv": 2.0, "snr_db": 30.0}, "noise_uv or snr_db"),
        ({"noise_uv": -1.0}, "noise_uv"),
        ({"hum_hz": 55}, "hum_hz"),
        ({"hum_hz": 60, "emg_rate": 110}, "emg_rate"),
        ({"dc_offset_uv": (1.0, 2.0)}, "dc_offset_uv"),
        ({"imu_segments": ("shank",)}, "imu_segments"),
        ({"set_pause_s": 0.5}, "set_pause_s"),
        ({"activation_lead_s": "soon"}, "activation_lead_s"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SessionConfig(**kwargs)


def test_mvc_trial_validation():
    with pytest.raises(ValueError, match="contraction_s"):
        mvc_trial(contraction_s=0.2)


def test_generator_does_not_import_the_detectors():
    code = (
        "import sys, myoflow.synth.session, myoflow.synth.activation, myoflow.synth.imu,"
        " myoflow.synth.config, myoflow.synth.calibration, myoflow.synth.artefacts;"
        "bad = [m for m in sys.modules if m.startswith(('myoflow.dsp', 'myoflow.analysis'))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
