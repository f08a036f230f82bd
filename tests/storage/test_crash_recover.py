"""A recorder killed with SIGKILL leaves a file that recover() turns into a final recording."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from myoflow.storage import _recover as recover_module
from myoflow.storage._recover import finalise, recover
from myoflow.storage.reader import open_recording
from myoflow.storage.schema import RecordingError

WRITER = """
import sys, time
import numpy as np
from myoflow.storage.writer import Recorder
from myoflow.stream import Event, Gap, StreamInfo

emg = StreamInfo("strap/emg", "emg", 2000.0, ("a", "b", "c"))
imu = StreamInfo("strap/acc", "acc", 100.0, ("x", "y", "z"), ("thigh_r",) * 3)
rec = Recorder(sys.argv[1])  # default flush interval (0.25 s)
rec.add_stream(emg, "int16", 0.1)
rec.add_stream(imu, "int16", 1 / 4096)
rec.start()
print("started", flush=True)
t0 = time.monotonic()
n = m = 0
gap_done = False
while time.monotonic() - t0 < 30:
    now = time.monotonic()
    due = int((now - t0) * 2000)
    if n >= 1000 and not gap_done:  # 20 samples lost over the radio
        rec.write_gap(Gap(emg, n, 20, t0 + n / 2000, t0 + (n + 20) / 2000))
        n, gap_done = n + 20, True
    if due > n:
        rows = np.arange(n, due)
        rec.write_block("strap/emg", (rows[:, None] * 5 + np.array([0, 1, 2])) % 20000,
                        t0 + rows / 2000.0, host_time=now)
        n = due
    if int((now - t0) * 100) > m:
        rec.write_block("strap/acc", np.full((1, 3), m % 4000), [t0 + m / 100.0])
        m += 1
        if m % 20 == 0:
            rec.write_event(Event(now, "marker", f"m{m}"))
    time.sleep(0.003)
"""


def _expected(rows: np.ndarray) -> np.ndarray:
    return (rows[:, None] * 5 + np.array([0, 1, 2])) % 20000


def test_sigkill_then_recover_keeps_all_but_the_last_half_second(tmp_path: Path) -> None:
    path = tmp_path / "killed.h5"
    with subprocess.Popen([sys.executable, "-c", WRITER, str(path)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout.readline().strip() == "started", child.stderr.read()
            deadline = time.monotonic() + 15
            with open_recording(path) as live:  # poll until ~1.2 s of data is on disk
                while live.streams["strap/emg"].n_samples < 2400 and time.monotonic() < deadline:
                    time.sleep(0.05)
                    live.refresh()
            t_kill = time.monotonic()
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(10)
    assert child.returncode == -signal.SIGKILL
    with pytest.raises(OSError):  # a plain HDF5 open refuses the killed writer's file
        h5py.File(path, "r")
    out = recover(path, tmp_path / "fixed.h5")
    with h5py.File(out, "r") as f:  # now a normal, closed file
        assert f.attrs["state"] == "recovered"
    with open_recording(out) as rec:
        emg = rec.streams["strap/emg"]
        n = emg.n_samples
        assert n >= 2400
        idx = emg.sample_indices()
        np.testing.assert_array_equal(emg.raw(), _expected(idx))
        (gap,) = emg.gaps
        assert gap.n_missing == 20 and gap.start_index >= 1000
        t = emg.times()
        t0 = t[0] - idx[0] / 2000
        np.testing.assert_allclose(t, t0 + idx / 2000.0, atol=1e-9)
        assert t[-1] >= t_kill - 0.5, f"lost {t_kill - t[-1]:.3f} s before the kill"
        acc = rec.streams["strap/acc"]
        assert acc.n_samples > 100 and acc.times(acc.n_samples - 1)[0] >= t_kill - 0.5
        labels = [e.label for e in rec.events]
        assert labels == [f"m{k}" for k in range(20, 20 * len(labels) + 1, 20)] and labels
    # recovering in place replaces the broken file atomically
    recover(path, path)
    with open_recording(path) as again:
        assert again.state == "recovered" and again.streams["strap/emg"].n_samples == n


def test_crash_while_finalising_leaves_the_source_intact(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from myoflow.storage.writer import Recorder
    from myoflow.stream import StreamInfo

    info = StreamInfo("emg", "emg", 1000.0, ("a",))
    path = tmp_path / "s.h5"
    rec = Recorder(path)
    rec.add_stream(info, "int16")
    rec.start()
    rec.write_block("emg", np.arange(500)[:, None], np.arange(500) / 1000.0)
    rec.close(finalise=False)
    before = path.read_bytes()

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(recover_module.os, "replace", fail)
    with pytest.raises(RecordingError, match="s.h5.*cannot write the finalised recording"):
        finalise(path, path)
    assert path.read_bytes() == before
    assert not (tmp_path / "s.h5.finalising").exists()
    monkeypatch.undo()
    finalise(path, path)
    with open_recording(path) as r:
        assert r.state == "final"
        np.testing.assert_array_equal(r.streams["emg"].raw()[:, 0], np.arange(500))
