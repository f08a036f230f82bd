"""Import a recording made by another tool into a myoflow HDF5 recording.

formats:
  csv          plain CSV/TSV/semicolon/whitespace text, one sample per row, with or without a
               header line (delimiter and header are detected)
  uci          a file of the UCI "EMG Dataset in Lower Limb" (Biometrics DataLOG, 1000 Hz)
  opensignals  OpenSignals / BITalino "Simple Text Format" (# header, raw ADC counts)
  openbci      OpenBCI GUI recording (OpenBCI-RAW-*.txt, '%' header lines)
  brainflow    BrainFlow CSV (DataFilter.write_file: tab-separated board rows, no header)
  xdf          LabRecorder / Lab Streaming Layer XDF (needs: pip install 'myoflow[xdf]')

csv syntax:
  myoflow import csv FILE --rate HZ --map COLUMN=KIND:PLACEMENT [--map ...]
                 [--unit COLUMN=UNIT ...] [--subject ID] [--exercise NAME] --out FILE.h5

  COLUMN     a header name, or a 1-based column number
  KIND       emg, ecg, acc, gyro, quat or angle
  PLACEMENT  where the channel sits: a muscle and side for EMG (glute_max_r,
             biceps_femoris_r), a body segment or joint otherwise (thigh_r, knee_r);
             may be left out (COLUMN=KIND)
  UNIT       the unit the file holds, converted to myoflow's unit for the kind (uV, g,
             deg/s, deg): V, mV, uV for EMG/ECG; g, mg, m/s^2 for acc; deg/s, rad/s for gyro;
             deg, rad for angle; or counts (raw ADC values, kept as counts)

  Columns of the same KIND become one stream (one channel per column, in --map order);
  columns not mapped are not imported. A run of empty or non-numeric rows inside a stream
  becomes a gap (never invented samples); everything skipped or repaired is printed and stored
  in the recording's notes.

example:
  myoflow import csv session.csv --rate 1000 \\
      --map GM=emg:glute_max_r --map BF=emg:biceps_femoris_r --map 4=angle:knee_r \\
      --unit GM=mV --unit BF=mV --subject P07 --exercise glute_bridge --out session.h5
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from myoflow.commands._shared import add_exercise_option

if TYPE_CHECKING:
    from myoflow.storage.importers import ImportReport

_FORMATS = ("csv", "uci", "opensignals", "openbci", "brainflow", "xdf")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    sub = parser.add_subparsers(dest="format", metavar="FORMAT", required=True)
    csv = sub.add_parser(
        "csv",
        help="plain delimited text with one sample per row",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    csv.add_argument("--rate", metavar="HZ", help="sample rate of the rows in Hz (required)")
    csv.add_argument(
        "--map",
        metavar="COLUMN=KIND:PLACEMENT",
        action="append",
        default=[],
        help="import COLUMN as a channel of kind KIND at PLACEMENT (repeat; required)",
    )
    csv.add_argument(
        "--unit",
        metavar="COLUMN=UNIT",
        action="append",
        default=[],
        help="unit the file holds for COLUMN (default: myoflow's unit for the kind)",
    )
    csv.add_argument("--delimiter", help="field separator (default: detected)")
    uci = sub.add_parser("uci", help="UCI lower-limb EMG dataset file (RF, BF, VM, ST, FX)")
    uci.add_argument(
        "--side",
        type=_side,
        help="measured leg: r or l (also R/L, right/left; the dataset does not say)",
    )
    osg = sub.add_parser("opensignals", help="OpenSignals/BITalino text file")
    osg.add_argument("--kind", help="stream kind (default: from the Labels header)")
    osg.add_argument(
        "--counts", action="store_true", help="keep raw ADC counts (no BITalino transfer function)"
    )
    for name, text in (
        ("openbci", "OpenBCI GUI OpenBCI-RAW-*.txt recording"),
        ("brainflow", "BrainFlow CSV file (tab-separated, no header)"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument(
            "--kind", choices=("emg", "ecg"), default="emg", help="kind of the EXG channels (default emg)"
        )
        if name == "brainflow":
            p.add_argument(
                "--board-id",
                type=int,
                choices=(0, 1, 2),
                help="BrainFlow board id: 0 Cyton, 1 Ganglion, 2 Cyton+Daisy "
                "(default: from the number of columns)",
            )
    xdf = sub.add_parser("xdf", help="XDF file from LabRecorder (needs pyxdf)")
    xdf.add_argument(
        "--kind",
        metavar="STREAM=KIND",
        action="append",
        default=[],
        help="myoflow kind of an XDF stream (default: from its LSL type)",
    )
    for name, p in sub.choices.items():
        p.add_argument("file", metavar="FILE", help="the file to import")
        p.add_argument("--out", metavar="FILE.h5", help="recording to write (required)")
        p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
        if name != "csv":
            p.add_argument(
                "--placements",
                metavar="LABEL,LABEL,...",
                help="one placement per EMG channel, comma-separated"
                + (" (STREAM=LABEL,... for xdf)" if p is xdf else ""),
            )
        p.add_argument(
            "--mains",
            choices=("auto", "50", "60"),
            default="auto",
            help="mains frequency in Hz stored with the recording (default auto: detected from the "
            "EMG spectrum when it shows a clear 50 or 60 Hz line)",
        )
        p.add_argument("--subject", metavar="ID", default=None, help="pseudonymous subject id")
        add_exercise_option(p, "exercise name, alias or .toml file, e.g. glute_bridge (docs/exercises.md)")


def run(args: argparse.Namespace) -> int:
    from myoflow.storage.schema import RecordingError

    where = f"myoflow import {args.format}"
    try:
        report = _run(args)
    except ValueError as exc:
        print(f"{where}: {_one_line(exc)}", file=sys.stderr)
        return 2
    except (RecordingError, OSError, ImportError) as exc:
        print(f"{where}: {_one_line(exc)}", file=sys.stderr)
        return 1
    print(report.summary())
    from myoflow.commands._shared import placement_warnings

    for line in placement_warnings(args.out):
        print(f"{where}: warning: {line}", file=sys.stderr)
    return 0


def _run(args: argparse.Namespace) -> ImportReport:
    if not args.out:
        raise ValueError("--out is required: the .h5 recording to write")
    if args.mains == "auto":
        from myoflow.analysis.mains import detect_mains

        mains: object = detect_mains
    else:
        mains = float(args.mains)
    common = {"overwrite": args.overwrite, "mains": mains}
    if args.format != "uci":
        common |= {"subject_id": args.subject or "", "exercise": args.exercise or ""}
    if args.format == "csv":
        from myoflow._checks import check_rate
        from myoflow.storage.import_text import import_csv, parse_column_map

        if args.rate is None:
            raise ValueError("--rate is required: the sample rate of the rows in Hz")
        try:
            rate = check_rate(float(args.rate), "--rate")
        except (TypeError, ValueError):
            raise ValueError(f"--rate must be a positive number of Hz, got {args.rate!r}") from None
        if not args.map:
            raise ValueError("--map is required: give COLUMN=KIND:PLACEMENT for each column to import")
        maps = [parse_column_map(m) for m in args.map]
        units = dict(_pair(u, "--unit", "COLUMN=UNIT") for u in args.unit)
        return import_csv(args.file, args.out, rate, maps, units=units, delimiter=args.delimiter, **common)
    placements = args.placements.split(",") if getattr(args, "placements", None) else None
    if args.format == "uci":
        from myoflow.storage.import_text import import_uci

        return import_uci(
            args.file,
            args.out,
            side=args.side,
            placements=placements,
            subject_id=args.subject,
            exercise=args.exercise,
            **common,
        )
    if args.format == "opensignals":
        from myoflow.storage.import_text import import_opensignals

        return import_opensignals(
            args.file, args.out, kind=args.kind, placements=placements, counts=args.counts, **common
        )
    if args.format in ("openbci", "brainflow"):
        from myoflow.storage.import_boards import import_brainflow, import_openbci

        if args.format == "openbci":
            return import_openbci(args.file, args.out, kind=args.kind, placements=placements, **common)
        return import_brainflow(
            args.file, args.out, board_id=args.board_id, kind=args.kind, placements=placements, **common
        )
    from myoflow.storage._import_xdf import import_xdf

    kinds = dict(_pair(k, "--kind", "STREAM=KIND") for k in args.kind)
    places = {}
    if args.placements:
        name, labels = _pair(args.placements, "--placements", "STREAM=LABEL,LABEL,...")
        places[name] = labels.split(",")
    return import_xdf(args.file, args.out, kinds=kinds, placements=places, **common)


def _side(text: str) -> str:
    """``--side``: r, l, R, L, right, left (any case) -> ``"r"`` / ``"l"``."""
    side = {"r": "r", "right": "r", "l": "l", "left": "l"}.get(text.strip().lower())
    if side is None:
        raise argparse.ArgumentTypeError(f"expected r or l (or right/left), got {text!r}")
    return side


def _pair(text: str, option: str, syntax: str) -> tuple[str, str]:
    key, sep, value = text.rpartition("=")
    if not sep or not key or not value:
        raise ValueError(f"{option} {text!r}: expected {syntax}")
    return key, value


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
