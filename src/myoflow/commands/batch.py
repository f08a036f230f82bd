"""Analyse many recordings into one tidy table: one row per rep, with the session (file),
subject and exercise, then the columns of `myoflow analyze --csv` (see docs/batch.md).

Quote a pattern to let myoflow expand it (`**` recurses into folders), or let the shell expand
it. Files run in local worker processes (--workers, default: the usable cores) or on a Dask
distributed cluster (--scheduler tcp://host:8786). A file that cannot be analysed does not stop
the batch: the failures are listed at the end (and written to --failures).

Exit code: 0 when the batch ran (even with failed files), 1 when the table cannot be written or
the cluster cannot be reached, 2 for invalid arguments or when no file matches.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from myoflow.commands._shared import add_analysis_options, analysis_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("patterns", nargs="+", metavar="GLOB", help="recordings: paths or patterns")
    parser.add_argument(
        "--out", required=True, metavar="FILE", help="the table: FILE.csv, or FILE.parquet (needs pyarrow)"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=int, metavar="N", help="local worker processes (default: the usable cores; 0: none)"
    )
    where.add_argument(
        "--scheduler", metavar="ADDRESS", help="run on a Dask distributed cluster, e.g. tcp://host:8786"
    )
    parser.add_argument("--failures", metavar="CSV", help="also write the failed files (path,error) here")
    add_analysis_options(parser, exercise_help="exercise name for every file (default: its own)")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from myoflow.reports.batch import batch_analyze, expand_paths

    where = "myoflow batch"
    files = expand_paths(args.patterns)
    if not files:
        print(f"{where}: no file matches {' '.join(args.patterns)}", file=sys.stderr)
        return 2
    try:
        options = analysis_options(args)
    except ValueError as exc:
        print(f"{where}: {exc}", file=sys.stderr)
        return 2

    def progress(done: int, total: int, path: str) -> None:
        bar.set_postfix_str(Path(path).name, refresh=False)
        bar.update(done - bar.n)

    # on stderr, only on a terminal (disable=None): result lines never mix with the bar
    with tqdm(total=len(files), desc="batch", unit="file", disable=None) as bar:
        try:
            result = batch_analyze(
                files,
                out=args.out,
                workers=args.workers,
                scheduler=args.scheduler,
                progress=progress,
                **options,
            )
        except (ValueError, ImportError) as exc:
            print(f"{where}: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:  # the table cannot be written, or the scheduler cannot be reached
            print(f"{where}: {exc}", file=sys.stderr)
            return 1
    print(
        f"analysed {result.n_ok} of {len(files)} file(s): {result.n_rows} rep(s) -> {result.out} "
        f"({result.runner}, {result.elapsed_s:.1f} s, {result.files_per_s:.2f} files/s)"
    )
    for path in result.no_reps:
        print(f"  no complete rep: {path}")
    if result.failures:
        print(f"{len(result.failures)} file(s) failed:")
        for path, error in result.failures:
            print(f"  {path}: {error}")
    if args.failures:
        try:
            with open(args.failures, "w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f, lineterminator="\n")
                writer.writerow(["path", "error"])
                writer.writerows(result.failures)
        except OSError as exc:
            print(f"{where}: cannot write {args.failures}: {exc}", file=sys.stderr)
            return 1
    return 0
