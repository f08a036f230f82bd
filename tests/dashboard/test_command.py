"""``myoflow dashboard``: the acceptance contract, run in fresh processes, and its argument errors.

``python -m myoflow.commands.dashboard`` is the same entry as ``myoflow dashboard``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from myoflow.commands.dashboard import main


def _run(args: list[str], timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return subprocess.run(
        [sys.executable, "-m", "myoflow.commands.dashboard", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def test_virtual_run_saves_a_screenshot_and_exits_zero_repeatedly(tmp_path: Path) -> None:
    from PySide6 import QtGui

    for run in range(2):
        shot = tmp_path / f"dash{run}.png"
        proc = _run(["--virtual", "--seconds", "3", "--screenshot", str(shot)])
        assert proc.returncode == 0, proc.stderr
        assert f"screenshot saved to {shot}" in proc.stdout
        image = QtGui.QImage(str(shot))
        assert not image.isNull() and image.width() >= 1000 and image.height() >= 700
        assert "Traceback" not in proc.stderr and "Segmentation" not in proc.stderr


def test_replay_run_exits_zero(recording: Path, tmp_path: Path) -> None:
    proc = _run(["--replay", str(recording), "--speed", "4", "--seconds", "2"])
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--virtual", "--screenshot", "x.png"], "--screenshot needs --seconds"),
        (["--replay", "no/such/file.h5", "--seconds", "1"], "no/such/file.h5"),
        (["--profile", "no_such_profile", "--seconds", "1"], "no_such_profile"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--seconds", "--fps", "--speed", "--scan-timeout"])
def test_numbers_that_must_be_positive_exit_2(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:  # argparse: exit 2 with the usage and the reason
        main(["--virtual", option, "0"])
    assert exit_info.value.code == 2
    assert f"argument {option}: must be a positive number, got '0'" in capsys.readouterr().err


def test_replay_refuses_record(recording: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--replay", str(recording), "--record", "x.h5", "--seconds", "1"]) == 2
    assert "--record cannot be combined with --replay" in capsys.readouterr().err


def test_record_out_creates_its_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """record --out sessions/x.h5 into a folder that does not exist yet (it used to stream, then
    fail to create the file)."""
    from myoflow.cli import main

    out = tmp_path / "sessions" / "day 1" / "x.h5"
    assert main(["record", "--virtual", "--fast", "--seconds", "2", "--out", str(out)]) == 0
    assert out.is_file() and "(finalised)" in capsys.readouterr().out
