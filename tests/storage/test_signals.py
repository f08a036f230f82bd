"""SIGTERM and SIGHUP finalise a real `myoflow record --virtual` subprocess, like Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from myoflow.storage.reader import open_recording


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)])
def test_signal_finalises_the_recording(tmp_path: Path, sig: signal.Signals, code: int) -> None:
    out = tmp_path / "s.h5"
    proc = subprocess.Popen(
        [sys.executable, "-m", "myoflow.cli", "record", "--virtual", "--seconds", "300", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # as from a terminal: a test run started in the background (CI, nohup, `make test &`)
        # inherits SIGINT ignored, and so would the recorder - it then never sees the Ctrl-C
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        line = ""
        while not line.startswith("recording ") and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, proc.stderr.read()
        assert line.startswith("recording "), line
        time.sleep(2.0)  # some samples flushed
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, stderr
    if sig != signal.SIGINT:
        assert f"{sig.name} received: stopping and finalising" in stderr
        assert f"(stopped by {sig.name}, finalised)" in stdout
    assert "Traceback" not in stderr
    with open_recording(out) as rec:
        assert rec.state == "final"
        assert rec.streams["diy/emg"].n_samples > 1000
