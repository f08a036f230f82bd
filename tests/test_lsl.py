"""Lab Streaming Layer output: outlet -> inlet on loopback only.

liblsl is configured once for this process (:func:`myoflow.lsl.configure`): IPv4, discovery at
machine scope on 127.0.0.1, and an LSL session id of its own, so these tests neither announce
anything on the network nor see (or are seen by) other LSL programs. Every resolve and pull is
bounded (<= 5 s); inlets are made with ``recover=False`` so a lost outlet raises instead of
blocking.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid

import numpy as np
import pytest

pylsl = pytest.importorskip("pylsl")

from myoflow import cli, lsl  # noqa: E402
from myoflow.analysis.live import Cue  # noqa: E402
from myoflow.analysis.rep_summary import RepResult  # noqa: E402
from myoflow.dsp.pipeline import EmgPipeline, profile_for_rate  # noqa: E402
from myoflow.stream import Block, Event, Gap, StreamInfo  # noqa: E402

SESSION = f"myoflow-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
TIMEOUT_S = 5.0

EMG = StreamInfo("diy/emg", "emg", 1000.0, ("ch1", "ch2"), ("glute_max_r", "biceps_femoris_r"))
ACC = StreamInfo("diy/acc", "acc", 50.0, ("x", "y", "z"), ("pelvis", "pelvis", "pelvis"))


@pytest.fixture(scope="module", autouse=True)
def _loopback_only() -> None:
    lsl.configure(SESSION, machine_only=True, log_level=-3)


def _resolve(prop: str, value: str, minimum: int = 1, timeout: float = TIMEOUT_S) -> list:
    return pylsl.resolve_byprop(prop, value, minimum=minimum, timeout=timeout)


def _inlet(name: str):
    found = _resolve("name", name)
    assert len(found) == 1, f"{name}: {found}"
    inlet = pylsl.StreamInlet(found[0], max_buflen=60, recover=False)
    inlet.open_stream(timeout=TIMEOUT_S)
    return inlet


def _drain(inlet, n: int) -> tuple[list, np.ndarray]:
    """Pull until ``n`` samples arrived (at most TIMEOUT_S)."""
    samples, stamps = [], []
    deadline = time.monotonic() + TIMEOUT_S
    while len(stamps) < n and time.monotonic() < deadline:
        s, t = inlet.pull_chunk(timeout=0.2, max_samples=4096)
        samples.extend(s)
        stamps.extend(t)
    return samples, np.asarray(stamps, dtype=np.float64)


def _channels(desc) -> list[dict[str, str]]:
    out, ch = [], desc.child("channels").child("channel")
    while not ch.empty():
        out.append({k: ch.child_value(k) for k in ("label", "unit", "type", "location")})
        ch = ch.next_sibling("channel")
    return out


def _blocks(rng: np.random.Generator) -> tuple[list[Block], Gap]:
    """Three EMG blocks with a 7-sample gap before the third; jittered host times."""
    t0 = time.monotonic()
    sizes, starts = (40, 25, 30), (0, 40, 72)
    blocks = []
    for size, start in zip(sizes, starts, strict=True):
        idx = np.arange(start, start + size)
        times = t0 + idx / EMG.rate + rng.uniform(0, 2e-5, size)
        blocks.append(Block(EMG, rng.normal(0, 50, (size, 2)).astype(np.float32), times, start))
    gap = Gap(EMG, 65, 7, t0 + 65 / EMG.rate, t0 + 72 / EMG.rate)
    return blocks, gap


def test_importing_myoflow_loads_no_lsl() -> None:
    code = (
        "import sys, myoflow.lsl, myoflow.cli, myoflow.commands.stream\n"
        "myoflow.cli.build_parser()\n"
        "print('pylsl' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_sink_loads_the_signal_core_before_any_block_arrives() -> None:
    """The envelope's signal core is imported when the sink is made, not inside the ingest at
    the first EMG block: that import (scipy, 1-4 s) stalled every strap, and the timebase then
    discarded the packets that followed ('stream --virtual --lsl': Ganglion 28 % loss, Polar
    frames 'implausible device time'; 'record --virtual --lsl': 1.4 s of IMU in 8 s)."""
    code = (
        "import sys, myoflow.lsl as lsl\n"
        f"lsl.configure({SESSION + '-core'!r}, machine_only=True, log_level=-3)\n"
        "before = 'myoflow.dsp.pipeline' in sys.modules\n"
        "sink = lsl.LslSink()\n"
        "print(before, 'myoflow.dsp.pipeline' in sys.modules)\n"
        "sink.close()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["False", "True"]


def test_outlets_resolve_by_name_and_type_with_their_metadata() -> None:
    with lsl.LslSink(mains_hz=60) as sink:
        sink.describe_strap(
            "diy", device="myoflow DIY 01", address="AA:BB:CC:00:00:01", profile="diy_emg_2ch_1khz"
        )
        sink.add_stream(EMG)
        sink.add_stream(ACC)
        assert set(sink.outlets) == {"diy/emg", "diy/acc", "diy/emg/envelope", "myoflow/markers"}
        (emg,) = _resolve("type", "EMG")  # the raw stream only: envelopes have their own type
        assert (emg.name(), emg.channel_count(), emg.nominal_srate()) == ("diy/emg", 2, 1000.0)
        assert emg.source_id() == "myoflow/AA:BB:CC:00:00:01/emg" and emg.session_id() == SESSION
        (env,) = _resolve("type", lsl.ENVELOPE_TYPE)
        (acc,) = _resolve("name", "diy/acc")
        (markers,) = _resolve("type", "Markers")
        assert markers.nominal_srate() == pylsl.IRREGULAR_RATE and markers.channel_format() == pylsl.cf_string

        infos = {}  # full descriptions, as an inlet gets them (kept alive: desc() points into them)
        for name in ("diy/emg", "diy/emg/envelope", "diy/acc"):
            infos[name] = pylsl.StreamInlet(_resolve("name", name)[0], recover=False).info(timeout=TIMEOUT_S)
        full = {name: info.desc() for name, info in infos.items()}
        assert _channels(full["diy/emg"]) == [
            {"label": "ch1", "unit": "uV", "type": "EMG", "location": "glute_max_r"},
            {"label": "ch2", "unit": "uV", "type": "EMG", "location": "biceps_femoris_r"},
        ]
        assert [c["unit"] for c in _channels(full["diy/acc"])] == ["g"] * 3
        assert [c["location"] for c in _channels(full["diy/acc"])] == ["pelvis"] * 3
        acq = full["diy/emg"].child("acquisition")
        assert acq.child_value("model") == "myoflow DIY EMG strap, 2 channels"
        assert acq.child_value("profile") == "diy_emg_2ch_1khz"
        assert acq.child_value("address") == "AA:BB:CC:00:00:01"
        assert full["diy/emg"].child("synchronization").child_value("can_drop_samples") == "true"
        assert full["diy/emg"].child("myoflow").child("clock").child_value("offset_s") == "0.0"
        envelope = full["diy/emg/envelope"].child("envelope")
        delay = EmgPipeline(EMG.rate, profile_for_rate(EMG.rate, 60)).delay_ms
        assert float(envelope.child_value("delay_ms")) == pytest.approx(delay, abs=1e-3) and delay > 10
        assert envelope.child_value("mains_hz") == "60"
        assert [c["unit"] for c in _channels(full["diy/emg/envelope"])] == ["uV", "uV"]
        assert env.source_id() == "myoflow/AA:BB:CC:00:00:01/emg/envelope"
        assert acc.type() == "ACC"


def test_samples_timestamps_envelope_and_gap_arrive_as_pushed() -> None:
    rng = np.random.default_rng(7)
    mvc = {"glute_max_r": 40.0, "diy/emg/ch2": 25.0}
    with lsl.LslSink([EMG], mvc=mvc) as sink:
        raw, env, markers = _inlet("diy/emg"), _inlet("diy/emg/envelope"), _inlet("myoflow/markers")
        assert [c["unit"] for c in _channels(env.info(timeout=TIMEOUT_S).desc())] == ["%MVC", "%MVC"]
        blocks, gap = _blocks(rng)
        sink.on_block(blocks[0])
        sink.on_block(blocks[1])
        sink.on_gap(gap)
        sink.on_block(blocks[2])
        n = sum(len(b) for b in blocks)
        data, stamps = _drain(raw, n)
        env_data, env_stamps = _drain(env, n)
        texts, mark_stamps = _drain(markers, 1)
    times = np.concatenate([b.times for b in blocks])
    assert sink.clock_map.same_clock and sink.clock_map.offset_s == 0.0
    np.testing.assert_array_equal(np.asarray(data, np.float32), np.concatenate([b.data for b in blocks]))
    np.testing.assert_array_equal(stamps, times)  # the host clock is LSL's clock: bit for bit
    np.testing.assert_array_equal(env_stamps, times)
    # the gap is a jump in the time stamps, no sample is made up for it
    steps = np.diff(stamps) * EMG.rate
    assert np.count_nonzero(steps > 1.5) == 1 and steps[64] == pytest.approx(8.0, abs=0.01)
    # envelope: the live pipeline, restarted at the gap, in % of each channel's MVC
    pipe = EmgPipeline(EMG.rate, profile_for_rate(EMG.rate, 50.0))
    first = pipe.process(np.concatenate([blocks[0].data, blocks[1].data])).envelope
    pipe.reset()
    expected = 100.0 * np.concatenate([first, pipe.process(blocks[2].data).envelope]) / np.array([40.0, 25.0])
    np.testing.assert_allclose(np.asarray(env_data), expected, rtol=1e-5, atol=1e-4)
    (text,) = texts[0]
    mark = json.loads(text)
    assert (mark["kind"], mark["stream"], mark["n_missing"], mark["start_index"]) == ("gap", "diy/emg", 7, 65)
    assert mark_stamps[0] == gap.t_start and mark["t_end"] == gap.t_end


def test_markers_carry_reps_cues_events_and_states() -> None:
    rep = RepResult(
        index=3,
        set_index=0,
        mode="hip",
        unit="% MVC",
        partial=False,
        rom_deg=48.5,
        phases={"start": 100.0, "top": 101.2, "eccentric": 101.9, "bottom": 103.1, "end": 104.0},
        muscles={},
        relaxation={},
        handover=None,
        eccentric_hold_pct={"glute_max_r": 37.5},
        cocontraction_pct={},
    )
    cue = Cue(104.0, "squeeze", "keep squeezing as you lower", 3)
    event = Event(99.5, "marker", "set 1 start", None, {"weight_kg": np.float64(20.0)})
    with (
        lsl.LslSink(marker_name="myoflow/markers/json") as sink,
        lsl.LslSink(marker_name="myoflow/markers/text", marker_format="text", envelope=False) as plain,
    ):
        inlets = [_inlet("myoflow/markers/json"), _inlet("myoflow/markers/text")]
        for s in (sink, plain):
            s.on_event(event)
            s.on_results([rep, cue])
        (texts, stamps), (labels, label_stamps) = (_drain(i, 3) for i in inlets)
        with pytest.raises(ValueError, match="RepResult or Cue"):
            sink.on_results(["rep 4"])
    marks = [json.loads(t[0]) for t in texts]
    assert [m["kind"] for m in marks] == ["marker", "rep", "cue"]
    np.testing.assert_array_equal(stamps, [99.5, 100.0, 104.0])  # event time, rep onset, rep end
    np.testing.assert_array_equal(label_stamps, stamps)
    assert marks[0]["label"] == "marker set 1 start" and marks[0]["data"] == {"weight_kg": 20.0}
    assert marks[1]["label"] == "rep 3" and marks[1]["index"] == 3 and marks[1]["rom_deg"] == 48.5
    assert marks[1]["phases_s"]["bottom"] == 103.1 and marks[1]["eccentric_hold_pct"] == {"glute_max_r": 37.5}
    assert (marks[2]["cue"], marks[2]["rep_index"], marks[2]["text"]) == ("squeeze", 3, cue.text)
    assert [x[0] for x in labels] == [
        "marker set 1 start",
        "rep 3",
        "cue squeeze: keep squeezing as you lower",
    ]


def test_clock_map_measures_an_offset_once() -> None:
    lsl_clock = pylsl.local_clock
    same = lsl.ClockMap.measure(time.monotonic, lsl_clock)
    assert same.same_clock and same.offset_s == 0.0 and same.resolution_s < 1e-3
    shifted = lsl.ClockMap.measure(lambda: time.monotonic() - 250.0, lsl_clock)
    assert not shifted.same_clock and shifted.offset_s == pytest.approx(250.0, abs=1e-3)
    np.testing.assert_allclose(shifted.to_lsl(np.array([1.0, 2.0])), [251.0, 252.0], atol=1e-3)


def test_invalid_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="marker_format"):
        lsl.LslSink(marker_format="xml")
    with pytest.raises(ValueError, match="mains_hz"):
        lsl.LslSink(mains_hz=55)
    with pytest.raises(ValueError, match="clock"):
        lsl.LslSink(clock=0.0)
    with lsl.LslSink(mvc={"glute_max_r": 40.0}, marker_name="myoflow/markers/bad") as sink:
        with pytest.raises(ValueError, match=r"mvc covers only part of EMG stream 'diy/emg'.*ch2"):
            sink.add_stream(EMG)
    with pytest.raises(RuntimeError, match="closed"):
        sink.on_block(Block(ACC, np.zeros((2, 3)), np.zeros(2), 0))


def test_missing_pylsl_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pylsl", None)  # as if not installed
    with pytest.raises(lsl.LslError, match=r"pip install 'myoflow\[lsl\]'"):
        lsl.LslSink()
    assert cli.main(["stream", "--virtual", "--fast", "--seconds", "1", "--kinds", "ganglion", "--lsl"]) == 2


def test_configure_too_late_is_detected() -> None:
    code = (
        "import pylsl\n"
        "from myoflow import lsl\n"
        "pylsl.set_config_content(lsl.local_only_config('early', log_level=-3))\n"
        "first = pylsl.StreamOutlet(pylsl.StreamInfo('first', 'EMG', 1, 100.0, pylsl.cf_float32, 'x'))\n"
        "lsl.configure('late')\n"
        "try:\n"
        "    lsl.LslSink()\n"
        "except lsl.LslError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert "LSL session is 'early', not 'late'" in out.stdout


def _stream_cli(
    args: list[str], emg: str = "ganglion/emg", wait_s: float = 1.0, expect: frozenset[str] = frozenset()
) -> tuple[list[str], dict[str, int], threading.Thread]:
    """Run a ``myoflow`` command in a thread; while it runs, resolve the streams and read ``emg``.

    Resolving is repeated (up to 4 s more) until every name in ``expect`` has answered: on a
    loaded machine one 1.5 s resolve missed some of the outlets that were open."""
    done: dict[str, int] = {}
    thread = threading.Thread(target=lambda: done.setdefault("rc", cli.main(args)), daemon=True)
    thread.start()
    time.sleep(wait_s)  # the virtual straps connect in well under a second
    found = {info.name() for info in pylsl.resolve_streams(wait_time=1.5)}
    deadline = time.monotonic() + 4.0
    while not expect <= found and time.monotonic() < deadline:
        found |= {info.name() for info in pylsl.resolve_streams(wait_time=1.0)}
    names = sorted(found)
    counts = {}
    if emg in names:
        inlet = _inlet(emg)
        data, stamps = _drain(inlet, 100)
        now = pylsl.local_clock()
        counts["emg"] = len(data)
        assert np.all(np.diff(stamps) > 0) and now - 5.0 < stamps[0] <= stamps[-1] <= now + 0.1
    return names, counts, thread


@pytest.mark.slow
def test_stream_cli_publishes_over_lsl_only_with_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["stream", "--virtual", "--seconds", "3.5", "--kinds", "ganglion"]
    names, counts, thread = _stream_cli(base)  # without --lsl: nothing is announced
    thread.join(timeout=15)
    assert names == [] and not counts
    # long enough that the outlets outlive resolving and reading, even on a loaded machine
    expect = frozenset({"ganglion/acc", "ganglion/emg", "ganglion/emg/envelope", "myoflow/markers"})
    names, counts, thread = _stream_cli(
        ["stream", "--virtual", "--seconds", "8", "--kinds", "ganglion", "--lsl"], expect=expect
    )
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert names == sorted(expect)  # these four and no other
    assert counts["emg"] >= 100  # 200 Hz for at least 0.5 s of the read
    assert "ganglion  emg" in capsys.readouterr().out


@pytest.mark.slow
def test_record_publishes_over_lsl_and_still_records(tmp_path) -> None:
    from myoflow.storage.reader import open_recording

    out = tmp_path / "lsl.h5"
    args = ["record", "--virtual", "--seconds", "8", "--out", str(out), "--lsl"]
    # the Verity Sense IMUs send their first 71-sample frame 1.37 s after starting
    expect = frozenset({"diy/emg", "diy/emg/envelope", "pelvis/acc", "thigh/gyro", "myoflow/markers"})
    names, counts, thread = _stream_cli(args, emg="diy/emg", wait_s=3.0, expect=expect)
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert expect <= set(names)
    assert counts["emg"] >= 100
    with open_recording(out) as rec:
        assert rec.state == "final" and rec.streams["diy/emg"].n_samples > 1000
        # every Verity frame kept (52 Hz in 1.37 s batches: at least 4 batches in 8 s)
        assert rec.streams["pelvis/acc"].n_samples >= 4 * 71
        assert not any((rec.metadata.extra.get("discards") or {}).values())


def test_lsl_refuses_virtual_time(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    code = cli.main(
        ["record", "--virtual", "--fast", "--seconds", "2", "--out", str(tmp_path / "x.h5"), "--lsl"]
    )
    assert code == 2
    assert "--lsl publishes in real time" in capsys.readouterr().err


@pytest.mark.slow
def test_dashboard_publishes_streams_and_rep_markers_over_lsl(tmp_path) -> None:
    cfg = tmp_path / "lsl_api.cfg"
    cfg.write_text(lsl.local_only_config(SESSION, log_level=-3))
    env = {**os.environ, "LSLAPICFG": str(cfg), "QT_QPA_PLATFORM": "offscreen"}
    # 20 s: rep results wait for the Verity Sense IMUs' 1.37 s frames (docs/device-quirks.md)
    cmd = [sys.executable, "-m", "myoflow.cli", "dashboard", "--virtual", "--seconds", "20", "--lsl"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # A subprocess starting Qt and the virtual straps: on a loaded machine its first block can
        # take well over TIMEOUT_S; resolving returns as soon as the outlet appears.
        markers = pylsl.StreamInlet(_resolve("name", "myoflow/markers", timeout=60.0)[0], recover=False)
        for name in ("diy/emg", "diy/emg/envelope"):  # outlets open with their stream's first block
            assert _resolve("name", name, timeout=60.0)
        kinds = set()
        deadline = time.monotonic() + 20.0
        while "rep" not in kinds and time.monotonic() < deadline:
            sample, _ = markers.pull_sample(timeout=1.0)
            if sample:
                kinds.add(json.loads(sample[0])["kind"])
        assert "rep" in kinds  # a finished rep's result, forwarded from the window's poll
    finally:
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
