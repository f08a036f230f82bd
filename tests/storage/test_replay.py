"""Replaying a recording: the live objects in time order, streaming == batch, pacing, checks."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest

from myoflow.analysis.live import LiveAnalysis
from myoflow.dsp.pipeline import EmgPipeline
from myoflow.session.live import EnvelopeSummary
from myoflow.session.run import FanOut
from myoflow.storage.reader import open_recording
from myoflow.storage.replay import ManualClock, Replayer
from myoflow.storage.writer import Recorder
from myoflow.stream import Block, Event, Gap, Sink, StreamInfo
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import generate_session

EMG_RATE, IMU_RATE = 1000.0, 100.0
SCALE = 0.05  # uV per count


def _emg_info(placements: tuple[str, ...]) -> StreamInfo:
    return StreamInfo(
        "strap/emg", "emg", EMG_RATE, tuple(f"ch{i}" for i in range(len(placements))), placements
    )


class Collect:
    """A replay sink that keeps everything in arrival order."""

    def __init__(self) -> None:
        self.items: list[Block | Gap | Event] = []

    def on_block(self, block: Block) -> None:
        self.items.append(block)

    def on_gap(self, gap: Gap) -> None:
        self.items.append(gap)

    def on_event(self, event: Event) -> None:
        self.items.append(event)

    def blocks(self, name: str) -> list[Block]:
        return [b for b in self.items if isinstance(b, Block) and b.stream.name == name]


def _record(path: Path, *, gap_at: int | None, seed: int = 3, n_reps: int = 2) -> dict:
    """A synthetic glute-bridge session (EMG + pelvis/thigh IMU) recorded packet by packet."""
    session = generate_session(
        SessionConfig(n_reps=n_reps, emg_rate=EMG_RATE, imu_rate=IMU_RATE, seed=seed, lead_in_s=3.0)
    )
    emg = _emg_info(session.placements)
    imu = {
        f"strap/{seg}/{kind}": StreamInfo(f"strap/{seg}/{kind}", kind, IMU_RATE, ("x", "y", "z"), (seg,) * 3)
        for seg in ("pelvis", "thigh")
        for kind in ("acc", "gyro")
    }
    raw = np.round(session.emg / SCALE).astype(np.int16)
    rec = Recorder(path, on_full="wait")
    rec.add_stream(emg, "int16", SCALE)
    for info in imu.values():
        rec.add_stream(info, "float32")
    rec.start()
    t0 = 50.0
    index = 0
    for k in range(0, len(raw), 13):  # odd packet size: blocks and packets never line up
        if gap_at is not None and k == gap_at:
            rec.write_gap(Gap(emg, index, 120, t0 + index / EMG_RATE, t0 + (index + 120) / EMG_RATE))
            index += 120
        part = raw[k : k + 13]
        rec.write_block(emg.name, part, t0 + (index + np.arange(len(part))) / EMG_RATE)
        index += len(part)
    for name in imu:
        seg, kind = name.split("/")[1:]
        data = session.imu[seg][0 if kind == "acc" else 1]
        for k in range(0, len(data), 7):
            rec.write_block(name, data[k : k + 7], t0 + session.imu_times[k : k + 7])
    events = [
        Event(t0 + 4.0, "rep_start", "rep 1"),
        Event(t0 + 6.5, "cue", "squeeze"),
        Event(t0 + 9.0, "marker", "m"),
    ]
    for e in events:
        rec.write_event(e)
    rec.close()
    return {"path": path, "session": session, "raw": raw, "events": events}


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _record(tmp_path_factory.mktemp("replay") / "plain.h5", gap_at=None)


@pytest.fixture(scope="module")
def gappy(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _record(tmp_path_factory.mktemp("replay") / "gappy.h5", gap_at=4004, n_reps=1)


def _due(item: Block | Gap | Event) -> float:
    return (
        float(item.times[-1])
        if isinstance(item, Block)
        else item.time
        if isinstance(item, Event)
        else math.nan
    )


def test_items_are_time_ordered_blocks_never_span_gaps_and_nothing_is_lost(gappy: dict) -> None:
    with open_recording(gappy["path"]) as rec:
        sink = Collect()
        stats = Replayer(rec, speed=None, block_s=0.02).run(sink)
        due = [_due(i) for i in sink.items if not isinstance(i, Gap)]
        assert np.all(np.diff(due) >= 0), "items are not in time order"
        emg = rec.streams["strap/emg"]
        blocks = sink.blocks("strap/emg")
        assert max(len(b) for b in blocks) == 20 and all(b.stream == emg.info for b in blocks)
        np.testing.assert_array_equal(np.concatenate([b.data for b in blocks]), emg.physical())
        np.testing.assert_array_equal(np.concatenate([b.times for b in blocks]), emg.times())
        (gap,) = [i for i in sink.items if isinstance(i, Gap)]
        assert gap == emg.gaps[0] and gap.n_missing == 120
        # the gap comes right before the block that resumes after it; no block spans it
        pos = sink.items.index(gap)
        after = next(i for i in sink.items[pos + 1 :] if isinstance(i, Block) and i.stream == emg.info)
        assert after.start_index == gap.start_index + gap.n_missing
        assert not any(b.start_index < gap.start_index < b.end_index for b in blocks)
        before = [b for b in blocks if b.end_index <= gap.start_index]
        assert before[-1].end_index == gap.start_index
        assert [i for i in sink.items if isinstance(i, Event)] == gappy["events"]
        for name, view in rec.streams.items():
            assert stats.samples[name] == view.n_samples
            np.testing.assert_array_equal(
                np.concatenate([b.data for b in sink.blocks(name)]), view.physical()
            )
        assert stats.gaps["strap/emg"] == 1 and stats.lost["strap/emg"] == 120 and stats.events == 3
        assert stats.blocks["strap/pelvis/acc"] == math.ceil(rec.streams["strap/pelvis/acc"].n_samples / 2)


def test_streaming_through_the_live_pipeline_equals_batch(plain: dict) -> None:
    session = plain["session"]
    mvc = dict(zip(session.placements, (300.0, 250.0, 220.0, 170.0), strict=True))
    with open_recording(plain["path"]) as rec:
        infos = [view.info for view in rec.streams.values()]
        live = LiveAnalysis(infos, mvc=mvc, history_s=120.0)
        pipe = EmgPipeline(EMG_RATE)
        envelopes = []

        class Envelopes:  # the bare signal core, fed the same replayed blocks
            def on_block(self, block: Block) -> None:
                if block.stream.kind == "emg":
                    envelopes.append(pipe.process(block.data).envelope)

            def on_gap(self, gap: Gap) -> None:
                raise AssertionError("no gaps in this recording")

        Replayer(rec, speed=None, block_s=0.02).run(FanOut([live, Envelopes()]))
        emg = rec.streams["strap/emg"].physical()
        np.testing.assert_allclose(emg, plain["raw"] * SCALE, rtol=1e-6)
        # the same replay in 1 s blocks: live analytics do not depend on the chunking
        batch = LiveAnalysis(infos, mvc=mvc, history_s=120.0)
        Replayer(rec, speed=None, block_s=1.0).run(batch)
    np.testing.assert_allclose(
        np.concatenate(envelopes), EmgPipeline(EMG_RATE).process(emg).envelope, rtol=1e-5, atol=1e-4
    )
    a, b = live.snapshot(), batch.snapshot()
    np.testing.assert_allclose(a.envelope_pct, b.envelope_pct, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(a.angle_deg, b.angle_deg, atol=1e-6)
    assert len(live.results) == len(batch.results) == len(session.truth)
    for x, y in zip(live.results, batch.results, strict=True):
        assert x.phases == pytest.approx(y.phases, abs=1e-9)
        assert {m: r.relaxed for m, r in x.relaxation.items()} == {
            m: r.relaxed for m, r in y.relaxation.items()
        }


def test_envelope_summary_matches_batch_and_restarts_after_a_gap(gappy: dict) -> None:
    with open_recording(gappy["path"]) as rec:
        summary = EnvelopeSummary(mains_hz=50.0, mvc={"glute_max_r": 200.0})
        Replayer(rec, speed=None, block_s=0.05).run(summary)
        emg = rec.streams["strap/emg"]
        cut = int(emg.gap_table["row"][0])
        x, t = emg.physical(), emg.times()
    env = np.concatenate(
        [EmgPipeline(EMG_RATE).process(x[:cut]).envelope, EmgPipeline(EMG_RATE).process(x[cut:]).envelope]
    )
    rows = summary.summary()["strap/emg"]
    assert [r["placement"] for r in rows] == list(gappy["session"].placements)
    for c, r in enumerate(rows):
        assert r["mean"] == pytest.approx(env[:, c].mean(dtype=np.float64), rel=1e-5)
        assert r["peak"] == pytest.approx(env[:, c].max(), rel=1e-6)
        assert r["peak_time_s"] == t[np.argmax(env[:, c])]
    assert rows[0]["peak_pct_mvc"] == pytest.approx(100 * rows[0]["peak"] / 200.0)
    assert rows[1]["mean_pct_mvc"] is None
    assert set(summary.summary()) == {"strap/emg"}  # IMU streams are not EMG


def test_paced_replay_with_a_manual_clock_is_exact_and_never_sleeps(plain: dict) -> None:
    with open_recording(plain["path"]) as rec:
        clock = ManualClock(1000.0)
        replayer = Replayer(rec, speed=20.0, clock=clock, block_s=0.02)
        delivered: list[tuple[float, float]] = []

        class Timed(Collect):
            def on_block(self, block: Block) -> None:
                delivered.append((clock(), float(block.times[-1])))

        t0 = time.perf_counter()
        stats = replayer.run(Timed())
        assert time.perf_counter() - t0 < 2.0  # it never really slept (about 0.7 s at 20x)
        assert stats.wall_s == pytest.approx(replayer.duration / 20.0, abs=1e-5)
        assert clock.slept == pytest.approx(replayer.duration / 20.0, abs=1e-5)
        wall = np.array(delivered)
        # each block is delivered when its last sample is due: (t - start) / speed after starting
        expected = 1000.0 + (wall[:, 1] - replayer.t_start) / 20.0
        assert np.abs(wall[:, 0] - expected).max() < 1e-5
        assert stats.speed == pytest.approx(20.0, rel=1e-3)


def test_fixed_steps_use_no_clock(plain: dict) -> None:
    def no_clock() -> float:
        raise AssertionError("step() must not read the clock")

    with open_recording(plain["path"]) as rec:
        replayer = Replayer(rec, speed=1.0, clock=no_clock, block_s=0.05)
        sink, steps, counts = Collect(), 0, []
        while not replayer.done:
            before = len(sink.items)
            counts.append(replayer.step(sink))
            assert len(sink.items) - before == counts[-1]
            steps += 1
            for item in sink.items[before:]:
                if not isinstance(item, Gap):
                    assert _due(item) <= replayer.t_start + steps * 0.05 + 1e-9
        assert steps == math.ceil(replayer.duration / 0.05 - 1e-9)
        # every step of 50 ms carries one 50-sample EMG block (and 5-sample IMU blocks)
        assert sorted(set(len(b) for b in sink.blocks("strap/emg")))[-1] == 50
        assert replayer.step(sink) == 0 and replayer.position >= replayer.t_end


def test_poll_delivers_what_is_due_on_an_outside_clock(plain: dict) -> None:
    with open_recording(plain["path"]) as rec:
        clock = ManualClock()
        replayer = Replayer(rec, speed=2.0, clock=clock)
        sink = Collect()
        assert replayer.poll(sink) == 0  # starts the clock; nothing is due yet
        clock.advance(0.5)  # one second of recording at 2x
        replayer.poll(sink)
        last = max(_due(i) for i in sink.items if isinstance(i, Block))
        assert replayer.t_start + 0.98 <= last <= replayer.t_start + 1.0 + 1e-6
        assert replayer.due_at() > replayer.t_start + 1.0


def test_real_time_at_20x_takes_a_twentieth_of_the_duration(plain: dict) -> None:
    with open_recording(plain["path"]) as rec:
        replayer = Replayer(rec, speed=20.0, streams=["strap/emg", "strap/pelvis/acc"])
        assert replayer.duration > 10.0
        progress: list[tuple[float, float]] = []
        t0 = time.perf_counter()
        stats = replayer.run(Collect(), lambda done, total: progress.append((done, total)))
        wall = time.perf_counter() - t0
    target = replayer.duration / 20.0
    assert target * 0.98 <= wall <= target + 0.4, f"{wall:.3f} s for a target of {target:.3f} s"
    assert set(stats.samples) == {"strap/emg", "strap/pelvis/acc"}
    done = [d for d, _ in progress]
    assert done == sorted(done) and progress[-1] == (replayer.duration, replayer.duration)
    assert 10 <= len(progress) <= 202


def test_sinks_without_on_event_work_like_ingest_sinks(gappy: dict) -> None:
    class IngestLike:
        def __init__(self) -> None:
            self.n = 0

        def on_block(self, block: Block) -> None:
            self.n += len(block)

        def on_gap(self, gap: Gap) -> None:
            pass

        def on_status(self, status: object) -> None:
            pass

    with open_recording(gappy["path"]) as rec:
        sink = IngestLike()
        Replayer(rec, speed=None, streams=["strap/emg"]).run(sink)
        assert sink.n == rec.streams["strap/emg"].n_samples

    class OnlyBlocks(Sink):  # the contract's no-op methods stand in for on_gap and on_event
        def __init__(self) -> None:
            self.n = 0

        def on_block(self, block: Block) -> None:
            self.n += len(block)

    with open_recording(gappy["path"]) as rec:
        only = OnlyBlocks()
        Replayer(rec, speed=None, streams=["strap/emg"]).run(only)
        assert only.n == rec.streams["strap/emg"].n_samples > 0


def test_invalid_arguments_are_named(plain: dict) -> None:
    with open_recording(plain["path"]) as rec:
        for kwargs, pattern in [
            ({"speed": 0}, "speed must be a positive number"),
            ({"speed": float("nan")}, "speed"),
            ({"speed": "fast"}, "speed"),
            ({"block_s": 0.0}, "block_s must be a positive number"),
            ({"block_s": 30.0}, "block_s must be at most 10.0 s"),
            ({"clock": 3.0}, "clock must be a callable"),
            ({"streams": ["strap/emg", "nope"]}, r"streams \['nope'\] are not in .*plain.h5"),
        ]:
            with pytest.raises(ValueError, match=pattern):
                Replayer(rec, **kwargs)
        with pytest.raises(ValueError, match="recording must be a Recording"):
            Replayer(str(plain["path"]))  # type: ignore[arg-type]
        replayer = Replayer(rec, speed=None)
        with pytest.raises(ValueError, match="sink must have on_block"):
            replayer.run(object())
        with pytest.raises(ValueError, match="dt must be a positive number"):
            replayer.step(Collect(), dt=-1.0)
