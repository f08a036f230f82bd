"""The guided MVC procedure (`record --calibrate-mvc`) on a synthetic MVC trial, block by block."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myoflow.rigs.virtual_glute import synthetic_mvc
from myoflow.session.guided_mvc import GuidedMvc
from myoflow.stream import Block, StreamInfo
from myoflow.synth.calibration import mvc_trial
from myoflow.synth.config import SessionConfig

CONFIG = SessionConfig(seed=3)
TRIAL = mvc_trial(CONFIG, contraction_s=4.0, rest_s=3.0)
#: What the trial's plateaus give when calibrated directly (myoflow.rigs.virtual_glute.synthetic_mvc).
EXPECTED = synthetic_mvc(CONFIG)
CLOCK = 1234.5  # host-clock seconds of the trial's first sample


def _feed(guided: GuidedMvc, streams: list[tuple[str, list[int]]], sizes: list[int], emg=None) -> None:
    """Deliver the trial's channels as ``streams`` (name, columns), interleaved in time order."""
    emg = TRIAL.emg if emg is None else emg
    infos = [
        StreamInfo(
            name, "emg", TRIAL.fs, tuple(f"ch{c + 1}" for c in cols), tuple(TRIAL.placements[c] for c in cols)
        )
        for name, cols in streams
    ]
    start, k = 0, 0
    while start < emg.shape[0]:
        stop = min(emg.shape[0], start + sizes[k % len(sizes)])
        for info, (_, cols) in zip(infos, streams, strict=True):
            guided.on_block(Block(info, emg[start:stop, cols], TRIAL.times[start:stop] + CLOCK, start))
        start, k = stop, k + 1


def _guided(lines: list[str], events: list, updates: list) -> GuidedMvc:
    # The trial rests 3 s, then contracts for 4 s and ramps down for 0.5 s: cues every 7.5 s.
    return GuidedMvc(
        lead_s=3.0,
        contraction_s=4.0,
        rest_s=3.5,
        say=lines.append,
        emit=events.append,
        on_references=lambda refs, t: updates.append((dict(refs), t)),
    )


def test_each_muscle_is_measured_on_its_cue_as_a_direct_calibration_would() -> None:
    lines, events, updates = [], [], []
    guided = _guided(lines, events, updates)
    _feed(guided, [("a/emg", [0, 1]), ("b/emg", [2, 3])], [20])
    assert guided.done and guided.muscles == TRIAL.placements
    for muscle, value in EXPECTED.items():
        assert guided.references[muscle] == pytest.approx(value, rel=0.02), muscle
    # One event per contraction at its cue, then one with every reference.
    cues = [e for e in events if e.label == "mvc_contraction"]
    assert [e.data["muscle"] for e in cues] == list(TRIAL.placements)
    assert [e.stream for e in cues] == ["a/emg", "a/emg", "b/emg", "b/emg"]
    np.testing.assert_allclose([e.time - CLOCK for e in cues], [3.0, 10.5, 18.0, 25.5], atol=1e-9)
    np.testing.assert_allclose(
        [e.time - CLOCK for e in cues], [TRIAL.plateaus[m][0] - 0.5 for m in TRIAL.placements]
    )
    assert events[-1].label == "mvc" and events[-1].data["mvc_references"] == guided.references
    # The metadata grows one muscle at a time, at the end of each contraction.
    assert [len(refs) for refs, _ in updates] == [1, 2, 3, 4]
    np.testing.assert_allclose([t - CLOCK for _, t in updates], [7.0, 14.5, 22.0, 29.5], atol=1e-9)
    text = "\n".join(lines)
    for muscle in TRIAL.placements:
        assert f"CONTRACT {muscle.replace('_', ' ')} as hard as you can" in text
    assert text.index("CONTRACT glute max r") < text.index("glute_max_r:") < text.index("CONTRACT biceps")
    assert guided.duration_s(4) == 33.0 == TRIAL.emg.shape[0] / TRIAL.fs


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=6))
def test_the_result_does_not_depend_on_how_the_samples_arrive(sizes: list[int]) -> None:
    guided = _guided([], [], [])
    _feed(guided, [("a/emg", [0, 1, 2, 3])], sizes)
    reference = _guided([], [], [])
    _feed(reference, [("a/emg", [0, 1, 2, 3])], [1000])
    assert guided.references == reference.references and len(guided.references) == 4


def test_a_channel_that_does_not_contract_is_skipped_and_the_rest_go_on() -> None:
    emg = TRIAL.emg.copy()
    rest = emg[: int(2.5 * TRIAL.fs), 1]
    emg[:, 1] = np.resize(rest, emg.shape[0])  # biceps femoris only ever rests (a loose electrode)
    lines, events = [], []
    guided = _guided(lines, events, [])
    _feed(guided, [("a/emg", [0, 1, 2, 3])], [40], emg=emg)
    assert guided.done and set(guided.references) == {"glute_max_r", "semitendinosus_r", "glute_med_r"}
    assert "check the electrode" in guided.failures["biceps_femoris_r"]
    assert any("biceps_femoris_r: no reference" in line for line in lines)
    assert events[-1].data["failed"] == guided.failures


def test_a_strap_that_stops_delivering_does_not_stall_the_procedure() -> None:
    guided = _guided([], [], [])
    a = StreamInfo("a/emg", "emg", TRIAL.fs, ("ch1", "ch2"), TRIAL.placements[:2])
    b = StreamInfo("b/emg", "emg", TRIAL.fs, ("ch3", "ch4"), TRIAL.placements[2:])
    cut = int(18.8 * TRIAL.fs)  # b stops 0.8 s into the third contraction (its first muscle's)
    for start in range(0, TRIAL.emg.shape[0], 50):
        rows = slice(start, start + 50)
        guided.on_block(Block(a, TRIAL.emg[rows, :2], TRIAL.times[rows] + CLOCK, start))
        if start < cut:
            guided.on_block(Block(b, TRIAL.emg[rows, 2:], TRIAL.times[rows] + CLOCK, start))
    # 0.8 s of contraction is too short to trust, and b sent nothing of the fourth muscle's.
    assert guided.done and set(guided.references) == {"glute_max_r", "biceps_femoris_r"}
    assert set(guided.failures) == {"semitendinosus_r", "glute_med_r"}
    assert all("at least 1 s" in why for why in guided.failures.values())


def test_repeated_placements_are_told_apart_by_stream_and_channel() -> None:
    guided = _guided([], [], [])
    info = StreamInfo("a/emg", "emg", TRIAL.fs, ("ch1", "ch2"), ("glute_max_r", "glute_max_r"))
    guided.on_block(Block(info, TRIAL.emg[:4000, :2], TRIAL.times[:4000] + CLOCK, 0))
    assert guided.muscles == ("a/emg:ch1", "a/emg:ch2")


def test_bad_timing_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1 s"):
        GuidedMvc(contraction_s=0.5)
    with pytest.raises(ValueError, match="rest_s"):
        GuidedMvc(rest_s=0.0)
