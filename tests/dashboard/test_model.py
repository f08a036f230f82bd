"""The Qt-free view-model and feeds: what gets drawn, decided without a window."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from myoflow.analysis.live_types import Cue, LiveSnapshot
from myoflow.analysis.rep_summary import RepResult
from myoflow.dashboard.feed import RawTap, Slot
from myoflow.dashboard.model import DashboardModel, badge, peak_downsample, status_line
from myoflow.dashboard.replay_source import PlaybackClock
from myoflow.devices.decoding import StreamStats
from myoflow.devices.sinks import StrapStatus
from myoflow.session.calibration import MvcCalibration
from myoflow.stream import Block, StreamInfo

MUSCLES = ("glute_max_r", "biceps_femoris_r")


def snapshot(
    t_end: float = 20.0, phase: str | None = "concentric", glute: float = 30.0, still: bool = True
) -> LiveSnapshot:
    times = np.arange(int(round((t_end - 10.0) * 100)), int(round(t_end * 100)) + 1) / 100.0
    env = np.empty((times.size, 2), np.float32)
    env[:, 0] = glute
    env[:, 1] = 10.0
    env[500, 0] = 99.0  # one-cell burst must survive downsampling
    env[:50, 1] = np.nan  # a gap
    return LiveSnapshot(
        times=times,
        envelope_pct=env,
        muscles=MUSCLES,
        unit="% MVC",
        angle_deg=np.full(times.size, 5.0) if still else np.linspace(50, 0, times.size),
        angle_label="hip flexion angle (thigh - pelvis IMU)",
        angle_mode="hip",
        phase=phase,
        rep_count=0,
        rest_threshold_pct={"glute_max_r": 8.0, "biceps_femoris_r": 6.0},
        delay_ms=49.6,
        last_results=(),
    )


@given(
    n=st.integers(1, 5000),
    bins=st.integers(1, 400),
    seed=st.integers(0, 2**16),
)
def test_peak_downsample_keeps_every_extreme_and_caps_the_points(n: int, bins: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.arange(n) / 100.0
    y = rng.normal(size=(n, 2)).astype(np.float32)
    xd, yd = peak_downsample(x, y, bins)
    assert xd.shape[0] == yd.shape[0] <= max(n, 2 * bins)
    assert np.allclose(np.max(yd, axis=0), np.max(y, axis=0))
    assert np.allclose(np.min(yd, axis=0), np.min(y, axis=0))
    assert np.all(np.diff(xd) >= 0) and xd[0] == x[0] and xd[-1] == x[-1]


def test_peak_downsample_ignores_nan_and_rejects_bad_shapes() -> None:
    y = np.full(1000, np.nan)
    y[600:] = 1.0
    _, yd = peak_downsample(np.arange(1000.0), y, 10)
    assert np.isnan(yd[:12]).all() and np.all(yd[12:] == 1.0)
    with pytest.raises(ValueError, match="same n"):
        peak_downsample(np.arange(5.0), np.zeros(4), 2)
    with pytest.raises(ValueError, match="n_bins"):
        peak_downsample(np.arange(5.0), np.zeros(5), 0)


def test_frame_lanes_are_cut_to_the_pixel_width_and_keep_the_burst() -> None:
    model = DashboardModel(width_px=300)
    frame = model.frame(snapshot())
    assert [lane.muscle for lane in frame.lanes] == list(MUSCLES)
    glute = frame.lanes[0]
    assert glute.x.size <= 2 * 300 and glute.x.size == glute.y.size  # at most 2 points per pixel
    assert np.nanmax(glute.y) == pytest.approx(99.0)
    assert glute.x[-1] == pytest.approx(0.0) and glute.x[0] >= -10.0
    assert glute.threshold == 8.0 and glute.band == (40.0, 80.0)
    assert frame.lanes[1].band is None  # the hamstrings are not a glute bridge's target
    assert np.isnan(frame.lanes[1].y[:4]).all()  # the gap stays a gap
    assert frame.delay_ms == pytest.approx(49.6) and frame.unit == "% MVC"
    assert frame.newest_s == frame.emg_newest_s == pytest.approx(20.0)


def test_lanes_of_a_left_right_pair_carry_their_live_symmetry_index() -> None:
    """Glute max placed on both sides at 30 and 20 % MVC over the last second: SI = 100 (L - R) /
    ((L + R) / 2) = 40 % on both lanes (left minus right, as the offline report); earlier levels
    outside the 1 s window do not count; an unpaired lane has none."""
    base = snapshot()
    env = np.column_stack([base.envelope_pct[:, 0], base.envelope_pct[:, 1], base.envelope_pct[:, 0]])
    env[:, 0], env[:, 2] = 30.0, 20.0
    env[:-100, 2] = 90.0  # the right side was high before the last second
    snap = dataclasses.replace(
        base,
        envelope_pct=env,
        muscles=("glute_max_l", "biceps_femoris_r", "glute_max_r"),
        rest_threshold_pct={},
    )
    frame = DashboardModel(width_px=300).frame(snap)
    si = [lane.symmetry_pct for lane in frame.lanes]
    assert si[0] == pytest.approx(40.0) and si[2] == pytest.approx(40.0)
    assert np.isnan(si[1])
    assert all(np.isnan(lane.symmetry_pct) for lane in DashboardModel(width_px=300).frame(base).lanes)


def test_phase_spans_come_from_finished_reps_then_the_live_phase(rep_result) -> None:  # noqa: ANN001
    result = rep_result
    model = DashboardModel()
    model.frame(snapshot(20.0, "concentric"), polled=[result(1, 12.0)])
    frame = model.frame(snapshot(20.5, "top"))
    spans = [(round(s.x0 + 20.5, 2), round(s.x1 + 20.5, 2), s.phase) for s in frame.phase_spans]
    assert spans[:4] == [(12.0, 13.0, "concentric"), (13.0, 14.0, "top"), (14.0, 15.0, "eccentric"),
                         (15.0, 16.0, "bottom")]  # fmt: skip
    assert spans[4:] == [(20.0, 20.5, "top")]  # the live phases after the last finished rep


def test_badges_and_cues_of_a_rep_that_did_not_relax(rep_result) -> None:  # noqa: ANN001
    result = rep_result
    model = DashboardModel()
    bad = result(2, 10.0, relaxed=False, crossover=False, hold=30.0)
    cues = [
        Cue(14.0, "relax", "relax fully at the bottom", 2),
        Cue(14.0, "glutes", "drive with the glutes", 2),
    ]
    frame = model.frame(snapshot(16.0, "bottom", glute=3.0), polled=[result(1, 4.0), bad, *cues])
    assert [b.rep_index for b in frame.badges] == [1, 2]
    b = frame.badges[1]
    assert b.relaxed is False and b.relaxed_text == "relaxed NO (min 25 % MVC)"
    assert b.handover_text == "handover none" and b.hold_text == "ecc. hold 30%"
    assert frame.badges[0].handover_text == "handover at 22 deg, +500 ms"
    # the glute is relaxed now (3 % < 8 %): the result's relax cue is its red badge, not a banner
    assert frame.cue_kinds == ("glutes",)
    assert frame.cue_text == "drive with the glutes"
    later = model.frame(snapshot(30.0, "concentric", glute=3.0))  # 16 s after: the cue is gone
    assert later.cue_text == ""


def test_live_relax_cue_when_the_glute_stays_above_rest_at_the_bottom() -> None:
    model = DashboardModel(bottom_cue_s=1.0)
    for t in np.arange(20.0, 21.6, 0.1):
        frame = model.frame(snapshot(float(t), "bottom", glute=30.0))
    assert frame.cue_kinds == ("relax",)
    relaxed = DashboardModel(bottom_cue_s=1.0)
    for t in np.arange(20.0, 21.6, 0.1):
        frame = relaxed.frame(snapshot(float(t), "bottom", glute=3.0))
    assert frame.cue_kinds == ()


def test_status_line_warns_above_one_percent_loss() -> None:
    def status(loss: float, state: str = "streaming") -> StrapStatus:
        stats = StreamStats("diy/emg", 1000.0, 998.0, 10000, 500, 1, 20, 0, 0, loss)
        return StrapStatus("diy", "DIYemg-0", "C0:00", "diy", state, battery=80, streams={"emg": stats})

    ok, lossy, lost = status(0.5), status(1.5), status(0.0, "reconnecting")
    assert not status_line(ok).warning and "connected" in status_line(ok).text
    assert "battery 80%" in status_line(ok).text and "emg 998 Hz, loss 0.5%" in status_line(ok).text
    assert status_line(lossy).warning and status_line(lost).warning


def test_model_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="exercise"):
        DashboardModel("squat")
    with pytest.raises(ValueError, match="target_band"):
        DashboardModel(target_band=(80.0, 40.0))
    with pytest.raises(ValueError, match="window_s"):
        DashboardModel(window_s=0.1)


@given(chunks=st.lists(st.integers(1, 700), min_size=1, max_size=12))
def test_raw_tap_ring_equals_the_tail_of_everything_fed(chunks: list[int]) -> None:
    info = StreamInfo("diy/emg", "emg", 100.0, ("ch1", "ch2"), ("glute_max_r", "biceps_femoris_r"), "uV")
    tap = RawTap({"diy/emg": info}, window_s=5.0)
    n = sum(chunks)
    data = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
    start = 0
    for size in chunks:
        tap.on_block(Block(info, data[start : start + size], np.arange(start, start + size) / 100.0, start))
        start += size
    t, y = tap.window("biceps_femoris_r", 3.0)
    keep = min(n, 300)
    assert np.array_equal(y, data[n - keep :, 1]) and np.allclose(t, np.arange(n - keep, n) / 100.0)
    with pytest.raises(ValueError, match="no raw EMG channel"):
        tap.window("rectus_femoris_r")


def test_slot_forwards_to_the_current_target_only() -> None:
    got: list[str] = []

    class Sink:
        def __init__(self, name: str) -> None:
            self.name = name

        def on_event(self, event: object) -> None:
            got.append(self.name)

    slot = Slot(Sink("a"))
    slot.on_event(None)
    old = slot.set(Sink("b"))
    slot.on_event(None)
    slot.set(None)
    slot.on_event(None)
    slot.on_block(None)  # no target: nothing happens
    assert got == ["a", "b"] and old.name == "a"


def test_mvc_calibration_steps_through_the_synthetic_trial() -> None:
    from myoflow.rigs.virtual_glute import synthetic_mvc
    from myoflow.synth.calibration import mvc_trial
    from myoflow.synth.config import SessionConfig

    config = SessionConfig(emg_rate=1000.0, seed=3)
    trial = mvc_trial(config)
    cal = MvcCalibration(trial.placements, contraction_s=4.0)
    assert cal.instruction().startswith("step 1 of 4: glute max r")
    for j, muscle in enumerate(trial.placements):
        lo, hi = trial.plateaus[muscle]
        seg = trial.emg[int((lo - 2) * trial.fs) : int((hi + 1) * trial.fs), j]
        cal.measure(seg, trial.fs)
    assert cal.done and cal.instruction().startswith("calibration complete")
    whole = synthetic_mvc(config)
    for muscle, value in cal.references().items():
        assert value == pytest.approx(whole[muscle], rel=0.05)
    with pytest.raises(ValueError, match="already"):
        cal.measure(seg, trial.fs)
    cal.redo("biceps_femoris_r")
    assert cal.current.muscle == "biceps_femoris_r" and "semitendinosus_r" not in cal.references()
    with pytest.raises(ValueError, match="at least 1 s"):
        cal.measure(seg[:100], trial.fs)


def test_playback_clock_pauses_and_changes_speed() -> None:
    clock = PlaybackClock(speed=2.0, playing=False)
    assert clock() == clock() == 0.0
    clock.play()
    clock.pause()
    frozen = clock()
    assert clock() == frozen >= 0.0
    clock.set_speed(4.0)
    assert clock.speed == 4.0 and clock() == frozen and not clock.playing
    with pytest.raises(ValueError, match="speed"):
        clock.set_speed(0.0)


def test_badge_without_glute_or_handover(rep_result) -> None:  # noqa: ANN001
    result = rep_result
    r = result(1, 0.0)
    r = RepResult(**{**r.__dict__, "handover": None, "eccentric_hold_pct": {}})
    b = badge(r)
    assert b.handover_text == "handover n/a" and b.hold_text == "ecc. hold n/a"
