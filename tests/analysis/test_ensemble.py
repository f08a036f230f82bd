"""Ensemble curves on envelopes built with a known shape per phase, and on a synthetic session."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from myoflow.analysis.ensemble import (
    normal_band,
    outside_band,
    rep_ensemble,
    session_ensembles,
    time_normalise,
)
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.synth.config import SessionConfig

from .conftest import run_synthetic

FS = 500.0


@dataclass
class FakeRep:
    index: int
    phases: dict[str, float]


def shaped_session(amps: list[float], rng: np.random.Generator, fs: float = FS):
    """Channel 0: half a sine over the concentric phase (amplitude ``amps[i]``), a linear ramp
    down over the eccentric phase; channel 1: twice channel 0. Phase durations vary per rep."""
    t_total = 3.0 + sum(4.5 for _ in amps)
    n = int(t_total * fs)
    env = np.zeros((n, 2))
    t = np.arange(n) / fs
    reps, t0 = [], 1.0
    for i, a in enumerate(amps):
        conc, hold, ecc = rng.uniform(0.6, 1.4), rng.uniform(0.2, 0.5), rng.uniform(1.0, 2.0)
        top, e0, bottom = t0 + conc, t0 + conc + hold, t0 + conc + hold + ecc
        u = (t - t0) / conc
        m = (u >= 0) & (u <= 1)
        env[m, 0] = a * np.sin(np.pi * u[m])
        v = (t - e0) / ecc
        m = (v >= -0.05) & (v <= 1)  # from just before the phase, so interpolation at 0 % sees it
        env[m, 0] = a * (1 - np.clip(v[m], 0, 1))
        reps.append(
            FakeRep(i + 1, {"start": t0, "top": top, "eccentric": e0, "bottom": bottom, "end": bottom + 0.2})
        )
        t0 = bottom + 0.5
    env[:, 1] = 2 * env[:, 0]
    return env, reps


def test_known_shapes_give_known_mean_and_sd() -> None:
    rng = np.random.default_rng(4)
    amps = [20.0, 30.0, 40.0, 25.0, 35.0]
    env, reps = shaped_session(amps, rng)
    ens = session_ensembles(env, FS, ["glute_max_r", "glute_max_l"], reps, unit="% MVC")
    pct = np.linspace(0, 100, 101)
    conc, ecc = ens["concentric"], ens["eccentric"]
    assert conc.curves.shape == (5, 101, 2) and list(conc.reps) == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(conc.pct, pct)
    shape = np.sin(np.pi * pct / 100)
    np.testing.assert_allclose(conc.mean[:, 0], np.mean(amps) * shape, atol=0.3)
    np.testing.assert_allclose(conc.sd[:, 0], np.std(amps, ddof=1) * shape, atol=0.3)
    np.testing.assert_allclose(conc.mean[:, 1], 2 * conc.mean[:, 0])
    np.testing.assert_allclose(ecc.mean[:, 0], np.mean(amps) * (1 - pct / 100), atol=0.3)
    arrays = conc.to_arrays("env.")
    assert arrays["env.concentric.mean"].shape == (101, 2)
    assert list(arrays["env.concentric.placements"]) == ["glute_max_r", "glute_max_l"]
    d = ecc.to_dict()
    assert d["n_reps"] == 5 and len(d["muscles"]["glute_max_l"]["sd"]) == 101


def test_time_normalise_edges_and_lost_samples() -> None:
    x = np.arange(100, dtype=np.float64)[:, None]
    y = time_normalise(x, 10.0, 1.0, 5.0, 5)
    np.testing.assert_allclose(y[:, 0], [10, 20, 30, 40, 50])
    assert np.isnan(time_normalise(x, 10.0, 8.0, 12.0)).all()  # leaves the signal
    assert np.isnan(time_normalise(x, 10.0, 3.0, 3.05)).all()  # not longer than one sample
    env, reps = shaped_session([10.0, 10.0, 10.0], np.random.default_rng(1))
    a = int(reps[1].phases["start"] * FS) + 5
    env[a, 0] = np.nan
    ens = rep_ensemble(env, FS, ["a", "b"], reps, "concentric")
    assert list(ens.reps) == [1, 3]
    with pytest.raises(ValueError, match="phase"):
        rep_ensemble(env, FS, ["a", "b"], reps, "middle")
    with pytest.raises(ValueError, match="2 channels but 1 placements"):
        rep_ensemble(env, FS, ["a"], reps)


def test_normal_band_from_earlier_sessions() -> None:
    rng = np.random.default_rng(2)
    earlier = []
    all_amps = []
    for _ in range(3):
        amps = list(rng.uniform(25, 35, 6))
        all_amps += amps
        env, reps = shaped_session(amps, rng)
        earlier.append(rep_ensemble(env, FS, ["glute_max_r", "glute_max_l"], reps))
    band = normal_band(earlier)
    assert band.n_sessions == 3 and band.n_reps == 18
    shape = np.sin(np.pi * band.pct / 100)
    np.testing.assert_allclose(band.mean[:, 0], np.mean(all_amps) * shape, atol=0.3)
    np.testing.assert_allclose(band.upper[:, 0] - band.mean[:, 0], np.std(all_amps, ddof=1) * shape, atol=0.3)
    # today: same muscles in the other channel order; a weak day leaves the band
    env, reps = shaped_session([12.0] * 5, rng)
    today = rep_ensemble(env[:, ::-1], FS, ["glute_max_l", "glute_max_r"], reps)
    out = outside_band(today, band)
    assert out["glute_max_r"] > 0.8 and out["glute_max_l"] > 0.8
    env, reps = shaped_session([30.0] * 5, rng)
    assert (
        outside_band(rep_ensemble(env, FS, ["glute_max_r", "glute_max_l"], reps), band)["glute_max_r"] < 0.05
    )
    with pytest.raises(ValueError, match="at least one"):
        normal_band([])
    with pytest.raises(ValueError, match="no channel glute_max_l"):
        normal_band([earlier[0], rep_ensemble(env[:, :1], FS, ["glute_max_r"], reps)])


def test_synthetic_session_ensemble_follows_true_activation() -> None:
    """The ensemble of the analysed envelope (detected phases) against the ensemble of the
    generator's true activation cut at the true phases: same shape, peak at the same % of the
    concentric phase."""
    cfg = SessionConfig(n_reps=8, seed=5, noise_preset="clean")
    session, metrics = run_synthetic(cfg)
    names = list(metrics.context.placements)
    fs = cfg.emg_rate
    env = envelope_offline(session.emg, fs, profile_for_rate(fs, cfg.hum_hz))
    true_reps = [
        FakeRep(
            t.index,
            {"start": t.onset_s, "top": t.top_s, "eccentric": t.eccentric_start_s, "bottom": t.bottom_s},
        )
        for t in session.truth
    ]
    for phase in ("concentric", "eccentric"):
        truth = rep_ensemble(session.activation_pct, fs, names, true_reps, phase)
        found = rep_ensemble(env, fs, names, metrics.results, phase)
        assert found.n_reps == truth.n_reps == 8
        for c, m in enumerate(names):
            r = np.corrcoef(found.mean[:, c], truth.mean[:, c])[0, 1]
            assert r > 0.9, (phase, m, r)
            if phase == "concentric":
                assert abs(int(np.argmax(found.mean[:, c])) - int(np.argmax(truth.mean[:, c]))) <= 10
        assert not np.isnan(found.sd).any()
