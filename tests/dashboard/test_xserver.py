"""The dashboard in a real X server (Xvfb, Qt's xcb plugin), driven with real X events.

Each test starts its own Xvfb through ``scripts/with_xvfb.sh`` (which stops it when the command
ends) and runs the dashboard in a subprocess: the test process itself runs Qt offscreen.
``scripts/ensure_system_libs.sh`` (run by ``make test``) installs Xvfb, xdotool and the xcb
libraries; without them these tests skip, naming the package.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WITH_XVFB = ROOT / "scripts" / "with_xvfb.sh"
MYOFLOW = Path(sys.executable).with_name("myoflow")


def _need(tool: str, package: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is missing: apt-get install {package} (scripts/ensure_system_libs.sh x11)")


def _run(args: list[str], timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run in its own process group; on a timeout the whole group (Xvfb too) is killed."""
    env = dict(os.environ if env is None else env)
    env.pop("QT_QPA_PLATFORM", None)
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{args} timed out after {timeout} s\n{out}\n{err}")
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def test_a_user_session_in_a_real_x_server(tmp_path: Path) -> None:
    """Wheel, overwrite, focus and sets, with real pointer and key events (x11_scenario.py)."""
    _need("Xvfb", "xvfb")
    _need("xdotool", "xdotool")
    scenario = Path(__file__).with_name("x11_scenario.py")
    done = _run(["bash", str(WITH_XVFB), "-s", "1366x768", sys.executable, str(scenario), str(tmp_path)], 300)
    assert done.returncode == 0 and "SCENARIO OK" in done.stdout, done.stdout + done.stderr


def _library_path(soname: str) -> str | None:
    listing = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    for line in listing.splitlines():
        if line.strip().startswith(soname + " ") and "x86-64" in line:
            return line.rsplit("=>", 1)[1].strip()
    return None


def test_a_missing_xcb_library_is_named_and_the_console_view_runs(tmp_path: Path) -> None:
    """libxcb-icccm4 hidden (a private mount namespace binds /dev/null over it): Qt alone would
    abort (rc 134); myoflow names the package and shows the session in the console instead."""
    _need("Xvfb", "xvfb")
    _need("unshare", "util-linux")
    lib = _library_path("libxcb-icccm.so.4")
    if lib is None:
        pytest.skip("libxcb-icccm.so.4 is not installed (scripts/ensure_system_libs.sh x11)")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("no private mount namespace here (unshare -m needs root)")
    inner = (
        f"mount --bind /dev/null {lib} && exec bash {WITH_XVFB} -s 1024x768 "
        f"{MYOFLOW} dashboard --virtual --seconds 12"
    )
    done = _run(["unshare", "-m", "--propagation", "private", "sh", "-c", inner], 180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "libxcb-icccm4" in done.stderr and "console view" in done.stderr, done.stderr
    assert "analysing glute_max_r" in done.stdout, done.stdout
    assert "rep 1:" in done.stdout, done.stdout
