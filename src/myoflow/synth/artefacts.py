"""What a synthetic recording adds to the muscles' EMG: mains hum, motion artefacts, DC offset.

Shared by the session generator (:mod:`myoflow.synth.session`) and the MVC calibration trial
(:mod:`myoflow.synth.calibration`); the levels come from the :class:`SessionConfig`.
"""

from __future__ import annotations

import numpy as np

from myoflow.synth.config import SessionConfig
from myoflow.synth.imu import RepPlan


def emg_artefacts(
    cfg: SessionConfig, reps: list[RepPlan], t: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Mains hum, motion artefacts at movement onsets and DC offset, ``(n, ch)`` float64 uV.

    Parameters
    ----------
    cfg
        Hum level and frequency, artefact peak, DC offset, EMG rate and channel count.
    reps
        Each rep's concentric start (``t_on``) and eccentric start (``t_ecc``) set off a
        decaying motion artefact lasting up to 1.5 s; an empty list gives none.
    t
        Shape ``(n,)``, float64 sample times in s, increasing.
    rng
        Source of the random phases, amplitudes, frequencies and decay times.
    """
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
