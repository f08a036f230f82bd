"""`myoflow info`, `recover` and `replay` through the CLI entry point, and the progress bar."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from myoflow import cli
from myoflow.dsp.pipeline import EmgPipeline
from myoflow.storage.reader import open_recording
from myoflow.storage.schema import DeviceInfo, SessionMetadata
from myoflow.storage.writer import Recorder
from myoflow.stream import Event, Gap, StreamInfo
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import generate_session

SCALE = 0.05
META = SessionMetadata(
    subject_id="P-042",
    exercise="glute_bridge",
    notes="first session, right side",
    mvc_references={"glute_max_r": 250.0},
    filter_settings={"highpass_hz": 20.0, "notch_q": float("nan")},  # NaN: not valid JSON
)


@pytest.fixture(autouse=True)
def _commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """The storage commands, whether or not cli.COMMANDS lists them yet."""
    for name in ("info", "recover", "replay"):
        monkeypatch.setitem(cli.COMMANDS, name, cli.COMMANDS.get(name, f"{name} a recording"))


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> dict:
    session = generate_session(SessionConfig(n_reps=2, emg_rate=1000.0, imu_rate=100.0, seed=5))
    emg = StreamInfo("strap/emg", "emg", 1000.0, ("a", "b", "c", "d"), session.placements)
    acc = StreamInfo("strap/thigh/acc", "acc", 100.0, ("x", "y", "z"), ("thigh_r",) * 3)
    path = tmp_path_factory.mktemp("cli") / "session.h5"
    raw = np.round(session.emg / SCALE).astype(np.int16)
    rec = Recorder(path, META, on_full="wait")
    rec.add_stream(emg, "int16", SCALE, device=DeviceInfo("Ganglion", "fw3", "C0:FF:EE:00:00:01"))
    rec.add_stream(acc, "float32")
    rec.start()
    index = 0
    for k in range(0, len(raw), 20):
        if k == 6000:
            rec.write_gap(Gap(emg, index, 80, 10 + index / 1000, 10 + (index + 80) / 1000))
            index += 80
        rec.write_block(emg.name, raw[k : k + 20], 10 + (index + np.arange(len(raw[k : k + 20]))) / 1000)
        index += len(raw[k : k + 20])
    rec.write_block(acc.name, session.imu["thigh"][0], 10 + session.imu_times)
    for t, kind in ((12.0, "rep_start"), (15.0, "rep_end"), (16.0, "rep_start"), (13.0, "cue")):
        rec.write_event(Event(t, kind, ""))
    rec.close()
    return {"path": path, "raw": raw, "n_acc": session.imu_times.size}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_info_summarises_streams_gaps_events_and_metadata(recording: dict, capsys) -> None:
    code, out, err = _run(capsys, "info", str(recording["path"]))
    assert code == 0 and err == ""
    for text in (
        "state:    final",
        "subject:  P-042",
        "exercise: glute_bridge",
        "first session, right side",
        "strap/emg: emg, 4 ch in uV (int16 raw), Ganglion fw3",
        "a=glute_max_r",
        "strap/thigh/acc: acc, 3 ch in g",
        f"{len(recording['raw'])} samples",
        "1 gap(s), 80 lost",
        "gaps: 1 (loss 1), 80 samples lost",
        "events: 4 (cue 1, rep_end 1, rep_start 2)",
        "1000 Hz nominal",
        "MVC refs: glute_max_r=250.0",
    ):
        assert text in out, f"{text!r} missing from:\n{out}"


def test_info_json_describes_the_file(recording: dict, capsys) -> None:
    code, out, _ = _run(capsys, "info", str(recording["path"]), "--json")
    assert code == 0
    desc = json.loads(out)
    assert (desc["format"], desc["state"], desc["schema_version"]) == ("myoflow-recording", "final", 1)
    assert desc["metadata"]["subject_id"] == "P-042" and desc["metadata"]["mvc_references"] == {
        "glute_max_r": 250.0
    }
    assert desc["metadata"]["filter_settings"] == {"highpass_hz": 20.0, "notch_q": None}
    emg, acc = desc["streams"]
    n = len(recording["raw"])
    assert emg["name"] == "strap/emg" and emg["samples"] == n and emg["lost_samples"] == 80
    assert emg["loss_percent"] == pytest.approx(100 * 80 / (n + 80))
    assert emg["effective_rate"] == pytest.approx(1000.0, rel=1e-9)
    assert emg["placements"][0] == "glute_max_r" and emg["device"]["model"] == "Ganglion"
    assert emg["duration_s"] == pytest.approx((n + 80 - 1) / 1000)
    assert acc["samples"] == recording["n_acc"] and acc["gaps"] == 0 and acc["raw_dtype"] == "float32"
    assert desc["gaps"] == {"count": 1, "lost_samples": 80, "unknown_size": 0, "by_reason": {"loss": 1}}
    assert desc["events"] == {"count": 4, "by_kind": {"rep_start": 2, "rep_end": 1, "cue": 1}}
    assert desc["duration_s"] == pytest.approx(emg["duration_s"], abs=0.02)


def test_errors_are_one_line_naming_the_file(tmp_path: Path, capsys) -> None:
    foreign = tmp_path / "other.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = np.zeros(3)
    text = tmp_path / "emg.csv"
    text.write_text("t,emg\n0,1\n")
    cases = [
        (tmp_path / "nope.h5", "no such file"),
        (foreign, "not a myoflow recording"),
        (text, "not an HDF5 file"),
    ]
    for command in ("info", "replay", "recover"):
        for path, problem in cases:
            code, out, err = _run(capsys, command, str(path))
            assert code == 1, (command, path, out, err)
            line = err.strip()
            assert "\n" not in line and line.startswith(f"myoflow {command}: {path}: ")
            assert problem in line


KILLED_WRITER = """
import os, signal, sys
import numpy as np
from myoflow.storage.writer import Recorder
from myoflow.stream import Event, StreamInfo

rec = Recorder(sys.argv[1], flush_interval=0.1)
rec.add_stream(StreamInfo("strap/emg", "emg", 2000.0, ("a", "b")), "int16", 0.1)
rec.start()
rows = np.arange(6000)
rec.write_block("strap/emg", (rows[:, None] * [1, 3]) % 3000, 20 + rows / 2000.0)
rec.write_event(Event(21.0, "marker", "before the crash"))
rec.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_recover_a_killed_recording(tmp_path: Path, capsys) -> None:
    broken = tmp_path / "killed.h5"
    proc = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(broken)], capture_output=True, timeout=60)
    assert proc.returncode == -9, proc.stderr.decode()
    code, out, _ = _run(capsys, "info", str(broken))
    assert code == 0 and "state:    live" in out and "myoflow recover" in out
    fixed = tmp_path / "fixed.h5"
    code, out, err = _run(capsys, "recover", str(broken), "--out", str(fixed))
    assert code == 0, err
    assert f"recovered {broken} -> {fixed}" in out and "strap/emg: 6000 samples (3.00 s)" in out
    assert "1 event(s)" in out
    with open_recording(fixed) as rec:
        assert rec.state == "recovered" and rec.streams["strap/emg"].n_samples == 6000
        np.testing.assert_array_equal(
            rec.streams["strap/emg"].raw(), (np.arange(6000)[:, None] * [1, 3]) % 3000
        )
        assert [e.label for e in rec.events] == ["before the crash"]
    # the output exists now: refuse to replace it without --force
    code, _, err = _run(capsys, "recover", str(broken), "--out", str(fixed))
    assert code == 2 and f"{fixed}: already exists" in err
    # default output name beside the broken file
    code, out, _ = _run(capsys, "recover", str(broken))
    assert code == 0 and (tmp_path / "killed.recovered.h5").exists()
    # a final or recovered file needs nothing
    code, out, _ = _run(capsys, "recover", str(fixed), "--out", str(tmp_path / "again.h5"))
    assert code == 0 and "nothing to recover" in out and not (tmp_path / "again.h5").exists()


def test_recover_reports_a_file_it_cannot_read(tmp_path: Path, recording: dict, capsys) -> None:
    cut = tmp_path / "cut.h5"
    data = recording["path"].read_bytes()
    cut.write_bytes(data[: len(data) // 3])
    code, _, err = _run(capsys, "recover", str(cut), "--out", str(tmp_path / "x.h5"))
    assert code == 1 and err.startswith(f"myoflow recover: {cut}: truncated HDF5 file")
    code, _, err = _run(capsys, "recover", str(cut), "--out", str(tmp_path))
    assert code == 2 and "is a folder" in err


def test_replay_prints_streams_and_the_envelope_summary(recording: dict, capsys) -> None:
    code, out, err = _run(capsys, "replay", str(recording["path"]), "--fast")
    assert code == 0, err
    n = len(recording["raw"])
    assert "as fast as possible" in out
    blocks = 6000 // 20 + -(-(n - 6000) // 20)  # never across the gap after row 6000
    assert f"strap/emg: {n} samples in {blocks} blocks, 1 gap(s), 80 samples lost" in out
    assert f"strap/thigh/acc: {recording['n_acc']} samples" in out and "events: 4" in out
    assert "EMG envelope of strap/emg (live pipeline" in out and "mean %MVC" in out
    # the printed envelope means are the live pipeline's, restarted after the gap
    x = recording["raw"] * SCALE
    env = np.concatenate(
        [EmgPipeline(1000.0).process(x[:6000]).envelope, EmgPipeline(1000.0).process(x[6000:]).envelope]
    )
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("a (glute_max_r)"))
    mean, peak, _, mean_pct, peak_pct = (float(v) for v in line.split()[2:])
    assert mean == pytest.approx(env[:, 0].mean(), abs=0.006)
    assert peak == pytest.approx(env[:, 0].max(), abs=0.006)
    assert peak_pct == pytest.approx(100 * env[:, 0].max() / 250.0, abs=0.06)
    assert mean_pct == pytest.approx(100 * env[:, 0].mean() / 250.0, abs=0.06)


def test_replay_speed_is_paced_and_checked(recording: dict, capsys) -> None:
    code, out, _ = _run(capsys, "replay", str(recording["path"]), "--speed", "100")
    assert code == 0
    found = re.search(r"replayed ([\d.]+) s in ([\d.]+) s \(([\d.]+)x real time\)", out)
    assert found, out
    replayed, wall, speed = (float(v) for v in found.groups())
    assert replayed == pytest.approx((len(recording["raw"]) + 79) / 1000, abs=0.06)
    assert 0.1 <= wall <= 0.5 and speed == pytest.approx(100, rel=0.1)
    for argv, problem in (
        (["--speed", "0"], "--speed must be a positive number"),
        (["--speed", "nan"], "--speed must be a positive number"),
        (["--block-ms", "0"], "--block-ms must be in [0.1, 10000.0]"),
    ):
        code, _, err = _run(capsys, "replay", str(recording["path"]), *argv)
        assert code == 2 and problem in err
    with pytest.raises(SystemExit) as exit_info:  # argparse: --speed and --fast exclude each other
        cli.main(["replay", str(recording["path"]), "--fast", "--speed", "2"])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_replay_names_a_stream_the_signal_core_cannot_process(tmp_path: Path, capsys) -> None:
    path = tmp_path / "slow.h5"
    rec = Recorder(path)
    rec.add_stream(StreamInfo("odd/emg", "emg", 30.0, ("a",)), "int16")
    rec.start()
    rec.write_block("odd/emg", np.arange(90)[:, None] % 7, np.arange(90) / 30.0)
    rec.close()
    code, _, err = _run(capsys, "replay", str(path), "--fast")
    assert code == 1 and err.startswith(f"myoflow replay: {path}: EMG stream 'odd/emg' cannot be processed")
    assert "30" in err
