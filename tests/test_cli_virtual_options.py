"""--virtual with --device/--profile is refused by every command that streams (it was silently
ignored: a user asking for a profile recorded the virtual rig's own straps)."""

from __future__ import annotations

from pathlib import Path

import pytest

from myoflow import cli


@pytest.mark.parametrize(
    ("command", "extra"),
    [
        ("record", ["--profile", "diy_emg_2ch_1khz", "--out", "{tmp}/x.h5"]),
        ("stream", ["--device", "AA:BB:CC:DD:EE:FF"]),
        ("capture", ["--profile", "myo_raw_emg", "--out", "{tmp}/c.jsonl"]),
        ("dashboard", ["--profile", "myo_raw_emg"]),
    ],
)
def test_virtual_with_real_strap_options_is_refused(
    command: str, extra: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [command, "--virtual", "--seconds", "1", *(a.format(tmp=tmp_path) for a in extra)]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert f"myoflow {command}:" in err and "--virtual streams the built-in virtual straps" in err
    assert extra[1] in err  # names what it refuses
    assert not list(tmp_path.iterdir())  # nothing written
