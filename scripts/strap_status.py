"""Read the straps' final status lines that ``myoflow record``/``stream`` print, for the signal
test and benchmark: how many samples each stream delivered.

A line looks like ``  diy [stopped] emg 460 (0.0% loss, 1000.00 Hz); ...`` (one per strap).
"""

from __future__ import annotations

import re

__all__ = ["delivered_samples"]

_STOPPED = re.compile(r"\s+(\w+) \[stopped[^\]]*\] (.*)")


def delivered_samples(stdout: str) -> dict[str, int]:
    """``"strap/stream"`` -> samples delivered, from every final status line in ``stdout``."""
    out = {}
    for line in stdout.splitlines():
        m = _STOPPED.match(line)
        if m:
            for part in m.group(2).split("; "):
                name, n = part.split()[:2]
                out[f"{m.group(1)}/{name}"] = int(n)
    return out
