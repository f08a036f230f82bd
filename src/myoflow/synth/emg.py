"""Surface EMG as amplitude-modulated, spectrally shaped Gaussian noise.

The power spectrum follows Shwedyk et al. (1977), the usual model of surface EMG:

    P(f) ~ f_h^4 f^2 / ((f^2 + f_l^2) (f^2 + f_h^2)^2)

with ``f_l = 60 Hz`` and ``f_h = 120 Hz`` by default (peak near 80 Hz, most power 20-450 Hz).
Noise is shaped in the frequency domain (one FFT per channel), so nothing here uses the
filters of :mod:`myoflow.dsp`.
"""

from __future__ import annotations

import numpy as np

from myoflow._checks import as_signal, check_rate


def shwedyk_psd(freqs: np.ndarray, f_low: float = 60.0, f_high: float = 120.0) -> np.ndarray:
    """Relative surface-EMG power at ``freqs`` (Hz); peak normalised to 1."""
    f = np.asarray(freqs, dtype=np.float64)
    p = f_high**4 * f**2 / ((f**2 + f_low**2) * (f**2 + f_high**2) ** 2)
    grid = np.linspace(0.0, 1000.0, 4001)
    peak = np.max(f_high**4 * grid**2 / ((grid**2 + f_low**2) * (grid**2 + f_high**2) ** 2))
    return p / peak


def emg_noise(
    n_samples: int,
    n_channels: int,
    fs: float,
    rng: np.random.Generator,
    f_low: float = 60.0,
    f_high: float = 120.0,
) -> np.ndarray:
    """Unit-RMS noise with a surface-EMG spectrum, shape ``(n_samples, n_channels)``, float64.

    Content above the Nyquist frequency ``fs / 2`` is absent, as after a device's
    anti-aliasing filter: at 200 Hz only the 0-100 Hz part of the spectrum remains.
    """
    fs = check_rate(fs)
    white = rng.standard_normal((n_samples, n_channels))
    spectrum = np.fft.rfft(white, axis=0)
    freqs = np.fft.rfftfreq(n_samples, d=1.0 / fs)
    spectrum *= np.sqrt(shwedyk_psd(freqs, f_low, f_high))[:, np.newaxis]
    shaped = np.fft.irfft(spectrum, n=n_samples, axis=0)
    rms = np.sqrt(np.mean(shaped**2, axis=0, keepdims=True))
    return shaped / np.where(rms > 0, rms, 1.0)


def surface_emg(
    activation_uv: np.ndarray,
    fs: float,
    rng: np.random.Generator,
    noise_uv: float = 2.0,
) -> np.ndarray:
    """Surface EMG whose RMS follows ``activation_uv``.

    Parameters
    ----------
    activation_uv
        Shape ``(n_samples, n_channels)``: the wanted RMS amplitude of the muscle signal over
        time, in microvolts (0 at rest).
    fs
        Sample rate in Hz.
    rng
        Seeded generator; the same seed gives the same signal.
    noise_uv
        RMS of the additive white (electrode + amplifier) noise floor in microvolts.

    Returns
    -------
    Shape ``(n_samples, n_channels)``, float32, microvolts.
    """
    act = as_signal(activation_uv, "activation_uv", dtype=np.float64)
    n, ch = act.shape
    muscle = emg_noise(n, ch, fs, rng) * act
    floor = rng.standard_normal((n, ch)) * noise_uv
    return (muscle + floor).astype(np.float32)


def burst_activation(
    n_samples: int,
    fs: float,
    onsets_s: np.ndarray,
    durations_s: np.ndarray,
    amplitude_uv: float,
    ramp_s: float = 0.05,
) -> np.ndarray:
    """One channel of rectangular bursts with raised-cosine ramps, shape ``(n_samples,)``.

    Each burst starts rising at its onset (the true onset) and is at full ``amplitude_uv``
    ``ramp_s`` seconds later; it falls over ``ramp_s`` after ``onset + duration``.
    """
    fs = check_rate(fs)
    t = np.arange(n_samples) / fs
    act = np.zeros(n_samples)
    for onset, dur in zip(np.atleast_1d(onsets_s), np.atleast_1d(durations_s), strict=True):
        rise = np.clip((t - onset) / ramp_s, 0.0, 1.0)
        fall = np.clip((onset + dur + ramp_s - t) / ramp_s, 0.0, 1.0)
        shape = np.minimum(rise, fall)
        act = np.maximum(act, 0.5 - 0.5 * np.cos(np.pi * shape))
    return act * amplitude_uv
