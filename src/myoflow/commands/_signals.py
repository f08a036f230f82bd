"""SIGTERM and SIGHUP stop a command the way Ctrl-C does, so what it writes is finalised.

``systemd stop``, ``kill PID`` and a closed terminal send SIGTERM or SIGHUP; Python's default
for both is to die at once, which leaves a recording ``live``. Inside :func:`stop_like_ctrl_c`
the first of them raises :class:`KeyboardInterrupt` in the main thread (the orderly stop every
command already has for Ctrl-C); later ones, a repeated Ctrl-C included, only say that the stop
is under way, so they cannot interrupt the finalising itself. SIGKILL cannot be caught:
``myoflow recover`` is for that.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator

#: The signals handled, beside SIGINT (Ctrl-C).
STOP_SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s)


class Stops(list[int]):
    """The stop signals received so far (signal numbers, first first), and whether the first
    one raises :class:`KeyboardInterrupt` yet (:attr:`armed`)."""

    def __init__(self, armed: bool) -> None:
        super().__init__()
        self.armed = armed

    def arm(self) -> None:
        """From now on the first stop signal raises KeyboardInterrupt; raise it at once if one
        came while disarmed.

        Disarmed, a signal is only noted: a KeyboardInterrupt raised while a C extension module
        is being imported marks it unhandled for good (CPython then kills itself with SIGINT at
        exit, whatever the command returned), and before the session starts there is nothing
        that an immediate stop would save.
        """
        self.armed = True
        if self:
            raise KeyboardInterrupt


@contextlib.contextmanager
def stop_like_ctrl_c(what: str, *, armed: bool = True) -> Iterator[Stops]:
    """Within the block, SIGTERM/SIGHUP (and Ctrl-C) raise KeyboardInterrupt once; yields the
    signals received.

    ``what`` names the command in the message printed to stderr when a signal arrives. With
    ``armed=False`` the first signal is only noted until :meth:`Stops.arm` is called (at a
    point where no module is being imported).
    """
    received = Stops(armed)

    def handler(signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        first = not received
        received.append(signum)
        with contextlib.suppress(OSError, ValueError):  # a closed terminal (SIGHUP)
            if not first:
                print(f"{what}: {name} received again: still finalising", file=sys.stderr)
            elif signum != signal.SIGINT:  # the terminal already shows ^C
                print(f"{what}: {name} received: stopping and finalising, as for Ctrl-C", file=sys.stderr)
        if first and received.armed:
            raise KeyboardInterrupt

    # Ctrl-C too, unless it is ignored (a background job): a second one must not break the
    # finalising either (nor interrupt a thread join: python/cpython#90882)
    handled = STOP_SIGNALS
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        handled = (signal.SIGINT, *STOP_SIGNALS)
    try:
        old = {s: signal.signal(s, handler) for s in handled}
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
