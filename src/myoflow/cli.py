"""The ``myoflow`` command: parses arguments and hands each subcommand to its module.

Each subcommand lives in ``myoflow.commands.<name>`` and provides ``add_arguments(parser)`` and
``run(args) -> int``. Command modules import heavy dependencies (Qt, bleak, h5py) inside ``run``,
so building the parser for ``myoflow --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import keyword
import sys
from collections.abc import Sequence

from myoflow import __version__

#: subcommand -> one-line help
COMMANDS: dict[str, str] = {
    "demo": "stream virtual straps over BLE on a synthetic glute-bridge session, record it, "
    "print each rep next to the truth",
    "scan": "list Bluetooth LE devices in range and the strap profiles they match",
    "stream": "stream straps (or --virtual ones) and report samples, gaps, loss and rates",
    "capture": "save straps' raw notifications with host times to a file that replays as a live strap "
    "(--check FILE decodes one)",
    "import": "import a CSV/UCI/OpenSignals/OpenBCI/BrainFlow/XDF recording into a myoflow .h5",
    "export": "export a recording to CSV files or NWB, or recordings to an EMG-BIDS dataset",
    "info": "describe a recording: streams, rates, loss, gaps, events, metadata (--json: one JSON object)",
    "check": "check a recording against every invariant of the format; list every problem (exit 1 if any)",
    "recover": "turn a recording left by a killed recorder into a valid, finalised file",
    "replay": "replay a recording through the live signal core (real time, --speed X or --fast)",
    "analyze": "analyse a recording: reps, phases, activation, relaxation, handover, co-contraction",
    "report": "write the printable session report (--pdf report.pdf): findings, rep table, plots",
    "record": "record straps (or --virtual ones) to a live-readable, crash-safe HDF5 file",
    "batch": "analyse many recordings into one table, one row per rep (CSV or Parquet; processes or Dask)",
    "progress": "one person's progress over sessions: metrics over time, each change judged against "
    "its minimal detectable change (MDC95)",
    "dashboard": "live biofeedback dashboard (pyqtgraph) on straps, --virtual straps or a --replay FILE",
}


def _module(name: str):
    """The module of subcommand ``name`` (``import`` is a keyword: its module is ``import_``)."""
    return importlib.import_module(f"myoflow.commands.{name}{'_' if keyword.iskeyword(name) else ''}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="myoflow",
        description="Wearable EMG and IMU straps: streaming, analytics, biofeedback, recordings.",
    )
    parser.add_argument("--version", action="version", version=f"myoflow {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text in COMMANDS.items():
        module = _module(name)
        sub_parser = sub.add_parser(name, help=help_text, description=module.__doc__)
        module.add_arguments(sub_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``myoflow`` console command; returns the process exit code."""
    try:
        args = build_parser().parse_args(argv)
    except KeyboardInterrupt:  # Ctrl-C while the commands load
        print("interrupted before the command started: nothing was written", file=sys.stderr)
        return 130
    module = _module(args.command)
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        sys.stderr.close()
        return 0
    except ImportError as exc:  # an optional dependency: one line that names the extra to install
        from myoflow._extras import missing_extra

        virtual = args.command == "demo" or bool(getattr(args, "virtual", False))
        missing = missing_extra(exc, f"myoflow {args.command}", virtual=virtual)
        if missing is None:
            raise
        print(missing, file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
