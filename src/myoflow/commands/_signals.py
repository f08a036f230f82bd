"""SIGTERM and SIGHUP stop a command the way Ctrl-C does, so what it writes is finalised.

``systemd stop``, ``kill PID`` and a closed terminal send SIGTERM or SIGHUP; Python's default
for both is to die at once, which leaves a recording ``live``. Inside :func:`stop_like_ctrl_c`
the first of them raises :class:`KeyboardInterrupt` in the main thread (the orderly stop every
command already has for Ctrl-C); later ones only say that the stop is under way, so they cannot
interrupt the finalising itself. SIGKILL cannot be caught: ``myoflow recover`` is for that.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator

#: The signals handled, beside SIGINT (Ctrl-C).
STOP_SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s)


@contextlib.contextmanager
def stop_like_ctrl_c(what: str) -> Iterator[list[int]]:
    """Within the block, SIGTERM/SIGHUP raise KeyboardInterrupt once; yields the signals received.

    ``what`` names the command in the message printed to stderr when a signal arrives.
    """
    received: list[int] = []

    def handler(signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        first = not received
        received.append(signum)
        with contextlib.suppress(OSError, ValueError):  # a closed terminal (SIGHUP)
            if first:
                print(f"{what}: {name} received: stopping and finalising, as for Ctrl-C", file=sys.stderr)
            else:
                print(f"{what}: {name} received again: still finalising", file=sys.stderr)
        if first:
            raise KeyboardInterrupt

    try:
        old = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    except ValueError:  # not the main thread: nothing to install
        yield received
        return
    try:
        yield received
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def exit_code(received: list[int], interrupted: bool) -> int:
    """128 + the first signal received (143 for SIGTERM, 129 for SIGHUP), 130 for Ctrl-C, else 0."""
    if received:
        return 128 + received[0]
    return 130 if interrupted else 0
