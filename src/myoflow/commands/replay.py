"""Replay a recording through the live signal core, as if its straps were streaming: in real
time (default), --speed X times faster, or --fast (as fast as possible).

Every stream is cut into blocks of --block-ms, merged in time order with its gaps and events,
and each EMG stream runs through the live EMG pipeline (band-pass, mains notches, envelope;
restarted after each gap). Prints a progress bar while it runs (on a terminal), then per stream
what was replayed, and for EMG streams the envelope summary per channel (mean and peak, in
% MVC too when the recording holds MVC references). Exit code 0, 1 when the file cannot be read,
2 for invalid arguments.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a myoflow HDF5 recording (.h5)")
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--speed", type=float, default=1.0, help="multiple of real time (default 1)")
    pace.add_argument("--fast", action="store_true", help="as fast as possible")
    parser.add_argument("--block-ms", type=float, default=20.0, help="block length in ms (default 20)")
    parser.add_argument(
        "--mains",
        type=float,
        choices=(50.0, 60.0),
        default=None,
        help="mains notch frequency, Hz (default: the one stored in the recording, else 50)",
    )


#: The bar counts seconds of recording: ``replay  40%|####     | 12.0/30.0 s [00:01<00:02, emg 24000]``.
BAR = "{desc} {percentage:3.0f}%|{bar:30}| {n:.1f}/{total:.1f} s [{elapsed}<{remaining}{postfix}]"


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from myoflow._checks import check_positive, check_range
    from myoflow.analysis.mains import stored_mains
    from myoflow.session.live import EnvelopeSummary
    from myoflow.storage.reader import open_recording
    from myoflow.storage.replay import MAX_BLOCK_S, Replayer
    from myoflow.storage.schema import RecordingError

    try:
        check_positive(args.speed, "--speed", "x real time")
        check_range(args.block_ms, "--block-ms", 0.1, 1000.0 * MAX_BLOCK_S, "ms")
    except ValueError as exc:
        print(f"myoflow replay: {exc}", file=sys.stderr)
        return 2
    try:
        with open_recording(args.file) as rec:
            mains = args.mains or stored_mains(rec.metadata.filter_settings) or 50.0
            envelope = EnvelopeSummary(mains, rec.metadata.mvc_references)
            replayer = Replayer(rec, None if args.fast else args.speed, block_s=args.block_ms / 1000.0)
            pace = "as fast as possible" if args.fast else f"at {args.speed:g}x real time"
            print(f"replaying {rec.path}: {replayer.duration:.1f} s, {len(rec.streams)} stream(s), {pace}")
            stats = replayer.stats
            # on stderr, only on a terminal (disable=None): result lines never mix with the bar
            with tqdm(total=replayer.duration, desc="replay", unit="s", disable=None, bar_format=BAR) as bar:

                def progress(done: float, total: float) -> None:
                    note = "  ".join(f"{n.rsplit('/', 1)[-1]} {k}" for n, k in stats.samples.items())
                    bar.set_postfix_str(note, refresh=False)
                    bar.update(done - bar.n)

                replayer.run(envelope, progress)
            _report(replayer, envelope)
    except RecordingError as exc:
        print(f"myoflow replay: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # a stream the live signal core cannot process (e.g. its rate)
        print(f"myoflow replay: {args.file}: {exc}", file=sys.stderr)
        return 1
    return 0


def _report(replayer: Any, envelope: Any) -> None:
    s = replayer.stats
    print(f"replayed {s.position_s:.1f} s in {s.wall_s:.2f} s ({s.speed:.1f}x real time)")
    for name in s.blocks:
        print(
            f"  {name}: {s.samples[name]} samples in {s.blocks[name]} blocks, "
            f"{s.gaps[name]} gap(s), {s.lost[name]} samples lost"
        )
    print(f"  events: {s.events}")
    delays = envelope.delay_ms
    for name, rows in envelope.summary().items():
        unit = rows[0]["unit"]
        pct = any(r["mean_pct_mvc"] is not None for r in rows)
        print(f"EMG envelope of {name} (live pipeline, delay {delays[name]:.0f} ms):")
        head = f"    {'channel':<22} {'mean ' + unit:>10} {'peak ' + unit:>10} {'peak at s':>10}"
        print(head + (f" {'mean %MVC':>10} {'peak %MVC':>10}" if pct else ""))
        for r in rows:
            label = (
                r["channel"]
                if r["placement"] in (None, r["channel"])
                else f"{r['channel']} ({r['placement']})"
            )
            at = r["peak_time_s"] - replayer.t_start
            line = f"    {label:<22} {r['mean']:>10.2f} {r['peak']:>10.2f} {at:>10.2f}"
            if pct:
                line += "".join(
                    f" {v:>10.1f}" if v is not None else f" {'-':>10}"
                    for v in (r["mean_pct_mvc"], r["peak_pct_mvc"])
                )
            print(line)
