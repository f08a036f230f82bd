"""The window's user commands: recording without overwrites, sets, sound, views, shortcuts.

:class:`WindowActions` is mixed into :class:`~myoflow.dashboard.window.DashboardWindow`; its
methods use the window's ``source``, ``controls``, ``model``, ``frame``, ``sounds``, ``stack``,
``mat``, ``plots``, ``desk``, ``set_list``, ``sets`` and ``_say``. Kept apart so the window
module holds the frame loop and the layout only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore, QtWidgets

from myoflow.analysis.live_after_set import after_set_text
from myoflow.dashboard.naming import recording_path
from myoflow.dashboard.sets import summarize_set

if TYPE_CHECKING:
    from myoflow.dashboard.source import DashboardSource

__all__ = ["SHORTCUTS", "WindowActions"]

#: Keyboard shortcut -> what it does (also shown by F1). Buttons never hold the focus, so these
#: always reach the window (a text field being typed in keeps its letters).
SHORTCUTS: dict[str, str] = {
    "R": "start / stop recording",
    "M": "marker",
    "N": "next set (the finished set is kept in the set list)",
    "V": "mat view (for 3 m) / desk view",
    "S": "sound on / off (mute)",
    "+ / -": "louder / softer",
    "F11": "full screen on / off",
    "F1": "this help",
}


class WindowActions:
    """Commands of the dashboard window (module docstring)."""

    source: DashboardSource
    controls: Any
    model: Any
    frame: Any
    sounds: Any
    sets: list
    view: str
    after_set: Any

    def _close_set(self) -> None:
        """Keep the finished set's reps as a summary (the analysis is being replaced)."""
        if self.model.results:
            after = self.after_set.finish()  # the analysis that ran the set (the offline rule)
            summary = summarize_set(
                self.model.results,
                self.model.exercise,
                len(self.sets) + 1,
                self._set_reason,
                after_set_text(after) if after else "",
            )
            self.sets.append(summary)
            self.set_list.setText("\n".join(s.text for s in self.sets[-4:]))
            self.show_set_summary(summary)
        self._set_reason = "new analysis"

    def show_set_summary(self, summary: Any) -> None:
        """The set summary screen: the set's figures and one line per rep, over the window
        (non-modal; Enter, Escape or the button close it)."""
        box = QtWidgets.QMessageBox(self)  # type: ignore[call-overload]
        box.setWindowTitle(f"set {summary.index} done")
        box.setText(summary.text)
        lines = [*summary.rep_lines, *([summary.after_set] if summary.after_set else [])]
        box.setInformativeText("\n".join(lines) or "no full reps")
        box.setModal(False)
        box.open()
        self.summary_box = box

    def confirm(self, question: str) -> bool:
        """Ask a yes/no question; "No" is the default (Enter or Escape keep things as they are)."""
        buttons = QtWidgets.QMessageBox.Yes | QtWidgets.QMessageBox.No
        answer = QtWidgets.QMessageBox.question(self, "myoflow", question, buttons, QtWidgets.QMessageBox.No)
        return answer == QtWidgets.QMessageBox.Yes

    def _record(self, on: bool, folder: str, name: str, subject: str) -> None:
        try:
            if not on:
                self.source.stop_recording()
                return
            if name:
                path = Path(folder or ".") / name
                path = path if path.suffix == ".h5" else path.with_name(path.name + ".h5")
            else:
                path = recording_path(folder or ".", subject, self.source.exercise)
            overwrite = False
            if path.exists():
                if not self.confirm(f"{path} exists. Overwrite it? Its recording will be lost."):
                    self._say(f"not recorded: {path} exists (leave the file field empty for a new name)")
                    self.controls.show_recording(False, force=True)
                    return
                overwrite = True
            self.source.start_recording(path, subject, overwrite=overwrite)
            self._say(f"recording to {path}")
        except (ValueError, OSError) as exc:
            self._say(str(exc))
            self.controls.show_recording(False, force=True)

    def toggle_recording(self) -> None:
        """Start or stop recording, as the button does (shortcut R)."""
        if self.source.kind == "live":
            self.controls.record_button.click()

    def next_set(self) -> None:
        """End the set: keep its summary, restart the analysis (shortcut N)."""
        self._set_reason = "next set"
        if hasattr(self.source, "new_set"):
            self.source.new_set()
        if self.sounds is not None:
            self.sounds.set_done(self.frame.newest_s if self.frame is not None else None)

    def _open_sound(self, tone: bool) -> None:
        from myoflow.dashboard.sound import FrameSounds
        from myoflow.feedback.player import SoundPlayer, sound_problem

        problem = sound_problem()
        if problem is not None:
            self._say(problem)
            return
        try:
            player = SoundPlayer()
        except Exception as exc:  # the device refused the stream: say so, keep the window
            self._say(f"no sound: {exc}")
            return
        self.messages += player.notes
        self.sounds = FrameSounds(player, tone=tone)

    def toggle_mute(self) -> None:
        """Sound on / off (S)."""
        if self.sounds is None:
            self._say("sound is off (start with --sound, or no audio device)")
            return
        self.sounds.set_muted(not self.sounds.muted)
        self._say("sound muted" if self.sounds.muted else "sound on")

    def change_volume(self, step: float) -> None:
        """Louder (+) or softer (-) by ``step`` (0-1 scale)."""
        if self.sounds is not None:
            mixer = self.sounds.player.mixer
            self.sounds.set_volume(mixer.volume + step)
            self._say(f"volume {100 * mixer.volume:.0f} %")

    def _shortcuts(self) -> None:
        from PySide6 import QtGui

        actions = {
            "R": self.toggle_recording,
            "M": self._marker,
            "N": self.next_set,
            "S": self.toggle_mute,
            "V": self.toggle_view,
            "+": lambda: self.change_volume(0.1),
            "=": lambda: self.change_volume(0.1),
            "-": lambda: self.change_volume(-0.1),
            "F11": self.toggle_full_screen,
            "F1": self.show_help,
        }
        self._shortcut_objects = []
        for key, slot in actions.items():
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(key), self)
            shortcut.setContext(QtCore.Qt.WindowShortcut)
            shortcut.activated.connect(slot)
            self._shortcut_objects.append(shortcut)

    def set_view(self, view: str) -> None:
        """``"desk"`` (lanes, badges, controls: the coach's view) or ``"mat"`` (big bar, phase,
        reps, verdict, cue: readable from 3 m)."""
        if view not in ("desk", "mat"):
            raise ValueError(f"view must be 'desk' or 'mat', got {view!r}")
        self.view = view
        self.stack.setCurrentWidget(self.mat if view == "mat" else self.desk)
        if self.frame is not None:
            (self.mat if view == "mat" else self.plots).show_frame(self.frame)

    def toggle_view(self) -> None:
        """Mat view / desk view (V)."""
        self.set_view("desk" if self.view == "mat" else "mat")

    def toggle_full_screen(self) -> None:
        """Full screen on / off (F11). The window also takes the screen's geometry itself, so
        full screen works without a window manager too (a bare X session on a TV)."""
        if self.isFullScreen():
            self.showNormal()
            normal = getattr(self, "_normal_geometry", None)
            if normal is not None:
                self.setGeometry(normal)
            return
        self._normal_geometry = self.geometry()
        screen = self.screen()
        if screen is not None:  # before the state: setting a geometry after it ends full screen
            self.setGeometry(screen.geometry())
        self.showFullScreen()

    def show_help(self) -> None:
        """The keyboard shortcuts, in a box over the window (F1)."""
        lines = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;{v}</td></tr>" for k, v in SHORTCUTS.items())
        box = QtWidgets.QMessageBox(self)
        box.setWindowTitle("myoflow: keyboard shortcuts")
        box.setText(f"<table>{lines}</table>")
        box.open()
        self.help_box = box
