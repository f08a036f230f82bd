"""Invariants checked on open and by `myoflow check`; `recover` verifies a "final" file."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from myoflow.cli import main
from myoflow.storage.reader import open_recording
from myoflow.storage.schema import RecordingError
from myoflow.storage.summary import _duration
from myoflow.storage.validate import check_recording, gap_limit

BASE = Path(__file__).resolve().parents[2] / "recordings" / "glute_bridge_virtual.h5"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    path = tmp_path / "s.h5"
    shutil.copy(BASE, path)
    return path


def test_real_recordings_pass(capsys: pytest.CaptureFixture[str]) -> None:
    for f in sorted(BASE.parent.glob("*.h5")):
        assert check_recording(f) == []
    assert main(["check", str(BASE)]) == 0
    assert "ok (state final, 5 stream(s): 36000 samples of diy/emg" in capsys.readouterr().out


def test_check_of_a_live_file_points_to_recover(tmp_path: Path, capsys) -> None:
    """A file left 'live' by a killed recorder passes its invariants; check says what to run."""
    from myoflow.storage.writer import Recorder
    from myoflow.stream import StreamInfo

    path = tmp_path / "killed.h5"
    rec = Recorder(path)
    rec.add_stream(StreamInfo("emg", "emg", 1000.0, ("a",)), "int16")
    rec.start()
    rec.write_block("emg", np.arange(500)[:, None], np.arange(500) / 1000.0)
    rec.close(finalise=False)
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "ok (state live" in out and "run 'myoflow recover'" in out


def test_check_lists_every_problem_and_open_names_the_first(copy: Path, capsys) -> None:
    with h5py.File(copy, "r+") as f:
        g = f["streams/diy_emg"]
        g["time_map"].resize((0,))
        del g.attrs["scale"]
        g.attrs["scale"] = np.array([0.5])
        f["session"].attrs["mvc_references"] = "[1, 2]"
    problems = check_recording(copy)
    assert any("time_map is empty but 'raw' holds 36000 samples" in p for p in problems)
    assert any("attribute 'scale' must hold 4 numbers" in p for p in problems)
    assert any("'mvc_references' must be a JSON object, got list" in p for p in problems)
    with pytest.raises(RecordingError, match=r"s\.h5: stream 'diy/emg'.*and 2 more: run 'myoflow check"):
        open_recording(copy)
    assert main(["check", str(copy)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 and all(line.startswith(f"{copy}: ") for line in out)


def test_gap_larger_than_its_time_span_is_refused(copy: Path) -> None:
    with h5py.File(copy, "r+") as f:
        gaps = f["streams/diy_emg/gaps"]
        tm = f["streams/diy_emg/time_map"][:]
        t = float(np.interp(5000, tm["row"], tm["time"]))
        gaps.resize((1,))
        gaps[0] = np.array([(5000, 5000, 10**15, t, t + 0.01, b"loss")], dtype=gaps.dtype)[0]
    with pytest.raises(RecordingError, match="declares 1000000000000000 lost samples"):
        open_recording(copy)
    assert gap_limit(1000.0, 0.01) == 1021


def test_float_samples_with_nan_are_refused_when_read(copy: Path) -> None:
    with h5py.File(copy, "r+") as f:
        raw = f["streams/diy_emg/raw"][:].astype(np.float64)
        raw[123, 1] = np.nan
        del f["streams/diy_emg/raw"]
        f["streams/diy_emg/raw"] = raw
    with open_recording(copy) as rec:
        rec.streams["diy/emg"].raw(0, 100)  # before the bad row: fine
        with pytest.raises(RecordingError, match="sample row 123 holds a non-finite value"):
            rec.streams["diy/emg"].raw()
    assert any("sample row 123" in p for p in check_recording(copy))


def test_recover_checks_a_final_file_instead_of_trusting_it(copy: Path, tmp_path: Path, capsys) -> None:
    assert main(["recover", str(copy), "--out", str(tmp_path / "r.h5")]) == 0
    assert "every invariant holds (checked)" in capsys.readouterr().out
    with h5py.File(copy, "r+") as f:  # damage only a full read finds: a NaN sample
        raw = f["streams/diy_emg/raw"][:].astype(np.float64)
        raw[20_000, 0] = np.nan
        del f["streams/diy_emg/raw"]
        f["streams/diy_emg/raw"] = raw
    assert main(["recover", str(copy), "--out", str(tmp_path / "r.h5")]) == 1
    err = capsys.readouterr().err
    assert "sample row 20000 holds a non-finite value" in err and "marked 'final' but damaged" in err
    assert not (tmp_path / "r.h5").exists()
    with h5py.File(copy, "r+") as f:  # damage seen on open: the same one-line error as elsewhere
        f["streams/diy_emg/time_map"][1] = (1, np.nan)
    assert main(["recover", str(copy), "--out", str(tmp_path / "r.h5")]) == 1
    assert "time_map time of anchor 1 (row 1) is not finite" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(59.9, "59.9 s"), (59.97, "1:00.0 min"), (2399.97, "40:00.0 min"), (2400.0, "40:00.0 min"),
     (3599.99, "1:00:00.0"), (7322.5, "2:02:02.5")],
)
def test_durations_never_show_60_seconds(seconds: float, text: str) -> None:
    assert _duration(seconds) == text
