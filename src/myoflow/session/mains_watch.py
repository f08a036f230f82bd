"""The mains frequency of a recording, detected from its EMG while it is recorded.

``myoflow import`` stores the mains frequency it detects in the EMG spectrum; a recording made
without ``--mains`` gets it the same way: :class:`MainsWatch` keeps the first
:data:`WATCH_S` seconds of the first EMG stream (all of a shorter session: :meth:`MainsWatch.finish`
when it ends), runs the one detector (:func:`myoflow.analysis.mains.detect_mains`) on them
once (~0.1 s for 8 channels at 2 kHz, on the delivering thread: no race with the recording's
end) and hands the answer, 50 or 60 Hz, to ``on_found`` (the recorder stores it as a metadata
change). A session with under 2 s of EMG, or whose spectrum shows no clear line, stores
nothing (``myoflow analyze`` then tries the whole file).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from myoflow.stream import Block, Sink

__all__ = ["MAINS_SOURCE", "WATCH_S", "MainsWatch", "watch_unless_given"]

#: Seconds of EMG the detection reads (at least 2 s are needed; the longer, the likelier some
#: quiet seconds show the line: on the virtual glute bridge's 4 uV hum, 4-20 s stretches found it
#: 260 times in 324).
WATCH_S = 60.0
#: ``mains_source`` stored with a frequency found this way.
MAINS_SOURCE = "detected from the spectrum at record"


class MainsWatch(Sink):
    """Detect the mains frequency from the first EMG stream's first :data:`WATCH_S` seconds.

    Parameters
    ----------
    on_found
        ``on_found(hz, host_time_s)``, called once with 50.0 or 60.0 and the host time of the
        last sample read; never called when no line is found.
    watch_s
        Seconds of EMG to read (s).
    """

    def __init__(self, on_found: Callable[[float, float], None], watch_s: float = WATCH_S) -> None:
        self._on_found = on_found
        self._watch_s = float(watch_s)
        self._stream: str | None = None
        self._rows: np.ndarray | None = None
        self._first = 0  # stream sample index of row 0
        self._rate = 0.0
        self._filled = 0  # rows up to the last sample kept
        self._last_time = 0.0
        self._done = False

    def on_block(self, block: Block) -> None:
        """Keep the first EMG stream's samples (lost ones stay NaN) until the window is full."""
        if self._done or block.stream.kind != "emg":
            return
        if self._stream is None:
            self._stream, self._first = block.stream.name, block.start_index
            self._rate = float(block.stream.rate)
            n = max(1, int(round(self._watch_s * block.stream.rate)))
            self._rows = np.full((n, block.stream.n_channels), np.nan, dtype=np.float32)
        if block.stream.name != self._stream or self._rows is None:
            return
        at = block.start_index - self._first
        room = self._rows.shape[0] - at
        if room <= 0:
            self._finish(float(block.times[0]))
            return
        take = min(room, block.data.shape[0])
        self._rows[at : at + take] = block.data[:take]
        self._filled, self._last_time = at + take, float(block.times[take - 1])
        if at + take >= self._rows.shape[0]:
            self._finish(float(block.times[take - 1]))

    def finish(self) -> None:
        """The session ended: detect on what was kept, if the window never filled."""
        if not self._done and self._rows is not None:
            self._finish(self._last_time, self._filled)

    def _finish(self, host_time: float, rows_kept: int | None = None) -> None:
        from myoflow.analysis.mains import detect_mains

        self._done = True
        rows, self._rows = self._rows, None
        if rows is None:
            return
        found = detect_mains(rows[:rows_kept], self._rate)
        if found is not None:
            self._on_found(float(found), host_time)


def watch_unless_given(recorder: Any, filter_settings: dict[str, Any]) -> MainsWatch | None:
    """A :class:`MainsWatch` that stores what it finds in ``recorder``'s metadata
    (``update_metadata``: ``filter_settings`` with ``mains_hz`` and ``mains_source`` added), or
    None when ``filter_settings`` already holds a ``mains_hz`` (given by the user)."""
    if "mains_hz" in filter_settings:
        return None
    settings = dict(filter_settings)

    def found(hz: float, t: float) -> None:
        changed = {**settings, "mains_hz": hz, "mains_source": MAINS_SOURCE}
        recorder.update_metadata(time_s=t, filter_settings=changed)

    return MainsWatch(found)
