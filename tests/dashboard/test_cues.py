"""Cue rules against scripted sessions: a person's movement and glute level written out
phase by phase, played into the view-model frame by frame at 20 Hz as the window would."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from myoflow.analysis.live_types import Cue, LiveSnapshot
from myoflow.dashboard.model import DashboardModel

MUSCLES = ("glute_max_r", "biceps_femoris_r")
GRID = 100.0  # Hz, the analysis grid
THRESHOLDS = {"glute_max_r": 8.0, "biceps_femoris_r": 6.0}
ANGLE = {"concentric": (60.0, 5.0), "top": (5.0, 5.0), "eccentric": (5.0, 60.0), "bottom": (60.0, 60.0)}


@dataclass
class Script:
    """Segments ``(seconds, phase, glute % MVC)`` after a 12 s quiet start at the bottom."""

    segments: list[tuple[float, str, float]]
    lead_s: float = 12.0
    times: np.ndarray = field(init=False)
    glute: np.ndarray = field(init=False)
    angle: np.ndarray = field(init=False)
    phases: list[tuple[float, float, str]] = field(init=False)

    def __post_init__(self) -> None:
        parts = [(self.lead_s, "bottom", 3.0), *self.segments]
        glute, angle, self.phases, t = [], [], [], 0.0
        for seconds, phase, level in parts:
            n = int(round(seconds * GRID))
            glute.append(np.full(n, level))
            angle.append(np.linspace(*ANGLE[phase], n))
            self.phases.append((t, t + seconds, phase))
            t += seconds
        self.glute, self.angle = np.concatenate(glute), np.concatenate(angle)
        self.times = np.arange(self.glute.size) / GRID

    def phase_at(self, t: float) -> str:
        return next(p for t0, t1, p in self.phases if t0 <= t < t1 + 1e-9)

    def start_of(self, k: int) -> float:
        """Start time of segment ``k`` (0 = the first scripted one)."""
        return self.phases[k + 1][0]

    def snapshot(self, t: float, rep_count: int = 0) -> LiveSnapshot:
        n = int(round(t * GRID)) + 1
        lo = max(0, n - int(10 * GRID))
        env = np.column_stack((self.glute[lo:n], np.full(n - lo, 10.0))).astype(np.float32)
        return LiveSnapshot(
            times=self.times[lo:n],
            envelope_pct=env,
            muscles=MUSCLES,
            unit="% MVC",
            angle_deg=self.angle[lo:n],
            angle_label="hip flexion angle (thigh - pelvis IMU)",
            angle_mode="hip",
            phase=self.phase_at(t),
            rep_count=rep_count,
            rest_threshold_pct=THRESHOLDS,
            delay_ms=50.0,
            last_results=(),
        )


def play(script: Script, model: DashboardModel, until: float, polled_at: dict | None = None) -> list:
    """Frames every 50 ms from the end of the lead to ``until``; ``polled_at[t]`` is handed in
    at the first frame at or after ``t``. Returns ``(t, frame)`` pairs."""
    pending = dict(sorted((polled_at or {}).items()))
    out = []
    for t in np.arange(script.lead_s, until, 0.05):
        due = [k for k in pending if k <= t + 1e-9]
        polled = [item for k in due for item in pending.pop(k)]
        out.append((float(t), model.frame(script.snapshot(float(t)), polled=polled)))
    return out


def when(frames: list, kind: str) -> list[float]:
    return [t for t, f in frames if kind in f.cue_kinds]


def test_relax_cue_lives_while_the_glute_is_tense_at_the_bottom_then_says_relaxed_now() -> None:
    # rep: up 1 s, top 1 s, down 1 s, bottom 4 s: tense (20 %) for 2.5 s, then relaxed (3 %)
    script = Script([(1.0, "concentric", 60.0), (1.0, "top", 60.0), (1.0, "eccentric", 40.0),
                     (2.5, "bottom", 20.0), (1.5, "bottom", 3.0), (1.0, "concentric", 60.0)])  # fmt: skip
    frames = play(script, DashboardModel(bottom_cue_s=1.0), script.start_of(5) + 0.9)
    bottom, relaxed_at = script.start_of(3), script.start_of(4)
    relax = when(frames, "relax")
    assert relax, "no relax cue while the glute stayed tense at the bottom"
    assert relax[0] == pytest.approx(bottom + 1.0, abs=0.06)  # after bottom_cue_s of tension
    assert relax[-1] < relaxed_at + 0.1  # gone as soon as the glute is under its threshold
    assert all(script.phase_at(t) == "bottom" for t in relax)
    now = when(frames, "relaxed")
    assert now and now[0] == pytest.approx(relaxed_at, abs=0.1)  # "relaxed now" follows
    assert now[-1] - now[0] == pytest.approx(1.5, abs=0.1)
    assert not when([(t, f) for t, f in frames if t >= script.start_of(5)], "relax")
    texts = {f.cue_text for _, f in frames}
    assert "relax fully at the bottom" in texts and "relaxed now" in texts


def test_no_relax_cue_when_the_glute_relaxes_in_time_or_during_the_next_push() -> None:
    script = Script([(1.0, "concentric", 60.0), (1.0, "top", 60.0), (1.0, "eccentric", 40.0),
                     (0.6, "bottom", 20.0), (1.5, "bottom", 3.0), (1.0, "concentric", 60.0)])  # fmt: skip
    # the rep's result says "not relaxed" while the next rep is already being pushed
    late = Cue(script.start_of(5) + 0.2, "relax", "relax fully at the bottom", 1)
    frames = play(script, DashboardModel(bottom_cue_s=1.0), script.start_of(5) + 0.9, {late.time: [late]})
    assert when(frames, "relax") == [] and when(frames, "relaxed") == []


def test_squeeze_cue_lives_until_the_next_eccentric_phase_has_ended() -> None:
    script = Script([(2.0, "bottom", 3.0), (1.0, "concentric", 60.0), (1.0, "top", 60.0),
                     (1.5, "eccentric", 30.0), (2.0, "bottom", 3.0)])  # fmt: skip
    cue = Cue(script.start_of(0) + 0.5, "squeeze", "keep squeezing as you lower", 1)
    frames = play(script, DashboardModel(), script.start_of(4) + 1.5, {cue.time: [cue]})
    shown = when(frames, "squeeze")
    assert shown[0] == pytest.approx(cue.time, abs=0.06)
    assert shown[-1] == pytest.approx(script.start_of(4), abs=0.1)  # off when that eccentric ends


def test_the_rep_counts_when_its_eccentric_phase_ends_not_when_the_result_arrives(rep_result) -> None:  # noqa: ANN001
    result = rep_result
    script = Script([(1.0, "concentric", 60.0), (1.0, "top", 60.0), (1.0, "eccentric", 40.0),
                     (3.0, "bottom", 3.0)])  # fmt: skip
    model = DashboardModel()
    bottom = script.start_of(3)
    rep = result(1, script.start_of(0))  # phases 1 s apart as scripted; its bottom window ends 1 s in
    counts = []
    for t in np.arange(script.lead_s, bottom + 2.9, 0.05):
        arrived = t >= bottom + 1.5  # the analysis hands the result out a little later
        polled = [rep] if arrived and not model.results else []
        frame = model.frame(script.snapshot(float(t), rep_count=1 if arrived else 0), polled=polled)
        counts.append((float(t), frame.rep_count))
    first = next(t for t, c in counts if c == 1)
    assert first == pytest.approx(bottom, abs=0.06)
    assert all(c == 1 for t, c in counts if t >= first)  # never 2 when the result arrives


def test_target_band_only_on_the_exercise_targets_and_lockout_marked() -> None:
    script = Script([(1.0, "concentric", 60.0), (1.0, "top", 60.0), (1.0, "eccentric", 40.0),
                     (1.0, "bottom", 3.0)])  # fmt: skip
    bridge = play(script, DashboardModel("glute_bridge"), script.start_of(3) + 0.5)[-1][1]
    assert [lane.band is not None for lane in bridge.lanes] == [True, False]
    assert bridge.lockout_deg == pytest.approx(ANGLE["top"][0], abs=0.5)
    rdl = play(script, DashboardModel("rdl"), script.lead_s + 0.2)[-1][1]
    assert [lane.band for lane in rdl.lanes] == [(30.0, 70.0), (30.0, 70.0)]
    assert rdl.lockout_deg is None  # no top reached yet
