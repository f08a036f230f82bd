"""Write the printable session report of a recording: `myoflow report FILE --pdf report.pdf`.

Two A4 pages a coach hands over (docs/reports.md): who, what and when, the plain-language
findings and the rep table with its verdicts on page 1; envelopes with phases and relaxation
windows, the handover and relaxation per rep, the ensemble curves and (when the analysis gives
them) fatigue and left/right symmetry on page 2. The analysis options are those of
`myoflow analyze`. Without --pdf the findings are printed.

Exit code: 0 when written, 1 when the recording cannot be read or the PDF cannot be written,
2 when nothing can be analysed or for invalid arguments.
"""

from __future__ import annotations

import argparse
import sys

from myoflow.commands._shared import about_file, add_analysis_options, analysis_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a myoflow HDF5 recording (.h5)")
    parser.add_argument("--pdf", metavar="FILE.pdf", help="write the two-page PDF report here")
    parser.add_argument("--title", default="Session report", help="heading of page 1 (default: %(default)s)")
    add_analysis_options(parser, exercise_help="exercise name (default: from the recording)")


def run(args: argparse.Namespace) -> int:
    from myoflow.reports._analyze import NothingToAnalyse, analyze
    from myoflow.reports.findings import session_findings
    from myoflow.storage.schema import RecordingError

    where = "myoflow report"
    if args.pdf and not args.pdf.lower().endswith(".pdf"):
        print(f"{where}: --pdf {args.pdf}: give a file name ending in .pdf", file=sys.stderr)
        return 2
    try:
        options = analysis_options(args)
    except ValueError as exc:  # a malformed --mvc
        print(f"{where}: {exc}", file=sys.stderr)
        return 2
    try:
        report = analyze(args.file, **options)
    except (NothingToAnalyse, ValueError) as exc:
        print(f"{where}: {about_file(args.file, exc)}", file=sys.stderr)
        return 2
    except RecordingError as exc:
        print(f"{where}: {exc}", file=sys.stderr)
        return 1
    for warning in report.warnings:
        print(f"{where}: warning: {warning}", file=sys.stderr)
    if not report.reps:
        print(f"{where}: {args.file}: no complete rep found; nothing to report", file=sys.stderr)
        return 2
    if not args.pdf:
        print("\n".join(f"- {s}" for s in session_findings(report)))
        return 0
    from myoflow.reports.pdf import write_pdf_report

    try:
        path = write_pdf_report(report, args.pdf, title=args.title)
    except OSError as exc:
        print(f"{where}: {exc}", file=sys.stderr)
        return 1
    print(f"report written to {path}")
    return 0
