"""Recorder -> file -> reader round trip: samples, times, gaps, events, metadata, overflow."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from myoflow.storage import schema
from myoflow.storage._recover import finalise
from myoflow.storage.reader import open_recording
from myoflow.storage.schema import DeviceInfo, SessionMetadata
from myoflow.storage.writer import Recorder, _Sink, _TimeMap
from myoflow.stream import Event, Gap, StreamInfo

EMG = StreamInfo("strap/emg", "emg", 2000.0, tuple(f"ch{i}" for i in range(4)),
                 ("glute_max_r", "biceps_femoris_r", "semitendinosus_r", "glute_med_r"))
ACC = StreamInfo("strap/acc", "acc", 100.0, ("x", "y", "z"), ("pelvis",) * 3)
MYO = StreamInfo("myo/emg", "emg", 200.0, ("e0", "e1"))
META = SessionMetadata(subject_id="P-017", exercise="glute_bridge", notes="left knee sore",
                       profile_toml='[device]\nmodel = "ganglion"\n',
                       filter_settings={"highpass_hz": 20.0, "notch_hz": 50.0},
                       mvc_references={"glute_max_r": 312.5})
SCALE = np.array([0.1, 0.2, 0.05, 1.5])
OFFSET = np.array([0.0, -3.0, 1.0, 0.5])


def _raw(rows: np.ndarray, n_ch: int) -> np.ndarray:
    """Deterministic int16 samples: value of each (row, channel)."""
    return ((rows[:, None] * 37 + np.arange(n_ch) * 1009) % 60001 - 30000).astype(np.int16)


def _record(path: Path, **kw: object) -> dict[str, object]:
    """Record three streams with gaps of known and unknown size; return what was sent."""
    rec = Recorder(path, META, **kw)
    rec.add_stream(EMG, "int16", SCALE, OFFSET, DeviceInfo("Ganglion", "2.0.1", "C0:FF:EE:00:00:01"))
    rec.add_stream(ACC, "int16", 1 / 4096)
    rec.add_stream(MYO, "int8", 1.0)
    rec.start()
    rng = np.random.default_rng(3)
    sent: dict[str, list] = {"emg_rows": [], "emg_times": [], "gaps": [], "packets": []}
    index, row = 0, 0
    for k in range(60):
        if k in (20, 41):  # radio loss of 50 samples
            gap = Gap(EMG, index, 50, 10 + (index - 1) / 2000, 10 + (index + 50) / 2000)
            rec.write_gap(gap)
            sent["gaps"].append(gap)
            index += 50
        n = 25
        rows = np.arange(row, row + n)
        # drift-fitted time plus a small step every 10 packets: several linear pieces
        t = 10 + (index + np.arange(n)) / 2000.0 * 1.0001 + 0.0003 * (k // 10)
        assert rec.write_block(EMG.name, _raw(rows, 4).astype(np.int64), t, start_index=index,
                               host_time=t[-1] + 0.004, counter=k)
        sent["emg_rows"].append(rows)
        sent["emg_times"].append(t)
        sent["packets"].append((row, index, n, k, -1, t[-1] + 0.004))
        index, row = index + n, row + n
    acc = rng.integers(-4096, 4096, (70, 3))
    acc_t = 10 + np.arange(70) / 100.0 + rng.uniform(0, 1e-3, 70)  # jittery: no linear piece
    for k in range(0, 70, 10):
        rec.write_block(ACC.name, acc[k : k + 10], acc_t[k : k + 10])
    rec.write_block(MYO.name, np.full((8, 2), -7), 10 + np.arange(8) / 200)
    unknown = Gap(MYO, 8, None, 10.04, 10.5, "disconnect")
    rec.write_gap(unknown)
    rec.write_block(MYO.name, np.full((4, 2), 5), 10.5 + np.arange(4) / 200)
    events = [Event(10.2, "rep_start", "rep 1", None, {"rep": 1}),
              Event(10.9, "phase", "concentric", EMG.name, {"rep": 1, "hip_deg": 41.5}),
              Event(11.0, "cue", "squeeze at the top"),
              Event(11.2, "calibration", "mvc glute", EMG.name, {"segment": [10.0, 11.0]})]
    for e in events:
        rec.write_event(e)
    rec.update_metadata(time_s=11.3, notes="knee fine after set 1")
    path_out = rec.close()
    return {"path": path_out, "events": events, "acc": acc, "acc_t": acc_t, "unknown": unknown,
            **sent}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return _record(tmp_path_factory.mktemp("rt") / "session.h5")


def test_round_trip_samples_times_and_units(recorded: dict) -> None:
    with open_recording(recorded["path"]) as rec:
        assert rec.state == "final" and rec.schema_version == schema.SCHEMA_VERSION
        assert list(rec.streams) == [EMG.name, ACC.name, MYO.name]
        emg = rec.streams[EMG.name]
        assert emg.info == EMG and emg.device == DeviceInfo("Ganglion", "2.0.1", "C0:FF:EE:00:00:01")
        assert emg.raw_dtype == np.int16 and emg.n_samples == 1500
        rows = np.concatenate(recorded["emg_rows"])
        np.testing.assert_array_equal(emg.raw(), _raw(rows, 4))
        expected = _raw(rows, 4).astype(np.float64) * SCALE + OFFSET
        phys = emg.physical()
        assert phys.dtype == np.float32 and phys.flags.c_contiguous
        np.testing.assert_allclose(phys, expected, rtol=1e-6, atol=1e-6)
        times = emg.times()
        assert np.abs(times - np.concatenate(recorded["emg_times"])).max() <= schema.TIME_TOLERANCE_S
        # linear pieces are stored as a handful of anchors, not one per sample
        assert len(emg.time_map) < 40
        np.testing.assert_array_equal(emg.sample_indices(0, 3), [0, 1, 2])
        assert emg.sample_indices(500, 501)[0] == 550 and emg.sample_indices(1499, 1500)[0] == 1599
        assert emg.effective_rate == pytest.approx(2000 / 1.0001, rel=2e-3)
        acc = rec.streams[ACC.name]
        np.testing.assert_array_equal(acc.raw(), recorded["acc"])
        assert np.abs(acc.times() - recorded["acc_t"]).max() <= schema.TIME_TOLERANCE_S
        np.testing.assert_allclose(acc.physical(), recorded["acc"] / 4096, rtol=1e-6)
        assert acc.info.placements == ("pelvis",) * 3 and acc.unit == "g"


def test_round_trip_packets_gaps_events_metadata(recorded: dict) -> None:
    with open_recording(recorded["path"]) as rec:
        emg = rec.streams[EMG.name]
        packets = emg.packets
        assert packets.tolist() == [tuple(p) for p in recorded["packets"]]
        assert emg.gaps == recorded["gaps"]
        assert rec.streams[MYO.name].gaps == [recorded["unknown"]]
        assert rec.gaps == sorted(recorded["gaps"] + [recorded["unknown"]], key=lambda g: g.t_start)
        # an unknown-size gap does not advance the sample index
        np.testing.assert_array_equal(rec.streams[MYO.name].sample_indices(7, 9), [7, 8])
        assert rec.events[:4] == recorded["events"]
        assert rec.events[4].kind == "metadata"
        assert rec.metadata == SessionMetadata(**{**META.__dict__, "notes": "knee fine after set 1"})


@pytest.mark.parametrize("block_size", [1, 64, 333, 5000])
def test_blocks_never_span_gaps_and_rebuild_the_stream(recorded: dict, block_size: int) -> None:
    with open_recording(recorded["path"]) as rec:
        emg = rec.streams[EMG.name]
        blocks = list(emg.blocks(block_size))
        gap_starts = {g.start_index + g.n_missing for g in emg.gaps}
        for b in blocks:
            assert len(b) <= block_size and b.stream == EMG
            inside = set(range(b.start_index + 1, b.end_index))
            assert not inside & gap_starts, "a block spans a gap"
        np.testing.assert_array_equal(np.concatenate([b.data for b in blocks]), emg.physical())
        np.testing.assert_array_equal(np.concatenate([b.times for b in blocks]), emg.times())
        starts = [b.start_index for b in blocks]
        assert starts == sorted(starts) and blocks[-1].end_index == 1600


def test_plain_h5py_reads_the_documented_layout(recorded: dict) -> None:
    with h5py.File(recorded["path"], "r") as f:
        assert f.attrs["format"] == "myoflow-recording" and f.attrs["state"] == "final"
        g = f["streams/strap_emg"]
        assert g.attrs["name"] == EMG.name and list(g.attrs["placements"])[0] == "glute_max_r"
        raw = g["raw"][:]
        phys = raw * g.attrs["scale"] + g.attrs["offset"]
        tm = g["time_map"][:]
        t = np.interp(np.arange(len(raw)), tm["row"], tm["time"])
        assert np.abs(t - np.concatenate(recorded["emg_times"])).max() <= 1e-9
        np.testing.assert_allclose(phys[:25], _raw(np.arange(25), 4) * SCALE + OFFSET)
        assert g["raw"].compression == "gzip"


def test_finalise_is_smaller_with_identical_content(tmp_path: Path) -> None:
    live = tmp_path / "live.h5"
    rec = Recorder(live, META)
    rec.add_stream(EMG, "int16", SCALE, OFFSET)
    rec.start()
    rows = np.arange(40_000)
    emg = ((np.sin(rows / 40.0)[:, None] * 800) * np.arange(1, 5)).astype(np.int16)  # compressible
    for k in range(0, len(rows), 400):
        rec.write_block(EMG.name, emg[k : k + 400], 5 + rows[k : k + 400] / 2000, host_time=k / 2000)
    rec.write_event(Event(6.0, "marker", "here"))
    rec.close(finalise=False)
    final = finalise(live, tmp_path / "final.h5")
    assert final.stat().st_size < 0.8 * live.stat().st_size
    assert not (tmp_path / "final.h5.finalising").exists()
    with open_recording(live) as a, open_recording(final) as b:
        assert (a.state, b.state) == ("live", "final")
        va, vb = a.streams[EMG.name], b.streams[EMG.name]
        np.testing.assert_array_equal(vb.raw(), emg)
        np.testing.assert_array_equal(va.raw(), vb.raw())
        np.testing.assert_array_equal(va.times(), vb.times())
        np.testing.assert_array_equal(va.packets, vb.packets)
        assert a.events == b.events and a.metadata == b.metadata and a.clock == b.clock


def test_overflow_becomes_a_gap_and_is_logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             caplog: pytest.LogCaptureFixture) -> None:
    gate, entered = threading.Event(), threading.Event()
    real_add = _Sink.add

    def slow_add(self: _Sink, item: tuple) -> None:  # a disk that stalls on the first item
        entered.set()
        gate.wait(10)
        real_add(self, item)

    monkeypatch.setattr(_Sink, "add", slow_add)
    rec = Recorder(tmp_path / "o.h5", queue_size=4, flush_interval=0.05)
    rec.add_stream(EMG, "int16")
    rec.start()
    ok = [rec.write_block(EMG.name, _raw(np.arange(10), 4), np.arange(10) / 2000.0)]
    assert entered.wait(5)  # the writer holds item 1; the queue takes 4 more
    with caplog.at_level(logging.WARNING, logger="myoflow.storage.writer"):
        for k in range(1, 12):
            ok.append(rec.write_block(EMG.name, _raw(np.arange(k * 10, k * 10 + 10), 4),
                                      (k * 10 + np.arange(10)) / 2000.0))
            if k == 7:
                rec.write_event(Event(0.04, "marker", "during overflow"))
    assert ok == [True] * 5 + [False] * 7
    assert rec.dropped_blocks == 7 and rec.dropped_samples == 70
    assert "recorder queue full" in caplog.text and "o.h5" in caplog.text
    gate.set()
    rec.flush()  # waits until the writer has caught up
    assert rec.write_block(EMG.name, _raw(np.arange(120, 130), 4), np.arange(120, 130) / 2000.0)
    rec.close()
    with open_recording(tmp_path / "o.h5") as r:
        v = r.streams[EMG.name]
        (gap,) = v.gaps
        assert (gap.start_index, gap.n_missing, gap.reason) == (50, 70, "recorder overflow")
        assert gap.t_start == pytest.approx(50 / 2000) and gap.t_end == pytest.approx(119 / 2000)
        assert v.n_samples == 60
        np.testing.assert_array_equal(v.sample_indices(), np.r_[0:50, 120:130])
        np.testing.assert_array_equal(v.raw(), _raw(np.r_[0:50, 120:130], 4))
        assert [e.label for e in r.events] == ["during overflow"]


@given(
    pieces=st.lists(st.tuples(st.integers(1, 300), st.floats(1e-4, 1e-2), st.floats(-1e-3, 1e-3)),
                    min_size=1, max_size=6),
    cuts=st.lists(st.integers(1, 1500), max_size=6),
    jitter=st.booleans(),
)
def test_time_map_reproduces_any_times_for_any_flush_chunking(pieces, cuts, jitter) -> None:
    parts, t0 = [], 5000.0
    for n, dt, step in pieces:  # piecewise-linear times with steps between pieces
        parts.append(t0 + step + dt * np.arange(n))
        t0 = parts[-1][-1] + dt
    t = np.concatenate(parts)
    if jitter:
        t = t + np.random.default_rng(len(t)).uniform(0, 1e-4, len(t))
    bounds = sorted({0, len(t), *[c for c in cuts if c < len(t)]})
    tm, stored = _TimeMap(), []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        replace, anchors = tm.add_run(a, t[a:b])
        if replace is not None:
            stored[-1] = tuple(replace.tolist())
        stored.extend(anchors.tolist())
    rows = np.array([r for r, _ in stored])
    assert np.all(np.diff(rows) > 0) and rows[0] == 0 and rows[-1] == len(t) - 1
    recon = np.interp(np.arange(len(t)), rows, [x for _, x in stored])
    assert np.abs(recon - t).max() <= schema.TIME_TOLERANCE_S
    if not jitter:
        assert len(stored) <= 4 * len(pieces) + 2 * len(bounds)


def test_a_linear_stream_flushed_many_times_keeps_two_anchors() -> None:
    tm, stored = _TimeMap(), []
    t = 123.456 + np.arange(100_000) / 2000.0 * 1.00002
    for a in range(0, len(t), 777):
        replace, anchors = tm.add_run(a, t[a : a + 777])
        if replace is not None:
            stored[-1] = tuple(replace.tolist())
        stored.extend(anchors.tolist())
    assert len(stored) == 2


def test_invalid_arguments_name_what_is_wrong(tmp_path: Path) -> None:
    rec = Recorder(tmp_path / "a.h5")
    with pytest.raises(ValueError, match="raw_dtype"):
        rec.add_stream(EMG, "complex64")
    with pytest.raises(ValueError, match="scale"):
        rec.add_stream(EMG, "int16", scale=0.0)
    with pytest.raises(ValueError, match="add at least one stream"):
        rec.start()
    rec.add_stream(EMG, "int16")
    with pytest.raises(ValueError, match="already used"):
        rec.add_stream(EMG, "int16")
    with pytest.raises(RuntimeError, match="start"):
        rec.write_block(EMG.name, np.zeros((1, 4)), [0.0])
    rec.start()
    with pytest.raises(RuntimeError, match="before start"):
        rec.add_stream(ACC, "int16")
    with pytest.raises(ValueError, match="unknown stream 'nope'"):
        rec.write_block("nope", np.zeros((1, 4)), [0.0])
    with pytest.raises(ValueError, match=r"shape \(n_samples, 4\)"):
        rec.write_block(EMG.name, np.zeros((2, 3)), [0.0, 1.0])
    with pytest.raises(ValueError, match="outside the stream's raw dtype int16"):
        rec.write_block(EMG.name, np.full((1, 4), 40_000), [0.0])
    with pytest.raises(ValueError, match="starts at sample index 5 but the stream is at index 0"):
        rec.write_block(EMG.name, np.zeros((1, 4), np.int16), [0.0], start_index=5)
    with pytest.raises(ValueError, match="event kind"):
        rec.write_event(Event(0.0, "k" * 40))
    with pytest.raises(ValueError, match="metadata field 'name'"):
        rec.update_metadata(name="Jane Doe")
    rec.close()
    with pytest.raises(ValueError, match="flush_interval must be at most 0.5 s"):
        Recorder(tmp_path / "b.h5", flush_interval=1.0)
    with pytest.raises(ValueError, match="on_full"):
        Recorder(tmp_path / "b.h5", on_full="block")


def test_existing_file_is_not_overwritten_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "keep.h5"
    path.write_bytes(b"precious")
    rec = Recorder(path)
    rec.add_stream(EMG, "int16")
    with pytest.raises(schema.RecordingError, match="keep.h5: cannot create the recording file"):
        rec.start()
    assert path.read_bytes() == b"precious"
    rec = Recorder(path, overwrite=True)
    rec.add_stream(EMG, "int16")
    rec.start()
    rec.close()
    with open_recording(path) as r:
        assert r.streams[EMG.name].n_samples == 0 and r.streams[EMG.name].gaps == []
