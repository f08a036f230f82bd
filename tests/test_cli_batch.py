"""`myoflow batch GLOB --out FILE`: exit 0 with the failures listed, the table written."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import pytest

from myoflow import cli
from myoflow.commands import batch as batch_cmd
from myoflow.storage.schema import ClockAnchor, SessionMetadata
from myoflow.storage.writer import Recorder
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import generate_session


def _main(argv: list[str]) -> int:
    """Run a command as `myoflow` does (through cli.main once the lead registers `batch`)."""
    if argv[0] in cli.COMMANDS:
        return cli.main(argv)
    parser = argparse.ArgumentParser(prog="myoflow batch", description=batch_cmd.__doc__)
    batch_cmd.add_arguments(parser)
    return batch_cmd.run(parser.parse_args(argv[1:]))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two 4-rep recordings (subjects S1 and S2) and a file that is not HDF5."""
    root = tmp_path_factory.mktemp("cli_batch")
    for k, subject in enumerate(("S1", "S2")):
        s = generate_session(SessionConfig(n_reps=4, seed=k))
        emg, imu = s.emg_block(), s.imu_blocks()
        meta = SessionMetadata(subject_id=subject, exercise="glute_bridge")
        with Recorder(root / f"{subject}.h5", meta, clock=ClockAnchor(0.0, 1.7e9), on_full="wait") as rec:
            for b in (emg, *imu):
                rec.add_stream(b.stream, np.float32)
            rec.start()
            for b in (emg, *imu):
                rec.write_block(b.stream.name, b.data, b.times)
    (root / "notes.h5").write_text("not a recording\n")
    return root


def test_batch_exits_0_writes_the_table_and_lists_failures(folder: Path, tmp_path: Path, capsys) -> None:
    out, failed = tmp_path / "results.csv", tmp_path / "failed.csv"
    code = _main(["batch", str(folder / "*.h5"), "--out", str(out), "--failures", str(failed)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "analysed 2 of 3 file(s): 8 rep(s)" in printed
    assert f"1 file(s) failed:\n  {folder / 'notes.h5'}: not an HDF5 file" in printed
    with open(out, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["subject"], r["rep"]) for r in rows] == [
        (s, str(k)) for s in ("S1", "S2") for k in range(1, 5)
    ]
    level = "glute_max_r.peak_pct_session_peak"  # no MVC references: never in the % MVC column
    assert all(r["exercise"] == "glute_bridge" and float(r[level]) > 10 for r in rows)
    with open(failed, encoding="utf-8") as f:
        body = list(csv.reader(f))
    assert body[0] == ["path", "error"] and len(body) == 2
    assert body[1][0] == str(folder / "notes.h5") and body[1][1].startswith("not an HDF5 file")


def test_parquet_in_process_with_shell_expanded_paths(folder: Path, tmp_path: Path, capsys) -> None:
    from myoflow.reports.batch import read_table

    out = tmp_path / "r.parquet"
    files = [str(folder / "S1.h5"), str(folder / "S2.h5")]
    assert _main(["batch", *files, "--out", str(out), "--workers", "0", "--exercise", "bridge"]) == 0
    assert "(this process," in capsys.readouterr().out
    table = read_table(out)
    assert table["exercise"] == ["glute_bridge"] * 8 and table["subject"] == ["S1"] * 4 + ["S2"] * 4


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--out", "r.csv", "{folder}/*.nothing"], "no file matches"),
        (["--out", "r.xlsx", "{folder}/*.h5"], "allowed values are '.csv', '.parquet'"),
        (["--out", "r.csv", "--workers", "-2", "{folder}/*.h5"], "workers must be an integer >= 0"),
    ],
)
def test_bad_arguments_exit_2(folder: Path, tmp_path: Path, capsys, argv: list[str], message: str) -> None:
    args = [a.format(folder=folder) if "{" in a else a for a in argv]
    args = [str(tmp_path / a) if a.startswith("r.") else a for a in args]
    assert _main(["batch", *args]) == 2
    assert message in capsys.readouterr().err
