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


MUSCLES = ("glute_max_r", "biceps_femoris_r")


def _result(index: int, start: float, relaxed: bool = True, crossover: bool = True, hold: float = 70.0):
    from myoflow.analysis.activation import MuscleActivation
    from myoflow.analysis.handover import Handover
    from myoflow.analysis.relaxation import Relaxation
    from myoflow.analysis.rep_summary import RepResult

    phases = {"start": start, "top": start + 1, "eccentric": start + 2, "bottom": start + 3, "end": start + 4}
    act = MuscleActivation(60.0, 30.0, 10.0, 900.0, 1.0)
    relax = Relaxation(3.0 if relaxed else 25.0, 1.0, 8.0, (), 0.5, relaxed, (start + 3, start + 4))
    hand = Handover(10.0, 50.0, start + 0.5 if crossover else None, 500.0 if crossover else None,
                    22.0 if crossover else None, 40.0 if crossover else None, None)  # fmt: skip
    return RepResult(
        index=index,
        set_index=0,
        mode="hip",
        unit="% MVC",
        partial=False,
        rom_deg=45.0,
        phases=phases,
        muscles={m: act for m in MUSCLES},
        relaxation={m: relax for m in MUSCLES},
        handover=hand,
        eccentric_hold_pct={"glute_max_r": hold},
        cocontraction_pct={},
    )


@pytest.fixture(scope="session")
def rep_result() -> Callable[..., Any]:
    """``rep_result(index, start, relaxed=, crossover=, hold=)``: a RepResult of the two
    :data:`MUSCLES` with phases 1 s apart from ``start`` (end = ``start + 4``)."""
    return _result


def _stream_to_end(source: Any, timeout: float = 120.0) -> None:
    """Start a virtual source, wait (without a Qt event loop) until its session has been
    streamed, stop it; its straps must have raised nothing."""
    source.start()
    deadline = time.monotonic() + timeout
    try:
        while not source.finished and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        source.stop()
    assert source.error is None, source.error


@pytest.fixture(scope="session")
def stream_to_end() -> Callable[..., None]:
    return _stream_to_end


@pytest.fixture(scope="session")
def wait_until() -> Callable[..., None]:
    return _wait_until


@pytest.fixture(scope="session")
def open_window() -> Callable[..., Any]:
    return _open_window


@pytest.fixture(scope="session")
def recording() -> Path:
    return RECORDING
