"""One person's progress over sessions: per exercise and muscle, activation, relaxation,
handover and balance sway over time, each change judged against the minimal detectable change
(MDC95) from the spread of the sessions' reps (docs/progress.md).

SUBJECT_OR_FOLDER is a folder of recordings (its only subject, or --subject), or a subject id
looked up in --folder (default: the current folder). The folder's session catalogue
(.myoflow-catalogue.sqlite, a cache beside the recordings) is brought up to date first: only
new or changed files are analysed, in parallel. Prints a text table, or --csv (one row per
metric and session) or --json; --plot also writes a picture (PNG, PDF or SVG). --mdc
METRIC=VALUE judges that metric's changes against your own MDC95 instead (e.g. one from a
between-day test-retest study).

Exit code: 0 with results, 1 when the folder cannot be read, 2 when there is nothing to show
(no such subject, several subjects and none named, no session with reps) or for invalid
arguments.
"""

from __future__ import annotations

import argparse
import os
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="SUBJECT_OR_FOLDER", help="a folder of recordings, or a subject id")
    parser.add_argument("--folder", default=".", help="where to look for a subject's recordings (default: .)")
    parser.add_argument(
        "--subject", help="whose sessions, when SUBJECT_OR_FOLDER is a folder of several people"
    )
    parser.add_argument(
        "--metric", action="append", help="track only this metric (repeatable): peak_pct, ..."
    )
    parser.add_argument(
        "--mdc",
        action="append",
        metavar="METRIC=VALUE",
        help="your own MDC95 for a metric (e.g. from a between-day test-retest), repeatable: "
        "--mdc peak_pct=8 --mdc glute_max_r.relaxed_share=0.3",
    )
    parser.add_argument("--exercise", help="plot this exercise (default: the first)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the progress as JSON")
    out.add_argument("--csv", action="store_true", help="print one CSV row per metric and session")
    parser.add_argument("--plot", metavar="FILE", help="also write a picture to this .png, .pdf or .svg file")
    parser.add_argument(
        "--workers", type=int, help="processes that analyse new files (default: the cores; 0: this one)"
    )


def run(args: argparse.Namespace) -> int:
    from myoflow.reports.figures import check_format
    from myoflow.reports.progress import plot_progress, track_progress

    where = "myoflow progress"
    if os.path.isdir(args.target):
        folder, subject = args.target, args.subject
    elif os.path.exists(args.target) or "/" in args.target or os.sep in args.target:
        # a path, not a subject id: do not go and index --folder (the current folder) for it
        what = "is a file, not a folder of recordings" if os.path.exists(args.target) else "no such folder"
        print(
            f"{where}: {args.target}: {what} (give a folder, or a subject id with --folder)", file=sys.stderr
        )
        return 1
    else:
        folder, subject = args.folder, args.target
    try:
        if args.plot:
            check_format(args.plot)
        if args.workers is not None and args.workers < 0:
            raise ValueError(f"--workers must be 0 or more, got {args.workers}")
        result = track_progress(
            folder, subject, metrics=args.metric, mdc95=_mdc(args.mdc or []), workers=args.workers
        )
    except (ValueError, NotADirectoryError) as exc:
        print(f"{where}: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ValueError) else 1
    if not result.tracks:
        print(f"{where}: no session with reps in {folder}", file=sys.stderr)
        return 2
    for note in result.notes:
        print(note, file=sys.stderr)
    if args.json:
        print(result.to_json())
    elif args.csv:
        sys.stdout.write(result.to_csv())
    else:
        print(result.format())
    if args.plot:
        try:
            plot_progress(result, args.plot, args.exercise)
        except (ValueError, OSError) as exc:
            print(f"{where}: {exc}", file=sys.stderr)
            return 2 if isinstance(exc, ValueError) else 1
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


def _mdc(items: list[str]) -> dict[str, float]:
    """``["peak_pct=8", ...]`` -> ``{"peak_pct": 8.0}``; ValueError naming a bad item."""
    out = {}
    for item in items:
        name, _, text = item.partition("=")
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not name.strip() or not value > 0 or value == float("inf"):
            raise ValueError(f"--mdc {item!r}: expected METRIC=VALUE with a positive VALUE, e.g. peak_pct=8")
        out[name.strip()] = value
    return out
