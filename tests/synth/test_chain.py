"""myoflow.synth.chain: a long synthetic session synthesised piece by piece, read lazily.

The pieces are what generate_session makes of their configs, laid end to end on whole seconds;
reading through Rows (the virtual straps' SessionSignal, the MVC trial joined in front) gives
exactly what the same arrays concatenated up front give; the truth is on the session's clock;
and a virtual rig for a long recording synthesises nothing up front (it used to synthesise the
whole session: 612 MB before an hour of virtual streaming began).
"""

from __future__ import annotations

import asyncio
import logging
import tracemalloc

import numpy as np
import pytest

from myoflow.devices.virtual.samples import SessionSignal
from myoflow.rigs.virtual_glute import DemoSettings, VirtualGlute, session_seconds, virtual_glute_ingest
from myoflow.synth import chain
from myoflow.synth.calibration import mvc_trial, trial_then_session
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import SyntheticSession, generate_session

logging.getLogger("bumble").setLevel(logging.ERROR)
CONFIG = SessionConfig(n_reps=7, seed=4, tense_reps=(2, 5), stall_reps=(4,), partial_reps=(6,))


@pytest.fixture(scope="module")
def long() -> chain.SessionChain:
    out = chain.long_session(CONFIG, piece_reps=3)
    assert isinstance(out, chain.SessionChain)
    return out


@pytest.fixture(scope="module")
def pieces(long: chain.SessionChain) -> list[SyntheticSession]:
    return [generate_session(c) for c in long.configs]


def test_a_session_that_fits_one_piece_is_generated_as_before() -> None:
    small = SessionConfig(n_reps=3, seed=9)
    got = chain.long_session(small)
    assert isinstance(got, SyntheticSession)
    np.testing.assert_array_equal(got.emg, generate_session(small).emg)


def test_pieces_split_the_reps_and_their_rep_lists(long, pieces) -> None:
    assert long.n_pieces == 3 and long.first_rep == [0, 3, 6]
    assert [c.n_reps for c in long.configs] == [3, 3, 1]
    assert long.configs[0].seed == CONFIG.seed and len({c.seed for c in long.configs}) == 3
    assert [c.tense_reps for c in long.configs] == [(2,), (2,), ()]
    assert [c.stall_reps for c in long.configs] == [(), (1,), ()]
    assert [c.partial_reps for c in long.configs] == [(), (), (0,)]
    # each piece lasts a whole number of seconds, so EMG and IMU grids line up end to end
    for start, piece in zip(long.starts_s, pieces, strict=True):
        assert start == int(start)
        assert piece.emg.shape[0] % int(CONFIG.emg_rate) == 0
        assert piece.imu_times.shape[0] % int(CONFIG.imu_rate) == 0
    assert long.emg.shape == (sum(p.emg.shape[0] for p in pieces), len(CONFIG.placements))
    assert long.duration_s == long.emg.shape[0] / CONFIG.emg_rate


def test_lazy_reads_equal_the_pieces_concatenated(long, pieces) -> None:
    emg = np.concatenate([p.emg for p in pieces])
    acc, gyro = (np.concatenate([p.imu["thigh"][k] for p in pieces]) for k in (0, 1))
    rng = np.random.default_rng(0)
    t = np.concatenate([rng.uniform(-5, 2.5 * long.duration_s, 500), [0.0, long.duration_s - 1e-4]])
    cols = np.arange(4) % emg.shape[1]
    lazy, eager = SessionSignal(long.emg, 1000.0, columns=cols), SessionSignal(emg, 1000.0, columns=cols)
    np.testing.assert_array_equal(lazy(t), eager(t))  # across pieces and the cyclic wrap
    imu = long.imu["thigh"]
    np.testing.assert_array_equal(
        SessionSignal(imu, 100.0)(t), SessionSignal(np.hstack([acc, gyro]).astype(np.float64), 100.0)(t)
    )
    assert len(long._cache) <= chain.CACHED


def test_mvc_trial_then_a_chain_reads_as_the_arrays_joined(long, pieces) -> None:
    trial = mvc_trial(CONFIG)
    worn = trial_then_session(trial, long)
    n = worn.emg.shape[0] - long.emg.shape[0]
    joined = np.concatenate([trial.emg[:n], *(p.emg for p in pieces)])
    idx = np.r_[0:50, n - 5 : n + 5, joined.shape[0] - 20 : joined.shape[0]]
    np.testing.assert_array_equal(worn.emg.rows(idx), joined[idx])
    acc = worn.imu["pelvis"][0]
    m = acc.shape[0] - long.imu["pelvis"][0].shape[0]
    first = pieces[0].imu["pelvis"][0][:1]
    np.testing.assert_array_equal(acc.rows(np.array([0, m - 1, m])), np.repeat(first, 3, 0))
    assert worn.lead_s == m / CONFIG.imu_rate


def test_truth_is_on_the_sessions_clock(long, pieces) -> None:
    truth = long.truth
    assert [r.index for r in truth] == list(range(CONFIG.n_reps))
    onsets = [r.onset_s for r in truth]
    assert onsets == sorted(onsets) and truth[-1].end_s < long.duration_s
    for p, piece in enumerate(pieces):
        for r, own in zip(truth[long.first_rep[p] :], piece.truth, strict=False):
            assert r.onset_s == pytest.approx(own.onset_s + long.starts_s[p])
            m = CONFIG.placements[0]
            if own.muscles[m].onset_s is not None:
                assert r.muscles[m].onset_s == pytest.approx(own.muscles[m].onset_s + long.starts_s[p])
    assert [r.stall for r in truth] == [k in CONFIG.stall_reps for k in range(CONFIG.n_reps)]
    assert [r.muscles[CONFIG.placements[0]].relaxed for r in truth] == [
        k not in CONFIG.tense_reps for k in range(CONFIG.n_reps)
    ]


def test_a_long_virtual_rig_synthesises_nothing_up_front() -> None:
    settings = DemoSettings(seconds=session_seconds(3000.0), seed=7)
    tracemalloc.start()
    try:
        rig = VirtualGlute(settings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(rig.session, chain.SessionChain) and rig.session.duration_s > 3000.0
    # the whole session (as before) would take over 150 MB of arrays: 3 M samples x 4 channels
    # of EMG and activation (float32) and their times (float64)
    assert peak < 20e6, f"building the rig allocated {peak / 1e6:.0f} MB"


def test_virtual_straps_send_a_chain_sample_for_sample(monkeypatch) -> None:
    monkeypatch.setattr(chain, "PIECE_REPS", 2)
    rig = VirtualGlute(DemoSettings(seconds=30.0, seed=3))
    session = rig.session
    assert isinstance(session, chain.SessionChain) and session.n_pieces >= 2
    pieces = [generate_session(c) for c in session.configs]
    straps = []

    async def run() -> None:
        async with virtual_glute_ingest(session, [], on_rig=lambda _c, s: straps.extend(s)) as ingest:
            await ingest.run(session.duration_s + 5.0)  # every piece, then the wrap to the first

    asyncio.run(run())
    diy = straps[0]
    sent = diy.ledger.samples("emg", "sent")
    assert sent.index.size > 0.9 * (session.duration_s + 5.0) * CONFIG.emg_rate
    eager = SessionSignal(np.concatenate([p.emg for p in pieces]), session.config.emg_rate)
    expected = np.rint(eager(diy.session_time(sent.true_time)) / diy.uv_per_count)
    np.testing.assert_array_equal(sent.values, np.clip(expected, -32768, 32767).astype(np.int64))


def test_reading_round_and_round_makes_each_piece_once_per_lap(monkeypatch) -> None:
    made: list[tuple[int, int]] = []  # (chain, piece): earlier tests' prefetches may still run
    original = chain.SessionChain._generate

    def counted(self, p):
        made.append((id(self), p))
        return original(self, p)

    monkeypatch.setattr(chain.SessionChain, "_generate", counted)
    long = chain.long_session(CONFIG, piece_reps=3)
    emg, imu = SessionSignal(long.emg, 1000.0), SessionSignal(long.imu["pelvis"], 100.0)
    for t in np.arange(0.0, 2 * long.duration_s, 0.5):  # two straps a little apart, two laps
        emg(np.array([t]))
        imu(np.array([max(0.0, t - 0.3)]))
        assert len(long._cache) <= chain.CACHED
    ours = [p for who, p in made if who == id(long)]
    assert len(ours) <= 2 * long.n_pieces + 1, ours
