"""Progress bars (tqdm) of ``myoflow replay`` and ``myoflow batch``: drawn on stderr when it is a
terminal, absent when it is not (logs, pipes), so result lines never mix with bar fragments.

The commands run in a fresh interpreter with stderr on a pseudo-terminal (80 columns), as in a
shell, or on a pipe.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FILE = str(REPO / "recordings" / "glute_bridge_virtual.h5")
CLI = [sys.executable, "-m", "myoflow.cli"]


def _run_on_terminal(argv: list[str]) -> tuple[int, str, str]:
    """Exit code, stdout (a pipe) and what the pseudo-terminal on stderr received."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=follower, text=True, cwd=REPO)
    finally:
        os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the command exited
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    stdout, _ = proc.communicate(timeout=300)
    return proc.returncode, stdout, seen.decode("utf-8", "replace")


@pytest.mark.parametrize(
    ("argv", "final"),
    [
        (["replay", "--fast", FILE], "replay 100%"),
        (["batch", FILE, "--workers", "0", "--out", "{tmp}/t.csv"], "batch: 100%"),
    ],
    ids=["replay", "batch"],
)
def test_progress_shows_on_a_terminal_and_not_in_a_pipe(argv: list[str], final: str, tmp_path: Path) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, stdout, terminal = _run_on_terminal(CLI + argv)
    assert code == 0, terminal
    frames = [f for f in terminal.replace("\n", "\r").split("\r") if f.strip()]
    assert frames and frames[-1].startswith(final), terminal
    assert all(len(f) <= 80 for f in frames), "the bar fits the terminal's width"
    assert "%|" not in stdout, "the bar goes to stderr, never among the results"

    piped = subprocess.run(CLI + argv, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == "", "no bar when stderr is not a terminal"
    lines, piped_lines = stdout.splitlines(), piped.stdout.splitlines()  # wall times differ
    assert len(piped_lines) == len(lines) and piped_lines[0].split("(")[0] == lines[0].split("(")[0]
