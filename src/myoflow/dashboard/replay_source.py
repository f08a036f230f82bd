"""A recording played into the dashboard as if its straps were streaming.

:class:`ReplaySource` owns a :class:`~myoflow.storage.replay.Replayer` in its own thread
(``myoflow-dashboard-replay``), which reads the file and feeds the live analysis, so the GUI
thread never waits for the disk. The replayer is paced by a clock that the controls steer:
pause freezes it, speed scales it. Seeking re-creates the replayer and the analysis and feeds
everything up to the new position at full speed (the rep counter and badges stay right).
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Any

from myoflow._checks import check_positive
from myoflow.analysis.live import LiveAnalysis
from myoflow.dashboard.feed import RawTap
from myoflow.dashboard.model import StatusLine, mvc_covers
from myoflow.exercises import DEFAULT_EXERCISE, exercise_names, get_exercise
from myoflow.session.run import FanOut

__all__ = ["PlaybackClock", "ReplaySource"]


class PlaybackClock:
    """Seconds that run ``speed`` times as fast as :func:`time.monotonic`, and not when paused."""

    def __init__(self, speed: float = 1.0, playing: bool = True) -> None:
        self.speed = check_positive(speed, "speed", "x real time")
        self._base = 0.0
        self._since: float | None = time.monotonic() if playing else None

    def __call__(self) -> float:
        if self._since is None:
            return self._base
        return self._base + (time.monotonic() - self._since) * self.speed

    @property
    def playing(self) -> bool:
        return self._since is not None

    def pause(self) -> None:
        self._base, self._since = self(), None

    def play(self) -> None:
        if self._since is None:
            self._since = time.monotonic()

    def restart(self) -> None:
        """Back to 0 s (still playing or paused as before)."""
        self._base = 0.0
        if self._since is not None:
            self._since = time.monotonic()

    def set_speed(self, speed: float) -> None:
        speed = check_positive(speed, "speed", "x real time")
        was = self.playing
        self.pause()
        self.speed = speed
        if was:
            self.play()


class ReplaySource:
    """Plays ``path`` into a live analysis (module docstring).

    Parameters
    ----------
    path
        A myoflow recording (``.h5``).
    speed
        Multiple of real time.
    exercise
        Analyse as this exercise (default: the recording's, else glute bridge).
    mains_hz
        Mains notches of the analysis.
    window_s
        History kept for the display (s).
    playing
        Start playing at once (else paused at the start).
    """

    kind = "replay"

    def __init__(
        self,
        path: str | Path,
        *,
        speed: float = 1.0,
        exercise: str | None = None,
        mains_hz: float | None = 50.0,
        window_s: float = 10.0,
        playing: bool = True,
    ) -> None:
        from myoflow.storage.reader import open_recording

        self.path = Path(path)
        self.clock = PlaybackClock(speed, playing)
        self.window_s = check_positive(window_s, "window_s", "s")
        self.mains_hz = mains_hz
        self._rec = open_recording(self.path)
        meta = self._rec.metadata
        self.streams = {name: view.info for name, view in self._rec.streams.items()}
        wanted = exercise or (meta.exercise if meta.exercise in exercise_names() else DEFAULT_EXERCISE)
        self.exercise = get_exercise(wanted).name
        self.label = self.path.name
        self.analysis: LiveAnalysis | None = None
        self.raw: RawTap | None = None
        self.generation = 0
        self._fan: FanOut | None = None
        self.mvc: dict[str, float] | None = None
        self._new_analysis()
        self.mvc = meta.mvc_references if mvc_covers(meta.mvc_references, self.analysis.muscles) else None
        if self.mvc is not None:
            self._new_analysis()
        self.error: BaseException | None = None
        self.finished = False  # thread ended
        self.ended = False  # everything delivered
        self.position_s = 0.0
        # True once the replay thread has gone a turn without delivering (paused or ended):
        # position_s then holds. A poll under way when pause is pressed still finishes first.
        self.holding = False
        self.duration_s = 0.0
        self.recording = None
        self.saved: list[Path] = []
        self.markers: list[Any] = []
        self._commands: queue.Queue[tuple[str, float]] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _new_analysis(self) -> None:
        self.analysis = LiveAnalysis(
            list(self.streams.values()),
            mvc=self.mvc,
            exercise=self.exercise,
            mains_hz=self.mains_hz,
            history_s=self.window_s,
        )
        self.raw = RawTap(self.streams, window_s=self.window_s + 2.0)
        self._fan = FanOut([self.analysis, self.raw])
        self.generation += 1

    # --- the replay thread -------------------------------------------------------------------
    def start(self, record: Any = None, subject_id: str = "") -> None:
        """Start the replay thread (``record`` is not available in replay)."""
        if record is not None:
            raise ValueError("a replay cannot be recorded again; omit --record with --replay")
        self.clock.restart()  # the file starts playing now, not when this source was made
        self._thread = threading.Thread(target=self._main, name="myoflow-dashboard-replay", daemon=True)
        self._thread.start()

    def _main(self) -> None:
        from myoflow.storage.replay import Replayer

        try:
            replayer = Replayer(self._rec, speed=1.0, clock=self.clock)
            self.duration_s = replayer.duration
            while not self._stop.is_set():
                while not self._commands.empty():
                    name, value = self._commands.get_nowait()
                    if name == "seek":
                        replayer = self._seek(Replayer, value)
                delivering = self.clock.playing and not replayer.done
                if delivering:
                    replayer.poll(self._fan)
                self.position_s = replayer.position - replayer.t_start
                self.ended = replayer.done
                self.holding = not delivering  # nothing more arrives until play or a seek
                self._stop.wait(0.004 if delivering else 0.05)  # idle when paused or ended
        except BaseException as exc:  # shown in the status bar
            self.error = exc
        finally:
            self._rec.close()
            self.finished = True

    def _seek(self, make: Any, to_s: float) -> Any:
        was = self.clock.playing
        self.clock.pause()
        self._new_analysis()
        replayer = make(self._rec, speed=1.0, clock=self.clock)
        target = min(max(0.0, to_s), replayer.duration)
        while replayer.position - replayer.t_start < target - 1e-9 and not replayer.done:
            replayer.step(self._fan, min(0.5, target - (replayer.position - replayer.t_start)))
        if was:
            self.clock.play()
        return replayer

    # --- controls (any thread) ---------------------------------------------------------------
    def play(self) -> None:
        self.clock.play()

    def pause(self) -> None:
        self.clock.pause()

    def set_speed(self, speed: float) -> None:
        self.clock.set_speed(speed)

    def seek(self, seconds: float) -> None:
        """Jump to ``seconds`` from the start of the recording."""
        self._commands.put(("seek", float(seconds)))

    def stop(self, timeout: float = 30.0) -> None:
        """End the replay thread and close the file."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        elif not self.finished:
            self._rec.close()
            self.finished = True

    @property
    def running(self) -> bool:
        return self._thread is not None and not self.finished

    def statuses(self) -> list[Any]:
        return []

    def status_lines(self) -> list[StatusLine]:
        state = "ended" if self.ended else ("playing" if self.clock.playing else "paused")
        text = (
            f"replay {self.label}: {self.position_s:5.1f} / {self.duration_s:.1f} s, "
            f"{self.clock.speed:g}x, {state}"
        )
        lines = [StatusLine("replay", state, text, False)]
        if self.error is not None:
            lines.append(StatusLine("error", "failed", f"replay stopped: {self.error}", True))
        return lines

    def muscles(self) -> tuple[str, ...]:
        return self.analysis.muscles if self.analysis is not None else ()

    # live-only commands: refused with a reason the GUI shows
    def start_recording(self, *_args: Any, **_kwargs: Any) -> None:
        raise ValueError("recording is not available while replaying a file")

    def stop_recording(self) -> None:
        """Nothing to stop in a replay."""

    def marker(self, label: str = "marker") -> None:
        """Markers are not written into a replayed file."""
        return None

    def set_exercise(self, exercise: str) -> None:
        self.exercise = get_exercise(exercise).name
        self.seek(self.position_s)

    def set_mvc(self, mvc: Any) -> None:
        self.mvc = dict(mvc)
        self.seek(self.position_s)

    def contraction(self, muscle: str, seconds: float) -> Any:
        raise ValueError("MVC calibration needs live straps (the replay uses the file's references)")
