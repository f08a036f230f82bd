"""Dashboard tests run offscreen (no display needed): set before Qt creates its application.

Fixtures: ``wait_until(condition, timeout)`` runs the Qt event loop until the condition holds;
``open_window(source)`` starts a session and shows a dashboard window over it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

RECORDING = Path(__file__).resolve().parents[2] / "recordings" / "glute_bridge_virtual.h5"


def _wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    from PySide6 import QtTest

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {condition}")
        QtTest.QTest.qWait(10)


def _open_window(source: Any, fps: float = 60.0, **kwargs: Any) -> Any:
    from myoflow.dashboard.app import qt_app
    from myoflow.dashboard.window import DashboardWindow

    qt_app()
    window = DashboardWindow(source, fps=fps, **kwargs)
    window.resize(1400, 900)
    source.start()
    window.show()
    return window


@pytest.fixture(scope="session")
def wait_until() -> Callable[..., None]:
    return _wait_until


@pytest.fixture(scope="session")
def open_window() -> Callable[..., Any]:
    return _open_window


@pytest.fixture(scope="session")
def recording() -> Path:
    return RECORDING
