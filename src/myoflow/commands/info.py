"""Describe a recording: its streams (kind, channels and placements, nominal and effective rate,
samples, gaps and loss), duration, events by kind, session metadata (subject, exercise, notes)
and whether the file is live, final or recovered.

--json prints the same as one JSON object; its keys are documented in
myoflow.storage.summary (and docs/recording-format.md). Exit code 0, or 1 when the file cannot be
read (the message names the file and the problem).
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a myoflow HDF5 recording (.h5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def run(args: argparse.Namespace) -> int:
    import json

    from myoflow.storage.reader import open_recording
    from myoflow.storage.schema import RecordingError
    from myoflow.storage.summary import describe_recording, format_description

    try:
        with open_recording(args.file) as rec:
            desc = describe_recording(rec)
    except RecordingError as exc:
        print(f"myoflow info: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(desc, indent=2, allow_nan=False))
    else:
        print(format_description(desc))
    return 0
