"""Open the live biofeedback dashboard on straps, on --virtual straps, or on a --replay FILE.

One lane per muscle (activation envelope in % MVC with the exercise's target band and the rest
threshold), the hip angle with the current phase shaded, a large rep counter with a badge row
per rep (relaxed at the bottom, handover, eccentric hold), cues you can act on mid-set, strap
status (state, battery, loss over 5 s, rate), and controls: scan/connect, recording, MVC
calibration wizard, exercise, marker, raw EMG lane, replay play/pause/seek/speed.

--virtual streams the demo's virtual straps (DIY 4-channel EMG, Polar Verity Sense on pelvis and
thigh) through the real BLE path, in real time (--fast: virtual time). --seconds N quits after N
seconds (with --screenshot FILE.png saved first); without a display this runs offscreen.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from myoflow.commands._shared import (
    add_exercise_option,
    add_lsl_option,
    check_virtual_options,
    lsl_sinks,
    parse_placements,
    positive,
)
from myoflow.exercises import DEFAULT_EXERCISE

if TYPE_CHECKING:
    from myoflow.dashboard.source import DashboardSource
    from myoflow.stream import Sink


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--virtual", action="store_true", help="virtual straps (no adapter needed)")
    source.add_argument("--replay", metavar="FILE", default=None, help="play a recording (.h5)")
    parser.add_argument(
        "--device", action="append", default=[], metavar="ADDRESS_OR_NAME", help="a strap (repeat)"
    )
    parser.add_argument(
        "--profile", action="append", default=[], metavar="NAME_OR_PATH", help="its profile (repeat)"
    )
    parser.add_argument(
        "--placement", action="append", default=[], metavar="STREAM:CH=PLACEMENT", help="channel placement"
    )
    parser.add_argument("--seconds", type=positive, default=None, help="quit after this many seconds")
    parser.add_argument(
        "--screenshot", metavar="FILE.png", default=None, help="save the window before quitting"
    )
    parser.add_argument("--record", metavar="FILE", default=None, help="record to this .h5 from the start")
    parser.add_argument("--subject", default="", metavar="ID", help="pseudonymous subject id for --record")
    add_exercise_option(
        parser, "exercise name, alias or .toml file (docs/exercises.md; replay: the file's by default)"
    )
    parser.add_argument("--fps", type=positive, default=60.0, help="display refresh rate in Hz (default 60)")
    parser.add_argument(
        "--view",
        choices=("desk", "mat"),
        default="desk",
        help="start in the desk or the mat view (V switches)",
    )
    parser.add_argument("--size", default="1500x950", metavar="WxH", help="window size in pixels")
    parser.add_argument(
        "--sound",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="sound cues: tone, chime, warning, spoken cues (default: on with a display)",
    )
    add_lsl_option(parser)
    parser.add_argument("--speed", type=positive, default=1.0, help="replay speed, x real time (default 1)")
    parser.add_argument(
        "--mains",
        type=float,
        choices=(50.0, 60.0),
        default=None,
        help="mains notch, Hz (default 50, or a replay's stored value); stored in recordings when given",
    )
    parser.add_argument("--scan-timeout", type=positive, default=10.0, help="seconds to find the straps")
    virtual = parser.add_argument_group("virtual straps (with --virtual)")
    virtual.add_argument("--fast", action="store_true", help="virtual time instead of real time")
    virtual.add_argument("--rate", type=float, default=1000.0, help="EMG rate in Hz, 200-2000 (default 1000)")
    virtual.add_argument("--drop", type=float, default=0.0, help="probability a notification is lost")
    virtual.add_argument("--seed", type=int, default=7, help="seed of the synthetic session")
    virtual.add_argument(
        "--no-mvc", action="store_true", help="start uncalibrated (%% session peak) instead of the MVC trial"
    )


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or sys.platform in (
        "darwin",
        "win32",
    )


def _replay_mains(args: argparse.Namespace) -> float:
    """``--mains``, else the replayed recording's stored mains frequency, else 50 Hz."""
    if args.mains is not None:
        return float(args.mains)
    from myoflow.analysis.mains import stored_mains
    from myoflow.storage.reader import open_recording

    with open_recording(args.replay) as rec:
        return stored_mains(rec.metadata.filter_settings) or 50.0


def make_source(args: argparse.Namespace, extra_sinks: tuple[Sink, ...] = ()) -> DashboardSource:
    """The session the arguments describe (not started)."""
    if args.replay is not None:
        from myoflow.dashboard.replay_source import ReplaySource

        if args.record is not None:
            raise ValueError("--record cannot be combined with --replay")
        if extra_sinks:
            raise ValueError("--lsl publishes live straps; it cannot be combined with --replay")
        return ReplaySource(
            args.replay, speed=args.speed, exercise=args.exercise, mains_hz=_replay_mains(args)
        )
    if args.virtual:
        from myoflow.dashboard.virtual_source import virtual_source

        return virtual_source(
            args.seconds,
            exercise=args.exercise or DEFAULT_EXERCISE,
            fast=args.fast,
            emg_rate=args.rate,
            mains_hz=args.mains or 50.0,
            seed=args.seed,
            drop=args.drop,
            calibrated=not args.no_mvc,
            extra_sinks=extra_sinks,
            placements=parse_placements(args.placement),
        )
    if not args.device and not args.profile:  # pick the straps in the window
        from myoflow.dashboard.straps import IdleSource

        if args.record is not None:
            raise ValueError("--record needs straps: give --device/--profile, or use --virtual")
        return IdleSource(args.exercise or DEFAULT_EXERCISE)
    from myoflow.dashboard.live_source import LiveSource
    from myoflow.session.straps import real_ingest, strap_configs

    configs = strap_configs(args.device, args.profile, parse_placements(args.placement))
    return LiveSource(
        real_ingest(configs, args.scan_timeout),
        exercise=args.exercise or DEFAULT_EXERCISE,
        mains_hz=args.mains or 50.0,
        mains_source=None if args.mains is None else "given at dashboard",
        seconds=args.seconds,
        label=", ".join(args.device) or "straps",
        extra_sinks=extra_sinks,
    )


def run(args: argparse.Namespace) -> int:
    import logging

    from myoflow.devices.profiles import ProfileError
    from myoflow.storage.schema import RecordingError

    logging.getLogger("bumble").setLevel(logging.ERROR)
    if args.screenshot is not None and args.seconds is None:
        print(
            "myoflow dashboard: --screenshot needs --seconds (it is taken just before quitting)",
            file=sys.stderr,
        )
        return 2
    if not _has_display() and not os.environ.get("QT_QPA_PLATFORM"):
        if args.seconds is None:
            print(
                "myoflow dashboard: no display found; set QT_QPA_PLATFORM=offscreen (with --seconds) "
                "or run 'myoflow stream'/'myoflow record' for the console",
                file=sys.stderr,
            )
            return 2
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from myoflow.lsl import LslError

    try:
        check_virtual_options(args)
        lsl = lsl_sinks(args)
        source = make_source(args, lsl)
    except (ValueError, ProfileError, RecordingError, OSError, LslError) as exc:
        print(f"myoflow dashboard: {exc}", file=sys.stderr)
        return 2
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
        size = (width, height)
    except ValueError:
        print(f"myoflow dashboard: --size must be WIDTHxHEIGHT in pixels, got {args.size!r}", file=sys.stderr)
        return 2
    from myoflow.dashboard.app import run_dashboard

    code = run_dashboard(
        source,
        seconds=args.seconds,
        screenshot=args.screenshot,
        record=args.record,
        subject_id=args.subject,
        fps=args.fps,
        sound=args.sound,
        view=args.view,
        size=size,
    )
    if source.error is not None:
        print(f"myoflow dashboard: the session stopped: {source.error}", file=sys.stderr)
    from myoflow.dashboard.virtual_source import truth_summary

    summary = truth_summary(source)
    if summary is not None:
        print(summary)
    for path in getattr(source, "saved", []):
        print(f"recorded to {path} (finalised)")
    if args.screenshot is not None and code == 0:
        print(f"screenshot saved to {args.screenshot}")
    for sink in lsl:
        sink.close()
    return code


def main(argv: list[str] | None = None) -> int:
    """``python -m myoflow.commands.dashboard ...``: the same as ``myoflow dashboard ...``."""
    parser = argparse.ArgumentParser(prog="myoflow dashboard", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
