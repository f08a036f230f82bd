"""The feedback sounds, synthesised with numpy (no files): each one easy to tell apart by ear
and by its spectrum.

=========  ====================================================================  ==========
name       what it is                                                            when
=========  ====================================================================  ==========
chime      two bright notes rising a fifth (1320 then 1980 Hz), 0.35 s, decaying  relaxed at the bottom
warning    a low buzz (220 Hz with odd harmonics, pulsing at 8 Hz), 0.45 s       not relaxed
tone       a sine whose pitch follows the target muscle's activation              concentric phase
=========  ====================================================================  ==========

:func:`tone_hz` maps an activation level onto pitch: 300 Hz at 0, an octave higher per
100 %, 1200 Hz at 200 % and above, so the target band (e.g. 40-80 % MVC, 395-520 Hz) sits in
the middle register. All sounds are mono float32 in -1..1 at the rate asked for.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CHIME_HZ", "SAMPLE_RATE", "WARNING_HZ", "chime", "tone_hz", "warning"]

#: Output rate of the sounds (Hz).
SAMPLE_RATE = 48000
#: The chime's two notes (Hz).
CHIME_HZ = (1320.0, 1980.0)
#: The warning's fundamental (Hz).
WARNING_HZ = 220.0


def _ramp(n: int, fs: int, ms: float = 5.0) -> np.ndarray:
    """Raised-cosine fade in and out over ``ms`` (no clicks)."""
    k = min(n // 2, int(fs * ms / 1000.0))
    env = np.ones(n)
    if k > 0:
        fade = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, k))
        env[:k] = fade
        env[-k:] = fade[::-1]
    return env


def chime(fs: int = SAMPLE_RATE) -> np.ndarray:
    """Two decaying notes, ``CHIME_HZ[0]`` for 0.15 s then ``CHIME_HZ[1]`` for 0.2 s."""
    parts = []
    for hz, seconds in zip(CHIME_HZ, (0.15, 0.2), strict=True):
        t = np.arange(int(fs * seconds)) / fs
        note = np.sin(2 * np.pi * hz * t) * np.exp(-t / 0.12)
        parts.append(note * _ramp(t.size, fs))
    return (0.6 * np.concatenate(parts)).astype(np.float32)


def warning(fs: int = SAMPLE_RATE) -> np.ndarray:
    """A 0.45 s low buzz: ``WARNING_HZ`` with its 3rd and 5th harmonics, pulsing at 8 Hz."""
    t = np.arange(int(fs * 0.45)) / fs
    buzz = sum(np.sin(2 * np.pi * WARNING_HZ * k * t) / k for k in (1, 3, 5))
    pulse = 0.55 + 0.45 * np.sign(np.sin(2 * np.pi * 8.0 * t))
    return (0.45 * buzz * pulse * _ramp(t.size, fs)).astype(np.float32)


def tone_hz(level_pct: float) -> float:
    """Pitch (Hz) for an activation ``level_pct`` (% MVC or % session peak): 300 Hz at 0,
    doubling every 100 %, clipped to 300-1200 Hz; NaN gives 300 Hz."""
    level = 0.0 if not np.isfinite(level_pct) else float(np.clip(level_pct, 0.0, 200.0))
    return 300.0 * 2.0 ** (level / 100.0)
