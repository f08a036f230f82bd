"""Recover a recording left by a recorder that was killed, crashed or ran out of disk: write a
valid, finalised (compressed, verified) copy holding everything flushed before the crash.
A file marked final or recovered is checked against every invariant of the format (as
'myoflow check' does), not trusted: a damaged one is reported, problem by problem, with exit 1.

The broken file is left as it was unless --out names it (then it is replaced atomically). A
file that is already final needs no recovery and nothing is written.
Exit codes: 0 recovered (or nothing to do), 1 the file cannot be read or the copy not written,
2 invalid arguments (e.g. --out exists; add --force to replace it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="BROKEN", help="the recording a killed recorder left behind")
    parser.add_argument(
        "--out",
        metavar="FIXED",
        help="where to write the recovered recording (default: BROKEN with '.recovered' before "
        "the suffix; BROKEN itself to replace it)",
    )
    parser.add_argument("--force", action="store_true", help="replace FIXED if it exists")


def run(args: argparse.Namespace) -> int:
    from myoflow.storage._recover import recover
    from myoflow.storage.reader import open_recording
    from myoflow.storage.schema import RecordingError
    from myoflow.storage.summary import describe_recording
    from myoflow.storage.validate import check_recording

    broken = Path(args.file)
    out = Path(args.out) if args.out else broken.with_name(f"{broken.stem}.recovered{broken.suffix or '.h5'}")
    if out.is_dir():
        print(f"myoflow recover: {out}: --out is a folder; give a file name", file=sys.stderr)
        return 2
    same = out.exists() and broken.exists() and out.resolve() == broken.resolve()
    if out.exists() and not same and not args.force:
        print(f"myoflow recover: {out}: already exists; add --force to replace it", file=sys.stderr)
        return 2
    try:
        with open_recording(broken) as rec:
            state = rec.state
        if state != "live":
            problems = check_recording(broken)
            if problems:
                for p in problems:
                    print(f"myoflow recover: {broken}: {p}", file=sys.stderr)
                print(
                    f"myoflow recover: {broken}: marked {state!r} but damaged ({len(problems)} problem(s) "
                    "above); recover rebuilds only files left 'live' by a killed recorder",
                    file=sys.stderr,
                )
                return 1
            print(
                f"{broken}: nothing to recover, the recording is already {state} and every "
                "invariant holds (checked); no file written"
            )
            return 0
        recover(broken, out)
        with open_recording(out) as rec:
            desc = describe_recording(rec)
    except RecordingError as exc:
        print(f"myoflow recover: {exc}", file=sys.stderr)
        return 1
    print(f"recovered {broken} -> {out} ({desc['duration_s']:.1f} s, state 'recovered'):")
    for s in desc["streams"]:
        print(f"  {s['name']}: {s['samples']} samples ({s['duration_s']:.2f} s), {s['gaps']} gap(s)")
    print(f"  {desc['events']['count']} event(s); everything flushed before the crash is kept")
    return 0
