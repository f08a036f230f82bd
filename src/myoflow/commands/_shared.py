"""Options several subcommands share, defined once: analysis tuning and Lab Streaming Layer."""

from __future__ import annotations

import argparse
from typing import Any


def add_analysis_options(parser: argparse.ArgumentParser, exercise_help: str) -> None:
    """The options that tune the analysis (``myoflow analyze``, ``myoflow batch``)."""
    parser.add_argument("--exercise", metavar="NAME", help=exercise_help)
    parser.add_argument(
        "--angle",
        choices=("auto", "imu", "angle", "emg"),
        default="auto",
        help="movement angle source (default auto: IMUs, then angle streams, then EMG only)",
    )
    parser.add_argument(
        "--min-rep-frac",
        type=float,
        metavar="F",
        help="a rep must extend the angle by this fraction of the range and return to half of it "
        "(default 0.12; raise it, e.g. 0.35, when the rest position drifts between reps)",
    )
    parser.add_argument(
        "--mains", type=float, choices=(50.0, 60.0), default=50.0, help="mains frequency, Hz (default 50)"
    )


def analysis_options(args: argparse.Namespace) -> dict[str, Any]:
    """:func:`~myoflow.reports.analyze.analyze` keywords from :func:`add_analysis_options`."""
    return {
        "exercise": args.exercise,
        "angle_source": args.angle,
        "mains_hz": args.mains,
        "rep_options": {} if args.min_rep_frac is None else {"min_rep_frac": args.min_rep_frac},
    }


def add_lsl_option(parser: argparse.ArgumentParser) -> None:
    """``--lsl`` (``myoflow stream``, ``record``, ``dashboard``)."""
    parser.add_argument(
        "--lsl",
        action="store_true",
        help="also publish the streams, EMG envelopes and markers over Lab Streaming Layer "
        "(opt-in: LSL announces them on the local network; see docs/lsl.md)",
    )


def lsl_sinks(args: argparse.Namespace, clock: Any = None) -> tuple[Any, ...]:
    """``(LslSink,)`` with ``--lsl``, else ``()``; on ``clock`` (default: the host clock).

    Raises ``ValueError`` for ``--fast`` on the host clock (LSL carries real time) and
    :class:`myoflow.lsl.LslError` when pylsl is missing.
    """
    if not args.lsl:
        return ()
    if clock is None and getattr(args, "fast", False):
        raise ValueError("--lsl publishes in real time; it cannot be combined with --fast (virtual time)")
    from myoflow.lsl import LslSink

    mains = getattr(args, "mains", 50.0)
    return (LslSink(mains_hz=mains) if clock is None else LslSink(clock=clock, mains_hz=mains),)
