"""Normalisation a researcher controls, placement synonyms and the mains frequency kept with the
data: ``analyze(mvc=..., mvc_from=..., normalisation=..., mains_hz=...)`` on synthetic
recordings whose MVC amplitudes and mains frequency are known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from myoflow.analysis.mains import detect_mains, resolve_mains
from myoflow.analysis.normalisation import ChannelKey, lookup_mvc, resolve_mvc
from myoflow.analysis.placement import (
    angle_segments,
    canonical_placement,
    parse_placement,
    placement_warning,
    segment_of,
)
from myoflow.dsp.normalise import mvc_reference
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.reports._analyze import analyze
from myoflow.storage.schema import ClockAnchor, SessionMetadata
from myoflow.storage.writer import Recorder
from myoflow.stream import StreamInfo
from myoflow.synth.calibration import mvc_trial
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import SyntheticSession, generate_session

CFG = SessionConfig(n_reps=4, emg_rate=1000.0, seed=11)


@pytest.fixture(scope="module")
def session() -> SyntheticSession:
    return generate_session(CFG)


def write(
    path: Path, s: SyntheticSession, mvc: dict | None = None, placements: tuple[str, ...] | None = None
) -> Path:
    """A synthetic session as a recording: EMG (with ``placements``) and pelvis/thigh IMUs."""
    emg = s.emg_block()
    info = StreamInfo("synth/emg", "emg", emg.stream.rate, emg.stream.channels, placements or s.placements)
    meta = SessionMetadata(subject_id="S1", exercise=s.config.exercise, mvc_references=mvc or {})
    with Recorder(path, meta, clock=ClockAnchor(0.0, 1.7e9), on_full="wait") as rec:
        rec.add_stream(info, np.float32)
        for b in s.imu_blocks():
            rec.add_stream(b.stream, np.float32)
        rec.start()
        rec.write_block(info.name, s.emg, s.emg_times)
        for b in s.imu_blocks():
            rec.write_block(b.stream.name, b.data, b.times)
    return path


def write_trial(path: Path, cfg: SessionConfig, placements: tuple[str, ...], gain: float = 1.0) -> Path:
    """The session's MVC trial as a recording (EMG only), amplitudes scaled by ``gain``."""
    trial = mvc_trial(cfg)
    info = StreamInfo("trial/emg", "emg", trial.fs, trial.placements, placements)
    with Recorder(
        path, SessionMetadata(subject_id="S1"), clock=ClockAnchor(0.0, 1.7e9), on_full="wait"
    ) as rec:
        rec.add_stream(info, np.float32)
        rec.start()
        rec.write_block(info.name, trial.emg * np.float32(gain), trial.times)
    return path


# ----------------------------------------------------------------------------- placements


@pytest.mark.parametrize(
    ("name", "canonical", "role"),
    [
        ("glute_max_r", "glute_max_r", "glute"),
        ("gluteus_maximus_right", "glute_max_r", "glute"),
        ("GMax_R", "glute_max_r", "glute"),
        ("Gluteus Maximus (left)", "glute_max_l", "glute"),
        ("R_BF", "biceps_femoris_r", "hamstring"),
        ("semitendinosus-L", "semitendinosus_l", "hamstring"),
        ("vastus medialis R", "vastus_medialis_r", "knee_ext"),
        ("Rectus Femoris Left", "rectus_femoris_l", "hip_flexor"),
        ("gluteus_medius_rt", "glute_med_r", "abductor"),
        ("TFL_l", "tfl_l", "abductor"),
        # the arm, where a Myo armband is worn (was: 'Biceps_Brachii_R' unknown, closest biceps_femoris_r)
        ("Biceps_Brachii_R", "biceps_brachii_r", "elbow_flexor"),
        ("Triceps L", "triceps_brachii_l", "elbow_ext"),
        ("FCU_R", "flexor_carpi_ulnaris_r", "wrist_flexor"),
        ("extensor-carpi-radialis-longus-L", "extensor_carpi_radialis_l", "wrist_ext"),
        ("Anterior Deltoid R", "deltoid_anterior_r", "shoulder"),
        ("UT_L", "trapezius_upper_l", "shoulder"),
    ],
)
def test_synonyms_normalise_to_one_canonical_name(name: str, canonical: str, role: str) -> None:
    p = parse_placement(name)
    assert (p.canonical, p.role, p.known) == (canonical, role, True)
    assert canonical_placement(name) == canonical
    assert placement_warning(name) is None


def test_unknown_placements_are_warned_about_with_the_closest_names() -> None:
    warning = placement_warning("gluteus_maximu_r")
    assert warning is not None and "not a known muscle" in warning and "glute_max_r" in warning
    ambiguous = placement_warning("GM")  # gluteus maximus or medius? not guessed
    assert ambiguous is not None and "glute_max" in ambiguous and "glute_med" in ambiguous
    assert parse_placement("GM").role == "other"
    biceps = placement_warning("biceps_r")  # brachii or femoris? not guessed
    assert biceps is not None and "biceps_brachii_r" in biceps and "biceps_femoris_r" in biceps
    assert placement_warning("thigh_r", kind="acc") is None and placement_warning("thigh_r") is not None
    assert "pelvis" in (placement_warning("pelvsi", kind="acc") or "")


def test_sacrum_is_the_pelvis_for_the_movement_angle_planner() -> None:
    assert segment_of("sacrum") == ("pelvis", "") and segment_of("Thigh R") == ("thigh", "r")
    assert segment_of("glute_max_r") is None
    plan = angle_segments(["thigh_l", "sacrum", "thigh_r", "glute_max_r"], side="r")
    assert plan == {"pelvis": [1], "thigh": [2, 0]}  # the EMG's side first


def test_analyze_reads_synonyms_and_warns_about_unknown_placements(session, tmp_path: Path) -> None:
    synonyms = ("gluteus_maximus_right", "BF_R", "semitendinosus right", "Gluteus Medius R")
    assert len(synonyms) == len(session.placements)
    report = analyze(write(tmp_path / "syn.h5", session, placements=synonyms))
    assert report.placements == session.placements  # canonical names
    assert "handover" not in report.unavailable and report.reps[0].handover is not None
    assert report.warnings == []
    odd = ("GM", "BF_R", "ST_R", "GMed_R")
    bad = analyze(write(tmp_path / "odd.h5", session, placements=odd))
    assert "handover" in bad.unavailable  # no glute: honest, and said why
    assert any("'GM'" in w and "glute_max_r" in w for w in bad.warnings)
    assert bad.to_dict()["session"]["warnings"] == bad.warnings


# ----------------------------------------------------------------------------- references


def test_lookup_order_and_spelling() -> None:
    refs = {"emg/ch1": 1.0, "gluteus_maximus_right": [200.0, 263.0], "ch2": 5.0, "bad": -1}
    assert lookup_mvc(refs, "emg", "ch1", "glute_max_r") == 1.0  # stream/channel first
    assert lookup_mvc(refs, "emg", "chX", "glute_max_r") == 263.0  # any spelling, max of a list
    assert lookup_mvc(refs, "emg", "ch2", None) == 5.0
    assert lookup_mvc(refs, "emg", "bad", None) is None and lookup_mvc(None, "e", "c") is None
    keys = [ChannelKey("emg", "a", "glute_max_r"), ChannelKey("emg", "b", "biceps_femoris_r")]
    got = resolve_mvc([("--mvc", {"glute_max_r": 10.0}), ("meta", {"glute_max_r": 1.0, "BF_R": 2.0})], keys)
    assert [(r.value_uv, r.source) for r in got] == [(10.0, "--mvc"), (2.0, "meta")]


def test_mvc_from_trial_files_takes_the_largest_per_muscle(session, tmp_path: Path) -> None:
    fs = CFG.emg_rate
    trial = mvc_trial(CFG)
    want = mvc_reference(envelope_offline(trial.emg, fs, profile_for_rate(fs)), fs)
    # two trial files: the second with every muscle at 60 %, so the first gives every maximum
    t1 = write_trial(tmp_path / "mvc1.h5", CFG, session.placements)
    t2 = write_trial(tmp_path / "mvc2.h5", CFG, ("GMax_R", "BF_R", "ST_R", "GMed_R"), gain=0.6)
    rec = write(tmp_path / "s.h5", session)
    report = analyze(rec, mvc_from=[t2, t1])
    refs = report.normalisation["references"]
    assert report.metrics.context.unit == "% MVC" and report.normalisation["method"] == "mvc"
    for c, name in enumerate(session.placements):
        assert refs[name]["value_uv"] == pytest.approx(want[c], rel=1e-3)
        assert refs[name]["source"] == "trial file mvc1.h5"
    # the same numbers given by value give the same levels
    by_value = analyze(rec, mvc=dict(zip(session.placements, want.tolist(), strict=True)))
    for a, b in zip(by_value.reps, report.reps, strict=True):
        for m in session.placements:
            assert a.muscles[m].peak_pct == pytest.approx(b.muscles[m].peak_pct, rel=2e-3)
    # the synthetic truth: the glute peaks at its configured % MVC (bridge default 45 % +- 10 %)
    peaks = [r.muscles["glute_max_r"].peak_pct for r in report.reps]
    assert 25.0 < float(np.median(peaks)) < 70.0


def test_mvc_values_come_first_and_say_so(session, tmp_path: Path) -> None:
    t1 = write_trial(tmp_path / "mvc.h5", CFG, session.placements)
    rec = write(tmp_path / "s.h5", session, mvc={"glute_max_r": 1.0})
    report = analyze(rec, mvc={"gluteus_maximus_right": 263.0}, mvc_from=t1)
    refs = report.normalisation["references"]
    assert refs["glute_max_r"] == {"value_uv": 263.0, "source": "mvc argument"}
    assert refs["biceps_femoris_r"]["source"] == "trial file mvc.h5"
    doc = report.to_dict()["session"]["normalisation"]
    assert doc["references"]["glute_max_r"]["source"] == "mvc argument" and doc["unit"] == "% MVC"


def test_submaximal_and_session_peak_are_labelled_and_checked(session, tmp_path: Path) -> None:
    refs = {p: 100.0 for p in session.placements}
    rec = write(tmp_path / "s.h5", session)
    sub = analyze(rec, mvc=refs, normalisation="submaximal")
    assert (
        sub.metrics.context.unit == "% reference contraction" and sub.normalisation["method"] == "submaximal"
    )
    peak = analyze(rec, mvc=refs, normalisation="session_peak")
    assert peak.metrics.context.unit == "% session peak" and peak.normalisation["references"] == {}
    with pytest.raises(
        ValueError, match="needs a reference for every EMG channel; none for biceps_femoris_r"
    ):
        analyze(rec, mvc={p: 1.0 for p in session.placements if p != "biceps_femoris_r"}, normalisation="mvc")
    with pytest.raises(ValueError, match="normalisation"):
        analyze(rec, normalisation="max")


# ----------------------------------------------------------------------------- mains


@pytest.mark.parametrize("hum_hz", [50.0, 60.0])
def test_mains_is_detected_from_the_spectrum_and_used(hum_hz: float, tmp_path: Path) -> None:
    cfg = SessionConfig(n_reps=4, emg_rate=2000.0, seed=5, hum_hz=hum_hz, noise_preset="typical")
    s = generate_session(cfg)
    assert detect_mains(s.emg, cfg.emg_rate) == hum_hz
    rec = write(tmp_path / "s.h5", s)
    auto = analyze(rec)
    assert auto.mains == {"mains_hz": hum_hz, "source": "detected from the spectrum"}
    fixed = analyze(rec, mains_hz=hum_hz)
    assert [r.muscles for r in auto.reps] == [r.muscles for r in fixed.reps]
    if hum_hz == 60.0:  # the old default notched 50 Hz and left the 60 Hz hum in the envelope
        wrong = analyze(rec, mains_hz=50.0)
        assert wrong.reps[0].muscles["glute_max_r"].peak_pct != fixed.reps[0].muscles["glute_max_r"].peak_pct


def test_stored_mains_wins_and_no_hum_is_assumed_50_with_a_note() -> None:
    assert resolve_mains("auto", {"mains_hz": 60, "mains_source": "given"}) == (
        60.0,
        "stored in the recording (given)",
    )
    assert resolve_mains(50.0, {"mains_hz": 60}) == (50.0, "given")
    rng = np.random.default_rng(0)
    clean = rng.normal(0, 10, (20000, 2))
    assert detect_mains(clean, 1000.0) is None
    hz, how = resolve_mains("auto", {}, clean, 1000.0)
    assert hz == 50.0 and how.startswith("assumed")


def test_live_and_offline_take_a_sacrum_imu_as_the_pelvis(session, tmp_path: Path) -> None:
    from myoflow.analysis.live import LiveAnalysis

    imu = [b for b in session.imu_blocks() if b.stream.placements[0] == "pelvis"]
    sacrum = [
        StreamInfo(b.stream.name, b.stream.kind, b.stream.rate, b.stream.channels, ("sacrum",) * 3)
        for b in imu
    ]
    live = LiveAnalysis([session.emg_block().stream, *sacrum], mvc=None)
    assert live.angle_mode == "segment" and "reps" not in live.unavailable
    assert live.angle_label == "pelvis segment angle, negated (one IMU)"
    path = tmp_path / "sacrum.h5"
    with Recorder(path, SessionMetadata(), clock=ClockAnchor(0.0, 1.7e9), on_full="wait") as rec:
        for info in (session.emg_block().stream, *sacrum):
            rec.add_stream(info, np.float32)
        rec.start()
        rec.write_block("synth/emg", session.emg, session.emg_times)
        for b, info in zip(imu, sacrum, strict=True):
            rec.write_block(info.name, b.data, b.times)
    offline = analyze(path)
    assert offline.movement["description"] == live.angle_label and len(offline.reps) == 4
