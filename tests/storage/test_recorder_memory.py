"""A long recording keeps the recorder's memory flat.

HDF5 keeps the chunks written in a per-dataset chunk cache until the cache is full; with
h5py's default of 1 MiB per dataset, a recording's resident memory grew for an hour and more
(docs/reliability.md). The recorder's live file now has no chunk cache (it is not compressed,
so HDF5 writes each append straight to the file). The test writes 16 streams (4 channels of
int16 at 2 kHz, with packet rows), measures resident memory after 40 s per stream, writes 2
more minutes per stream and checks the growth: with the old 1 MiB caches it grew by 7.2 MB
(16 caches filling up; 2 runs), now by 0.2 MB.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from pathlib import Path

import numpy as np
import pytest

from myoflow.storage.reader import open_recording
from myoflow.storage.writer import Recorder
from myoflow.stream import StreamInfo

STREAMS = 16
RATE = 2000
BLOCK = 200  # samples per block (0.1 s)


def _rss_mb() -> float:
    """Resident memory of this process, MB, after returning freed heap to the system."""
    name = ctypes.util.find_library("c")
    if name:
        trim = getattr(ctypes.CDLL(name), "malloc_trim", None)
        if trim is not None:
            trim(0)
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise AssertionError("no VmRSS in /proc/self/status")


def _write(rec: Recorder, infos: list[StreamInfo], first_s: int, seconds: int, data: np.ndarray) -> None:
    """``seconds`` of every stream from ``first_s`` on, flushed every 10 s of data (so what
    waits for the writer, and the memory it takes, stays the same size throughout)."""
    for sec in range(first_s, first_s + seconds):
        for k in range(RATE // BLOCK):
            i0 = sec * RATE + k * BLOCK
            times = (i0 + np.arange(BLOCK)) / RATE
            for info in infos:
                host = float(times[-1]) + 0.01
                rec.write_block(info.name, data, times, host_time=host, counter=i0 // BLOCK)
        if sec % 10 == 9:
            rec.flush()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_recorder_memory_is_flat_once_its_chunk_caches_are_full(tmp_path: Path) -> None:
    infos = [StreamInfo(f"s{j}/emg", "emg", float(RATE), ("a", "b", "c", "d")) for j in range(STREAMS)]
    rec = Recorder(tmp_path / "long.h5", on_full="wait")
    for info in infos:
        rec.add_stream(info, np.int16)
    rec.start()
    data = np.arange(BLOCK * 4, dtype=np.int16).reshape(BLOCK, 4)
    try:
        _write(rec, infos, 0, 40, data)  # 640 kB of raw samples per stream
        before = _rss_mb()
        _write(rec, infos, 40, 120, data)  # 1.9 MB more per stream
        after = _rss_mb()
    finally:
        rec.close()
    with open_recording(tmp_path / "long.h5") as r:
        assert {s.n_samples for s in r.streams.values()} == {160 * RATE}
    assert after - before < 3.0, f"resident memory grew {after - before:.1f} MB over 2 minutes of 16 streams"
