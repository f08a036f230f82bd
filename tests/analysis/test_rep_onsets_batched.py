"""``analyse_reps`` fits the changepoint onsets of many reps in one call per channel and gives
what ``analyse_rep`` gives on each rep's own window (live calls it so)."""

from __future__ import annotations

from dataclasses import replace

import pytest

import myoflow.analysis.rep_summary as rep_summary
from myoflow.analysis.activation import normalise
from myoflow.analysis.onset_emg import RawEmg
from myoflow.analysis.rep_summary import analyse_rep, analyse_reps, rep_datas
from myoflow.analysis.reps import movement_angle
from myoflow.analysis.session_metrics import analyse_arrays
from myoflow.dsp.imu import SagittalTiltFilter
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import generate_session


@pytest.fixture(scope="module")
def session() -> dict:
    # quick reps (movement onset to bottom ~1.6 s): a short bottom window cuts the rep window
    # before the fit's 2 s look-ahead after a detection
    cfg = SessionConfig(n_reps=6, emg_rate=1000.0, seed=3, concentric_s=0.7, top_hold_s=0.2, eccentric_s=0.7)
    s = generate_session(cfg)
    fs = cfg.emg_rate
    env = envelope_offline(s.emg, fs, profile_for_rate(fs, cfg.hum_hz))
    phi = {seg: SagittalTiltFilter(cfg.imu_rate).process(a, g) for seg, (a, g) in s.imu.items()}
    mv = movement_angle(phi.get("pelvis"), phi.get("thigh"))
    raw = RawEmg(s.emg, fs, 0.0, cfg.hum_hz)
    metrics = analyse_arrays(env, fs, s.placements, None, mv, cfg.imu_rate, raw=raw)
    norm = normalise(env, fs).envelope
    return {"fs": fs, "imu_fs": cfg.imu_rate, "norm": norm, "mv": mv, "raw": raw, "metrics": metrics}


def _per_rep(s: dict, ctx: rep_summary.SessionContext, monkeypatch) -> tuple[list, list, list]:
    """Results of analyse_rep on each rep, of analyse_reps, and the onsets analyse_reps fitted
    on a rep's own window."""
    m = s["metrics"]
    calls = []
    real = rep_summary.changepoint_onset

    def counted(*args: object):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(rep_summary, "changepoint_onset", counted)
    args = (m.reps, s["imu_fs"], s["norm"], s["fs"], ctx, s["mv"].angle_deg, s["imu_fs"])
    one_by_one = [analyse_rep(d, ctx) for d in rep_datas(*args, raw=s["raw"])]
    return one_by_one, analyse_reps(*args, raw=s["raw"]), calls


def _assert_same(one_by_one: list, batched: list) -> int:
    """Every metric equal; onsets and their uncertainties within 1e-6 ms (the session clock
    adds the window start in another order, and the batched fit sums in another order than
    one window alone). Returns the number of changepoint onsets compared."""
    fitted = 0
    for a, b in zip(one_by_one, batched, strict=True):
        assert a.relaxation == b.relaxation and a.handover is not None
        for name, ma in a.muscles.items():
            mb = b.muscles[name]
            assert replace(ma, onset_ms=None, onset_uncertainty_ms=None) == replace(
                mb, onset_ms=None, onset_uncertainty_ms=None
            )
            for x, y in ((ma.onset_ms, mb.onset_ms), (ma.onset_uncertainty_ms, mb.onset_uncertainty_ms)):
                assert (x is None) == (y is None)
                assert x is None or y == pytest.approx(x, abs=1e-6)
            fitted += ma.onset_uncertainty_ms is not None
    return fitted


def test_batched_onsets_equal_one_rep_at_a_time(session: dict, monkeypatch) -> None:
    one_by_one, batched, alone = _per_rep(session, session["metrics"].context, monkeypatch)
    assert not alone  # every onset went through the batch
    assert _assert_same(one_by_one, batched) >= 18  # 6 reps x 4 muscles, most of them fitted


def test_reps_cut_short_are_fitted_on_their_own_window(session: dict, monkeypatch) -> None:
    """A bottom window of 0.1 s ends the rep window before the fit's 2 s look-ahead: those
    onsets are fitted on the rep's window, as analyse_rep does (the batch would read on)."""
    ctx = replace(session["metrics"].context, bottom_rest_s=0.1)
    one_by_one, batched, alone = _per_rep(session, ctx, monkeypatch)
    assert len(alone) >= 6
    assert _assert_same(one_by_one, batched) >= 18
