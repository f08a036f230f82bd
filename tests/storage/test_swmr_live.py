"""A second process reads a recording while the first one writes it (HDF5 SWMR)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from myoflow.storage.reader import open_recording
from myoflow.storage.schema import RecordingError

WRITER = """
import sys, time
import numpy as np
from myoflow.storage.writer import Recorder
from myoflow.stream import Event, StreamInfo

path, seconds = sys.argv[1], float(sys.argv[2])
rec = Recorder(path, flush_interval=0.1)
rec.add_stream(StreamInfo("strap/emg", "emg", 2000.0, ("a", "b")), "int16")
rec.start()
print("started", flush=True)
t0 = time.monotonic()
n = 0
while time.monotonic() - t0 < seconds:
    due = int((time.monotonic() - t0) * 2000)
    if due > n:
        rows = np.arange(n, due)
        rec.write_block("strap/emg", (rows[:, None] * 3 + np.array([0, 1])) % 30000,
                        t0 + rows / 2000.0, host_time=time.monotonic(), counter=n)
        n = due
    time.sleep(0.004)
rec.write_event(Event(time.monotonic(), "marker", "end"))
rec.close()
print("done", n, flush=True)
"""


def test_second_process_sees_the_file_grow(tmp_path: Path) -> None:
    path = tmp_path / "live.h5"
    with subprocess.Popen([sys.executable, "-c", WRITER, str(path), "1.5"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        assert child.stdout.readline().strip() == "started", child.stderr.read()
        rec = open_recording(path)
        assert rec.swmr and rec.state == "live"
        view = rec.streams["strap/emg"]
        seen, lags = [], []
        deadline = time.monotonic() + 10
        while child.poll() is None and time.monotonic() < deadline:
            rec.refresh()
            n = view.n_samples
            if n and (not seen or n > seen[-1]):
                seen.append(n)
                lags.append(time.monotonic() - view.times(n - 1, n)[0])
                rows = np.arange(n)
                np.testing.assert_array_equal(view.raw(), (rows[:, None] * 3 + [0, 1]) % 30000)
                assert view.packets["row"][-1] < n
            time.sleep(0.02)
        rec.close()
        out, err = child.communicate(timeout=20)
    assert child.returncode == 0, err
    assert len(seen) >= 5, f"the reader saw only {seen} samples while the writer ran"
    assert np.median(lags) < 0.5, f"live data lagged {lags} s behind the writer"
    total = int(out.split()[-1])
    with open_recording(path) as final:
        assert final.state == "final" and not final.swmr
        assert final.streams["strap/emg"].n_samples == total
        assert [e.label for e in final.events] == ["end"]


def test_reader_waits_for_a_file_that_is_being_created(tmp_path: Path) -> None:
    # before the writer exists, opening gives a clear error instead of a traceback
    missing = tmp_path / "not-yet.h5"
    try:
        open_recording(missing)
    except RecordingError as exc:
        assert "not-yet.h5" in str(exc) and "no such file" in str(exc)
    else:
        raise AssertionError("opening a missing file must fail")
