"""A user session in a real X server, driven with real X input events (xdotool).

Run by ``test_xserver.py`` as ``scripts/with_xvfb.sh python tests/dashboard/x11_scenario.py
FOLDER``: Qt runs on its xcb platform plugin (the one a desktop uses), the dashboard streams the
virtual straps in real time, and xdotool moves the pointer, clicks, scrolls and types through
the X server, as a person would. Each step asserts what the person must see; the script prints
``SCENARIO OK`` at the end and exits non-zero (with the failing step) otherwise.

Steps: the platform check passes and Qt runs on xcb; the window fits a 1366x768 screen; a wheel
over the exercise box does not change the exercise; a typed file name that exists is not
overwritten when the confirmation is answered with No (the file is byte-identical); the letters
typed into the field trigger no shortcut; a click on Start records to a new file named by
subject, exercise and time, a click on Stop saves it; a Space press afterwards starts nothing
(the button kept no focus); shortcut N starts a new set, keeping the finished set's reps; V
shows the mat view and F11 makes it fill the screen.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ["QT_QPA_PLATFORM"] = "xcb"


def main(folder: Path) -> None:
    from PySide6 import QtCore, QtTest, QtWidgets

    from myoflow.dashboard.app import fit_to_screen, qt_app, teardown
    from myoflow.dashboard.platform import platform_problem
    from myoflow.dashboard.virtual_source import virtual_source
    from myoflow.dashboard.window import DashboardWindow

    problem = platform_problem()
    assert problem is None, problem
    app = qt_app()
    assert app.platformName() == "xcb", app.platformName()

    def wait(condition: Any, timeout: float = 60.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
            QtTest.QTest.qWait(20)

    def xdo(*args: object) -> None:
        """Run xdotool while Qt keeps processing events, then let the events arrive."""
        proc = subprocess.Popen(["xdotool", *map(str, args)])
        wait(lambda: proc.poll() is not None, 30.0, f"xdotool {args}")
        assert proc.returncode == 0, f"xdotool {args} failed"
        QtTest.QTest.qWait(300)

    def centre(widget: QtWidgets.QWidget) -> tuple[int, int]:
        p = widget.mapToGlobal(widget.rect().center())
        return p.x(), p.y()

    def point_at(widget: QtWidgets.QWidget) -> tuple[int, int]:
        """Scroll ``widget`` into view (as the user would) and move the pointer onto it."""
        window.control_scroll.ensureWidgetVisible(widget)
        QtTest.QTest.qWait(100)
        x, y = centre(widget)
        xdo("mousemove", "--sync", x, y)
        under = QtWidgets.QApplication.widgetAt(x, y)
        assert under is widget or widget.isAncestorOf(under), f"pointer is over {under}, not {widget}"
        return x, y

    def click(widget: QtWidgets.QWidget) -> None:
        point_at(widget)
        xdo("click", "1")

    source = virtual_source(120.0, fast=False, seed=3)
    window = DashboardWindow(source, fps=30.0, record_folder=str(folder))
    hint = window.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 740, f"window needs {hint.width()}x{hint.height()}"
    # the default window size (1500x950) shrinks to what the 1366x768 screen has
    assert fit_to_screen(window, (1500, 950)) == (1366, 768), fit_to_screen(window, (1500, 950))
    window.resize(1366, 740)
    window.move(0, 0)
    source.start()
    window.show()
    try:
        wait(lambda: window.isVisible() and source.ingest is not None and source.analysis is not None)
        c = window.controls
        c.subject_edit.setText("s07")
        # no window manager in Xvfb: give the window the X input focus as one would
        xdo("windowfocus", "--sync", int(window.winId()))
        xdo("mousemove", "--sync", *centre(window.plots), "click", "1")  # focus nowhere in particular

        # 1. a stray wheel over the exercise box changes nothing
        generation = source.generation
        point_at(c.exercise_box)
        xdo("click", "--repeat", "3", "5")
        xdo("click", "--repeat", "3", "4")
        assert c.exercise_box.currentText() == "glute_bridge", c.exercise_box.currentText()
        assert source.exercise == "glute_bridge" and source.generation == generation

        # 2. a typed name that exists: asked, answered No, the file is untouched
        taken = folder / "taken.h5"
        taken.write_bytes(b"a precious recording")
        click(c.file_edit)
        xdo("type", "--delay", "30", "taken.h5")
        assert c.file_edit.text() == "taken.h5", repr(c.file_edit.text())
        assert source.generation == generation, "typing 'n' in the file field started a new set"

        def answer_no() -> None:
            box = QtWidgets.QApplication.activeModalWidget()
            if not isinstance(box, QtWidgets.QMessageBox):
                QtCore.QTimer.singleShot(100, answer_no)
                return
            no = box.button(QtWidgets.QMessageBox.No)
            subprocess.Popen(["xdotool", "mousemove", "--sync", *map(str, centre(no)), "click", "1"])  # noqa: S603

        QtCore.QTimer.singleShot(300, answer_no)
        click(c.record_button)
        wait(lambda: QtWidgets.QApplication.activeModalWidget() is None, 30.0, "the dialog to close")
        QtTest.QTest.qWait(300)
        assert source.recording is None, f"recording to {source.recording} after answering No"
        assert taken.read_bytes() == b"a precious recording"
        assert not c.record_button.isChecked()

        # 3. an empty file field: a new name from subject, exercise and time; Stop saves it
        c.file_edit.clear()
        click(c.record_button)
        wait(lambda: source.recording is not None, 10.0, "the recording to start")
        path = source.recording
        assert path.parent == folder and path.name.startswith("s07_glute_bridge_"), path
        recorder = source._rec.target.recorder
        wait(lambda: recorder.packets > 100, 60.0, "packets in the recording")
        click(c.record_button)
        wait(lambda: bool(source.saved), 120.0, "the recording to be saved")  # slow under load
        assert source.recording is None

        # 4. Space after Stop: the button has no focus, nothing starts
        assert not c.record_button.hasFocus()
        xdo("key", "space")
        QtTest.QTest.qWait(1000)
        assert source.recording is None, "Space started a new recording"
        assert sorted(p.name for p in folder.glob("*.h5")) == sorted(["taken.h5", path.name])

        # 5. shortcut N: next set; the finished set's reps are kept
        xdo("mousemove", "--sync", *centre(window.plots), "click", "1")
        # a rep, and its result in: the counter adds a rep at the bottom, its result follows
        # ~1-1.5 s later, and a result landing between this count and N would join the set
        wait(
            lambda: 1 <= int(window.reps.counter.text()) == len(window.model.results),
            60.0,
            "a rep and its result",
        )
        reps = len(window.model.results)
        xdo("windowfocus", "--sync", int(window.winId()))  # (the X focus can drift under load)
        xdo("key", "n")
        wait(lambda: bool(window.sets), 30.0, "the set to be kept")
        assert window.sets[0].reps >= 1 and window.sets[0].ended_by == "next set", window.sets
        assert reps >= window.sets[0].reps
        assert window.set_list.text().startswith("set 1 (glute_bridge)")
        # the set summary screen is up; Enter closes it
        wait(lambda: window.summary_box.isVisible(), 10.0, "the set summary screen")
        assert window.summary_box.text().startswith("set 1 (glute_bridge)")
        xdo("key", "Return")
        wait(lambda: not window.summary_box.isVisible(), 10.0, "the summary screen to close")
        xdo("windowfocus", "--sync", int(window.winId()))

        # 6. mat view (V) and full screen (F11), real key presses
        xdo("key", "v")
        wait(lambda: window.view == "mat" and window.stack.currentWidget() is window.mat, 10.0, "mat view")
        wait(lambda: window.mat.state is not None, 10.0, "mat mode to show a frame")
        xdo("key", "F11")
        wait(lambda: window.isFullScreen(), 10.0, "full screen")
        screen = window.screen().geometry()
        # the whole screen, even with no window manager (the window was 1366x740)
        wait(lambda: window.height() == screen.height(), 10.0, "the window to take the screen's height")
        wait(lambda: window.mat.width() == screen.width(), 10.0, "the mat view to fill the screen")
        xdo("key", "F11")
        wait(lambda: not window.isFullScreen(), 10.0, "full screen off")
        wait(lambda: window.height() == 740, 10.0, "the window's own size back")
        xdo("key", "v")
        wait(lambda: window.view == "desk", 10.0, "the desk view")
    finally:
        teardown(window)
    assert source.error is None, source.error
    print("SCENARIO OK", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
