"""SIGTERM and SIGHUP finalise a real `myoflow record --virtual` subprocess, like Ctrl-C; every
sample the straps delivered before the stop is in the file; a stop before the recording
started says that nothing was written."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from myoflow.storage.reader import open_recording

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from strap_status import delivered_samples  # noqa: E402


def _record(out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "myoflow.cli", "record", "--virtual", "--seconds", "300", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # as from a terminal: a test run started in the background (CI, nohup, `make test &`)
        # inherits SIGINT ignored, and so would the recorder - it then never sees the Ctrl-C
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip


def _signal_after_start(proc: subprocess.Popen[str], sig: signal.Signals, after_s: float) -> tuple[str, str]:
    """Send ``sig`` ``after_s`` s after the recorder says it is recording; its stdout, stderr."""
    try:
        deadline = time.monotonic() + 120
        line = ""
        while not line.startswith("recording ") and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, proc.stderr.read()
        assert line.startswith("recording "), line
        time.sleep(after_s)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    return stdout, stderr


CASES = [
    (signal.SIGTERM, 143, 2.0),
    (signal.SIGHUP, 129, 2.0),
    (signal.SIGINT, 130, 2.0),
    (signal.SIGHUP, 129, 0.1),
]


@pytest.mark.parametrize(("sig", "code", "after_s"), CASES)
def test_signal_finalises_the_recording(
    tmp_path: Path, sig: signal.Signals, code: int, after_s: float
) -> None:
    out = tmp_path / "s.h5"
    proc = _record(out)
    stdout, stderr = _signal_after_start(proc, sig, after_s)
    assert proc.returncode == code, stdout + stderr
    assert f"to {out}" in stdout and "finalised" in stdout, stdout + stderr
    if sig != signal.SIGINT:
        assert f"{sig.name} received: stopping and finalising" in stderr
        assert f"(stopped by {sig.name}, finalised)" in stdout
    assert "Traceback" not in stderr
    delivered = delivered_samples(stdout)
    assert delivered.get("diy/emg", 0) > 0, stdout
    with open_recording(out) as rec:
        assert rec.state == "final"
        stored = {name: view.n_samples for name, view in rec.streams.items()}
    # every sample delivered is stored: the recording is finalised only after the straps have
    # stopped (a signal interrupting Thread.join used to let it close while they still delivered,
    # losing the last packets - or every packet, when the signal came early)
    assert stored == delivered, (stored, delivered)
    for name, n in stored.items():
        assert (f"{name}: no samples were received before the stop" in stderr) == (n == 0), stderr
    if after_s >= 2.0:
        assert stored["diy/emg"] > 1000


def _catches(pid: int, sig: signal.Signals) -> bool:
    """True once process ``pid`` has installed a handler for ``sig`` (Linux /proc)."""
    status = Path(f"/proc/{pid}/status").read_text()
    caught = int(re.search(r"^SigCgt:\s*([0-9a-f]+)", status, re.M).group(1), 16)
    return bool(caught >> (int(sig) - 1) & 1)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_signal_before_the_recording_started_says_nothing_was_written(tmp_path: Path) -> None:
    out = tmp_path / "s.h5"
    proc = _record(out)
    try:
        deadline = time.monotonic() + 60
        while not _catches(proc.pid, signal.SIGTERM) and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGTERM)  # while it loads and connects the straps
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, stdout + stderr
    assert "Traceback" not in stderr
    assert "nothing recorded" in stdout + stderr and "no file written" in stdout + stderr, stdout + stderr
    assert not out.exists()
