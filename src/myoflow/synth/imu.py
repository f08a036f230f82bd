"""Movement timeline, sagittal segment angles and IMU signals of a synthetic session.

Everything here is closed form: the movement is a chain of minimum-jerk transitions of a
progress variable ``s`` (0 at the bottom of a rep, 1 at the nominal top), the segment angles
are linear in ``s``, and the gyroscope and accelerometer come from the analytic first and
second derivatives. Frames and signs follow ``docs/conventions.md``:

* segment frame: x along the segment distally, y to the subject's left, z anterior;
* ``phi`` (deg): angle of the segment's x axis from straight down, positive anteriorly;
* accelerometer at rest reads "up" in g, ``(-cos phi, 0, sin phi)``;
* gyroscope ``omega_y = -dphi/dt`` in deg/s;
* hip flexion = ``phi_thigh - phi_pelvis``.

In the sagittal plane the world is ``(F, U)`` (a horizontal axis and up); a segment's x axis
points along ``u(phi) = (sin phi, -cos phi)`` and its z axis along ``w(phi) = (cos phi, sin phi)``.
A sensor's position is a sum of lever terms ``c_j u(phi_j)`` from a fixed base, so its linear
acceleration is ``sum c_j (w(phi_j) phi_j'' - u(phi_j) phi_j'^2)`` (angles in rad).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

SEGMENTS: tuple[str, ...] = ("pelvis", "thigh")
#: Standard gravity, m/s^2 per g.
STANDARD_GRAVITY = 9.80665


def min_jerk(u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimum-jerk profile ``p(u) = 10u^3 - 15u^4 + 6u^5`` and its first two derivatives.

    ``u`` is clipped to [0, 1]; ``p`` rises from 0 to 1 with zero slope and curvature at both
    ends, so chained transitions are continuous up to the second derivative.
    """
    u = np.clip(u, 0.0, 1.0)
    p = u**3 * (10.0 + u * (-15.0 + 6.0 * u))
    dp = 30.0 * u**2 * (1.0 - u) ** 2
    ddp = 60.0 * u * (1.0 - u) * (1.0 - 2.0 * u)
    return p, dp, ddp


def invert_min_jerk(q: np.ndarray | float) -> np.ndarray:
    """The ``u`` in [0, 1] with ``min_jerk(u)[0] == q`` (bisection; ``q`` clipped to [0, 1])."""
    q = np.clip(np.asarray(q, dtype=np.float64), 0.0, 1.0)
    lo = np.zeros_like(q)
    hi = np.ones_like(q)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        below = min_jerk(mid)[0] < q
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


@dataclass(frozen=True)
class RepPlan:
    """Mechanical timing of one rep, seconds on the session clock.

    The rep starts at rest at the bottom: ``t_on`` movement onset (concentric start),
    ``t_top`` top reached, ``t_ecc`` eccentric start, ``t_bot`` bottom reached, ``t_end`` end
    of the bottom rest. ``s_top`` is the progress reached at the top (1 for a full rep).
    A stall holds the progress at ``s_stall`` from ``stall[0]`` to ``stall[1]``.
    """

    index: int
    set_index: int
    t_on: float
    t_top: float
    t_ecc: float
    t_bot: float
    t_end: float
    s_top: float = 1.0
    stall: tuple[float, float] | None = None
    s_stall: float | None = None


class MovementTimeline:
    """Progress ``s(t)`` of the whole session: minimum-jerk moves between knots.

    Parameters
    ----------
    reps
        The reps in time order.
    """

    def __init__(self, reps: Sequence[RepPlan]) -> None:
        knots: list[tuple[float, float]] = [(-np.inf, 0.0)]
        for rep in reps:
            knots.append((rep.t_on, 0.0))
            if rep.stall is not None and rep.s_stall is not None:
                knots += [(rep.stall[0], rep.s_stall), (rep.stall[1], rep.s_stall)]
            knots += [(rep.t_top, rep.s_top), (rep.t_ecc, rep.s_top), (rep.t_bot, 0.0)]
        knots.append((np.inf, 0.0))
        self.knot_t = np.array([k[0] for k in knots], dtype=np.float64)
        self.knot_s = np.array([k[1] for k in knots], dtype=np.float64)
        if np.any(np.diff(self.knot_t) < 0):
            raise ValueError("rep phase times must be non-decreasing")

    def progress(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``s``, ``ds/dt`` (1/s) and ``d2s/dt2`` (1/s^2) at times ``t`` (s), each like ``t``."""
        t = np.asarray(t, dtype=np.float64)
        i = np.clip(np.searchsorted(self.knot_t, t, side="right") - 1, 0, self.knot_t.size - 2)
        t0, t1 = self.knot_t[i], self.knot_t[i + 1]
        s0, s1 = self.knot_s[i], self.knot_s[i + 1]
        moving = np.isfinite(t0) & np.isfinite(t1) & (t1 > t0) & (s1 != s0)
        span = np.where(moving, t1 - t0, 1.0)
        u = np.where(moving, (t - np.where(moving, t0, 0.0)) / span, 0.0)
        p, dp, ddp = min_jerk(u)
        ds = np.where(moving, s1 - s0, 0.0)
        return s0 + ds * p, ds * dp / span, ds * ddp / span**2

    def time_at_progress(self, rep: RepPlan, s_target: float) -> float:
        """First time within ``rep``'s concentric phase at which ``s`` reaches ``s_target``."""
        mask = (self.knot_t >= rep.t_on) & (self.knot_t <= rep.t_top)
        kt, ks = self.knot_t[mask], self.knot_s[mask]
        for j in range(kt.size - 1):
            if ks[j + 1] > ks[j] and ks[j] <= s_target <= ks[j + 1]:
                u = invert_min_jerk((s_target - ks[j]) / (ks[j + 1] - ks[j]))
                return float(kt[j] + u * (kt[j + 1] - kt[j]))
        return float(rep.t_top)


@dataclass(frozen=True)
class Kinematics:
    """Segment angles at the bottom and top of a rep and where each sensor sits.

    Parameters
    ----------
    pelvis_deg, thigh_deg
        ``(bottom, top)`` sagittal segment angles in degrees (``s = 0`` and ``s = 1``).
    levers_m
        Per segment, the sensor position as lever terms ``(segment, metres)`` from a fixed
        base: position = ``sum(metres * u(phi_segment))``.
    """

    pelvis_deg: tuple[float, float]
    thigh_deg: tuple[float, float]
    levers_m: Mapping[str, tuple[tuple[str, float], ...]]

    def segment_range(self, segment: str) -> tuple[float, float]:
        """``(bottom, top)`` angle of ``segment`` in degrees."""
        return self.pelvis_deg if segment == "pelvis" else self.thigh_deg

    @property
    def hip_range(self) -> tuple[float, float]:
        """``(bottom, top)`` hip flexion angle in degrees."""
        return (self.thigh_deg[0] - self.pelvis_deg[0], self.thigh_deg[1] - self.pelvis_deg[1])

    def hip_at(self, s: np.ndarray | float) -> np.ndarray:
        """Hip flexion (deg) at progress ``s``."""
        bottom, top = self.hip_range
        return bottom + (top - bottom) * np.asarray(s, dtype=np.float64)

    def progress_at_hip(self, hip_deg: float) -> float:
        """Progress ``s`` at which the hip flexion equals ``hip_deg``."""
        bottom, top = self.hip_range
        return float((hip_deg - bottom) / (top - bottom))

    def angles(
        self, s: np.ndarray, ds: np.ndarray, dds: np.ndarray
    ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per segment ``(phi, dphi/dt, d2phi/dt2)`` in deg, deg/s, deg/s^2."""
        out = {}
        for seg in SEGMENTS:
            bottom, top = self.segment_range(seg)
            span = top - bottom
            out[seg] = (bottom + span * s, span * ds, span * dds)
        return out


#: Glute bridge, supine: the pelvis lies flat (90 deg) at the bottom and, with the trunk as a
#: lever about the shoulders, tilts so its x axis points up towards the knees at the top; the
#: thigh comes down from ~47 deg above horizontal to in line with the pelvis.
GLUTE_BRIDGE = Kinematics(
    pelvis_deg=(90.0, 112.0),
    thigh_deg=(137.0, 115.0),
    levers_m={"pelvis": (("pelvis", 0.45),), "thigh": (("pelvis", 0.52), ("thigh", 0.20))},
)
#: Deadlift / RDL, standing, knees soft: the pelvis pitches forward (its x axis swings
#: posteriorly, phi < 0) and the thigh leans a little forward about a near-fixed knee.
RDL = Kinematics(
    pelvis_deg=(-72.0, -2.0),
    thigh_deg=(10.0, 0.0),
    levers_m={"thigh": (("thigh", -0.22),), "pelvis": (("thigh", -0.42), ("pelvis", -0.12))},
)
#: Single-leg bridge: the working side's thigh and a pelvis that lifts a little less.
SINGLE_LEG_BRIDGE = Kinematics(
    pelvis_deg=(90.0, 108.0),
    thigh_deg=(135.0, 113.0),
    levers_m={"pelvis": (("pelvis", 0.45),), "thigh": (("pelvis", 0.52), ("thigh", 0.20))},
)
#: Hip thrust, shoulders on a bench: the pelvis starts low and tilted, the hip flexes ~80 deg.
HIP_THRUST = Kinematics(
    pelvis_deg=(65.0, 102.0),
    thigh_deg=(145.0, 104.0),
    levers_m={"pelvis": (("pelvis", 0.40),), "thigh": (("pelvis", 0.50), ("thigh", 0.20))},
)
#: Conventional deadlift: knees bent at the floor, so the thigh leans forward more than in an RDL.
DEADLIFT = Kinematics(
    pelvis_deg=(-60.0, -2.0),
    thigh_deg=(38.0, 0.0),
    levers_m={"thigh": (("thigh", -0.22),), "pelvis": (("thigh", -0.42), ("pelvis", -0.12))},
)
KINEMATICS: dict[str, Kinematics] = {
    "glute_bridge": GLUTE_BRIDGE,
    "single_leg_glute_bridge": SINGLE_LEG_BRIDGE,
    "hip_thrust": HIP_THRUST,
    "rdl": RDL,
    "deadlift": DEADLIFT,
}


def _wobble(t: np.ndarray, amplitude_deg: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-plane roll ``psi`` (deg) and its rate (deg/s): three slow sinusoids."""
    freqs = rng.uniform(0.2, 1.2, 3)
    phases = rng.uniform(0.0, 2.0 * np.pi, 3)
    weights = rng.uniform(0.5, 1.0, 3)
    weights *= amplitude_deg / weights.sum()
    arg = 2.0 * np.pi * freqs * t[:, np.newaxis] + phases
    psi = np.sum(weights * np.sin(arg), axis=1)
    dpsi = np.sum(weights * 2.0 * np.pi * freqs * np.cos(arg), axis=1)
    return psi, dpsi


def imu_signals(
    times: np.ndarray,
    timeline: MovementTimeline,
    kinematics: Kinematics,
    segments: Sequence[str],
    rng: np.random.Generator,
    *,
    acc_noise_g: float = 0.004,
    gyro_noise_dps: float = 0.15,
    gyro_bias_dps: float = 0.8,
    wobble_deg: float = 1.0,
    roll_out: dict[str, np.ndarray] | None = None,
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, np.ndarray]]:
    """Accelerometer and gyroscope of each worn segment at ``times``.

    Parameters
    ----------
    times
        Shape ``(n,)``, float64 seconds (the IMU sample times).
    timeline, kinematics
        The movement and the exercise's geometry.
    segments
        Worn segments, a subset of :data:`SEGMENTS`.
    rng
        Seeded generator for noise, biases and wobble.
    acc_noise_g, gyro_noise_dps
        RMS of white noise per axis, in g and deg/s.
    gyro_bias_dps
        Each gyro axis gets a constant bias drawn uniformly in ``+-gyro_bias_dps``.
    wobble_deg
        Amplitude (deg) of a slow out-of-plane roll of the sensor about the segment's x axis.
    roll_out
        If given, filled with segment -> that roll (deg, ``(n,)``), for the orientation.

    Returns
    -------
    imu
        ``segment -> (acc, gyro)``, each ``(n, 3)`` float32, in g and deg/s.
    bias
        ``segment -> (3,)`` float64 gyro bias in deg/s.
    """
    t = np.asarray(times, dtype=np.float64)
    angles = kinematics.angles(*timeline.progress(t))
    imu: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    biases: dict[str, np.ndarray] = {}
    for seg in segments:
        phi, dphi = (np.deg2rad(a) for a in angles[seg][:2])
        lin = np.zeros((t.size, 2))
        for other, lever in kinematics.levers_m[seg]:
            p, dp, ddp = (np.deg2rad(a) for a in angles[other])
            u = np.stack([np.sin(p), -np.cos(p)], axis=1)
            w = np.stack([np.cos(p), np.sin(p)], axis=1)
            lin += lever * (w * ddp[:, np.newaxis] - u * (dp**2)[:, np.newaxis])
        lin /= STANDARD_GRAVITY
        # specific force in the segment frame: linear acceleration plus "up"
        fx = lin[:, 0] * np.sin(phi) - lin[:, 1] * np.cos(phi) - np.cos(phi)
        fz = lin[:, 0] * np.cos(phi) + lin[:, 1] * np.sin(phi) + np.sin(phi)
        omega_y = -np.rad2deg(dphi)
        psi_deg, dpsi = _wobble(t, wobble_deg, rng)
        psi = np.deg2rad(psi_deg)
        if roll_out is not None:
            roll_out[seg] = psi_deg
        acc = np.stack([fx, np.sin(psi) * fz, np.cos(psi) * fz], axis=1)
        gyro = np.stack([dpsi, np.cos(psi) * omega_y, -np.sin(psi) * omega_y], axis=1)
        bias = rng.uniform(-gyro_bias_dps, gyro_bias_dps, 3)
        acc += rng.standard_normal(acc.shape) * acc_noise_g
        gyro += bias + rng.standard_normal(gyro.shape) * gyro_noise_dps
        imu[seg] = (np.ascontiguousarray(acc, np.float32), np.ascontiguousarray(gyro, np.float32))
        biases[seg] = bias
    return imu, biases


def plan_reps(
    durations_s: np.ndarray,
    s_top: np.ndarray,
    set_index: Sequence[int],
    start_s: float,
    set_pause_s: float,
    stall_at: Sequence[float | None],
    stall_s: float,
) -> list[RepPlan]:
    """Lay reps end to end in time.

    Parameters
    ----------
    durations_s
        ``(n_reps, 4)``: concentric, top hold, eccentric and bottom rest of each rep (s).
    s_top
        ``(n_reps,)`` progress reached at the top (1 = full range).
    set_index
        Set of each rep; ``set_pause_s`` is inserted whenever it changes.
    start_s
        Movement onset of the first rep (s).
    stall_at
        Per rep, the progress at which hip extension pauses for ``stall_s``, or None. The
        stall lengthens that rep's concentric phase by ``stall_s``.
    """
    reps: list[RepPlan] = []
    t = float(start_s)
    for k, (conc, hold, ecc, rest) in enumerate(np.asarray(durations_s, dtype=np.float64)):
        if k and set_index[k] != set_index[k - 1]:
            t += set_pause_s
        stall, s_stall = None, stall_at[k]
        if s_stall is not None:
            t0 = t + conc * s_stall / s_top[k]
            stall = (float(t0), float(t0 + stall_s))
            conc += stall_s
        t_top = t + conc
        t_bot = t_top + hold + ecc
        reps.append(
            RepPlan(
                k,
                int(set_index[k]),
                t,
                float(t_top),
                float(t_top + hold),
                float(t_bot),
                float(t_bot + rest),
                float(s_top[k]),
                stall,
                s_stall,
            )
        )
        t = float(t_bot + rest)
    return reps
