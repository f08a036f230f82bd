"""An analysis error raised deep inside (here: EMG too slow for the band-pass) reaches the user
as one line that names the file, from `myoflow analyze` and `myoflow report` alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from myoflow import cli
from myoflow.storage.schema import ClockAnchor, SessionMetadata
from myoflow.storage.writer import Recorder
from myoflow.stream import StreamInfo


def _slow_emg(path: Path) -> Path:
    """A 10 s 'EMG' stream at 10 Hz (e.g. an XDF counter stream imported as EMG)."""
    info = StreamInfo("slow/emg", "emg", 10.0, ("ch1",), ("glute_max_r",))
    with Recorder(path, SessionMetadata(), clock=ClockAnchor(0.0, 1.7e9), on_full="wait") as rec:
        rec.add_stream(info, np.float32)
        rec.start()
        rec.write_block(info.name, np.random.default_rng(1).normal(size=(100, 1)), np.arange(100) / 10.0)
    return path


def test_analyze_and_report_errors_name_the_file(tmp_path: Path, capsys) -> None:
    path = _slow_emg(tmp_path / "slow.h5")
    for argv in (["analyze", str(path)], ["report", str(path)]):
        capsys.readouterr()
        assert cli.main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, err
        assert err[0].startswith(f"myoflow {argv[0]}: {path}: "), err
        assert "10 Hz" in err[0] or "fs=10" in err[0], err
    # an argument error is not blamed on the file
    assert cli.main(["analyze", str(path), "--mvc", "glute_max_r=lots"]) == 2
    assert str(path) not in capsys.readouterr().err
