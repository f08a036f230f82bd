"""Live mains: a session started with the wrong mains notches switches to the detected ones.

The live analysis detects 50/60 Hz with the offline rule (:func:`myoflow.analysis.mains.detect_mains`)
once its baseline is in; when that differs from the notches in use, it runs every EMG stream
again from its start through the notches the offline path uses for that frequency. Afterwards
the live results are those of a live analysis started with the right notches, and agree with the
offline analysis as closely as any live run does (tests/analysis/test_live_analysis.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from myoflow.analysis.live import LiveAnalysis
from myoflow.analysis.onset_emg import RawEmg
from myoflow.analysis.reps import movement_angle
from myoflow.analysis.session_metrics import analyse_arrays
from myoflow.dsp.imu import SagittalTiltFilter
from myoflow.dsp.normalise import mvc_reference
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.session.live import calibrate_mvc
from myoflow.stream import Block, Gap
from myoflow.synth.calibration import mvc_trial
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import SyntheticSession, generate_session


def _items(session: SyntheticSession, chunk_s: float = 0.02) -> list[Block]:
    out = []
    for b in [session.emg_block(), *session.imu_blocks()]:
        step = max(1, int(round(chunk_s * b.stream.rate)))
        out += [
            Block(b.stream, b.data[i : i + step], b.times[i : i + step], b.start_index + i)
            for i in range(0, len(b), step)
        ]
    out.sort(key=lambda blk: float(blk.times[-1]))
    return out


def _live(session: SyntheticSession, mains_hz: float | None, items: list[Block | Gap]) -> LiveAnalysis:
    cfg = session.config
    ref = calibrate_mvc(mvc_trial(cfg).emg, cfg.emg_rate, profile_for_rate(cfg.emg_rate, cfg.hum_hz))
    streams = list({id(b.stream): b.stream for b in items}.values())
    live = LiveAnalysis(
        streams, mvc=dict(zip(session.placements, ref.tolist(), strict=True)), mains_hz=mains_hz
    )
    for item in items:
        if isinstance(item, Gap):
            live.on_gap(item)
        else:
            live.on_block(item)
        live.poll()
    return live


def _offline(session: SyntheticSession):
    cfg = session.config
    fs = cfg.emg_rate
    profile = profile_for_rate(fs, cfg.hum_hz)  # what analyze resolves for this session: 60 Hz
    env = envelope_offline(session.emg, fs, profile)
    mvc = mvc_reference(envelope_offline(mvc_trial(cfg).emg, fs, profile), fs)
    phi = {seg: SagittalTiltFilter(cfg.imu_rate).process(a, g) for seg, (a, g) in session.imu.items()}
    movement = movement_angle(phi.get("pelvis"), phi.get("thigh"))
    raw = RawEmg(session.emg, fs, float(session.emg_times[0]), cfg.hum_hz)
    return analyse_arrays(env, fs, session.placements, mvc, movement, cfg.imu_rate, raw=raw)


def _session(rate: float) -> SyntheticSession:
    return generate_session(
        SessionConfig(
            n_reps=6, seed=8, tense_reps=(2,), emg_rate=rate, hum_hz=60, hum_uv=40.0, noise_preset="noisy"
        )
    )


@pytest.mark.parametrize("rate", [1000.0])
def test_live_started_at_50_hz_switches_to_the_detected_60_hz(rate: float) -> None:
    session = _session(rate)
    items = _items(session)
    switched = _live(session, 50.0, items)
    assert switched.detected_mains_hz == 60.0
    assert any("now filter 60 Hz" in w for w in switched.warnings), switched.warnings
    assert all(s.pipe.profile.mains_hz == 60.0 for s in switched._emg.values())
    right = _live(session, 60.0, items)
    assert right.warnings == [] and len(switched.results) == len(right.results) == 6
    # the same as a live analysis that started with 60 Hz notches: same grid, same results
    k1 = right._src.newest + 1
    np.testing.assert_array_equal(switched._src.read(0, k1), right._src.read(0, k1))
    for a, b in zip(switched.results, right.results, strict=True):
        assert a.phases == b.phases and a.handover == b.handover
        for m in session.placements:
            assert a.muscles[m] == b.muscles[m] and a.relaxation[m] == b.relaxation[m]
    # and live == offline as for any session (tolerances of test_live_agrees_with_offline)
    offline = _offline(session)
    assert len(offline.results) == 6
    cross_ms = []
    for a, b in zip(switched.results, offline.results, strict=True):
        assert abs(a.start_s - b.start_s) <= 0.011
        for m in session.placements:
            assert a.relaxation[m].relaxed == b.relaxation[m].relaxed
            assert abs(a.muscles[m].peak_pct - b.muscles[m].peak_pct) < 0.1 * b.muscles[m].peak_pct
        if a.handover.crossover_s is not None and b.handover.crossover_s is not None:
            cross_ms.append((a.handover.crossover_s - b.handover.crossover_s) * 1e3)
    assert len(cross_ms) >= 5 and np.median(np.abs(cross_ms)) <= 10.0 and np.max(np.abs(cross_ms)) <= 50.0


def test_no_switch_when_the_notches_are_right_or_the_data_is_no_longer_kept(monkeypatch) -> None:
    session = _session(1000.0)
    items = _items(session)
    right = _live(session, 60.0, items)
    assert right.detected_mains_hz == 60.0 and right.warnings == []
    # a stream whose start is no longer kept (more than REPLAY_MAX_S before the check) keeps its
    # notches and the warning names the value to pass
    monkeypatch.setattr("myoflow.analysis.live_sources.REPLAY_MAX_S", 1.0)
    kept = _live(session, 50.0, items)
    assert kept.detected_mains_hz == 60.0
    assert all(s.pipe.profile.mains_hz == 50.0 for s in kept._emg.values())
    assert any("pass mains_hz=60" in w for w in kept.warnings), kept.warnings
    # what switching spares: the 60 Hz hum left in raises the levels (% MVC)
    rest = [
        abs(a.relaxation[m].bottom_min_pct - b.relaxation[m].bottom_min_pct)
        for a, b in zip(kept.results, right.results, strict=True)
        for m in session.placements
    ]
    assert np.median(rest) > 2.0, np.round(rest, 2)  # measured 9.5 % MVC (40 uV hum)
