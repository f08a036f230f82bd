"""Export myoflow recordings to CSV files, NWB or an EMG-BIDS dataset.

formats:
  csv   one CSV per stream (time_s, index, one column per channel named
        <kind>_<placement>_<unit>, e.g. emg_glute_max_r_uV), <stream>_gaps.csv per stream,
        events.csv and session.json, in the folder given by --out
  nwb   one NWB 2 file (needs: pip install 'myoflow[nwb]'): EMG as ElectricalSeries with the
        muscles as electrode locations, IMU streams as TimeSeries, gaps as invalid_times; the
        analysed reps as trials (phase times, verdicts, peaks), sets as epochs, envelopes and
        angle as processed data (--no-analysis: reps from the recorded rep events only);
        --validate checks it with pynwb's validator
  bids  one EMG-BIDS dataset (BIDS 1.11; needs: pip install 'myoflow[bids]') from any number of
        recordings: EMG as EDF+ (BDF+ when the samples need more than 16 bits), _emg.json,
        _channels.tsv with target_muscle, _events.tsv (recording events, gaps and, unless
        --no-analysis, one row per analysed rep with its verdict), IMU in the motion datatype;
        --validate runs the official BIDS validator (bids-validator-deno) when installed

--pseudonymise (both formats) writes the subject id as a keyed hash (HMAC-SHA256 with the key
of --key-file or $MYOFLOW_PSEUDONYM_KEY: the same subject gets the same pseudonym under the same
key) and drops BLE addresses, notes and the source file name; see docs/privacy.md.
Writing is atomic: on any failure nothing is left behind and one line names the file.

examples:
  myoflow export csv session.h5 --out session_csv/
  myoflow export csv session.h5 --out share/ --pseudonymise --key-file ~/.myoflow-key
  myoflow export nwb session.h5 --out session.nwb --validate
  myoflow export bids day1.h5 day2.h5 --out dataset/ --validate
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    sub = parser.add_subparsers(dest="format", metavar="FORMAT", required=True)
    csv = sub.add_parser("csv", help="one CSV file per stream, plus gaps, events and metadata")
    nwb = sub.add_parser("nwb", help="an NWB 2 file (needs pynwb)")
    nwb.add_argument(
        "--validate",
        action="store_true",
        help="check the written file with pynwb's validator (exit 1 on errors)",
    )
    bids = sub.add_parser("bids", help="an EMG-BIDS dataset of one or more recordings (needs edfio)")
    bids.add_argument("--subject", help="subject label for every recording (default: each one's subject id)")
    bids.add_argument("--task", help="task label for every recording (default: each one's exercise)")
    bids.add_argument(
        "--format",
        dest="data_format",
        choices=("auto", "edf", "bdf"),
        default="auto",
        help="EMG data format (default auto: EDF+ when the samples fit 16 bits, else BDF+)",
    )
    bids.add_argument(
        "--no-analysis", action="store_true", help="leave the analysed reps out of the events (faster)"
    )
    bids.add_argument(
        "--validate",
        action="store_true",
        help="run the official BIDS validator on the dataset (exit 1 on errors)",
    )
    nwb.add_argument(
        "--no-analysis", action="store_true", help="trials from the recorded rep events only (no analysis)"
    )
    for p, out in ((csv, "DIR"), (nwb, "FILE.nwb"), (bids, "DIR")):
        if p is bids:
            p.add_argument("file", metavar="FILE.h5", nargs="+", help="the myoflow recordings")
        else:
            p.add_argument("file", metavar="FILE.h5", help="the myoflow recording")
        p.add_argument("--out", metavar=out, help=f"where to write ({out}; required)")
        p.add_argument("--overwrite", action="store_true", help="replace existing output files")
        p.add_argument(
            "--pseudonymise",
            action="store_true",
            help="replace the subject id by a keyed hash (HMAC-SHA256), drop BLE addresses, notes and "
            "the source file name (see docs/privacy.md)",
        )
        p.add_argument(
            "--key-file",
            metavar="FILE",
            help="the secret key for --pseudonymise (default: $MYOFLOW_PSEUDONYM_KEY); at least 16 bytes",
        )


def run(args: argparse.Namespace) -> int:
    from myoflow.storage.schema import RecordingError

    where = f"myoflow export {args.format}"
    if not args.out:
        print(f"{where}: --out is required", file=sys.stderr)
        return 2
    try:
        pseudo = None
        if args.pseudonymise:
            from myoflow.storage.pseudonymise import Pseudonymiser, load_key

            pseudo = Pseudonymiser(load_key(args.key_file))
        elif args.key_file:
            raise ValueError("--key-file is the key of --pseudonymise; add --pseudonymise")
        if args.format == "bids":
            return _bids(args, pseudo, where)
        if args.format == "csv":
            from myoflow.storage.exporters import export_csv

            files = export_csv(args.file, args.out, overwrite=args.overwrite, pseudonymise=pseudo)
            print(f"wrote {len(files)} files to {args.out}: {', '.join(f.name for f in files)}")
            return 0
        from myoflow.reports.exports import analysed_nwb

        path = analysed_nwb(
            args.file,
            args.out,
            overwrite=args.overwrite,
            pseudonymise=pseudo,
            analyse=not args.no_analysis,
            warn=lambda text: print(f"{where}: {text}", file=sys.stderr),
        )
        print(f"wrote {path}")
        if args.validate:
            import pynwb

            errors = pynwb.validate(path=str(path))
            for e in errors:
                print(f"{where}: validation: {e}", file=sys.stderr)
            print(f"pynwb validation: {len(errors)} error(s)")
            return 1 if errors else 0
        return 0
    except ValueError as exc:
        print(f"{where}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except (RecordingError, OSError, ImportError) as exc:
        print(f"{where}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1


def _bids(args: argparse.Namespace, pseudo: object, where: str) -> int:
    """``myoflow export bids``: analyse each recording (unless --no-analysis), write, validate."""
    from myoflow.reports.exports import analysed_bids

    files = analysed_bids(
        args.file,
        args.out,
        subject=args.subject,
        task=args.task,
        fmt=args.data_format,
        overwrite=args.overwrite,
        pseudonymise=pseudo,
        analyse=not args.no_analysis,
        warn=lambda text: print(f"{where}: {text}", file=sys.stderr),
    )
    print(f"wrote {len(files)} files to {args.out}")
    if not args.validate:
        return 0
    from myoflow.storage.bids_validate import validate_bids

    errors, warnings = validate_bids(args.out)
    for e in errors:
        print(f"{where}: validation: {e}", file=sys.stderr)
    print(f"BIDS validator: {len(errors)} error(s), {len(warnings)} warning(s)")
    return 1 if errors else 0
