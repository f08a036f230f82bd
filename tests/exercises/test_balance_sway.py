"""Single-leg balance: ``analyze`` measures the pelvis IMU's sway over each hold (issue 17)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from myoflow.analysis.balance import asymmetry_pct
from myoflow.analysis.progress import SessionRecord, build_progress
from myoflow.analysis.trials import rep_summaries
from myoflow.reports import analyze
from myoflow.reports._exercise_movement import SWAY_METRICS, sway_by_side
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import generate_session

KEYS = ("sway_rms_ap_deg", "sway_rms_ml_deg", "ellipse_area_deg2")


def _report(tmp_path: Path, record_session, wobble: float, seed: int = 5):
    cfg = SessionConfig(
        exercise="single_leg_balance", n_reps=2, seed=seed, emg_rate=1000.0, imu_wobble_deg=wobble
    )
    session = generate_session(cfg)
    path = tmp_path / f"slb_{wobble:g}_{seed}.h5"
    record_session(path, session, "single_leg_balance")
    return analyze(path, mains_hz=cfg.hum_hz)


def test_sway_per_hold_in_the_report_and_summary(tmp_path: Path, record_session) -> None:
    calm, shaky = (_report(tmp_path, record_session, w) for w in (0.5, 3.0))
    for report in (calm, shaky):
        doc = report.to_dict()
        holds = doc["movement"]["holds"]
        assert len(holds) == 2
        for h in holds:
            assert h["stance"] == "right"  # the synthetic glute med (stance leg) is on the right
            for k in SWAY_METRICS:
                assert h[k] is not None and math.isfinite(h[k]) and h[k] >= 0.0, (k, h[k])
            # plausible pelvis sway of a quiet single-leg stance: tenths of a degree to a few degrees
            assert 0.05 < h["sway_rms_ap_deg"] < 5.0 and h["sway_rms_ml_deg"] < 5.0
            assert h["ellipse_area_deg2"] < 50.0
        balance = doc["movement"]["balance"]
        assert balance["pelvis"] == "pelvis" and balance["asymmetry_pct"] is None
        assert set(balance["sides"]) == {"right"}
        summary = report.summary()
        for k in KEYS:
            assert math.isfinite(summary[k])
            assert summary[k] == pytest.approx(sum(h[k] for h in holds) / len(holds))
            assert doc["session"]["summary"][k] == pytest.approx(summary[k])
        assert [r["sway_rms_ap_deg"] for r in rep_summaries(report)] == pytest.approx(
            [h["sway_rms_ap_deg"] for h in holds]
        )
    # the generator's pelvis wobble x6: more sway
    for k in KEYS:
        assert shaky.summary()[k] > 1.5 * calm.summary()[k], k


def test_progress_tracks_sway_from_two_recordings(tmp_path: Path, record_session) -> None:
    records = []
    for day, wobble in ((1, 3.0), (2, 1.0)):
        report = _report(tmp_path, record_session, wobble, seed=day)
        records.append(
            SessionRecord(
                path=str(report.source["file"]),
                start_utc=f"2026-01-0{day}T10:00:00+00:00",
                subject="synthetic",
                exercise=report.source["exercise"],
                summary=report.summary(),
                reps=rep_summaries(report),
            )
        )
    progress = build_progress(records)
    tracks = {t.metric: t for t in progress.tracks}
    for k in KEYS:
        t = tracks[k]
        assert t.exercise == "single_leg_balance"
        values = [p.value for p in t.points]
        assert len(values) == 2 and all(v is not None and v > 0 for v in values)
        assert values[1] < values[0]  # calmer second session
        assert t.points[1].change == pytest.approx(values[1] - values[0])


def test_sway_by_side_asymmetry_is_the_balance_formula() -> None:
    holds = [
        {"stance": "left", **dict.fromkeys(SWAY_METRICS, 2.0)},
        {"stance": "left", **dict.fromkeys(SWAY_METRICS, 4.0)},
        {"stance": "right", **dict.fromkeys(SWAY_METRICS, 1.0)},
    ]
    out = sway_by_side(holds)
    assert (
        out["sides"]["left"]["sway_rms_ap_deg"] == 3.0 and out["sides"]["right"]["ellipse_area_deg2"] == 1.0
    )
    assert (
        out["asymmetry_pct"]["sway_rms_ml_deg"]
        == pytest.approx(asymmetry_pct(3.0, 1.0))
        == pytest.approx(100.0)
    )
    assert sway_by_side(holds[:2])["asymmetry_pct"] is None
