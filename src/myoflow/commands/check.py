"""Check a recording against every invariant of the format and list every problem found.

Reads the whole file: root and session attributes, every stream's description, time map,
gaps and packets, every event, and every stored sample (unreadable chunks, NaN or infinity in
float samples). Prints "FILE: ok (...)" or one line per problem, each naming the file and the
field. A live file (being written, or left by a killed recorder) is checked as far as it was
flushed. Exit code 0 when every invariant holds, 1 when any does not (or the file cannot be
read).
"""

from __future__ import annotations

import argparse
import os
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="myoflow HDF5 recordings (.h5)")


def run(args: argparse.Namespace) -> int:
    from myoflow.storage.validate import check_recording

    bad = 0
    for path in args.files:
        problems = check_recording(path)
        if problems:
            bad += 1
            for p in problems:
                print(f"{path}: {p}")
        else:
            print(f"{path}: ok ({summary_line(path)})")
    if bad and len(args.files) > 1:
        print(f"myoflow check: {bad} of {len(args.files)} file(s) have problems", file=sys.stderr)
    return 1 if bad else 0


def summary_line(path: str | os.PathLike[str]) -> str:
    """What a file that passed :func:`check_recording` holds, in a few words."""
    from myoflow.storage.reader import open_recording

    with open_recording(path) as rec:
        parts = [f"{v.n_samples} samples of {name}" for name, v in rec.streams.items()]
        live = (
            "; being written, or left by a crashed recorder: run 'myoflow recover'"
            if rec.state == "live"
            else ""
        )
        return (
            f"state {rec.state}, {len(rec.streams)} stream(s): "
            + ", ".join(parts)
            + (f", {len(rec.events)} event(s)")
            + live
        )
