"""Single-leg balance test from a pelvis (or trunk) IMU: sway, foot-down, left/right asymmetry.

One trial per leg, standing on that leg for up to ``duration_s`` (30 s). Definitions (also in
``docs/analysis-report.md``):

* **Sway angles** (deg): the IMU's up direction ``u`` in its segment frame
  (:class:`~myoflow.dsp.imu3d.TiltFilter3D`, accelerometer + gyroscope) gives the
  anterior-posterior tilt ``AP = atan2(u_z, -u_x)`` (the sagittal angle of
  ``docs/conventions.md``) and the medio-lateral tilt ``ML = atan2(u_y, -u_x)`` (positive
  towards the subject's left). Both are low-passed (zero-phase Butterworth, order 2,
  ``lowpass_hz`` = 3.5 Hz) and their mean over the held time is removed.
* **Foot-down**: the first time after ``settle_s`` when the acceleration magnitude differs from
  1 g by more than ``impact_g`` (the lifted foot lands), or the low-passed tilt leaves the
  median of the first ``baseline_s`` by more than ``max_tilt_deg`` (a loss of balance);
  ``time held`` is the time until then, or the whole trial.
* Over the held time only: **sway RMS** AP and ML (deg); **path length** ``sum |d(AP, ML)|``
  (deg); **mean velocity** = path length / time held (deg/s); **jerk** = RMS of the magnitude
  of the third time derivative of (AP, ML) (deg/s^3), leaving out 0.5 s at both ends; **95 % ellipse area**
  ``pi * chi2(2, 0.95) * sqrt(det C)`` with ``C`` the 2 x 2 covariance of (AP, ML) (deg^2).
* **Asymmetry** per metric: ``100 * (L - R) / ((L + R) / 2)`` % (positive: the left leg's
  value is larger; 0 = symmetric).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.signal import butter, sosfiltfilt

from myoflow._checks import check_option, check_positive, check_range, check_rate
from myoflow.dsp.imu3d import TiltFilter3D

__all__ = [
    "SWAY_METRICS",
    "BalanceParams",
    "BalanceTest",
    "BalanceTrial",
    "asymmetry_pct",
    "balance_test",
    "balance_trial",
    "sway_angles",
    "sway_metrics",
]

#: Sway metrics of one stance (:func:`sway_metrics`' keys).
SWAY_METRICS = (
    "sway_rms_ap_deg",
    "sway_rms_ml_deg",
    "path_length_deg",
    "mean_velocity_deg_s",
    "jerk_rms_deg_s3",
    "ellipse_area_deg2",
)
#: Metrics compared between legs (``BalanceTrial`` attributes): time held and the sway.
METRICS = ("held_s", *SWAY_METRICS)
#: chi-square quantile, 2 degrees of freedom, p = 0.95: ``-2 ln(0.05)``.
CHI2_95 = -2.0 * float(np.log(0.05))
#: The jerk leaves out this much (s) at both ends of the held time (filter edge transients).
JERK_EDGE_S = 0.5


@dataclass(frozen=True)
class BalanceParams:
    """Settings of the balance metrics (module docstring); seconds, Hz, g and degrees."""

    duration_s: float = 30.0
    lowpass_hz: float = 3.5
    impact_g: float = 0.3
    max_tilt_deg: float = 10.0
    baseline_s: float = 2.0
    settle_s: float = 0.5
    filter_gain: float = 2.0

    def __post_init__(self) -> None:
        for name, unit in (
            ("duration_s", "s"),
            ("lowpass_hz", "Hz"),
            ("impact_g", "g"),
            ("max_tilt_deg", "deg"),
            ("baseline_s", "s"),
            ("filter_gain", "1/s"),
        ):
            check_positive(getattr(self, name), name, unit)
        check_range(self.settle_s, "settle_s", 0.0, self.duration_s, "s")


@dataclass(frozen=True)
class BalanceTrial:
    """One leg's trial; metrics over the held time (module docstring)."""

    leg: str
    fs: float
    duration_s: float
    held_s: float
    foot_down_s: float | None
    foot_down_reason: str | None
    sway_rms_ap_deg: float
    sway_rms_ml_deg: float
    path_length_deg: float
    mean_velocity_deg_s: float
    jerk_rms_deg_s3: float
    ellipse_area_deg2: float

    def metrics(self) -> dict[str, float]:
        """The compared metrics (:data:`METRICS`) as a flat dict."""
        return {k: float(getattr(self, k)) for k in METRICS}


@dataclass(frozen=True)
class BalanceTest:
    """Both legs and the asymmetry of each metric (% , positive: left larger)."""

    left: BalanceTrial
    right: BalanceTrial
    asymmetry_pct: dict[str, float]

    def to_dict(self) -> dict:
        """Both trials and the asymmetries as plain Python objects."""
        return {
            "left": asdict(self.left),
            "right": asdict(self.right),
            "asymmetry_pct": dict(self.asymmetry_pct),
        }

    def summary(self) -> dict[str, float]:
        """Flat ``{"left.<metric>", "right.<metric>", "asymmetry.<metric>_pct"}`` (for retest)."""
        out = {f"left.{k}": v for k, v in self.left.metrics().items()}
        out |= {f"right.{k}": v for k, v in self.right.metrics().items()}
        out |= {f"asymmetry.{k}_pct": v for k, v in self.asymmetry_pct.items()}
        return out


def sway_angles(
    acc: np.ndarray, gyro: np.ndarray, fs: float, gain: float = 2.0
) -> tuple[np.ndarray, np.ndarray]:
    """AP and ML tilt (deg), each ``(n,)``, from segment-frame ``acc`` (g) and ``gyro`` (deg/s),
    both ``(n, 3)`` at ``fs`` Hz."""
    up = TiltFilter3D(check_rate(fs), gain=gain).process_up(acc, gyro)
    ap = np.degrees(np.arctan2(up[:, 2], -up[:, 0]))
    ml = np.degrees(np.arctan2(up[:, 1], -up[:, 0]))
    return ap, ml


def sway_metrics(
    ap: np.ndarray, ml: np.ndarray, fs: float, lowpass_hz: float | None = 3.5
) -> dict[str, float]:
    """Sway RMS, path length, mean velocity, jerk and 95 % ellipse area of tilt traces.

    Parameters
    ----------
    ap, ml
        ``(n,)`` tilt angles in degrees over the held time.
    fs
        Sample rate in Hz.
    lowpass_hz
        Zero-phase low-pass cut-off applied first (None: none).
    """
    fs = check_rate(fs)
    x = np.column_stack([np.asarray(ap, dtype=np.float64), np.asarray(ml, dtype=np.float64)])
    n = x.shape[0]
    if n < 16:
        nan = float("nan")
        keys = ("sway_rms_ap_deg", "sway_rms_ml_deg", "path_length_deg", "mean_velocity_deg_s")
        return dict.fromkeys((*keys, "jerk_rms_deg_s3", "ellipse_area_deg2"), nan)
    if lowpass_hz is not None:
        sos = butter(2, min(check_positive(lowpass_hz, "lowpass_hz", "Hz"), 0.4 * fs), fs=fs, output="sos")
        x = sosfiltfilt(sos, x, axis=0)
    x = x - x.mean(axis=0)
    path = float(np.sum(np.hypot(*np.diff(x, axis=0).T)))
    d3 = x
    for _ in range(3):
        d3 = np.gradient(d3, 1.0 / fs, axis=0)
    edge = int(round(JERK_EDGE_S * fs))  # filter and difference transients at the ends
    d3 = d3[edge : n - edge] if n > 4 * edge else d3
    cov = np.cov(x.T)
    return {
        "sway_rms_ap_deg": float(np.sqrt(np.mean(x[:, 0] ** 2))),
        "sway_rms_ml_deg": float(np.sqrt(np.mean(x[:, 1] ** 2))),
        "path_length_deg": path,
        "mean_velocity_deg_s": path / (n / fs),
        "jerk_rms_deg_s3": float(np.sqrt(np.mean(np.sum(d3**2, axis=1)))),
        "ellipse_area_deg2": float(np.pi * CHI2_95 * np.sqrt(max(np.linalg.det(cov), 0.0))),
    }


def foot_down(
    acc: np.ndarray, ap: np.ndarray, ml: np.ndarray, fs: float, params: BalanceParams
) -> tuple[float | None, str | None]:
    """``(time s, reason)`` of the first foot-down after ``settle_s``; ``(None, None)`` if none.

    ``reason`` is ``"impact"`` (``| |a| - 1 g | > impact_g``) or ``"tilt"`` (low-passed tilt
    beyond ``max_tilt_deg`` from the first ``baseline_s``).
    """
    fs = check_rate(fs)
    a = np.asarray(acc, dtype=np.float64)
    i0 = int(round(params.settle_s * fs))
    impact = np.abs(np.linalg.norm(a, axis=1) - 1.0) > params.impact_g
    sos = butter(2, min(params.lowpass_hz, 0.4 * fs), fs=fs, output="sos")
    tilt = np.column_stack([ap, ml])
    if tilt.shape[0] > 15:
        tilt = sosfiltfilt(sos, tilt, axis=0)
    ref = np.median(tilt[: max(1, int(params.baseline_s * fs))], axis=0)
    tilted = np.any(np.abs(tilt - ref) > params.max_tilt_deg, axis=1)
    hits = {}
    for reason, mask in (("impact", impact), ("tilt", tilted)):
        idx = np.flatnonzero(mask[i0:])
        if idx.size:
            hits[reason] = (i0 + int(idx[0])) / fs
    if not hits:
        return None, None
    reason = min(hits, key=lambda r: hits[r])
    return hits[reason], reason


def balance_trial(
    acc: np.ndarray, gyro: np.ndarray, fs: float, leg: str, params: BalanceParams | None = None
) -> BalanceTrial:
    """Analyse one leg's trial from a pelvis/trunk IMU.

    Parameters
    ----------
    acc, gyro
        ``(n, 3)`` segment-frame acceleration (g) and angular rate (deg/s) from the start of
        the trial (frames: ``docs/conventions.md``); data after ``duration_s`` is ignored.
    fs
        Sample rate of both in Hz.
    leg
        ``"left"`` or ``"right"``: the standing leg.
    """
    fs = check_rate(fs)
    check_option(leg, "leg", ("left", "right"))
    params = params or BalanceParams()
    n = min(int(round(params.duration_s * fs)), np.asarray(acc).shape[0])
    a, g = np.asarray(acc, dtype=np.float64)[:n], np.asarray(gyro, dtype=np.float64)[:n]
    ap, ml = sway_angles(a, g, fs, params.filter_gain)
    down, reason = foot_down(a, ap, ml, fs, params)
    held = n / fs if down is None else down
    k = int(round(held * fs))
    m = sway_metrics(ap[:k], ml[:k], fs, params.lowpass_hz)
    return BalanceTrial(leg, fs, n / fs, held, down, reason, **m)


def asymmetry_pct(left: float, right: float) -> float:
    """``100 * (L - R) / ((L + R) / 2)``; 0 when both are 0, NaN when either is NaN."""
    total = left + right
    if not np.isfinite(total):
        return float("nan")
    return 0.0 if total == 0 else 200.0 * (left - right) / total


def balance_test(left: BalanceTrial, right: BalanceTrial) -> BalanceTest:
    """Both legs side by side with the asymmetry of each metric."""
    if left.leg != "left" or right.leg != "right":
        raise ValueError(f"balance_test needs the left then the right trial, got {left.leg!r}, {right.leg!r}")
    lm, rm = left.metrics(), right.metrics()
    return BalanceTest(left, right, {k: asymmetry_pct(lm[k], rm[k]) for k in METRICS})
