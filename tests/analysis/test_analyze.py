"""``analyze(recording)``: synthetic sessions written as recordings give the array results."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from myoflow.analysis.onset_emg import RawEmg
from myoflow.analysis.report import rep_to_dict
from myoflow.analysis.reps import movement_angle
from myoflow.analysis.session_metrics import analyse_arrays
from myoflow.dsp.imu import SagittalTiltFilter
from myoflow.dsp.normalise import mvc_reference
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.reports._analyze import NothingToAnalyse, analyze
from myoflow.storage.schema import ClockAnchor, SessionMetadata
from myoflow.storage.writer import Recorder
from myoflow.stream import Gap, StreamInfo
from myoflow.synth.calibration import mvc_trial
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import SyntheticSession, generate_session

CFG = SessionConfig(n_reps=5, emg_rate=1000.0, tense_reps=(1,), stall_reps=(3,), seed=7)


def calibrated(cfg: SessionConfig) -> np.ndarray:
    fs = cfg.emg_rate
    return mvc_reference(envelope_offline(mvc_trial(cfg).emg, fs, profile_for_rate(fs)), fs)


def write(
    path: Path,
    s: SyntheticSession,
    mvc: dict | None = None,
    segments: tuple[str, ...] = ("pelvis", "thigh"),
    placements: tuple[str, ...] | None = None,
    drop: tuple[float, float] | None = None,
) -> Path:
    """Write a synthetic session as a recording (EMG float32 uV, IMU streams per segment);
    ``drop`` removes EMG samples in ``[t0, t1)`` s and records the loss as a gap."""
    meta = SessionMetadata(subject_id="S1", exercise=s.config.exercise, mvc_references=mvc or {})
    emg = s.emg_block()
    if placements is not None:
        emg_info = StreamInfo("synth/emg", "emg", emg.stream.rate, emg.stream.channels, placements)
    else:
        emg_info = emg.stream
    imu = [b for b in s.imu_blocks() if b.stream.placements[0] in segments]
    with Recorder(path, meta, clock=ClockAnchor(100.0, 1.7e9), on_full="wait") as rec:
        rec.add_stream(emg_info, np.float32)
        for b in imu:
            rec.add_stream(b.stream, np.float32)
        rec.start()
        t = s.emg_times + 100.0
        if drop is None:
            rec.write_block(emg_info.name, s.emg, t)
        else:
            i0, i1 = (int(round(x * emg_info.rate)) for x in drop)
            rec.write_block(emg_info.name, s.emg[:i0], t[:i0])
            rec.write_gap(Gap(emg_info, i0, i1 - i0, t[i0], t[i1 - 1]))
            rec.write_block(emg_info.name, s.emg[i1:], t[i1:], start_index=i1)
        for b in imu:
            rec.write_block(b.stream.name, b.data, b.times + 100.0)
    return path


def same(a: object, b: object, path: str = "rep") -> None:
    """Equal structures: identical flags, counts and None-ness, numbers within 1e-9.

    The recording's times are host-clock seconds (here offset by 100 s) mapped back to the
    session clock, which changes the last bits of interpolated angles."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for k in a:
            same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and not isinstance(a, bool):
        assert b == pytest.approx(a, rel=1e-9, abs=1e-9, nan_ok=True), path
    else:
        assert a == b, path


@pytest.fixture(scope="module")
def session() -> tuple[SyntheticSession, np.ndarray]:
    return generate_session(CFG), calibrated(CFG)


def test_recording_gives_the_same_reps_as_the_arrays(session, tmp_path: Path) -> None:
    s, mvc = session
    path = write(tmp_path / "s.h5", s, dict(zip(s.placements, mvc.tolist(), strict=True)))
    report = analyze(path)
    fs = CFG.emg_rate
    env = envelope_offline(s.emg, fs, profile_for_rate(fs))
    phi = {seg: SagittalTiltFilter(CFG.imu_rate).process(a, g) for seg, (a, g) in s.imu.items()}
    raw = RawEmg(s.emg, fs, 0.0, report.mains["mains_hz"])  # changepoint onsets read it
    arrays = analyse_arrays(
        env, fs, s.placements, mvc, movement_angle(phi["pelvis"], phi["thigh"]), CFG.imu_rate, raw=raw
    )
    assert len(arrays.results) == len(s.truth) == len(report.reps) == 5
    assert any(m.onset_uncertainty_ms is not None for r in report.reps for m in r.muscles.values())
    for got, want in zip(report.reps, arrays.results, strict=True):
        same(rep_to_dict(got), rep_to_dict(want))  # every phase, onset, verdict, crossover, stall
    assert [s.reps for s in report.metrics.sets] == [s.reps for s in arrays.sets]
    assert report.movement["source"] == "hip" and report.metrics.context.unit == "% MVC"
    assert report.source["t0_host_s"] == 100.0 and report.source["exercise"] == "glute_bridge"
    doc = json.loads(report.to_json())
    assert doc["schema"] == "myoflow.analysis-report" and doc["schema_version"] == 1
    rep = doc["reps"][1]
    assert set(rep) >= {"phases_s", "muscles", "relaxation", "handover", "eccentric_hold_pct"}
    assert rep["relaxation"]["glute_max_r"]["relaxed"] is False  # the tense rep
    assert doc["reps"][0]["relaxation"]["glute_max_r"]["relaxed"] is True
    assert doc["reps"][3]["handover"]["stall"] is not None
    assert doc["session"]["muscles"]["biceps_femoris_r"]["role"] == "hamstring"
    rows = report.to_csv().splitlines()
    assert len(rows) == 1 + 5 and rows[0].startswith("rep,set_index,partial,level_unit")


def test_mvc_positions_use_the_maximum_and_a_missing_one_falls_back(session, tmp_path: Path) -> None:
    s, mvc = session
    refs = {p: [0.5 * v, v] for p, v in zip(s.placements, mvc.tolist(), strict=True)}
    refs["glute_max_r"] = [mvc[0], 0.8 * mvc[0], None]
    a = analyze(write(tmp_path / "a.h5", s, refs))
    b = analyze(write(tmp_path / "b.h5", s, dict(zip(s.placements, mvc.tolist(), strict=True))))
    assert a.reps == b.reps
    partial = analyze(write(tmp_path / "c.h5", s, {"glute_max_r": float(mvc[0])}))
    assert partial.metrics.context.unit == "% session peak"
    assert any("no MVC reference for biceps_femoris_r" in n for n in partial.notes)
    assert len(partial.reps) == 5


def test_missing_channels_are_named_per_metric_and_emg_only_is_flagged(session, tmp_path: Path) -> None:
    s, _ = session
    names = ("glute_max_r", "adductor_r", "rectus_femoris_r", "glute_med_r")  # no hamstring
    report = analyze(write(tmp_path / "e.h5", s, segments=(), placements=names))
    assert report.movement["source"] == "emg" and report.metrics.context.mode == "emg"
    assert len(report.reps) == len(s.truth)
    why = report.unavailable
    assert why["handover"].startswith("handover needs a hamstring and a glute channel")
    assert "adductor_r (adductor)" in why["handover"]
    assert "IMU" in why["stall"] and "movement_phases" in why
    assert all(r.handover is None for r in report.reps)
    assert "glute_max_r/rectus_femoris_r" in report.reps[0].cocontraction_pct
    doc = report.to_dict()
    assert doc["reps"][0]["handover"] is None and doc["session"]["unavailable"]["handover"] == why["handover"]


def test_one_imu_uses_its_segment_angle(session, tmp_path: Path) -> None:
    s, _ = session
    report = analyze(write(tmp_path / "t.h5", s, segments=("thigh",)))
    assert report.movement["source"] == "segment"
    assert "thigh" in report.movement["description"] and any("no pelvis IMU" in n for n in report.notes)
    assert len(report.reps) == 5 and report.metrics.context.unit == "% session peak"


def test_dropped_packets_leave_a_gap_not_invented_samples(session, tmp_path: Path) -> None:
    s, _ = session
    # 0.3 s lost in the middle of the third rep's concentric phase
    t_on = s.truth[2].onset_s
    report = analyze(write(tmp_path / "g.h5", s, drop=(t_on + 0.3, t_on + 0.6)))
    assert len(report.reps) == 5
    env = report.signals.envelope
    lost = slice(int((t_on + 0.3) * 1000), int((t_on + 0.6) * 1000))
    assert np.isnan(env[lost]).all() and np.isfinite(env[: lost.start]).all()
    assert any("1 gap(s)" in n for n in report.notes)
    json.loads(report.to_json())  # still strict JSON


def test_nothing_to_analyse_without_emg(tmp_path: Path) -> None:
    info = StreamInfo("imu/acc", "acc", 100.0, ("x", "y", "z"), ("pelvis",) * 3)
    with Recorder(tmp_path / "n.h5", on_full="wait") as rec:
        rec.add_stream(info, np.float32)
        rec.start()
        rec.write_block(info.name, np.zeros((50, 3), np.float32), np.arange(50) / 100.0)
    with pytest.raises(NothingToAnalyse, match="no EMG stream"):
        analyze(tmp_path / "n.h5")
    with pytest.raises(ValueError, match="angle_source"):
        analyze(tmp_path / "n.h5", angle_source="gps")
