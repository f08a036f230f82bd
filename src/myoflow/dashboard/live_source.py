"""A live session for the dashboard: straps (or virtual ones) streaming in background threads.

:class:`LiveSource` runs :func:`myoflow.session.run_session` in its own thread
(``myoflow-dashboard-session``), which runs the ingest on its asyncio loop in another
(``myoflow-ingest``); the recorder writes from its own thread. The GUI thread only reads:
:attr:`analysis` (:meth:`~myoflow.analysis.live.LiveAnalysis.snapshot` and ``poll``),
:attr:`raw` and :meth:`statuses`, and sends commands that never wait for the radio or the disk:
start/stop recording (the file is created and finalised off the GUI thread), markers, a new MVC
calibration or exercise (the analysis is rebuilt and swapped in, see :class:`~.feed.Slot`).

:meth:`stop` ends the session: straps stopped, recording finalised, threads joined. A session
over virtual straps (with its synthetic truth) is built by :mod:`~myoflow.dashboard.virtual_source`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from myoflow._checks import check_positive
from myoflow.analysis.live import LiveAnalysis
from myoflow.dashboard.feed import MidSession, RawTap, Slot, StatusBoard
from myoflow.dashboard.model import StatusLine
from myoflow.exercises import get_exercise
from myoflow.stream import Event, Sink

if TYPE_CHECKING:
    from myoflow.session.run import OpenIngest

__all__ = ["LiveSource"]


class _Stop(Exception):
    """Raised from the session's tick to end it (run_session then stops the straps)."""


class LiveSource:
    """Streams straps for the dashboard (module docstring).

    Parameters
    ----------
    open_ingest
        ``open_ingest(sinks)``: an async context manager yielding a started ingest (as for
        :func:`~myoflow.session.run_session`).
    mvc
        MVC references by placement (None: % of session peak).
    exercise
        A name, alias or ``.toml`` path of :mod:`myoflow.exercises`.
    mains_hz
        Mains notches (50, 60 or None).
    mains_source
        How ``mains_hz`` was chosen (e.g. ``"given at dashboard"``); when set, recordings
        store both in ``filter_settings`` (``mains_hz``, ``mains_source``), which
        ``myoflow analyze`` then uses. None (a default): nothing is stored and analyze detects
        the frequency from the spectrum.
    seconds
        Stream this long on the ingest's clock, then stop on its own (None: until :meth:`stop`).
    window_s
        History kept for the display (s).
    contraction
        ``contraction(muscle, seconds) -> (emg (n,) uV, fs)`` for the MVC calibration; default:
        the last ``seconds`` of that muscle's raw EMG from the straps. The virtual straps pass
        their synthetic MVC trial.
    label
        What is streaming, for the status line (``"virtual straps"``, device names...).
    """

    kind = "live"

    def __init__(
        self,
        open_ingest: OpenIngest,
        *,
        mvc: Mapping[str, float] | None = None,
        exercise: str = "glute_bridge",
        mains_hz: float | None = 50.0,
        mains_source: str | None = None,
        seconds: float | None = None,
        window_s: float = 10.0,
        contraction: Callable[[str, float], tuple[np.ndarray, float]] | None = None,
        label: str = "straps",
        extra_sinks: Sequence[Sink | object] = (),
    ) -> None:
        self._open = open_ingest
        #: More sinks for the ingest (e.g. an LslSink); those with ``on_results`` also get each
        #: frame's rep results and cues from the window.
        self.extra_sinks = tuple(extra_sinks)
        self.mvc = dict(mvc) if mvc else None
        self.exercise = get_exercise(exercise).name
        self.mains_hz = mains_hz
        self.mains_source = mains_source
        self.seconds = None if seconds is None else check_positive(seconds, "seconds", "s")
        self.window_s = check_positive(window_s, "window_s", "s")
        self._contraction = contraction
        self.label = label
        self.board = StatusBoard()
        self.analysis: LiveAnalysis | None = None
        self.raw: RawTap | None = None
        self.generation = 0  # bumped whenever a new analysis replaces the old one
        self.streams: dict[str, Any] = {}
        self.ingest: Any = None
        self.error: BaseException | None = None
        self.finished = False
        self.markers: list[Event] = []
        self.recording: Path | None = None  # being written
        self.saved: list[Path] = []  # finalised by stop_recording / stop
        self.recording_error: Exception | None = None
        self._analysis = Slot()
        self._raw = Slot()
        self._rec = Slot()
        self._stop = threading.Event()
        self._closers: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # --- running ---------------------------------------------------------------------------
    def start(self, record: str | Path | None = None, subject_id: str = "") -> None:
        """Start streaming in the background (``record``: start recording to it at once)."""
        from myoflow.session.run import run_session

        pending = (record, subject_id) if record is not None else None

        def started(ingest: Any) -> None:
            self.ingest = ingest
            self.board.attach(ingest)
            if pending is not None:
                self.start_recording(*pending)

        def main() -> None:
            try:
                run_session(
                    self._open,
                    self.seconds,
                    [self.board, self._analysis, self._raw, self._rec, *self.extra_sinks],
                    late_sinks=self._late,
                    on_started=started,
                    on_tick=self._tick,
                    tick_s=0.05,
                )
            except _Stop:
                pass
            except BaseException as exc:  # shown in the status bar
                self.error = exc
            finally:
                self._close_recording(wait=True)
                self.finished = True

        self._thread = threading.Thread(target=main, name="myoflow-dashboard-session", daemon=True)
        self._thread.start()

    def _late(self, streams: dict[str, Any]) -> list[Any]:
        self.streams = dict(streams)
        self.raw = RawTap(streams, window_s=self.window_s + 2.0)
        self._raw.set(self.raw)
        self._swap_analysis()
        return []

    def _swap_analysis(self) -> None:
        analysis = LiveAnalysis(
            list(self.streams.values()),
            mvc=self.mvc,
            exercise=self.exercise,
            mains_hz=self.mains_hz,
            history_s=self.window_s,
        )
        self._analysis.set(analysis)
        with self._lock:
            self.analysis = analysis
            self.generation += 1

    def _tick(self) -> None:
        if self._stop.is_set():
            raise _Stop

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the straps, finalise any recording, join the threads (blocks until done)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for t in self._closers:
            t.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and not self.finished

    def statuses(self) -> list[Any]:
        """Latest :class:`~myoflow.devices.sinks.StrapStatus` of every strap."""
        return self.board.statuses()

    def status_lines(self) -> list[StatusLine]:
        """Extra lines: connecting, recording, errors."""
        lines = []
        if self.ingest is None and not self.finished:
            lines.append(StatusLine(self.label, "connecting", f"{self.label}: connecting...", False))
        tap = self._rec.target
        if tap is not None and tap.error is not None:
            lines.append(StatusLine("recording", "failed", f"recording failed: {tap.error}", True))
        elif self.recording is not None:
            lines.append(StatusLine("recording", "recording", f"recording to {self.recording}", False))
        elif self.recording_error is not None:
            lines.append(StatusLine("recording", "failed", f"recording failed: {self.recording_error}", True))
        elif self.saved:
            lines.append(StatusLine("recording", "saved", f"saved {self.saved[-1]}", False))
        if self.error is not None:
            text = f"session stopped: {self.error or type(self.error).__name__}"
            lines.append(StatusLine("error", "failed", text, True))
        elif self.finished:
            lines.append(StatusLine(self.label, "stopped", f"{self.label}: stopped", False))
        return lines

    # --- commands from the GUI -------------------------------------------------------------
    def start_recording(self, path: str | Path, subject_id: str = "", overwrite: bool = False) -> Path:
        """Record from now on to ``path`` (the file is created on the ingest's thread; its folder
        is created here). An existing ``path`` is refused unless ``overwrite``."""
        from myoflow.session.recorder_sink import RecorderSink
        from myoflow.storage.schema import SessionMetadata

        if self.ingest is None:
            raise ValueError("start_recording: the straps are not connected yet")
        if self.recording is not None:
            raise ValueError(f"start_recording: already recording to {self.recording}")
        path = Path(path)
        if path.suffix != ".h5":
            raise ValueError(f"recording file name must end in .h5, got {str(path)!r}")
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; not overwritten (choose another name)")
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = SessionMetadata(
            subject_id=str(subject_id),
            exercise=self.exercise,
            mvc_references=dict(self.mvc or {}),
            notes="myoflow dashboard",
            filter_settings={"mains_hz": self.mains_hz, "mains_source": self.mains_source}
            if self.mains_source and self.mains_hz
            else {},
        )
        recorder = RecorderSink(path, meta, overwrite=overwrite)
        recorder.attach(self.ingest)
        if self.mvc:
            recorder.on_event(self._calibration_event())
        from myoflow.session.mains_watch import watch_unless_given

        watch = watch_unless_given(recorder, meta.filter_settings)  # not given: detected
        self._rec.set(MidSession(recorder, watch))
        self.recording = path
        return path

    def stop_recording(self) -> None:
        """Stop recording; the file is finalised in a background thread (see :attr:`saved`)."""
        self._close_recording(wait=False)

    def _close_recording(self, wait: bool) -> None:
        tap = self._rec.set(None)
        if tap is None:
            return
        path, self.recording = self.recording, None

        def close() -> None:
            try:
                if tap.watch is not None and tap.error is None:
                    tap.watch.finish()  # a recording under a minute: detected from all of it
                tap.recorder.close(finalise=True)
                if tap.error is not None:
                    raise tap.error
                self.saved.append(Path(path))
            except Exception as exc:  # shown in the status bar
                self.recording_error = exc

        if wait:
            close()
        else:
            t = threading.Thread(target=close, name="myoflow-dashboard-finalise", daemon=True)
            self._closers.append(t)
            t.start()

    def marker(self, label: str = "marker") -> Event | None:
        """Put a marker event into the recording (and :attr:`markers`) at the current time."""
        if self.ingest is None:
            return None
        event = Event(float(self.ingest.clock()), "marker", str(label), None, {})
        self.markers.append(event)
        self._rec.on_event(event)
        return event

    def set_exercise(self, exercise: str) -> None:
        """Analyse as ``exercise`` from now on (the analysis restarts)."""
        self.exercise = get_exercise(exercise).name
        if self.streams:
            self._swap_analysis()

    def new_set(self) -> None:
        """Start a new set: the analysis restarts (rep numbers from 1); a recording gets a
        ``set`` event and goes on."""
        if self.streams:
            self._swap_analysis()
        if self.ingest is not None:
            self._rec.on_event(Event(float(self.ingest.clock()), "set", "next set", None, {}))

    def set_mvc(self, mvc: Mapping[str, float]) -> None:
        """Use new MVC references (the analysis restarts; a recording stores them)."""
        self.mvc = {k: float(v) for k, v in mvc.items()}
        if self.streams:
            self._swap_analysis()
        tap = self._rec.target
        if tap is not None:
            tap.recorder.update_metadata(mvc_references=dict(self.mvc))
            tap.on_event(self._calibration_event())

    def _calibration_event(self) -> Event:
        when = float(self.ingest.clock()) if self.ingest is not None else 0.0
        data = {"method": "myoflow dashboard MVC wizard", "mvc_references": dict(self.mvc or {})}
        return Event(when, "calibration", "mvc", None, data)

    def contraction(self, muscle: str, seconds: float) -> tuple[np.ndarray, float]:
        """The EMG (uV, ``(n,)``) and rate (Hz) of ``muscle`` over the last ``seconds``."""
        if self._contraction is not None:
            return self._contraction(muscle, seconds)
        if self.raw is None:
            raise ValueError("MVC calibration needs streaming EMG: connect the straps first")
        stream, _ = self.raw.channels.get(muscle, (None, 0))
        if stream is None:
            raise ValueError(f"no EMG channel is placed on {muscle!r}; known: {sorted(self.raw.channels)}")
        _, values = self.raw.window(muscle, seconds)
        return values[np.isfinite(values)], self.raw.rates[stream]

    def muscles(self) -> tuple[str, ...]:
        """The EMG placements being analysed."""
        return self.analysis.muscles if self.analysis is not None else ()
