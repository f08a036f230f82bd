"""The dashboard window: the panels around the plots, refreshed from a QTimer.

Every ``1/fps`` s :meth:`DashboardWindow.refresh` copies the session's state out
(:meth:`~myoflow.analysis.live.LiveAnalysis.snapshot`, ``poll``, strap statuses, one raw lane),
lets the :class:`~myoflow.dashboard.model.DashboardModel` decide what to draw, and hands the
:class:`~myoflow.dashboard.model.Frame` to the widgets. Nothing here waits for the radio or the
disk: the session runs in its own threads. :meth:`shutdown` stops the session (straps stopped,
recording finalised) before the widgets go.

Recording never overwrites a file without a confirmation (:meth:`DashboardWindow.confirm`):
an empty file field gets a new name from subject, exercise and time
(:func:`~myoflow.dashboard.naming.recording_path`). A new analysis (next set, another exercise,
a new MVC calibration) keeps the finished set as a :class:`~myoflow.dashboard.sets.SetSummary`.
Keyboard shortcuts: :data:`SHORTCUTS`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtWidgets

from myoflow._checks import check_range
from myoflow.analysis.live_after_set import AfterSetWatch, after_set_text
from myoflow.dashboard.actions import SHORTCUTS, WindowActions
from myoflow.dashboard.controls import Controls
from myoflow.dashboard.model import DashboardModel, Frame, StatusLine, status_line
from myoflow.dashboard.panels import CueBanner, RepPanel, StatusPanel
from myoflow.dashboard.plots import PlotsView, phase_legend
from myoflow.dashboard.sets import SetSummary
from myoflow.dashboard.source import DashboardSource

__all__ = ["SHORTCUTS", "DashboardWindow"]

_IDLE_MS = 250  # timer interval while nothing streams
_FIGURES_EVERY_S = 0.5  # the display's own figures (fps, ms per frame) change this often


class DashboardWindow(WindowActions, QtWidgets.QMainWindow):
    """The live biofeedback dashboard over a session ``source``
    (:class:`~myoflow.dashboard.live_source.LiveSource` or
    :class:`~myoflow.dashboard.replay_source.ReplaySource`).

    Parameters
    ----------
    source
        Where the data comes from (started by the caller).
    fps
        Refresh rate of the timer (30-120 Hz).
    window_s
        Seconds shown on the lanes.
    contraction_s
        Length of each MVC contraction in the wizard (s).
    """

    def __init__(
        self,
        source: DashboardSource,
        *,
        fps: float = 60.0,
        window_s: float = 10.0,
        contraction_s: float = 4.0,
        record_folder: str | Path = ".",
        sound: bool = False,
        tone: bool = True,
        view: str = "desk",
    ) -> None:
        super().__init__()
        self.setWindowTitle(f"myoflow dashboard: {source.label}")
        self.source = source
        self.fps = check_range(fps, "fps", 1.0, 240.0, "Hz")
        self.contraction_s = contraction_s
        self.model = DashboardModel(source.exercise, window_s=window_s)
        self.frame: Frame | None = None
        self.frames = 0
        self.frame_ms: deque[float] = deque(maxlen=600)
        self._stamps: deque[float] = deque(maxlen=120)
        self._figures_at = -1.0
        self._figures = "display: starting"
        self._generation = -1
        self._raw_muscle = ""
        self.wizard: Any = None
        self.messages: list[str] = []
        self.record_folder = str(record_folder)
        #: Finished sets, oldest first (kept across exercise / MVC changes and "next set").
        self.sets: list[SetSummary] = []
        self._set_reason = "new analysis"
        #: Relaxation after the set on the live analysis (the offline rule, analysis.live_after_set).
        self.after_set = AfterSetWatch()
        #: The sound cues (None: sound off or unavailable, see :attr:`messages`).
        self.sounds: Any = None
        if sound:
            self._open_sound(tone)
        self._build()
        self._shortcuts()
        self.set_view(view)
        self.timer = QtCore.QTimer(self)
        self.timer.setTimerType(QtCore.Qt.PreciseTimer)
        self._interval = max(1, int(1000.0 / self.fps))  # whole ms, rounded down: never below fps
        self._activity: tuple | None = None
        self._ended = False
        self._active_at = time.monotonic()
        self.timer.setInterval(self._interval)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    def _build(self) -> None:
        central = QtWidgets.QWidget()
        outer = QtWidgets.QVBoxLayout(central)
        self.cue = CueBanner()
        outer.addWidget(self.cue)
        body = QtWidgets.QHBoxLayout()
        left = QtWidgets.QVBoxLayout()
        self.plots = PlotsView(self.model.window_s)
        legend = QtWidgets.QLabel(phase_legend())
        left.addWidget(self.plots, 1)
        left.addWidget(legend)
        right = QtWidgets.QVBoxLayout()
        self.reps = RepPanel(5)
        self.status = StatusPanel(5)
        self.controls = Controls(self.source.kind, self.source.exercise, folder=self.record_folder)
        self.set_list = QtWidgets.QLabel("")
        self.set_list.setWordWrap(True)
        scroll = QtWidgets.QScrollArea()  # the controls scroll on small screens
        scroll.setWidget(self.controls)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.NoFrame)
        self.control_scroll = scroll
        right.addWidget(self.reps)
        right.addWidget(self.status)
        right.addWidget(self.set_list)
        right.addWidget(scroll, 1)
        side = QtWidgets.QWidget()
        side.setLayout(right)
        side.setFixedWidth(430)
        body.addLayout(left, 1)
        body.addWidget(side)
        outer.addLayout(body, 1)
        from myoflow.dashboard.mat import MatView

        self.desk = central
        self.mat = MatView()
        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(self.desk)
        self.stack.addWidget(self.mat)
        self.setCentralWidget(self.stack)
        c = self.controls
        c.record_toggled.connect(self._record)
        c.marker_requested.connect(self._marker)
        c.exercise_changed.connect(self._exercise)
        c.raw_changed.connect(self._raw)
        c.calibrate_requested.connect(self.open_wizard)
        c.play_toggled.connect(lambda on: self.source.play() if on else self.source.pause())
        c.speed_changed.connect(lambda s: self.source.set_speed(s))
        c.restart_requested.connect(lambda: self.source.seek(0.0))
        if self.source.kind == "replay":
            c.show_speed(self.source.clock.speed)
        c.seek_requested.connect(lambda f: self.source.seek(f * max(self.source.duration_s, 0.0)))
        c.connect_requested.connect(self._connect_devices)

    # --- the frame -----------------------------------------------------------------------------
    def _idle(self) -> bool:
        """True when nothing arrived since the last frame (no block, no new analysis, same raw
        lane and view): then the frame is skipped and, after 0.5 s, the timer slows to 4 Hz so
        a finished or paused session costs next to no CPU; the first new block restores it."""
        source = self.source
        raw = source.raw
        key = (source.generation, None if raw is None else raw.received, self._raw_muscle, self.view)
        now = time.monotonic()
        if key != self._activity:
            self._activity, self._active_at = key, now
            if self.timer.interval() != self._interval:
                self.timer.setInterval(self._interval)
            return False
        if now - self._active_at > 0.5 and self.timer.interval() != _IDLE_MS:
            self.timer.setInterval(_IDLE_MS)
        return self.frame is not None

    def refresh(self) -> Frame | None:
        """Pull the session's state and draw one frame (the timer calls this)."""
        started = time.perf_counter()
        source = self.source
        analysis = source.analysis
        ended = bool(getattr(source, "ended" if source.kind == "replay" else "finished", False))
        if ended != self._ended:
            self._show_ended(ended)
        if analysis is not None and self._idle():
            extra = [
                *source.status_lines(),
                *(StatusLine("note", "info", m, True) for m in self.messages[-2:]),
            ]
            lines = [*(status_line(st) for st in source.statuses()), *extra]
            ms = self.frame_ms[-1] if self.frame_ms else 0.0
            self.status.show_status(
                lines,
                f"display: idle, nothing new (last {self.measured_fps:.0f} fps, {ms:.1f} ms per frame)",
            )
            self.controls.show_recording(getattr(source, "recording", None) is not None)
            return self.frame
        extra = [*source.status_lines(), *(StatusLine("note", "info", m, True) for m in self.messages[-2:])]
        if analysis is None:
            self.status.show_status(extra, "waiting for data")
            return None
        if source.generation != self._generation:
            self._generation = source.generation
            self._close_set()
            self.model.reset()
            if self.sounds is not None:
                self.sounds.reset()
            self.model.set_exercise(source.exercise)
            snap = analysis.snapshot()
            if snap.muscles != self.plots.muscles:
                self.plots.build(snap.muscles, snap.unit, self.model.target_band, snap.angle_label or "angle")
                self.controls.set_muscles(snap.muscles)
        snap = analysis.snapshot()
        polled = analysis.poll()
        exercise = getattr(analysis, "exercise_def", None)  # a LiveAnalysis (test doubles: none)
        after = self.after_set.update(analysis) if exercise is not None else None
        if exercise is not None and exercise.metrics.relaxation == "after_set" and analysis.results:
            extra = [*extra, StatusLine("after set", "info", after_set_text(after), False)]
        for sink in getattr(source, "extra_sinks", ()):
            if polled and hasattr(sink, "on_results"):
                sink.on_results(polled)  # e.g. rep and cue markers over LSL
        raw = None
        if self._raw_muscle and source.raw is not None and self._raw_muscle in source.raw.channels:
            raw = (self._raw_muscle, *source.raw.window(self._raw_muscle, self.model.window_s))
        feedback = None
        if source.raw is not None:  # the lower-lag level for the mat bar and the tone
            mvc = getattr(source, "mvc", None) if "MVC" in snap.unit else None
            feedback = {m: source.raw.feedback.level_pct(m, mvc) for m in snap.muscles}
        frame = self.model.frame(snap, polled, source.statuses(), raw, extra, feedback)
        self.frame = frame
        if self.view == "mat":  # draw only what is on screen
            self.mat.show_frame(frame)
        else:
            self.plots.show_frame(frame)
        self.cue.show_cue(frame.cue_text, frame.cue_kinds)
        if self.sounds is not None:
            self.sounds.on_frame(frame)
        self.reps.show_reps(frame.rep_count, frame.phase, frame.badges)
        now = time.perf_counter()
        self._stamps.append(now)
        if now - self._figures_at >= _FIGURES_EVERY_S:  # changing text re-lays the panel out
            self._figures_at = now
            ms = self.frame_ms[-1] if self.frame_ms else 0.0
            self._figures = f"display: {self.measured_fps:.0f} fps, {ms:.1f} ms per frame update"
            self.controls.show_settings(frame.delay_ms, self.model.window_s, self.measured_fps, frame.unit)
        self.status.show_status(frame.statuses, self._figures)
        self.controls.show_recording(getattr(source, "recording", None) is not None)
        if source.kind == "replay" and source.duration_s > 0:
            self.controls.show_position(source.position_s / source.duration_s)
        self.frames += 1
        self.frame_ms.append((time.perf_counter() - started) * 1000.0)
        return frame

    @property
    def measured_fps(self) -> float:
        """Frames per second over the last ~2 s of refreshes."""
        s = self._stamps
        return (len(s) - 1) / (s[-1] - s[0]) if len(s) > 1 and s[-1] > s[0] else 0.0

    def _show_ended(self, ended: bool) -> None:
        """Say in the title (" (ended)"), the status and the replay button whether the session
        has ended; a replay stops its clock there and offers Restart (a seek clears it)."""
        self._ended = ended
        title = self.windowTitle().removesuffix(" (ended)")
        self.setWindowTitle(title + " (ended)" if ended else title)
        if self.source.kind == "replay":
            if ended:
                self.source.pause()
                self._say("the replay has ended: Restart plays it again, or seek")
            self.controls.show_ended(ended, self.source.clock.playing)
        elif ended:
            self._say("the session has ended: close the window (the summary follows in the terminal)")

    # --- commands ------------------------------------------------------------------------------
    def _say(self, text: str) -> None:
        self.messages.append(text)

    def _marker(self) -> None:
        event = self.source.marker("marker")
        self._say(f"marker at {event.time:.1f} s" if event is not None else "marker: not streaming yet")

    def _exercise(self, exercise: str) -> None:
        if exercise != self.source.exercise:
            self._set_reason = f"exercise changed to {exercise}"
            self.source.set_exercise(exercise)

    def _raw(self, muscle: str) -> None:
        self._raw_muscle = muscle

    def open_wizard(self) -> Any:
        """Open the MVC calibration wizard for the session's muscles (non-modal)."""
        from myoflow.dashboard.wizard import MvcWizard

        muscles = self.source.muscles()
        if not muscles:
            self._say("MVC calibration: no EMG streaming yet")
            return None
        self.wizard = MvcWizard(self.source, muscles, self.contraction_s, parent=self)
        self.wizard.applied.connect(self._mvc_applied)
        self.wizard.open()
        return self.wizard

    def _mvc_applied(self, _refs: Any) -> None:
        self._set_reason = "MVC calibration"
        self._say("MVC references applied: % MVC from now on")

    def _connect_devices(self, seen: list[Any]) -> None:
        """Ask where each EMG channel sits (:class:`~.placement_dialog.PlacementDialog`), then
        stream the chosen scanned straps instead of the current session."""
        from myoflow.dashboard.live_source import LiveSource
        from myoflow.dashboard.placement_dialog import PlacementDialog
        from myoflow.devices.ingest import Ingest, StrapConfig
        from myoflow.session.run import ingest_of

        dialog = PlacementDialog(seen, parent=self)
        self.placement_dialog = dialog
        if dialog.exec() != QtWidgets.QDialog.Accepted:
            return
        placed = dialog.placements()
        configs = [
            StrapConfig(d.profiles[0], device=d.address, placements=placed.get(d.address) or None)
            for d in seen
        ]
        old = self.source
        self.source = LiveSource(
            lambda sinks: ingest_of(lambda: Ingest(configs, sinks)),
            exercise=old.exercise,
            label=", ".join(d.name or d.address for d in seen),
        )
        self._generation = -1
        threading.Thread(target=old.stop, name="myoflow-dashboard-stop-old", daemon=True).start()
        self.source.start()

    # --- teardown ------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the timer and the session (straps stopped, recording finalised); blocks."""
        self.timer.stop()
        if self.wizard is not None:
            self.wizard.reject()
        if self.sounds is not None:
            self.sounds.player.close()
            self.sounds = None
        self.source.stop()

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        self.shutdown()
        super().closeEvent(event)
