"""The session catalogue as a cache: added, changed and deleted files; a corrupt, old-schema or
other-version file rebuilt; an unwritable place kept in memory; a reader beside a writer in
another process. Rows here are made by the test (the storage layer knows no analysis)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from myoflow.storage.catalogue import CATALOGUE_NAME, SCHEMA_VERSION, Catalogue, Entry, FileKey


def _folder(tmp_path: Path, n: int = 3) -> Path:
    for i in range(n):
        (tmp_path / "sub").mkdir(exist_ok=True)
        (tmp_path / ("sub" if i == 2 else ".") / f"r{i}.h5").write_bytes(bytes(100 + i))
    (tmp_path / "notes.txt").write_text("not a recording")
    return tmp_path


def _index(cat: Catalogue) -> None:
    plan = cat.plan()
    cat.drop(plan.removed)
    cat.store(
        Entry(
            k, subject="S1", exercise="glute_bridge", start_utc=f"2026-01-0{i + 1}", metrics={"size": k.size}
        )
        for i, k in enumerate(plan.to_index)
    )


def test_new_changed_and_deleted_files(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    with Catalogue(folder, "v1") as cat:
        plan = cat.plan()
        assert [k.path for k in plan.to_index] == ["r0.h5", "r1.h5", "sub/r2.h5"]
        assert plan.removed == [] and plan.unchanged == 0 and cat.rebuilt is None and not cat.in_memory
        _index(cat)
        assert cat.plan().to_index == [] and cat.plan().unchanged == 3
    assert (folder / CATALOGUE_NAME).is_file()
    (folder / "r0.h5").unlink()
    (folder / "r1.h5").write_bytes(bytes(500))  # changed: size and time
    later = (folder / "sub/r2.h5").stat().st_mtime_ns + 10**9
    os.utime(folder / "sub/r2.h5", ns=(later, later))  # changed: time only
    (folder / "r3.h5").write_bytes(b"new")
    with Catalogue(folder, "v1") as cat:
        plan = cat.plan()
        assert [k.path for k in plan.to_index] == ["r1.h5", "r3.h5", "sub/r2.h5"]
        assert plan.removed == ["r0.h5"] and plan.unchanged == 0
        _index(cat)
        rows = {e.key.path: e for e in cat.entries()}
        assert sorted(rows) == ["r1.h5", "r3.h5", "sub/r2.h5"]
        assert rows["r1.h5"].metrics == {"size": 500} and rows["r1.h5"].key.size == 500
        assert cat.subjects() == ["S1"] and len(cat.entries("S1")) == 3 and cat.entries("S9") == []


def test_error_rows_and_round_trip(tmp_path: Path) -> None:
    folder = _folder(tmp_path, 1)
    with Catalogue(folder, "v1") as cat:
        key = cat.plan().to_index[0]
        cat.store(
            [Entry(key, error="RecordingError: truncated"), Entry(FileKey("x.h5", 1, 2), streams=("a/emg",))]
        )
        rows = {e.key.path: e for e in cat.entries()}
        assert rows["r0.h5"].error == "RecordingError: truncated" and rows["r0.h5"].subject is None
        assert rows["x.h5"].streams == ("a/emg",)
        assert cat.plan().to_index == []  # an error row is not retried until the file changes
        with pytest.raises(ValueError):
            cat.store([Entry(key, metrics={"bad": float("nan")})])  # strict JSON


@pytest.mark.parametrize("damage", ["garbage", "truncated", "old schema", "other version"])
def test_a_damaged_or_stale_catalogue_is_rebuilt(tmp_path: Path, damage: str) -> None:
    folder = _folder(tmp_path)
    with Catalogue(folder, "v1") as cat:
        _index(cat)
    db = folder / CATALOGUE_NAME
    version = "v1"
    if damage == "garbage":
        db.write_bytes(b"this is not sqlite" * 100)
    elif damage == "truncated":
        db.write_bytes(db.read_bytes()[:200])
    elif damage == "old schema":
        with sqlite3.connect(db) as conn:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        conn.close()
    else:
        version = "v2"
    with Catalogue(folder, version) as cat:
        assert cat.rebuilt is not None, damage
        assert cat.entries() == [] and len(cat.plan().to_index) == 3
        _index(cat)
    with Catalogue(folder, version) as cat:
        assert cat.rebuilt is None and len(cat.entries()) == 3


def test_a_place_that_cannot_be_written_gives_a_catalogue_in_memory(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    with Catalogue(folder, "v1", path=tmp_path / "missing" / "dir" / CATALOGUE_NAME) as cat:
        assert cat.in_memory and "kept in memory" in cat.rebuilt
        _index(cat)
        assert len(cat.entries()) == 3
    with pytest.raises(NotADirectoryError, match="not a folder"):
        Catalogue(tmp_path / "nope", "v1")


def test_a_reader_beside_a_writer_in_another_process(tmp_path: Path) -> None:
    folder = _folder(tmp_path, 1)
    with Catalogue(folder, "v1") as cat:
        _index(cat)
    writer = textwrap.dedent(
        f"""
        from myoflow.storage.catalogue import Catalogue, Entry, FileKey
        with Catalogue({str(folder)!r}, "v1") as cat:
            for i in range(300):
                cat.store([Entry(FileKey(f"w{{i % 40}}.h5", i, i), subject="S2", metrics={{"i": i}})])
                if i % 7 == 0:
                    cat.drop([f"w{{(i + 3) % 40}}.h5"])
        print("done")
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", writer], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    reads = 0
    with Catalogue(folder, "v1") as cat:
        while proc.poll() is None:
            rows = cat.entries()
            assert all(isinstance(e.metrics, dict) for e in rows)
            cat.plan()
            reads += 1
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and out.strip() == "done", err
    assert reads > 0
    with Catalogue(folder, "v1") as cat:
        assert "S2" in cat.subjects()
