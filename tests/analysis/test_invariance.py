"""Scale invariance, sample-rate consistency, incremental = offline, and the mode flags."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from myoflow.analysis.activation import normalise
from myoflow.analysis.rep_summary import RepData, analyse_rep, rep_window_s
from myoflow.analysis.reps import movement_angle
from myoflow.dsp.imu import SagittalTiltFilter
from myoflow.dsp.normalise import mvc_reference
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.synth.calibration import mvc_trial
from myoflow.synth.config import SessionConfig

BASE = SessionConfig(
    exercise="glute_bridge",
    n_reps=8,
    reps_per_set=4,
    set_pause_s=6.0,
    tense_reps=(2, 5),
    stall_reps=(1,),
    partial_reps=(6,),
    crossover_deg=(15.0, 20.0, 25.0, 30.0, 35.0, 20.0, 25.0, 30.0),
    seed=21,
)


def _fingerprint(metrics) -> list:
    out = []
    for r in metrics.results:
        onsets = [m.onset_ms for m in r.muscles.values()]
        cross = None if r.handover is None else r.handover.crossover_s
        out.append(
            (r.phases, [x.relaxed for x in r.relaxation.values()], onsets, cross, r.partial, r.set_index)
        )
    return out


def _assert_same(a: list, b: list, onset_tol_ms: float) -> None:
    assert len(a) == len(b)
    for (ph_a, rel_a, on_a, x_a, p_a, s_a), (ph_b, rel_b, on_b, x_b, p_b, s_b) in zip(a, b, strict=True):
        assert ph_a == ph_b and rel_a == rel_b and p_a == p_b and s_a == s_b
        assert [o is None for o in on_a] == [o is None for o in on_b]
        assert all(abs(x - y) <= onset_tol_ms for x, y in zip(on_a, on_b, strict=True) if x is not None)
        assert (x_a is None) == (x_b is None)
        assert x_a is None or abs(x_a - x_b) <= onset_tol_ms / 1000.0


@pytest.mark.parametrize("rate", [200.0, 2000.0])
@pytest.mark.parametrize("calibrate", [True, False])
def test_scaling_the_recording_changes_nothing(synthetic, rate, calibrate) -> None:
    cfg = dataclasses.replace(BASE, emg_rate=rate)
    base = _fingerprint(synthetic(cfg, calibrate=calibrate)[1])
    assert len(base) == 8
    for scale in (1e-3, 1e3):
        # float32 rounding may move a threshold crossing by a sample
        _assert_same(base, _fingerprint(synthetic(cfg, scale=scale, calibrate=calibrate)[1]), 1000.0 / rate)


def test_unit_label_says_how_envelopes_were_normalised(synthetic) -> None:
    assert synthetic(BASE)[1].context.unit == "% MVC"
    assert synthetic(BASE, calibrate=False)[1].context.unit == "% session peak"


def test_same_session_at_1_and_2_khz_gives_the_same_reps_and_verdicts(synthetic) -> None:
    a = synthetic(dataclasses.replace(BASE, emg_rate=1000.0))[1]
    b = synthetic(dataclasses.replace(BASE, emg_rate=2000.0))[1]
    assert len(a.results) == len(b.results) == 8
    diffs = []
    for ra, rb in zip(a.results, b.results, strict=True):
        assert ra.phases == rb.phases  # the IMU is the same
        assert [x.relaxed for x in ra.relaxation.values()] == [x.relaxed for x in rb.relaxation.values()]
        assert ra.partial == rb.partial
        assert (ra.handover.crossover_s is None) == (rb.handover.crossover_s is None)
        if ra.handover.crossover_s is not None:
            diffs.append(ra.handover.crossover_s - rb.handover.crossover_s)
    # the two rates draw independent EMG noise: crossovers agree to the estimator's spread
    assert len(diffs) >= 6 and np.median(np.abs(diffs)) < 0.04


def test_one_finished_rep_at_a_time_gives_the_offline_results(synthetic) -> None:
    session, metrics = synthetic(BASE)
    cfg = session.config
    fs, afs = cfg.emg_rate, cfg.imu_rate
    profile = profile_for_rate(fs, cfg.hum_hz)
    mvc = mvc_reference(envelope_offline(mvc_trial(cfg).emg, fs, profile), fs)
    pct = normalise(envelope_offline(session.emg, fs, profile), fs, mvc).envelope
    phi = {seg: SagittalTiltFilter(afs).process(acc, gyro) for seg, (acc, gyro) in session.imu.items()}
    angle = movement_angle(phi["pelvis"], phi["thigh"]).angle_deg
    ctx = metrics.context
    for result in metrics.results:
        # what a live caller holds once the rep's bottom window has passed
        begin, end = rep_window_s(result.phases, ctx)
        i0, i1 = int(np.floor(begin * fs)), int(np.ceil(end * fs)) + 1
        j0, j1 = int(np.floor(begin * afs)), int(np.ceil(end * afs)) + 1
        data = RepData(
            result.index,
            result.phases,
            pct[i0:i1],
            fs,
            i0 / fs,
            angle=angle[j0:j1],
            angle_fs=afs,
            angle_t0=j0 / afs,
            set_index=result.set_index,
            partial=result.partial,
            rom_deg=result.rom_deg,
        )
        assert analyse_rep(data, ctx) == result
    assert sum(r.handover.stall is not None for r in metrics.results) == 1


def test_modes_are_flagged(synthetic) -> None:
    both = synthetic(BASE)[1]
    assert both.context.mode == "hip" and "hip flexion" in both.rep_source
    pelvis = synthetic(dataclasses.replace(BASE, imu_segments=("pelvis",)))[1]
    assert pelvis.context.mode == "segment" and "one IMU" in pelvis.rep_source
    assert len(pelvis.results) == 8 and pelvis.results[6].partial
    none = synthetic(dataclasses.replace(BASE, imu_segments=()))[1]
    assert none.context.mode == "emg" and "no IMU" in none.rep_source
    assert len(none.results) == 8
    assert all(r.handover.stall is None and r.handover.crossover_hip_deg is None for r in none.results)
    assert "stall" in none.context.unavailable
