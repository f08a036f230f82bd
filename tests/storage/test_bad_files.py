"""Broken, foreign and newer files give a RecordingError naming the file; full disks too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np
import pytest

from myoflow.storage._recover import recover
from myoflow.storage.reader import open_recording
from myoflow.storage.schema import RecordingError
from myoflow.storage.writer import Recorder
from myoflow.stream import Event, StreamInfo

EMG = StreamInfo("emg", "emg", 2000.0, tuple(f"c{i}" for i in range(16)))


def _rows(a: int, b: int) -> np.ndarray:
    rows = np.arange(a, b)
    return ((rows[:, None] * 7 + np.arange(16) * 13) % 4001 - 2000).astype(np.int16)


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.h5"
    rec = Recorder(path)
    rec.add_stream(EMG, "int16", 0.1)
    rec.start()
    rng = np.random.default_rng(0)
    rec.write_block("emg", rng.integers(-2000, 2000, (20_000, 16)), np.arange(20_000) / 2000)
    rec.write_event(Event(1.0, "marker", "m"))
    rec.close()
    return path


def _fails(path: Path, *patterns: str) -> str:
    with pytest.raises(RecordingError) as info:
        with open_recording(path) as rec:
            for view in rec.streams.values():
                view.raw()
            rec.events  # noqa: B018
    text = str(info.value)
    assert text.startswith(str(path)), text
    for p in patterns:
        assert p in text, text
    return text


def test_missing_folder_and_foreign_files(tmp_path: Path) -> None:
    _fails(tmp_path / "nope.h5", "no such file")
    _fails(tmp_path, "is a folder")
    csv = tmp_path / "emg.csv"
    csv.write_text("time,emg\n0,1\n")
    _fails(csv, "not an HDF5 file")
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["data"] = np.zeros(3)
    _fails(other, "not a myoflow recording")


def test_truncated_file(good: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.h5"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    _fails(cut, "truncated HDF5 file", f"{good.stat().st_size // 2} bytes")


def test_newer_schema(good: Path) -> None:
    with h5py.File(good, "r+") as f:
        f.attrs["schema_version"] = np.int64(7)
    _fails(good, "schema version 7", "upgrade myoflow")


def test_missing_or_malformed_parts(good: Path, tmp_path: Path) -> None:
    no_map = tmp_path / "no_map.h5"
    shutil.copy(good, no_map)
    with h5py.File(no_map, "r+") as f:
        del f["streams/emg/time_map"]
    _fails(no_map, "stream 'emg' lacks the dataset 'time_map'")
    bad_table = tmp_path / "bad_table.h5"
    shutil.copy(good, bad_table)
    with h5py.File(bad_table, "r+") as f:
        del f["streams/emg/gaps"]
        f["streams/emg/gaps"] = np.zeros(3)
    _fails(bad_table, "stream 'emg': dataset 'gaps' must be a 1-D table")
    bad_state = tmp_path / "bad_state.h5"
    shutil.copy(good, bad_state)
    with h5py.File(bad_state, "r+") as f:
        f.attrs["state"] = "half-done"
        f["streams/emg"].attrs["kind"] = "eeg"
    _fails(bad_state, "'state' must be one of")
    bad_json = tmp_path / "bad_json.h5"
    shutil.copy(good, bad_json)
    with h5py.File(bad_json, "r+") as f:
        f["events/json"][0] = ord("#")
    _fails(bad_json, "event 0: record is not valid JSON")


def test_corrupted_bytes(good: Path, tmp_path: Path) -> None:
    chunk = tmp_path / "chunk.h5"
    shutil.copy(good, chunk)
    with h5py.File(good, "r") as f:
        info = f["streams/emg/raw"].id.get_chunk_info(1)
    with open(chunk, "r+b") as fh:  # garbage inside one compressed chunk of samples
        fh.seek(info.byte_offset + 10)
        fh.write(os.urandom(200))
    _fails(chunk, "cannot read dataset '/streams/emg/raw'")
    header = tmp_path / "header.h5"
    data = bytearray(good.read_bytes())
    data[8:400] = bytes(392)  # wipe the superblock and root group header after the signature
    header.write_bytes(bytes(data))
    _fails(header)


def test_unwritable_path_error_names_it(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for path in (tmp_path / "no" / "such" / "dir" / "r.h5", blocker / "r.h5"):
        rec = Recorder(path)
        rec.add_stream(EMG, "int16")
        with pytest.raises(RecordingError, match="cannot create the recording file") as info:
            rec.start()
        assert str(path) in str(info.value)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs (needs root and permission to mount)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({res.stderr.strip()}); "
                    "the RLIMIT_FSIZE test covers a full disk without privileges")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_read_only_folder_error_names_the_path(small_disk: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    rec = Recorder(small_disk / "r.h5")
    rec.add_stream(EMG, "int16")
    with pytest.raises(RecordingError, match="Read-only file system") as info:
        rec.start()
    assert str(small_disk / "r.h5") in str(info.value)


def _fill(path: Path, rows_per_block: int = 200) -> tuple[Recorder, int, str]:
    rec = Recorder(path, flush_interval=0.05)
    rec.add_stream(EMG, "int16")
    rec.start()
    n, deadline = 0, time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            rec.write_block("emg", _rows(n, n + rows_per_block),
                            np.arange(n, n + rows_per_block) / 2000)
            n += rows_per_block
            time.sleep(0.002)
    except RecordingError as exc:
        return rec, n, str(exc)
    raise AssertionError("the disk never filled up")


def test_disk_full_is_reported_and_earlier_data_stays_readable(small_disk: Path,
                                                               tmp_path: Path) -> None:
    path = small_disk / "full.h5"
    rec, sent, message = _fill(path)
    assert message.startswith(str(path)) and "the disk is full" in message
    with pytest.raises(RecordingError, match="disk is full"):
        rec.close()
    with open_recording(path) as r:
        v = r.streams["emg"]
        assert 4000 <= v.n_samples <= sent
        np.testing.assert_array_equal(v.raw(), _rows(0, v.n_samples))
        n = v.n_samples
    out = recover(path, tmp_path / "rescued.h5")
    with open_recording(out) as r:
        assert r.streams["emg"].n_samples == n


FILLER = """
import sys, time, resource, signal
import numpy as np
from myoflow.storage import writer
from myoflow.storage.schema import RecordingError
from myoflow.stream import StreamInfo

if sys.argv[2] == "fsize":
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (3_000_000, 3_000_000))
else:  # let HDF5 itself hit the full disk: no check beforehand
    writer._Sink.check_space = lambda self: None
rec = writer.Recorder(sys.argv[1], flush_interval=0.05)
rec.add_stream(StreamInfo("emg", "emg", 2000.0, tuple("abcdefghijklmnop")), "int16")
rec.start()
n = 0
try:
    for _ in range(20000):
        rows = np.arange(n, n + 200)
        rec.write_block("emg", ((rows[:, None] * 7 + np.arange(16) * 13) % 4001 - 2000),
                        rows / 2000)
        n += 200
        time.sleep(0.002)
except RecordingError as exc:
    print("ERROR", exc, flush=True)
try:
    rec.close()
except RecordingError:
    pass
print("exit cleanly", flush=True)
"""


def _run_filler(path: Path, mode: str) -> str:
    res = subprocess.run([sys.executable, "-c", FILLER, str(path), mode], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, f"writer process died ({res.returncode}): {res.stderr[-2000:]}"
    assert "exit cleanly" in res.stdout
    return res.stdout


def test_file_size_limit_without_privileges(tmp_path: Path) -> None:
    path = tmp_path / "limited.h5"
    out = _run_filler(path, "fsize")
    assert f"ERROR {path}: writing the recording stopped: the file size limit" in out
    with open_recording(path) as r:
        n = r.streams["emg"].n_samples
        assert n >= 2000
        np.testing.assert_array_equal(r.streams["emg"].raw(), _rows(0, n))


def test_failed_hdf5_write_neither_crashes_nor_loses_flushed_data(small_disk: Path) -> None:
    path = small_disk / "hard.h5"
    out = _run_filler(path, "nocheck")
    assert f"ERROR {path}: writing the recording failed: the disk is full" in out
    with open_recording(path) as r:
        n = r.streams["emg"].n_samples
        assert n >= 2000
        np.testing.assert_array_equal(r.streams["emg"].raw(), _rows(0, n))
