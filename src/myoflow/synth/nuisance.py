"""What real skin adds to surface EMG: baseline wander, motion artefacts, ECG bleed, mains hum.

Every piece is built from closed-form shapes and seeded random draws; nothing here uses the
filters of :mod:`myoflow.dsp`. Amplitudes are in microvolts; ``t`` is the sample times in s.
"""

from __future__ import annotations

import numpy as np


def baseline_wander(t: np.ndarray, amplitude_uv: float, rng: np.random.Generator) -> np.ndarray:
    """Slow electrode-offset drift: a sum of five sinusoids at 0.05-1.5 Hz, ``(n,)`` uV."""
    out = np.zeros_like(t)
    for _ in range(5):
        f = rng.uniform(0.05, 1.5)
        out += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    return amplitude_uv * out / 2.5


def motion_artefacts(
    t: np.ndarray, times_s: np.ndarray, amplitude_uv: float, rng: np.random.Generator
) -> np.ndarray:
    """Cable/skin artefacts at ``times_s``: decaying 2-15 Hz oscillations (50-300 ms) with a
    sharp 5-20 ms step at their start, which reaches into the EMG band. ``(n,)`` uV."""
    out = np.zeros_like(t)
    for t0 in np.atleast_1d(times_s):
        i0, i1 = np.searchsorted(t, [t0, t0 + 1.0])
        dt = t[i0:i1] - t0
        amp = amplitude_uv * rng.uniform(0.5, 1.0) * rng.choice([-1.0, 1.0])
        f, tau, rise = rng.uniform(2.0, 15.0), rng.uniform(0.05, 0.3), rng.uniform(0.005, 0.02)
        out[i0:i1] += (
            amp * np.sin(2 * np.pi * f * dt + np.pi / 2) * np.exp(-dt / tau) * (1 - np.exp(-dt / rise))
        )
    return out


def ecg_bleed(t: np.ndarray, amplitude_uv: float, rng: np.random.Generator) -> np.ndarray:
    """Heart beats seen from a trunk or hip electrode: QRS complexes (a Mexican-hat-like
    wavelet of 8-12 ms, most energy 15-60 Hz) plus a T wave, 55-95 beats/min with 5 % jitter.
    ``(n,)`` uV."""
    out = np.zeros_like(t)
    if amplitude_uv <= 0 or t.size == 0:
        return out
    period = 60.0 / rng.uniform(55.0, 95.0)
    beat = t[0] + rng.uniform(0, period)
    width = rng.uniform(0.008, 0.012)
    while beat < t[-1] + 0.5:
        i0, i1 = np.searchsorted(t, [beat - 0.1, beat + 0.4])
        dt = t[i0:i1] - beat
        u = dt / width
        qrs = (1 - u**2) * np.exp(-(u**2) / 2)
        twave = 0.25 * np.exp(-(((dt - 0.25) / 0.04) ** 2) / 2)
        out[i0:i1] += amplitude_uv * (qrs + twave)
        beat += period * rng.uniform(0.95, 1.05)
    return out


def mains_hum(
    t: np.ndarray, hz: float, amplitude_uv: float, fs: float, rng: np.random.Generator
) -> np.ndarray:
    """Mains at ``hz`` with a 3rd harmonic at 10 % (and the 2nd at 5 %), aliased as a strap
    without a steep anti-aliasing filter would show it. ``(n,)`` uV."""
    out = np.zeros_like(t)
    for k, rel in ((1, 1.0), (2, 0.05), (3, 0.1)):
        out += rel * np.sin(2 * np.pi * k * hz * t + rng.uniform(0, 2 * np.pi))
    return amplitude_uv * out
