"""The contract between the dashboard window and what feeds it: :class:`DashboardSource`.

Two classes fulfil it: :class:`~myoflow.dashboard.live_source.LiveSource` (straps or virtual
straps, ``kind == "live"``) and :class:`~myoflow.dashboard.replay_source.ReplaySource` (a file,
``kind == "replay"``), which also fulfils :class:`ReplayControls`. The window, the app and the
MVC wizard use only what is declared here; ``tests/dashboard/test_source_contract.py`` checks both
classes against it. A leaf module: it imports nothing of myoflow at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from myoflow.analysis.live import LiveAnalysis
    from myoflow.dashboard.feed import RawTap
    from myoflow.dashboard.model import StatusLine
    from myoflow.devices.sinks import StrapStatus
    from myoflow.stream import Event

__all__ = ["DashboardSource", "ReplayControls"]


@runtime_checkable
class DashboardSource(Protocol):
    """A session the dashboard shows, running in background threads.

    Attributes
    ----------
    kind
        ``"live"`` or ``"replay"`` (a replay also has :class:`ReplayControls`).
    label
        What is streaming, for the title and status line.
    exercise, mains_hz, mvc
        The analysis' exercise, mains notches (Hz or None) and MVC references by placement
        (uV; None: % of session peak).
    analysis, raw, generation
        The live analysis, the raw-EMG ring buffers (None before data flows) and a counter
        bumped whenever a new analysis replaces the old one (the window then starts afresh).
    error, finished
        What stopped the session (else None); True once its thread has ended.
    recording, saved, markers
        The file being recorded (None), files finalised so far, markers placed.
    """

    kind: str
    label: str
    exercise: str
    mains_hz: float | None
    mvc: dict[str, float] | None
    analysis: LiveAnalysis | None
    raw: RawTap | None
    generation: int
    error: BaseException | None
    finished: bool
    recording: Path | None
    saved: list[Path]
    markers: list[Event]

    def start(self, record: str | Path | None = None, subject_id: str = "") -> None:
        """Start the background thread (recording to ``record`` from the start when given)."""
        ...

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the session (finalising any recording) and join the thread."""
        ...

    @property
    def running(self) -> bool:
        """True while the background thread runs."""
        ...

    def statuses(self) -> list[StrapStatus]:
        """The latest status of every strap (none for a replay)."""
        ...

    def status_lines(self) -> list[StatusLine]:
        """Lines for the status panel."""
        ...

    def muscles(self) -> tuple[str, ...]:
        """The EMG placements being analysed."""
        ...

    def start_recording(self, path: str | Path, subject_id: str = "", overwrite: bool = True) -> Path | None:
        """Record from now on (``ValueError`` with the reason when the source cannot)."""
        ...

    def stop_recording(self) -> None:
        """Finalise the recording under way, if any."""
        ...

    def marker(self, label: str = "marker") -> Event | None:
        """Place a marker now (None when the source keeps none)."""
        ...

    def set_exercise(self, exercise: str) -> None:
        """Analyse as ``exercise`` from now on."""
        ...

    def set_mvc(self, mvc: Mapping[str, float]) -> None:
        """Use these MVC references (uV by placement) from now on."""
        ...

    def contraction(self, muscle: str, seconds: float) -> tuple[np.ndarray, float]:
        """``(emg (n,) uV, fs Hz)`` of a calibration contraction of ``muscle`` (``ValueError``
        when the source has none)."""
        ...


@runtime_checkable
class ReplayControls(DashboardSource, Protocol):
    """A source that plays a file: position, duration and the transport buttons."""

    position_s: float
    duration_s: float

    def play(self) -> None:
        """Resume playing."""
        ...

    def pause(self) -> None:
        """Hold at the current position."""
        ...

    def set_speed(self, speed: float) -> None:
        """Play at ``speed`` times real time."""
        ...

    def seek(self, seconds: float) -> None:
        """Jump to ``seconds`` from the start of the recording."""
        ...
