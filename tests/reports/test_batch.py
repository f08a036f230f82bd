"""``batch_analyze``: a folder of synthetic recordings (and two bad files) into one table, in
this process, in a local process pool and on a Dask LocalCluster (loopback only)."""

from __future__ import annotations

import csv
import io
import sys
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pytest

from myoflow.reports._analyze import analyze
from myoflow.reports._batch_run import run_local
from myoflow.reports.batch import LEADING_COLUMNS, batch_analyze, expand_paths, read_table, unit_columns
from myoflow.storage.schema import ClockAnchor, SessionMetadata
from myoflow.storage.writer import Recorder
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import SyntheticSession, generate_session

LEFT = ("glute_max_l", "biceps_femoris_l", "semitendinosus_l", "glute_med_l")
#: relative path -> (subject, exercise, placements); 5 reps each, about 31 s
GOOD = {
    "a/0_S1_bridge.h5": ("S1", "glute_bridge", None),
    "a/1_S1_rdl.h5": ("S1", "rdl", None),
    "b/2_S2_bridge.h5": ("S2", "glute_bridge", None),
    "b/c/3_S3_rdl_left.h5": ("S3", "rdl", LEFT),
}
N_REPS = 5


def write_recording(path: Path, s: SyntheticSession, subject: str) -> Path:
    """A synthetic session as a myoflow recording (EMG and IMU streams, float32)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = SessionMetadata(subject_id=subject, exercise=s.config.exercise)
    emg, imu = s.emg_block(), s.imu_blocks()
    with Recorder(path, meta, clock=ClockAnchor(100.0, 1.7e9), on_full="wait") as rec:
        for b in (emg, *imu):
            rec.add_stream(b.stream, np.float32)
        rec.start()
        for b in (emg, *imu):
            rec.write_block(b.stream.name, b.data, b.times + 100.0)
    return path


@pytest.fixture(scope="session")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 good recordings in nested folders, a truncated copy of one, and a non-myoflow HDF5."""
    import h5py

    root = tmp_path_factory.mktemp("batch")
    for k, (rel, (subject, exercise, places)) in enumerate(GOOD.items()):
        extra = {} if places is None else {"placements": places}
        cfg = SessionConfig(exercise=exercise, n_reps=N_REPS, seed=k, **extra)
        write_recording(root / rel, generate_session(cfg), subject)
    (root / "corrupt.h5").write_bytes((root / "a/0_S1_bridge.h5").read_bytes()[:5000])
    with h5py.File(root / "other.h5", "w") as f:
        f["x"] = np.arange(10.0)
    return root


@pytest.fixture(scope="session")
def pooled(folder: Path):
    """The batch over ``**/*.h5`` in a local pool of 2 processes, table in memory."""
    calls = []
    result = batch_analyze(str(folder / "**" / "*.h5"), workers=2, progress=lambda *a: calls.append(a))
    return result, calls


def _by_session(table: dict[str, list]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for i, session in enumerate(table["session"]):
        out.setdefault(session, []).append({c: v[i] for c, v in table.items()})
    return out


def test_one_row_per_rep_of_every_good_file_and_the_bad_files_listed(folder: Path, pooled) -> None:
    result, calls = pooled
    names = [str(folder / rel) for rel in GOOD] + [str(folder / "corrupt.h5"), str(folder / "other.h5")]
    assert result.files == names and result.runner == "2 local processes"
    assert result.n_ok == 4 and result.n_rows == 4 * N_REPS and result.no_reps == []
    assert [p for p, _ in result.failures] == names[4:]
    assert "truncated HDF5 file" in result.failures[0][1]
    assert "not a myoflow recording" in result.failures[1][1]
    table = result.table()
    assert list(table) == result.columns and tuple(result.columns[: len(LEADING_COLUMNS)]) == LEADING_COLUMNS
    rows = _by_session(table)
    assert list(rows) == names[:4]  # input order, whatever order the workers finished in
    for rel, (subject, exercise, places) in GOOD.items():
        reps = rows[str(folder / rel)]
        assert [r["rep"] for r in reps] == list(range(1, N_REPS + 1))
        assert {(r["subject"], r["exercise"]) for r in reps} == {(subject, exercise)}
        # what each file's rows were measured with: reps, the mains used and why, the method
        report = analyze(str(folder / rel))
        session = report.to_dict()["session"]
        assert {(r["rep_kind"], r["mains_hz"], r["mains_source"], r["onset_method"]) for r in reps} == {
            ("rep", session["mains_hz"], session["mains_source"], "changepoint")
        }
        assert {r["warnings"] for r in reps} == {" | ".join(session["warnings"]) or None}
        side, other = ("l", "r") if places else ("r", "l")
        assert all(r[f"glute_max_{side}.peak_pct_session_peak"] > 10.0 for r in reps)
        assert all(r[f"glute_max_{other}.peak_pct_session_peak"] is None for r in reps)  # a muscle it lacks
    # progress after each file, done counting up to the total
    assert [c[0] for c in calls] == list(range(1, 7)) and {c[1] for c in calls} == {6}
    assert sorted(c[2] for c in calls) == sorted(names)


def test_rows_equal_analyze_of_each_file(folder: Path, pooled) -> None:
    table = pooled[0].table()
    rows = _by_session(table)
    for rel in GOOD:
        path = str(folder / rel)
        report = analyze(path)
        want = list(csv.DictReader(io.StringIO(report.to_csv())))
        got = rows[path]
        assert len(got) == len(want) == len(report.reps)
        named = dict(zip(want[0], unit_columns(list(want[0]), report.metrics.context.unit), strict=True))
        for g, w in zip(got, want, strict=True):
            for col, text in w.items():
                value = g[named[col]]
                assert ("" if value is None else str(value)) == text or float(value) == float(text), col
            assert all(g[c] is None for c in set(table) - set(named.values()) - set(LEADING_COLUMNS))
    inline = batch_analyze(str(folder / "**" / "*.h5"), workers=0)
    assert inline.runner == "this process" and inline.table() == table


def test_csv_and_parquet_outputs_read_back_equal(folder: Path, pooled, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    table = pooled[0].table()
    for name in ("t.csv", "t.parquet"):
        result = batch_analyze(str(folder / "**" / "*.h5"), out=tmp_path / name, workers=0)
        assert result.out == tmp_path / name and not (tmp_path / (name + ".part")).exists()
        assert read_table(result.out) == table == result.table()
        assert len(result.failures) == 2
    schema = pq.read_schema(tmp_path / "t.parquet")
    assert str(schema.field("rep").type) == "int64" and str(schema.field("subject").type) == "string"
    assert str(schema.field("mains_hz").type) == "double" and str(schema.field("rep_kind").type) == "string"
    assert str(schema.field("rom_deg").type) == "double"
    assert str(schema.field("glute_max_r.relaxed").type) == "int64"
    with open(tmp_path / "t.csv", encoding="utf-8") as f:
        assert f.readline().startswith(
            "session,subject,exercise,start_utc,rep_kind,mains_hz,mains_source,onset_method,warnings,rep,"
        )
        assert sum(1 for _ in f) == 4 * N_REPS


def test_only_bad_files_give_an_empty_table_with_the_leading_columns(folder: Path, tmp_path: Path) -> None:
    bad = [folder / "corrupt.h5", folder / "other.h5", folder / "missing.h5"]
    result = batch_analyze(bad, out=tmp_path / "e.parquet", workers=0)
    assert result.n_rows == 0 and len(result.failures) == 3
    assert result.failures[2] == (str(folder / "missing.h5"), "no such file")
    assert read_table(tmp_path / "e.parquet") == {c: [] for c in LEADING_COLUMNS}


def test_dask_local_cluster_gives_the_same_table(folder: Path, pooled) -> None:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        result = batch_analyze(str(folder / "**" / "*.h5"), scheduler=cluster.scheduler_address)
    assert result.runner == f"dask {cluster.scheduler_address}"
    assert result.table() == pooled[0].table() and result.failures == pooled[0].failures


def test_a_worker_process_that_dies_fails_only_its_own_job() -> None:
    jobs = [("1 + 1",), ("__import__('os')._exit(3)",), ("6 * 7",), ("2 ** 10",)]
    got = dict(run_local(eval, jobs, 2))
    assert got[0] == 2 and got[2] == 42 and got[3] == 1024
    assert isinstance(got[1], BrokenProcessPool) and "died while analysing" in str(got[1])


def test_invalid_arguments_name_the_parameter(folder: Path, tmp_path: Path, monkeypatch) -> None:
    pattern = str(folder / "**" / "*.h5")
    cases = [
        ({"workers": -1}, "workers must be an integer >= 0"),
        ({"workers": 2, "scheduler": "tcp://127.0.0.1:8786"}, "give workers (2) or scheduler"),
        ({"scheduler": ""}, "scheduler must be an address"),
        ({"out": tmp_path / "t.xlsx"}, "'out (file suffix)'"),
        ({"out": tmp_path / "nowhere" / "t.csv"}, "does not exist"),
        ({"angle_source": "gps"}, "'angle_source'"),
        ({"angle_sign": 2}, "'angle_sign'"),
        ({"keep_signals": True}, "unknown analyze option(s) ['keep_signals']"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError) as info:
            batch_analyze(pattern, **kwargs)
        assert message in str(info.value), kwargs
    with pytest.raises(ValueError, match="no recordings match"):
        batch_analyze(str(folder / "*.nothing"))
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if pyarrow were not installed
    with pytest.raises(ImportError, match=r"needs pyarrow.*--out results\.csv"):
        batch_analyze(pattern, out=tmp_path / "t.parquet")


def test_expand_paths_sorts_matches_and_keeps_literal_paths(folder: Path) -> None:
    got = expand_paths([str(folder / "b" / "**" / "*.h5"), folder / "missing.h5", str(folder / "b/*.h5")])
    assert got == [
        str(folder / "b/2_S2_bridge.h5"),
        str(folder / "b/c/3_S3_rdl_left.h5"),
        str(folder / "missing.h5"),
    ]
