"""Steps (lateral band walk) and isometric holds (Copenhagen plank, single-leg balance) from an IMU.

Both are found by the one rep segmenter (:func:`myoflow.analysis.movement.family_reps`, i.e.
:func:`~myoflow.analysis.reps.segment_reps`) on the family's :func:`movement_angle`, so live
(:func:`~myoflow.analysis.movement.incremental_reps`) and offline agree:

* **Stride** (``stepping``): one excursion of a thigh's frontal angle. In a lateral band walk
  every stride is one step of each leg: stepping towards the IMU's side, the leg abducts (its
  own step, ``start`` -> ``top``) and comes back when the other leg follows (``eccentric`` ->
  ``bottom``); walking the other way the order is reversed, the count is the same. A
  :class:`Step` is one such excursion; with an IMU on each thigh each side is counted on its own.
* **Hold** (``isometric_hold``): the top plateau of an excursion: ``start`` = the rep's
  ``top`` (position reached), ``end`` = its ``eccentric`` (lowering begins), ``hold_s`` =
  their difference. Excursions whose plateau is shorter than ``min_hold_s`` are not holds.
* **Tremor / shaking** during a hold: the angular rate band-passed to ``tremor_band_hz``
  (4-12 Hz: physiological and fatigue tremor; zero-phase Butterworth, order 2) over the hold,
  minus 0.25 s at both ends; ``tremor_rms_dps`` is the RMS of its magnitude (deg/s) and
  ``tremor_frac`` the share of the 1-20 Hz rate power in that band. The rate is the gyroscope
  when given (``(n, 3)`` deg/s, all axes), else the time derivative of the hold angle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfiltfilt

from myoflow._checks import check_positive, check_rate
from myoflow.analysis.movement import family_reps, movement_angle

__all__ = ["Hold", "Step", "detect_holds", "detect_steps", "steps_per_side", "tremor"]

#: Tremor band (Hz) and the edge (s) left out at both ends of a hold.
TREMOR_BAND_HZ = (4.0, 12.0)
TREMOR_EDGE_S = 0.25


@dataclass(frozen=True)
class Step:
    """One stride of a band walk seen on the ``side`` thigh: sample indices ``start`` (leaves
    neutral), ``out`` (widest), ``back`` (neutral again), times in s (``*_s``) and the
    frontal excursion ``range_deg``."""

    side: str
    start: int
    out: int
    back: int
    start_s: float
    out_s: float
    back_s: float
    range_deg: float


@dataclass(frozen=True)
class Hold:
    """One isometric hold: indices ``start``/``end`` and times ``start_s``/``end_s`` (s),
    ``hold_s`` (s), ``angle_deg`` the movement angle's median over the hold, ``tremor_rms_dps``
    and ``tremor_frac`` (module docstring; NaN when the hold is too short to tell)."""

    start: int
    end: int
    start_s: float
    end_s: float
    hold_s: float
    angle_deg: float
    tremor_rms_dps: float
    tremor_frac: float


def detect_steps(
    orientation: np.ndarray,
    rate_hz: float,
    *,
    side: str = "r",
    t0: float = 0.0,
    min_excursion_deg: float | None = None,
) -> list[Step]:
    """Strides of a lateral band walk from one thigh IMU (module docstring).

    Parameters
    ----------
    orientation
        ``(n, 4)`` segment-to-world quaternions or ``(n, 3)`` up vectors of the thigh.
    rate_hz
        Sample rate (Hz).
    side
        Which thigh (``"l"``/``"r"``).
    t0
        Time (s) of the first sample.
    min_excursion_deg
        Overrides the family's minimum session range.
    """
    fs = check_rate(rate_hz, "rate_hz")
    angle = movement_angle(orientation, "stepping", side=side)
    reps = family_reps(angle, fs, "stepping", min_excursion_deg=min_excursion_deg)
    return [
        Step(side, r.start, r.top, r.bottom, t0 + r.start / fs, t0 + r.top / fs, t0 + r.bottom / fs, r.rom)
        for r in reps
    ]


def steps_per_side(*thighs: list[Step]) -> dict[str, int]:
    """Steps of each leg, ``{"l": n, "r": n}``, from the strides of one or both thighs
    (:func:`detect_steps`): a thigh's strides are its own steps; with one thigh only, the other
    leg took as many (each stride is one step of each leg)."""
    counts = {side: sum(1 for steps in thighs for s in steps if s.side == side) for side in ("l", "r")}
    seen = {s.side for steps in thighs for s in steps}
    if len(seen) == 1:
        (side,) = seen
        counts["l" if side == "r" else "r"] = counts[side]
    return counts


def detect_holds(
    orientation: np.ndarray,
    rate_hz: float,
    *,
    plane: str = "",
    segment: str = "pelvis",
    side: str = "r",
    gyro: np.ndarray | None = None,
    t0: float = 0.0,
    min_hold_s: float = 2.0,
    min_excursion_deg: float | None = None,
) -> list[Hold]:
    """Isometric holds from one IMU (module docstring).

    Parameters
    ----------
    orientation
        ``(n, 4)`` quaternions or ``(n, 3)`` up vectors of ``segment``.
    rate_hz
        Sample rate (Hz) of ``orientation`` (and ``gyro``).
    plane, segment, side
        Which angle marks the hold (:func:`~myoflow.analysis.movement.movement_angle`); the
        plane defaults to the segment's (:func:`~myoflow.analysis.movement.hold_plane`).
    gyro
        Optional ``(n, 3)`` gyroscope (deg/s) on the same samples, for the tremor.
    t0
        Time (s) of the first sample.
    min_hold_s
        Shorter plateaus are not holds.
    min_excursion_deg
        Overrides the family's minimum session range.
    """
    fs = check_rate(rate_hz, "rate_hz")
    check_positive(min_hold_s, "min_hold_s", "s")
    angle = movement_angle(orientation, "isometric_hold", plane=plane, segment=segment, side=side)
    if gyro is not None:
        gyro = np.asarray(gyro, dtype=np.float64)
        if gyro.shape != (angle.size, 3):
            raise ValueError(f"gyro must have shape ({angle.size}, 3) like the orientation, got {gyro.shape}")
    rate = gyro if gyro is not None else (np.gradient(angle) * fs)[:, np.newaxis]
    holds = []
    for r in family_reps(angle, fs, "isometric_hold", min_excursion_deg=min_excursion_deg):
        start, end = r.top, r.eccentric
        if (end - start) / fs < min_hold_s:
            continue
        rms, frac = tremor(rate[start:end], fs)
        holds.append(
            Hold(
                start,
                end,
                t0 + start / fs,
                t0 + end / fs,
                (end - start) / fs,
                float(np.median(angle[start:end])),
                rms,
                frac,
            )
        )
    return holds


def tremor(rate: np.ndarray, fs: float, band_hz: tuple[float, float] = TREMOR_BAND_HZ) -> tuple[float, float]:
    """``(rms, fraction)`` of the angular rate ``(n, k)`` (deg/s) in ``band_hz`` (module
    docstring); NaN, NaN when shorter than 1 s after the edges or the band is above Nyquist."""
    fs = check_rate(fs)
    x = np.asarray(rate, dtype=np.float64)
    x = x.reshape(x.shape[0], -1)
    edge = int(round(TREMOR_EDGE_S * fs))
    hi = min(band_hz[1], 0.45 * fs)
    if x.shape[0] - 2 * edge < fs or hi <= band_hz[0]:
        return float("nan"), float("nan")
    x = x - x.mean(axis=0)
    tremor_band = sosfiltfilt(butter(2, (band_hz[0], hi), "bandpass", fs=fs, output="sos"), x, axis=0)
    broad = sosfiltfilt(butter(2, (1.0, min(20.0, 0.45 * fs)), "bandpass", fs=fs, output="sos"), x, axis=0)
    tb, bb = tremor_band[edge : -edge or None], broad[edge : -edge or None]
    p_band = float(np.mean(np.sum(tb**2, axis=1)))
    p_broad = float(np.mean(np.sum(bb**2, axis=1)))
    return float(np.sqrt(p_band)), (p_band / p_broad if p_broad > 0 else float("nan"))
