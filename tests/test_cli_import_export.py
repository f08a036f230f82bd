"""`myoflow import` and `myoflow export` through their command entry functions."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pytest

from myoflow import cli
from myoflow.commands import export, import_
from myoflow.storage.reader import open_recording

HAVE_PYNWB = importlib.util.find_spec("pynwb") is not None


def _main(argv: list[str]) -> int:
    """Run a command the way ``myoflow`` does (through cli.main once the lead wires it)."""
    if argv[0] in cli.COMMANDS:
        return cli.main(argv)
    module = {"import": import_, "export": export}[argv[0]]
    parser = argparse.ArgumentParser(prog=f"myoflow {argv[0]}", description=module.__doc__)
    module.add_arguments(parser)
    return module.run(parser.parse_args(argv[1:]))


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "session.csv"
    rows = ["time\tGM\tBF\tthigh_x"]
    rows += [f"{i / 200}\t{0.01 * (i % 7):.2f}\t{-0.02 * (i % 5):.2f}\t{i % 3}" for i in range(400)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_import_csv_then_export(table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.h5"
    code = _main(
        [
            "import",
            "csv",
            str(table),
            "--rate",
            "200",
            "--map",
            "GM=emg:glute_max_r",
            "--map",
            "3=emg:biceps_femoris_r",
            "--map",
            "thigh_x=acc:thigh_r",
            "--unit",
            "GM=mV",
            "--unit",
            "BF=mV",
            "--subject",
            "P3",
            "--exercise",
            "rdl",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "stream emg: 400 samples, 0 gap(s)" in printed and "stream acc: 400 samples" in printed
    with open_recording(out) as rec:
        assert list(rec.streams) == ["emg", "acc"]
        emg = rec.streams["emg"]
        assert emg.info.placements == ("glute_max_r", "biceps_femoris_r") and emg.rate == 200.0
        assert emg.physical(1, 2)[0].tolist() == pytest.approx([10.0, -20.0])
        assert rec.streams["acc"].info.placements == ("thigh_r",)
        assert rec.metadata.subject_id == "P3" and rec.metadata.exercise == "rdl"
    assert _main(["export", "csv", str(out), "--out", str(tmp_path / "csv")]) == 0
    assert (tmp_path / "csv" / "emg.csv").read_text().splitlines()[0] == (
        "time_s,index,emg_glute_max_r_uV,emg_biceps_femoris_r_uV"
    )
    if HAVE_PYNWB:
        assert _main(["export", "nwb", str(out), "--out", str(tmp_path / "s.nwb"), "--validate"]) == 0
        assert "pynwb validation: 0 error(s)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate", "200", "--map", "XX=emg:glute_max_r"], "--map: column 'XX' not found in session.csv"),
        (["--rate", "200", "--map", "GM=muscle:glute_max_r"], "unknown KIND 'muscle'"),
        (["--map", "GM=emg:glute_max_r"], "--rate is required"),
        (["--rate", "fast", "--map", "GM=emg"], "--rate must be a positive number of Hz, got 'fast'"),
        (["--rate", "200"], "--map is required"),
        (["--rate", "200", "--map", "GM=emg", "--unit", "GM=parsec"], "unit 'parsec'"),
        (["--rate", "200", "--map", "GM=emg", "--unit", "BF=mV"], "--unit: column(s) 'BF' are not mapped"),
    ],
)
def test_import_csv_bad_arguments(
    table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "bad.h5"
    code = _main(["import", "csv", str(table), *args, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("myoflow import csv: ")
    assert message in err
    assert not out.exists()


def test_import_missing_out_and_unreadable_file(
    table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main(["import", "csv", str(table), "--rate", "200", "--map", "GM=emg"]) == 2
    assert "--out is required" in capsys.readouterr().err
    missing = tmp_path / "nope.csv"
    assert (
        _main(
            ["import", "csv", str(missing), "--rate", "9", "--map", "1=emg", "--out", str(tmp_path / "o.h5")]
        )
        == 2
    )
    assert "nope.csv: cannot read the file" in capsys.readouterr().err


@pytest.mark.realdata
def test_import_uci_and_export_refuses_bad_recording(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = shared_data / "uci_lower_limb_semg" / "N_TXT" / "1Nsen.txt"
    assert _main(["import", "uci", str(src), "--side", "l", "--out", str(tmp_path / "u.h5")]) == 0
    with open_recording(tmp_path / "u.h5") as rec:
        assert rec.streams["uci/emg"].info.placements[0] == "rectus_femoris_l"
        assert rec.metadata.exercise == "seated_knee_extension"
    not_h5 = tmp_path / "x.h5"
    not_h5.write_text("hello")
    capsys.readouterr()
    assert _main(["export", "csv", str(not_h5), "--out", str(tmp_path / "c")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "x.h5: not an HDF5 file" in err


def test_help_documents_the_csv_syntax(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _main(["import", "csv", "--help"])
    text = capsys.readouterr().out
    assert "--map COLUMN=KIND:PLACEMENT" in text and "example:" in text
    assert "emg, ecg, acc, gyro, quat or angle" in text
