"""Fatigue (MNF/MDF/RMS per rep, trends per set) on synthetic EMG with a known spectrum.

The signals come from :func:`myoflow.synth.emg.emg_noise`: Gaussian noise shaped in the
frequency domain to the Shwedyk (1977) surface-EMG spectrum with corner frequencies
``60 k`` and ``120 k`` Hz. Scaling both corners by ``k`` scales the whole spectrum along the
frequency axis by ``k``, so the true median frequency inside the analysis band is computed
here from the closed-form spectrum, independently of the Welch estimator under test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from myoflow.analysis.fatigue import (
    FatigueParams,
    jasa_quadrant,
    session_fatigue,
    set_trend,
    spectral_band,
    spectral_stats,
)
from myoflow.synth.emg import emg_noise, shwedyk_psd


def true_mdf_mnf(k: float, band: tuple[float, float]) -> tuple[float, float]:
    """Median and mean frequency (Hz) of the Shwedyk spectrum scaled by ``k``, inside ``band``."""
    f = np.linspace(band[0], band[1], 40001)
    p = shwedyk_psd(f, 60.0 * k, 120.0 * k)
    c = np.cumsum(p) / p.sum()
    return float(np.interp(0.5, c, f)), float((f * p).sum() / p.sum())


def full_band_mdf(k: float) -> float:
    f = np.linspace(0.01, 5000.0, 400001)
    p = shwedyk_psd(f, 60.0 * k, 120.0 * k)
    return float(np.interp(0.5, np.cumsum(p) / p.sum(), f))


@pytest.mark.parametrize("fs", [2000.0, 1000.0, 200.0])
@pytest.mark.parametrize("k", [1.0, 0.7])
def test_median_frequency_within_2_hz_of_truth(fs: float, k: float) -> None:
    rng = np.random.default_rng(int(fs + 10 * k))
    band = spectral_band(fs)
    n = int(2 * fs)
    x = emg_noise(n * 40, 1, fs, rng, 60.0 * k, 120.0 * k).reshape(40, n, 1) * 50.0
    est = np.array([spectral_stats(w, fs) for w in x])[:, :, 0]  # (40, 3): mnf, mdf, rms
    mdf_true, mnf_true = true_mdf_mnf(k, band)
    assert abs(est[:, 1].mean() - mdf_true) < 2.0
    assert abs(est[:, 0].mean() - mnf_true) < 2.0
    # one 2 s window scatters a few Hz around the truth (a property of 2 s of noise, not a bias)
    assert est[:, 1].std() < 6.5
    assert np.allclose(est[:, 2], 50.0, rtol=0.1)


@pytest.mark.parametrize("fs", [2000.0, 1000.0])
def test_known_spectral_shift_is_measured(fs: float) -> None:
    rng = np.random.default_rng(7)
    n = int(2 * fs)
    mdf = {}
    for k in (1.0, 0.75):
        x = emg_noise(n * 30, 1, fs, rng, 60.0 * k, 120.0 * k).reshape(30, n, 1)
        mdf[k] = np.mean([spectral_stats(w, fs)[1][0] for w in x])
    band = spectral_band(fs)
    true_shift = true_mdf_mnf(1.0, band)[0] - true_mdf_mnf(0.75, band)[0]
    assert true_shift > 20.0
    assert abs((mdf[1.0] - mdf[0.75]) - true_shift) < 2.0


def test_200_hz_reads_low_and_compresses_the_shift() -> None:
    """At 200 Hz the 20-90 Hz band holds the lower part of the spectrum only: the stated limit."""
    fs, band = 200.0, spectral_band(200.0)
    assert band == (20.0, 90.0)
    bias = true_mdf_mnf(1.0, band)[0] - full_band_mdf(1.0)
    assert -40.0 < bias < -30.0  # docs/fatigue-symmetry.md: about -36 Hz at the default spectrum
    shift_200 = true_mdf_mnf(1.0, band)[0] - true_mdf_mnf(0.7, band)[0]
    shift_full = full_band_mdf(1.0) - full_band_mdf(0.7)
    assert 0.2 < shift_200 / shift_full < 0.35
    with pytest.raises(ValueError, match="fs=40 Hz"):
        spectral_band(40.0)
    del fs


def test_mains_cut_removes_a_line() -> None:
    fs = 1000.0
    rng = np.random.default_rng(3)
    x = emg_noise(int(10 * fs), 1, fs, rng)[:, 0]
    t = np.arange(x.size) / fs
    hum = x + 0.5 * np.sin(2 * np.pi * 50.0 * t)
    clean = spectral_stats(x, fs)[1][0]
    assert spectral_stats(hum, fs)[1][0] < clean - 5.0
    cut = spectral_stats(hum, fs, FatigueParams(mains_hz=50.0))[1][0]
    assert abs(cut - clean) < 2.0


@dataclass
class FakeRep:
    index: int
    set_index: int
    phases: dict[str, float]


def fatiguing_session(fs: float, ks: list[float], amps: list[float], rng: np.random.Generator):
    """Two channels; rep i is 2 s of EMG with spectrum scale ``ks[i]`` and RMS ``amps[i]`` uV,
    1 s of low noise between reps; channel 1 stays fresh (k=1, 40 uV)."""
    rest, work = int(1 * fs), int(2 * fs)
    parts, reps = [], []
    t = 0
    for i, (k, a) in enumerate(zip(ks, amps, strict=True)):
        parts.append(rng.standard_normal((rest, 2)) * 2.0)
        t += rest
        burst = np.column_stack(
            [
                emg_noise(work, 1, fs, rng, 60.0 * k, 120.0 * k)[:, 0] * a,
                emg_noise(work, 1, fs, rng)[:, 0] * 40.0,
            ]
        )
        parts.append(burst)
        phases = {"start": t / fs, "top": (t + work) / fs, "eccentric": (t + work) / fs}
        phases |= {"bottom": (t + work) / fs, "end": (t + work) / fs}
        reps.append(FakeRep(i + 1, 0, phases))
        t += work
    return np.concatenate(parts), reps


def test_fatiguing_set_is_flagged_and_fresh_muscle_is_not() -> None:
    fs = 1000.0
    rng = np.random.default_rng(11)
    ks = list(np.linspace(1.0, 0.7, 10))
    amps = list(np.linspace(40.0, 60.0, 10))
    emg, reps = fatiguing_session(fs, ks, amps, rng)
    out = session_fatigue(emg, fs, ["glute_max_r", "glute_max_l"], reps)
    assert out.limit is None and out.band_hz == (20.0, 450.0)
    assert len(out.reps) == 20
    tired, fresh = out.sets
    band = out.band_hz
    true = [true_mdf_mnf(k, band)[0] for k in ks]
    true_slope = np.polyfit(np.arange(10), true, 1)[0]
    assert tired.muscle == "glute_max_r" and tired.fatigue and tired.quadrant == "fatigue"
    assert abs(tired.mdf_slope_hz_per_rep - true_slope) < 1.0  # about -3 Hz/rep
    assert abs(tired.mdf_hz - np.mean(true)) < 2.0
    assert tired.rms_slope_pct_per_rep == pytest.approx(100 * (20 / 9) / 50, rel=0.2)
    assert not fresh.fatigue
    assert abs(fresh.mdf_slope_hz_per_rep) < 1.0
    s = out.summary()
    assert s["glute_max_r.fatigue"] == 1.0 and s["glute_max_l.fatigue"] == 0.0


def test_fatigue_at_200_hz_still_flags_the_trend() -> None:
    fs = 200.0
    rng = np.random.default_rng(5)
    emg, reps = fatiguing_session(fs, list(np.linspace(1.0, 0.6, 10)), list(np.linspace(40, 60, 10)), rng)
    out = session_fatigue(emg, fs, ["vastus_lateralis_r", "vastus_lateralis_l"], reps)
    assert out.limit is not None and "90 Hz" in out.limit
    assert out.sets[0].fatigue and not out.sets[1].fatigue


def test_lost_samples_and_short_windows_give_nan() -> None:
    fs = 1000.0
    rng = np.random.default_rng(2)
    emg, reps = fatiguing_session(fs, [1.0] * 4, [40.0] * 4, rng)
    a = int(reps[1].phases["start"] * fs)
    emg[a + 100 : a + 110] = np.nan
    reps[2].phases["top"] = reps[2].phases["start"] + 0.1
    out = session_fatigue(emg, fs, ["a_r", "a_l"], reps)
    by_rep = {(r.rep, r.muscle): r for r in out.reps}
    assert math.isnan(by_rep[(2, "a_r")].mdf_hz) and math.isnan(by_rep[(3, "a_l")].rms_uv)
    assert math.isfinite(by_rep[(1, "a_r")].mdf_hz) and math.isfinite(by_rep[(4, "a_r")].mdf_hz)
    assert not out.sets[0].fatigue  # 2 usable reps are too few for a flag


def test_quadrants_trend_and_errors() -> None:
    assert jasa_quadrant(-1.0, 2.0) == "fatigue"
    assert jasa_quadrant(-1.0, -2.0) == "force_decrease"
    assert jasa_quadrant(1.0, 2.0) == "force_increase"
    assert jasa_quadrant(1.0, -2.0) == "recovery"
    assert jasa_quadrant(math.nan, 1.0) is None
    slope, pct, p = set_trend([100.0, 98.0, 96.0, 94.0])
    assert slope == pytest.approx(-2.0) and pct == pytest.approx(-2.0 / 97.0 * 100) and p < 1e-6
    assert all(math.isnan(v) for v in set_trend([1.0, math.nan]))
    with pytest.raises(ValueError, match=r"emg must be \(n, 2\).*got shape \(1000, 3\)"):
        session_fatigue(np.zeros((1000, 3)), 1000.0, ["a", "b"], [])
    with pytest.raises(ValueError, match="window"):
        FatigueParams(window="middle")
    with pytest.raises(ValueError, match="overlap"):
        FatigueParams(overlap=0.95)


@pytest.mark.parametrize(("nper", "noverlap"), [(500, 250), (100, 50), (256, 0)])
def test_welch_power_is_scipy_welch_up_to_one_factor(nper: int, noverlap: int) -> None:
    from scipy import signal

    from myoflow.analysis.fatigue import welch_power

    x = np.random.default_rng(0).standard_normal((1733, 3)).cumsum(axis=0)
    f, p = welch_power(x, 1000.0, nper, noverlap)
    f2, p2 = signal.welch(
        x, 1000.0, window="hann", nperseg=nper, noverlap=noverlap, detrend="constant", axis=0
    )
    np.testing.assert_allclose(f, f2)
    ratio = p[1:-1] / p2[1:-1]  # scipy doubles the one-sided bins except DC and Nyquist
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-9)
