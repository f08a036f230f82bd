"""Run the dashboard: the Qt application around one session, and a clean exit.

:func:`run_dashboard` opens the window over a started session, optionally quits by itself
after ``seconds`` (saving a screenshot first), and tears down in the order that keeps PySide6
from crashing at exit: stop the session (straps stopped, recording finalised), stop the timer,
close the window, ``deleteLater``, and let Qt process the deferred deletions.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from myoflow._checks import check_positive
from myoflow.dashboard.console import run_console
from myoflow.dashboard.platform import platform_name, platform_problem

if TYPE_CHECKING:
    from myoflow.dashboard.source import DashboardSource

__all__ = ["fit_to_screen", "qt_app", "run_dashboard", "teardown"]


def qt_app() -> Any:
    """The running QApplication, or a new one (pyqtgraph configured for speed: antialiasing and
    OpenGL off). Also shortens Python's thread switch interval to 1 ms, so the GUI thread never
    waits long for the GIL while the ingest thread processes a block."""
    from myoflow._extras import require

    require("PySide6", "the dashboard")
    pg = require("pyqtgraph", "the dashboard")
    from PySide6 import QtWidgets

    sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
    pg.setConfigOptions(antialias=False, useOpenGL=False, foreground="k")
    return QtWidgets.QApplication.instance() or QtWidgets.QApplication(["myoflow-dashboard"])


def teardown(window: Any) -> None:
    """Stop ``window``'s session, close and delete it, and flush Qt's deferred deletions."""
    from PySide6 import QtCore, QtWidgets

    window.shutdown()
    window.close()
    window.deleteLater()
    app = QtWidgets.QApplication.instance()
    if app is not None:
        app.processEvents()
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.DeferredDelete)
        app.processEvents()


def fit_to_screen(window: Any, size: tuple[int, int]) -> tuple[int, int]:
    """``size`` (px) shrunk to what ``window``'s screen has free (a 1500x950 default on a
    1366x768 laptop would be cut off); unchanged offscreen, where there is no real screen."""
    screen = window.screen()
    if screen is None or platform_name() in ("offscreen", "minimal"):
        return size
    free = screen.availableGeometry()
    return min(size[0], free.width()), min(size[1], free.height())


def run_dashboard(
    source: DashboardSource,
    *,
    seconds: float | None = None,
    screenshot: str | Path | None = None,
    record: str | Path | None = None,
    subject_id: str = "",
    fps: float = 60.0,
    size: tuple[int, int] = (1500, 950),  # shrunk to the screen (fit_to_screen)
    window_s: float = 10.0,
    contraction_s: float = 4.0,
    sound: bool | None = None,
    record_folder: str | Path = ".",
    view: str = "desk",
) -> int:
    """Open the dashboard over ``source`` until the window is closed (or Ctrl-C) or ``seconds``
    passed.

    Parameters
    ----------
    source
        A :class:`~myoflow.dashboard.live_source.LiveSource` or
        :class:`~myoflow.dashboard.replay_source.ReplaySource` (started here).
    seconds
        Quit by itself after this many wall seconds (None: when the window is closed).
    screenshot
        Save the window to this PNG just before quitting.
    record
        Start recording to this ``.h5`` at once (live sources only).
    fps
        Refresh rate (Hz).
    sound
        Sound cues (:mod:`myoflow.dashboard.sound`); None: on unless Qt runs offscreen.
    record_folder
        Where recordings started from the window go.
    view
        ``"desk"`` or ``"mat"`` (V switches).

    When Qt's platform plugin cannot start here (missing system libraries, no X server),
    says why on stderr and runs :func:`~myoflow.dashboard.console.run_console` instead.

    Returns
    -------
    int
        The exit code: 0, or 1 when the session stopped with an error or the screenshot failed.
    """
    if seconds is not None:
        check_positive(seconds, "seconds", "s")
    from PySide6 import QtWidgets

    if QtWidgets.QApplication.instance() is None:
        problem = platform_problem()
        if problem is not None:
            print(f"myoflow dashboard: {problem}", file=sys.stderr)
            print("myoflow dashboard: no window can open; showing the console view instead", file=sys.stderr)
            return run_console(source, sys.stdout, seconds=seconds, record=record, subject_id=subject_id)
    from PySide6 import QtCore

    from myoflow.dashboard.window import DashboardWindow

    app = qt_app()
    if sound is None:
        sound = platform_name() not in ("offscreen", "minimal")
    window = DashboardWindow(
        source,
        fps=fps,
        window_s=window_s,
        contraction_s=contraction_s,
        sound=sound,
        record_folder=record_folder,
        view=view,
    )
    window.resize(*fit_to_screen(window, size))
    source.start(record=record, subject_id=subject_id)
    window.show()
    failures: list[str] = []

    def finish() -> None:
        try:
            if screenshot is not None:
                window.refresh()
                path = Path(screenshot)
                path.parent.mkdir(parents=True, exist_ok=True)
                if not window.grab().save(str(path)):
                    failures.append(f"could not save the screenshot to {path}")
        finally:
            window.shutdown()
            app.quit()

    if seconds is not None:
        QtCore.QTimer.singleShot(int(round(seconds * 1000)), finish)
    # Ctrl-C: Python runs signal handlers only between Qt events, so wake it up now and then
    wake = QtCore.QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(200)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, lambda *_: window.close())
    try:
        app.exec()
    finally:
        wake.stop()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        teardown(window)
    for text in failures:
        print(f"myoflow dashboard: {text}")
    return 1 if failures or source.error is not None else 0
