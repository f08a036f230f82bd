"""A tiny dependency-free progress bar for long command-line operations.

Usage::

    with ProgressBar(total=120.0, label="replay", unit="s") as bar:
        for done in ...:
            bar.update(done, note="emg 2000 Hz")

It redraws one line in place (carriage return) on a terminal, at most every ``min_interval_s``,
and by default stays silent when the output is not a terminal (logs, pipes, tests), so the
result lines of a command are never interleaved with bar fragments.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["ProgressBar", "render"]


def render(
    done: float, total: float, label: str = "", width: int = 30, unit: str = "", note: str = ""
) -> str:
    """One line of a progress bar: ``label [#####.....]  50%  5.0/10.0 s  note``.

    ``done`` is clipped to ``[0, total]``; a ``total`` of 0 (nothing to do) shows 100 %.
    """
    total = max(float(total), 0.0)
    done = min(max(float(done), 0.0), total)
    frac = 1.0 if total == 0 else done / total
    filled = int(math.floor(frac * width))
    bar = "#" * filled + "." * (width - filled)
    amount = f"{done:.1f}/{total:.1f}{' ' + unit if unit else ''}"
    parts = [f"{label} " if label else "", f"[{bar}] {100 * frac:3.0f}%  {amount}"]
    if note:
        parts.append(f"  {note}")
    return "".join(parts)


class ProgressBar:
    """A progress bar on one terminal line.

    Parameters
    ----------
    total
        Amount of work (e.g. seconds of recording), >= 0.
    label
        Shown before the bar.
    unit
        Unit of ``total`` shown after the amounts (e.g. ``"s"``).
    stream
        Where to draw (default ``sys.stderr``).
    enabled
        Draw at all; default: only when ``stream`` is a terminal.
    width
        Characters inside the brackets.
    min_interval_s
        Least time between redraws (the final state is always drawn by :meth:`close`).
    clock
        Seconds, for throttling (default :func:`time.monotonic`).
    """

    def __init__(
        self,
        total: float,
        label: str = "",
        *,
        unit: str = "",
        stream: TextIO | None = None,
        enabled: bool | None = None,
        width: int = 30,
        min_interval_s: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (isinstance(total, (int, float)) and math.isfinite(total) and total >= 0):
            raise ValueError(f"total must be a finite number >= 0, got {total!r}")
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ValueError(f"width must be a positive number of characters, got {width!r}")
        self.total = float(total)
        self.label = label
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty()) if callable(isatty) else False
        self.enabled = enabled
        self.width = width
        self.min_interval_s = float(min_interval_s)
        self._clock = clock
        self._last = -math.inf
        self._drawn = 0
        self._closed = False
        self.done = 0.0

    def update(self, done: float, note: str = "") -> None:
        """Set the amount done (not an increment) and redraw if enough time has passed."""
        self.done = float(done)
        now = self._clock()
        if self.enabled and not self._closed and now - self._last >= self.min_interval_s:
            self._last = now
            self._draw(note)

    def close(self, note: str = "") -> None:
        """Draw the final state and end the line (once)."""
        if self._closed:
            return
        self._closed = True
        if self.enabled:
            self._draw(note)
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self, note: str) -> None:
        line = render(self.done, self.total, self.label, self.width, self.unit, note)
        pad = " " * max(0, self._drawn - len(line))  # wipe what a longer line left behind
        self.stream.write("\r" + line + pad)
        self.stream.flush()
        self._drawn = len(line)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
