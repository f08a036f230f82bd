"""Closed-form muscle activation profiles (% MVC) of synthetic reps, and their ground truth.

Each muscle's activation is a function of the movement progress ``s`` (see
:mod:`myoflow.synth.imu`) evaluated ``lead_s`` ahead of the movement (the EMG precedes the
motion by the electromechanical delay). Per rep:

* **bottom / between reps**: a constant level, the resting tone :data:`REST_PCT` when the
  muscle relaxed, a residual tension otherwise; after the last rep of a set the level returns
  smoothly to rest over ``relax_s`` (default :data:`RELAX_S`), starting when the rep ends;
* **concentric**: ``level + peak * rise(s) * (early + (1 - early) * P((s - lo) / (hi - lo)))
  * (1 - decline * P(s))`` with ``rise(s) = 1 - exp(-s / sigma)`` and ``P`` the minimum-jerk
  step. Hamstrings rise early (small ``sigma``, no late ramp) and ease off towards lockout;
  gluteus maximus has a late ramp that ends at the top of the rep and whose start ``lo`` is
  solved so that ``G / (G + H)`` crosses 0.5 at the chosen hip angle;
* **top hold**: the activation reached at the top;
* **eccentric**: ``bottom + (top - bottom) * (1 - P((e - keep) / (1 - keep)))`` with ``e`` the
  eccentric progress: the glute "keeps squeezing" for the first ``keep`` of the descent.

All pieces join with matching value and slope, so the profiles have no discontinuities.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from myoflow.synth.exercises import HINGES, MOTIONS, exercise_facts, muscle_role
from myoflow.synth.imu import Kinematics, MovementTimeline, RepPlan, invert_min_jerk, min_jerk

#: Resting tone of every muscle, % MVC.
REST_PCT = 1.0
#: Onset/offset truth: activation above ``REST_PCT + ONSET_MARGIN_PCT`` counts as active.
ONSET_MARGIN_PCT = 2.0
#: After the last rep of a set a tense muscle relaxes to rest over this many seconds (default).
RELAX_S = 1.0
#: Crossover truth: ``G / (G + H)`` must stay >= 0.5 this long (s).
CROSSOVER_HOLD_S = 0.1

#: An antagonist burst ends this long (s) before the eccentric phase ends.
BURST_BEFORE_BOTTOM_S = 0.05

_CONC, _HOLD, _ECC, _BOTTOM, _PAUSE = range(5)


@dataclass(frozen=True)
class MuscleShape:
    """Concentric/eccentric shape of one muscle in one exercise (see the module docstring).

    ``role`` is ``"glute_max"``, ``"hamstring"`` or ``"other"``; ``peak_pct`` is the typical
    concentric peak in % MVC; ``early`` is the share of the drive present without the late
    ramp; ``sigma``, ``ramp_lo``, ``ramp_hi`` (the late ramp, replaced for gluteus maximus)
    and ``decline`` are in units of progress ``s``; ``keep`` is a fraction of the eccentric.
    """

    role: str
    peak_pct: float
    sigma: float
    early: float
    ramp_lo: float
    ramp_hi: float
    decline: float
    keep: float


#: Muscle name (placement without its ``_l``/``_r`` side) -> default MVC amplitude, uV RMS.
DEFAULT_MVC_UV: dict[str, float] = {
    "glute_max": 320.0,
    "biceps_femoris": 260.0,
    "semitendinosus": 230.0,
    "glute_med": 180.0,
    "tfl": 150.0,
    "adductor_longus": 220.0,
    "rectus_femoris": 200.0,
}

SHAPES: dict[str, dict[str, MuscleShape]] = {
    "glute_bridge": {
        "glute_max": MuscleShape("glute_max", 45.0, 0.20, 0.30, 0.3, 1.0, 0.0, 0.40),
        "biceps_femoris": MuscleShape("hamstring", 30.0, 0.08, 1.0, 0.0, 1.0, 0.30, 0.10),
        "semitendinosus": MuscleShape("hamstring", 26.0, 0.09, 1.0, 0.0, 1.0, 0.30, 0.10),
        "glute_med": MuscleShape("other", 20.0, 0.15, 0.50, 0.2, 0.9, 0.0, 0.30),
    },
    "rdl": {
        "glute_max": MuscleShape("glute_max", 40.0, 0.20, 0.30, 0.3, 1.0, 0.0, 0.30),
        "biceps_femoris": MuscleShape("hamstring", 36.0, 0.08, 1.0, 0.0, 1.0, 0.35, 0.25),
        "semitendinosus": MuscleShape("hamstring", 38.0, 0.09, 1.0, 0.0, 1.0, 0.35, 0.25),
        "glute_med": MuscleShape("other", 18.0, 0.15, 0.50, 0.2, 0.9, 0.0, 0.25),
    },
}


#: Shapes by the muscle's role in an exercise that is not a hinge (and for the muscles a hinge's
#: table does not list): the prime mover drives the movement, a synergist helps at half of
#: it, an antagonist co-contracts lightly (its burst, if asked for, is added by the session).
ROLE_SHAPES: dict[str, MuscleShape] = {
    "prime": MuscleShape("other", 40.0, 0.15, 0.5, 0.2, 0.9, 0.0, 0.35),
    "synergist": MuscleShape("other", 20.0, 0.15, 0.6, 0.2, 0.9, 0.1, 0.25),
    "antagonist": MuscleShape("other", 6.0, 0.2, 1.0, 0.0, 1.0, 0.0, 0.1),
    "other": MuscleShape("other", 8.0, 0.2, 1.0, 0.0, 1.0, 0.0, 0.1),
}
#: Prime movers' peak (% MVC) where the role default does not fit.
PRIME_PEAK_PCT = {"copenhagen_plank": 70.0, "single_leg_balance": 25.0, "hip_hike": 35.0}
#: Hinge exercise -> the table of :data:`SHAPES` it uses.
_HINGE_BASE = {
    "glute_bridge": "glute_bridge",
    "single_leg_glute_bridge": "glute_bridge",
    "hip_thrust": "glute_bridge",
    "rdl": "rdl",
    "deadlift": "rdl",
}


@lru_cache(maxsize=64)
def shapes_for(exercise: str) -> dict[str, MuscleShape]:
    """Muscle stem -> shape for every muscle the generator knows, in ``exercise``: the hinges'
    tables (:data:`SHAPES`), the role shapes otherwise (:data:`ROLE_SHAPES`)."""
    facts = exercise_facts(exercise)
    out = {}
    for muscle in DEFAULT_MVC_UV:
        shape = ROLE_SHAPES[muscle_role(facts, muscle)]
        if facts.motion in HINGES and muscle in SHAPES[_HINGE_BASE[facts.motion]]:
            shape = SHAPES[_HINGE_BASE[facts.motion]][muscle]
        elif muscle_role(facts, muscle) == "prime" and facts.motion in PRIME_PEAK_PCT:
            shape = replace(shape, peak_pct=PRIME_PEAK_PCT[facts.motion])
        out[muscle] = shape
    if facts.motion in MOTIONS:  # no hamstring-to-glute crossover outside the hinges
        out = {m: replace(sh, role="other") for m, sh in out.items()}
    return out


def muscle_of(placement: str) -> str:
    """Muscle name of a placement such as ``"glute_max_r"``; ``ValueError`` if unknown."""
    muscle, _, side = placement.rpartition("_")
    if side not in ("l", "r") or muscle not in DEFAULT_MVC_UV:
        known = ", ".join(f"'{m}_r'" for m in DEFAULT_MVC_UV)
        raise ValueError(
            f"placement {placement!r} is not '<muscle>_l' or '<muscle>_r' with a known muscle (e.g. {known})"
        )
    return muscle


def _drive(s: np.ndarray, peak, sigma, early, lo, hi, decline) -> np.ndarray:
    """Concentric drive above the starting level, % MVC (0 at ``s = 0``).

    Its slope in ``s`` is not 0 at ``s = 0``, but ``s(t)`` starts with zero velocity and
    acceleration, so the activation over time stays smooth.
    """
    rise = 1.0 - np.exp(-s / sigma)
    ramp = min_jerk((s - lo) / (hi - lo))[0]
    ease = 1.0 - decline * min_jerk(s)[0]
    return peak * rise * (early + (1.0 - early) * ramp) * ease


class ActivationModel:
    """Noiseless activation of every placement over a session, in % MVC.

    Parameters
    ----------
    reps, timeline, kinematics
        The session's movement (see :mod:`myoflow.synth.imu`).
    exercise
        An exercise the generator knows (:func:`myoflow.synth.exercises.synth_names`).
    placements
        Channel placements, e.g. ``("glute_max_r", "biceps_femoris_r")``.
    peak_pct
        ``(n_reps, n_channels)`` concentric peak of each muscle in each rep, % MVC.
    tense
        ``(n_reps, n_channels)`` bool: the muscle keeps residual tension at that rep's bottom.
    residual_pct
        ``(n_reps, n_channels)`` residual tension used where ``tense``, % MVC.
    crossover_deg
        ``(n_reps,)`` hip flexion (deg) at which ``G / (G + H)`` should cross 0.5.
    lead_s
        The activation runs this far ahead of the movement (s).
    burst_pct, burst_s
        ``(n_reps, n_channels)`` peak (% MVC, 0: none) of a brief antagonist burst near the end
        of each eccentric phase (reciprocal inhibition), and its duration (s): a raised cosine
        added on top, ending :data:`BURST_BEFORE_BOTTOM_S` before the bottom.
    relax_s
        How long a muscle still tense after a set's last rep takes to return to rest (s).
    """

    def __init__(
        self,
        reps: Sequence[RepPlan],
        timeline: MovementTimeline,
        kinematics: Kinematics,
        exercise: str,
        placements: Sequence[str],
        peak_pct: np.ndarray,
        tense: np.ndarray,
        residual_pct: np.ndarray,
        crossover_deg: np.ndarray,
        lead_s: float,
        burst_pct: np.ndarray | None = None,
        burst_s: float = 0.25,
        relax_s: float = RELAX_S,
    ) -> None:
        self.reps = tuple(reps)
        self.relax_s = float(relax_s)
        n_reps, n_ch = len(self.reps), len(placements)
        self.burst_pct = np.zeros((n_reps, n_ch)) if burst_pct is None else np.asarray(burst_pct, float)
        self.burst_s = float(burst_s)
        self.timeline = timeline
        self.kinematics = kinematics
        self.placements = tuple(placements)
        self.lead_s = float(lead_s)
        table = shapes_for(exercise)
        shapes = [table[muscle_of(p)] for p in self.placements]
        self.roles = np.array([sh.role for sh in shapes])
        self.sigma = np.array([sh.sigma for sh in shapes])
        self.early = np.array([sh.early for sh in shapes])
        self.decline = np.array([sh.decline for sh in shapes])
        self.keep = np.array([sh.keep for sh in shapes])
        #: per rep and channel: share of the eccentric the muscle keeps its tension for
        self.keep_rk = np.tile(self.keep, (len(self.reps), 1))
        n_reps, n_ch = len(self.reps), len(self.placements)
        self.peak = np.asarray(peak_pct, dtype=np.float64).reshape(n_reps, n_ch)
        self.ramp_lo = np.tile([sh.ramp_lo for sh in shapes], (n_reps, 1)).astype(np.float64)
        self.ramp_hi = np.tile([sh.ramp_hi for sh in shapes], (n_reps, 1)).astype(np.float64)
        self.start = np.full((n_reps, n_ch), REST_PCT)
        self.bottom = np.where(tense, residual_pct, REST_PCT).astype(np.float64)
        self.top = np.zeros((n_reps, n_ch))
        glute = self.roles == "glute_max"
        hams = self.roles == "hamstring"
        for k, rep in enumerate(self.reps):
            if k > 0 and rep.set_index == self.reps[k - 1].set_index:
                self.start[k] = self.bottom[k - 1]
            if glute.any() and hams.any():
                s_x = self._neural_progress(rep, crossover_deg[k])
                h_tot = np.mean(self.start[k, hams] + self._drive_at(k, s_x)[hams])
                for c in np.flatnonzero(glute):
                    self.ramp_hi[k, c] = rep.s_top if s_x < rep.s_top else 1.0
                    self.ramp_lo[k, c] = self._solve_ramp_start(k, c, s_x, h_tot)
            self.top[k] = self.start[k] + self._drive_at(k, rep.s_top)
        self.glute, self.hams = glute, hams

    def _neural_progress(self, rep: RepPlan, hip_deg: float) -> float:
        """Progress of the (lead-shifted) activation when the hip is at ``hip_deg``.

        A target beyond the rep's range (partial rep) is kept as is: no crossover then.
        """
        s_target = self.kinematics.progress_at_hip(hip_deg)
        if s_target >= rep.s_top:
            return s_target
        t_mech = self.timeline.time_at_progress(rep, s_target)
        return float(self.timeline.progress(np.array([t_mech + self.lead_s]))[0][0])

    def _drive_at(self, k: int, s: float) -> np.ndarray:
        return _drive(
            np.full(len(self.placements), s),
            self.peak[k],
            self.sigma,
            self.early,
            self.ramp_lo[k],
            self.ramp_hi[k],
            self.decline,
        )

    def _solve_ramp_start(self, k: int, c: int, s_x: float, h_total: float) -> float:
        """Start of the glute's late ramp that makes the glute equal ``h_total`` at ``s_x``."""
        rise = 1.0 - np.exp(-s_x / self.sigma[c])
        need = (h_total - self.start[k, c]) / (self.peak[k, c] * max(rise, 1e-9))
        q = np.clip((need - self.early[c]) / (1.0 - self.early[c]), 0.02, 0.98)
        u = float(invert_min_jerk(q))
        return (s_x - u * self.ramp_hi[k, c]) / (1.0 - u)

    def __call__(self, times: np.ndarray) -> np.ndarray:
        """Activation at ``times`` (s), shape ``(n, n_channels)`` float64, % MVC."""
        tau = np.asarray(times, dtype=np.float64) + self.lead_s
        bounds = np.array([[r.t_on, r.t_top, r.t_ecc, r.t_bot, r.t_end] for r in self.reps])
        seg = np.searchsorted(bounds.ravel(), tau, side="right") - 1
        rep = np.maximum(seg, 0) // 5
        phase = np.where(seg < 0, _PAUSE, seg % 5)
        s = self.timeline.progress(tau)[0][:, np.newaxis]
        out = np.full((tau.size, len(self.placements)), REST_PCT)
        for code in range(5):
            idx = np.flatnonzero(phase == code)
            if idx.size == 0:
                continue
            k = rep[idx]
            if code == _CONC:
                val = self.start[k] + _drive(
                    s[idx],
                    self.peak[k],
                    self.sigma,
                    self.early,
                    self.ramp_lo[k],
                    self.ramp_hi[k],
                    self.decline,
                )
            elif code == _HOLD:
                val = self.top[k]
            elif code == _ECC:
                s_top = np.array([r.s_top for r in self.reps])[k][:, np.newaxis]
                e = 1.0 - s[idx] / s_top
                keep = self.keep_rk[k]
                fade = 1.0 - min_jerk((e - keep) / (1.0 - keep))[0]
                val = self.bottom[k] + (self.top[k] - self.bottom[k]) * fade
            elif code == _BOTTOM:
                val = self.bottom[k]
            else:  # after a set's last rep (or before the first): relax towards rest
                t_end = np.where(seg[idx] < 0, -np.inf, bounds[k, 4])
                u = np.where(np.isfinite(t_end), (tau[idx] - self.lead_s - t_end) / self.relax_s, 1.0)
                level = np.where(seg[idx, np.newaxis] < 0, REST_PCT, self.bottom[k])
                val = REST_PCT + (level - REST_PCT) * (1.0 - min_jerk(u)[0][:, np.newaxis])
            out[idx] = val
        if self.burst_pct.any():
            t = np.asarray(times, dtype=np.float64)
            for k, start in enumerate(self.burst_starts()):
                if start is None:
                    continue
                u = (t - start) / self.burst_s
                inside = np.flatnonzero((u > 0.0) & (u < 1.0))
                bump = 0.5 - 0.5 * np.cos(2.0 * np.pi * u[inside])  # raised cosine, 0 at both ends
                out[inside] += bump[:, np.newaxis] * self.burst_pct[k]
        return out

    def burst_starts(self) -> list[float | None]:
        """Per rep, when the antagonist burst starts (s, EMG time), or None: it ends
        :data:`BURST_BEFORE_BOTTOM_S` before the bottom is reached (the end of the eccentric)."""
        return [
            rep.t_bot - BURST_BEFORE_BOTTOM_S - self.burst_s if self.burst_pct[k].any() else None
            for k, rep in enumerate(self.reps)
        ]


@dataclass(frozen=True)
class ActivationEvents:
    """Truth of one rep from the noiseless activation (times in s, levels in % MVC).

    ``onset``/``offset`` hold ``None`` for a muscle that never rests before/after the rep.
    """

    onset: tuple[float | None, ...]
    offset: tuple[float | None, ...]
    bottom_min_pct: tuple[float, ...]
    peak_pct: tuple[float, ...]
    crossover: float | None


def _crossing(t: np.ndarray, a: np.ndarray, thr: float, rising: bool) -> float | None:
    """First (rising) or last (falling) crossing of ``thr``, linearly interpolated."""
    if rising:
        hits = np.flatnonzero((a[:-1] <= thr) & (a[1:] > thr))
        i = hits[0] if hits.size else None
    else:
        hits = np.flatnonzero((a[:-1] > thr) & (a[1:] <= thr))
        i = hits[-1] if hits.size else None
    if i is None:
        return None
    frac = (thr - a[i]) / (a[i + 1] - a[i])
    return float(t[i] + frac * (t[i + 1] - t[i]))


def activation_events(model: ActivationModel, duration_s: float, dt: float = 1e-3) -> list[ActivationEvents]:
    """Onsets, offsets, bottom minima, peaks and crossover of every rep of ``model``.

    Evaluated on a fixed ``dt`` grid over ``[0, duration_s]`` (independent of any sample
    rate) with linear interpolation between grid points. Onset: the activation rises above
    ``REST_PCT + ONSET_MARGIN_PCT``; offset: it falls below it again. Crossover: ``G/(G+H)``
    (mean glute max over mean hamstrings, % MVC) rises through 0.5 during the concentric
    phase (up to the mechanical top) and stays >= 0.5 for :data:`CROSSOVER_HOLD_S`.
    """
    t = np.arange(int(np.ceil(duration_s / dt)) + 1) * dt
    act = model(t)
    thr = REST_PCT + ONSET_MARGIN_PCT
    lead = model.lead_s
    ratio = None
    if model.glute.any() and model.hams.any():
        g = act[:, model.glute].mean(axis=1)
        ratio = g / (g + act[:, model.hams].mean(axis=1))
    hold = int(round(CROSSOVER_HOLD_S / dt))
    events = []
    for k, rep in enumerate(model.reps):
        i_on, i_top, i_ecc, i_bot, i_end = np.searchsorted(
            t, [rep.t_on - lead, rep.t_top - lead, rep.t_ecc - lead, rep.t_bot - lead, rep.t_end]
        )
        i_bot_mech = np.searchsorted(t, rep.t_bot)
        onset, offset = [], []
        for c in range(act.shape[1]):
            a = act[:, c]
            rest_before = model.start[k, c] <= thr
            rest_after = model.bottom[k, c] <= thr
            w_on = slice(max(i_on - 1, 0), i_top + 1)
            w_off = slice(max(i_ecc - 1, 0), min(i_bot + 2, t.size))
            onset.append(_crossing(t[w_on], a[w_on], thr, True) if rest_before else None)
            offset.append(_crossing(t[w_off], a[w_off], thr, False) if rest_after else None)
        bottom_min = act[i_bot_mech : max(i_end, i_bot_mech + 1)].min(axis=0)
        peak = act[i_on:i_bot].max(axis=0)
        cross = None
        if ratio is not None:
            r = ratio[max(i_on - 1, 0) : i_bot]
            tt = t[max(i_on - 1, 0) : i_bot]
            above = r >= 0.5
            last = np.searchsorted(tt, rep.t_top, side="right")
            for i in np.flatnonzero(~above[: last - 1] & above[1:last]) + 1:
                if above[i : i + hold + 1].all() and i + hold < above.size:
                    frac = (0.5 - r[i - 1]) / (r[i] - r[i - 1])
                    cross = float(tt[i - 1] + frac * (tt[i] - tt[i - 1]))
                    break
        events.append(
            ActivationEvents(
                tuple(onset),
                tuple(offset),
                tuple(float(v) for v in bottom_min),
                tuple(float(v) for v in peak),
                cross,
            )
        )
    return events
