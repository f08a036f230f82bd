"""`myoflow record`: the command line contract, and the example recording in recordings/."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from myoflow.cli import main
from myoflow.commands import record
from myoflow.rigs.demo import DemoSettings
from myoflow.rigs.virtual_glute import synthetic_mvc
from myoflow.storage.reader import open_recording

EXAMPLE = Path(__file__).resolve().parents[1] / "recordings" / "glute_bridge_virtual.h5"
STREAMS = ["diy/emg", "pelvis/acc", "pelvis/gyro", "thigh/acc", "thigh/gyro"]
MUSCLES = ("glute_max_r", "biceps_femoris_r", "semitendinosus_r", "glute_med_r")


def _record(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    record.add_arguments(parser)
    return record.run(parser.parse_args(argv))


def test_record_virtual_writes_a_finalised_described_recording(tmp_path, capsys) -> None:
    out = tmp_path / "s.h5"
    argv = [
        "--virtual",
        "--fast",
        "--seconds",
        "8",
        "--out",
        str(out),
        "--drop",
        "0.02",
        "--calibrate-mvc",
        "--subject",
        "S07",
        "--notes",
        "left knee sore",
        "--placement",
        "diy/emg:ch4=adductor_magnus_r",
    ]
    assert _record(argv) == 0
    printed = capsys.readouterr().out
    assert "finalised" in printed and "mvc: CONTRACT adductor magnus r as hard as you can" in printed
    placed = (*MUSCLES[:3], "adductor_magnus_r")
    with open_recording(out) as rec:
        assert rec.state == "final" and list(rec.streams) == STREAMS
        meta = rec.metadata
        assert (meta.subject_id, meta.exercise, meta.notes) == ("S07", "glute_bridge", "left knee sore")
        # The guided calibration (4 contractions on the synthetic person's trial) measured what a
        # direct calibration of that trial gives, channel by channel.
        direct = synthetic_mvc(DemoSettings(seconds=14.0, emg_rate=1000.0, seed=7).session_config())
        assert list(meta.mvc_references) == list(placed)
        for got, want in zip(meta.mvc_references.values(), direct.values(), strict=True):
            assert got == pytest.approx(want, rel=0.05)
        calibration = [e for e in rec.events if e.kind == "calibration"]
        assert [e.label for e in calibration] == ["mvc_contraction"] * 4 + ["mvc"]
        assert rec.streams["diy/emg"].info.placements == placed
        assert sum(len(v.gaps) for v in rec.streams.values()) >= 1  # 2 % of the packets were lost
        emg = rec.streams["diy/emg"]
        # 33 s of calibration (3 s rest, then 4 x (4 s contraction + 3.5 s rest)), then 8 s.
        assert 40.5 * 1000 < emg.n_samples + sum(g.n_missing for g in emg.gaps) <= 41.05 * 1000
    assert main(["info", str(out), "--json"]) == 0
    desc = json.loads(capsys.readouterr().out)
    assert desc["state"] == "final"
    assert json.dumps(desc).count("diy/emg") >= 1 and "S07" in json.dumps(desc)
    assert _record(argv) == 2  # refuses to overwrite without --overwrite
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--virtual", "--seconds", "1", "--placement", "diy/emg=ch1"], "STREAM:CHANNEL=PLACEMENT"),
        (["--virtual", "--seconds", "1", "--placement", "nope/emg:ch1=glute_max_r"], "unknown stream"),
        (["--seconds", "1", "--profile", "polar_h10_acc_ecg", "--calibrate-mvc"], "needs an EMG stream"),
        (
            ["--virtual", "--seconds", "1", "--calibrate-mvc", "--mvc-rest", "0.5"],
            "--mvc-rest must be at least",
        ),
        (["--virtual", "--calibrate-mvc", "--mvc-lead", "9"], "--mvc-lead must be 3"),
    ],
)
def test_record_rejects_bad_arguments(argv, message, tmp_path, capsys) -> None:
    assert _record([*argv, "--fast", "--out", str(tmp_path / "x.h5")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.h5").exists()


@pytest.mark.parametrize("option", ["--seconds", "--status-every", "--scan-timeout"])
@pytest.mark.parametrize("value", ["-1", "0", "nan", "soon"])
def test_record_refuses_a_number_that_is_not_positive(option, value, tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:  # argparse: exit 2 with the usage and the reason
        _record(["--virtual", "--fast", option, value, "--out", str(tmp_path / "x.h5")])
    assert exit_info.value.code == 2
    assert f"argument {option}: must be a positive number, got {value!r}" in capsys.readouterr().err
    assert not (tmp_path / "x.h5").exists()


def test_example_recording_opens_with_its_documented_content() -> None:
    assert EXAMPLE.stat().st_size < 2_000_000
    with open_recording(EXAMPLE) as rec:
        assert rec.state == "final" and list(rec.streams) == STREAMS
        assert 30.0 <= rec.streams["diy/emg"].duration <= 40.5
        assert rec.streams["diy/emg"].info.placements == MUSCLES
        assert rec.streams["thigh/gyro"].info.placements == ("thigh",) * 3
        assert set(rec.metadata.mvc_references) == set(MUSCLES)
        assert rec.metadata.exercise == "glute_bridge"
        assert rec.streams["diy/emg"].raw_dtype == np.int16
        assert "[[streams]]" in rec.metadata.profile_toml
    readme = (EXAMPLE.parent / "README.md").read_text()
    assert "myoflow record --virtual" in readme and EXAMPLE.name in readme


def test_record_stores_a_given_mains_and_warns_about_unknown_placements(tmp_path, capsys) -> None:
    out = tmp_path / "s.h5"
    argv = ["--virtual", "--fast", "--seconds", "2", "--out", str(out), "--mains", "60"]
    with contextlib.redirect_stdout(sys.stderr):  # one stream: the order of the lines shows
        assert _record([*argv, "--placement", "diy/emg:ch4=GM"]) == 0
    err = capsys.readouterr().err
    warning = "myoflow record: warning: stream 'diy/emg' channel 'ch4': placement 'GM' is not a known"
    assert err.count(warning) == 1
    # said when the straps are connected, before any data (was: only after the recording ended)
    assert err.index("recording diy") < err.index(warning) < err.index("recorded ")
    with open_recording(out) as rec:
        assert rec.metadata.filter_settings == {"mains_hz": 60.0, "mains_source": "given at record"}
    assert _record(["--virtual", "--fast", "--seconds", "2", "--out", str(tmp_path / "d.h5")]) == 0
    assert "warning" not in capsys.readouterr().err
    with open_recording(tmp_path / "d.h5") as rec:
        assert rec.metadata.filter_settings == {}  # not asked: analyze detects it from the spectrum
