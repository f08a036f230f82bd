"""Synthesise a glute-bridge (or RDL) session with known truth, stream it from virtual straps
(a DIY 4-channel EMG strap on glutes and hamstrings, Polar Verity Sense on pelvis and thigh)
through the real Bluetooth LE ingest (bleak over an in-process Bumble link), record it, and
print what each rep did next to the truth, after an MVC calibration on the synthetic MVC trial.

Runs in virtual time by default (--realtime paces the straps at the speed they would send).
Without a display, or with --headless, everything goes to the console. The live dashboard is
opened when a display exists and the dashboard package is installed.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from myoflow.commands._shared import add_exercise_option

if TYPE_CHECKING:
    from myoflow.rigs.demo import DemoSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--headless", action="store_true", help="never open a window (the default when there is no display)"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=45.0,
        help="length of the synthetic session in seconds (default 45; at least 12)",
    )
    add_exercise_option(
        parser, "exercise name, alias or .toml file (docs/exercises.md; default glute_bridge)", "glute_bridge"
    )
    parser.add_argument(
        "--rate", type=float, default=1000.0, help="EMG sample rate in whole Hz, 200-2000 (default 1000)"
    )
    parser.add_argument(
        "--mains",
        type=float,
        choices=(50.0, 60.0),
        default=50.0,
        help="mains frequency in Hz for hum and notch (default 50)",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--drop", type=float, default=0.0, help="probability a BLE notification is lost (default 0)"
    )
    parser.add_argument("--realtime", action="store_true", help="stream at the speed the straps would send")
    parser.add_argument(
        "--keep", metavar="FILE", default=None, help="keep the recording made during the demo"
    )


def dashboard_available() -> bool:
    """True when a display exists and the dashboard's Qt is installed (``pip install 'myoflow[gui]'``)."""
    import importlib.util

    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or sys.platform in (
        "darwin",
        "win32",
    )
    return has_display and all(importlib.util.find_spec(m) is not None for m in ("PySide6", "pyqtgraph"))


def run(args: argparse.Namespace) -> int:
    import logging

    from myoflow.rigs.demo import DemoSettings, run_demo

    logging.getLogger("bumble").setLevel(logging.ERROR)
    try:
        settings = DemoSettings(
            seconds=args.seconds,
            exercise=args.exercise,
            emg_rate=args.rate,
            mains_hz=args.mains,
            seed=args.seed,
            realtime=args.realtime,
            drop=args.drop,
            keep=args.keep,
        )
    except ValueError as exc:
        print(f"myoflow demo: {exc}", file=sys.stderr)
        return 2
    if not args.headless and dashboard_available():
        return _dashboard(settings)
    report = run_demo(settings, out=sys.stdout)
    print(f"\nprocessed {report.seconds:.1f} s of data in {report.wall_s:.2f} s")
    return 0


def _dashboard(settings: DemoSettings) -> int:
    """The demo with a display: the same virtual straps and session, in the live dashboard (real
    time, calibrated on the synthetic MVC trial); ``--keep`` records the session from the start."""
    from myoflow.dashboard.app import run_dashboard
    from myoflow.dashboard.virtual_source import virtual_source

    print("myoflow demo: opening the live dashboard (close the window to stop; --headless for the console)")
    source = virtual_source(
        settings.seconds,
        exercise=settings.exercise,
        emg_rate=settings.emg_rate,
        mains_hz=settings.mains_hz,
        seed=settings.seed,
        drop=settings.drop,
    )
    code = run_dashboard(source, record=settings.keep, subject_id="synthetic-demo")
    from myoflow.dashboard.virtual_source import truth_summary

    summary = truth_summary(source)
    print(summary or "no reps were analysed before the window closed")
    for path in source.saved:
        print(f"recorded to {path} (finalised)")
    if source.error is not None:
        print(f"myoflow demo: the session stopped: {source.error}", file=sys.stderr)
    return code
