"""Record a session from straps (or --virtual ones) to a myoflow HDF5 file.

The file is written live (readable with SWMR while it grows, flushed every 0.25 s) and
finalised (compressed, verified, renamed) when the recording ends: after --seconds, at Ctrl-C,
SIGTERM or SIGHUP (kill, systemd, a closed terminal; exit code 130, 143, 129), or when
something fails; a killed recorder leaves a file that 'myoflow recover' finalises.
Raw samples are stored as the straps sent them, with per-packet counters, device times and host
receive times, every gap, the profile TOML used (verbatim), device model and address.

Real straps: one --device (address or advertised name) per strap, each with its --profile
(shipped name or .toml path; one for all is fine). Streams are named '<profile>/<stream>'.

--virtual records the demo's virtual straps (DIY 4-channel EMG on glutes and hamstrings, Polar
Verity Sense on pelvis and thigh) on a synthetic session through the real bleak path; --fast
runs them in virtual time.

--calibrate-mvc starts the recording with a guided MVC calibration: after --mvc-lead seconds of
rest, the console asks each EMG channel's muscle in turn to contract as hard as possible for
--mvc-contraction seconds, --mvc-rest seconds apart. The contractions stay in the recording
(marked by events), each reference goes into the metadata as soon as it is measured, and
--seconds counts from the end of the calibration. The virtual straps' synthetic person follows
the same cues (a synthetic MVC trial, then the session).

--placement STREAM:CHANNEL=PLACEMENT (repeat) says where a channel sits, e.g.
--placement diy/emg:ch1=glute_max_l --placement pelvis/acc:x=pelvis.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from myoflow.commands._shared import (
    add_lsl_option,
    check_virtual_options,
    exercise_arg,
    lsl_sinks,
    parse_placements,
    positive,
    stream_placement_warnings,
)

if TYPE_CHECKING:
    from myoflow.commands._signals import Stops
    from myoflow.session.recording import MvcTiming
    from myoflow.session.run import OpenIngest, SessionResult
    from myoflow.storage.schema import SessionMetadata


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, metavar="FILE", help="the recording to write (.h5)")
    parser.add_argument(
        "--seconds", type=positive, default=None, help="how long to record (default: until Ctrl-C)"
    )
    parser.add_argument("--virtual", action="store_true", help="record virtual straps (no adapter needed)")
    add_lsl_option(parser)
    parser.add_argument(
        "--device", action="append", default=[], metavar="ADDRESS_OR_NAME", help="a strap (repeat)"
    )
    parser.add_argument(
        "--profile", action="append", default=[], metavar="NAME_OR_PATH", help="its profile (repeat)"
    )
    parser.add_argument(
        "--subject", default="", metavar="ID", help="pseudonymous subject id (no names needed)"
    )
    parser.add_argument(
        "--exercise",
        metavar="NAME_OR_TOML",
        type=exercise_arg,
        default="glute_bridge",
        help="exercise name, alias or .toml file (docs/exercises.md)",
    )
    parser.add_argument("--notes", default="", help="free-text notes")
    parser.add_argument(
        "--placement",
        action="append",
        default=[],
        metavar="STREAM:CH=PLACEMENT",
        help="channel placement (repeat)",
    )
    mvc = parser.add_argument_group("MVC calibration (with --calibrate-mvc)")
    mvc.add_argument(
        "--calibrate-mvc",
        action="store_true",
        help="start with a guided MVC calibration of every EMG channel",
    )
    mvc.add_argument("--mvc-lead", type=float, default=None, help="rest before the first contraction, s (5)")
    mvc.add_argument("--mvc-contraction", type=float, default=4.0, help="length of each contraction, s (4)")
    mvc.add_argument(
        "--mvc-rest", type=float, default=None, help="rest between contractions, s (10; virtual: 3.5)"
    )
    parser.add_argument(
        "--mains",
        type=float,
        choices=(50.0, 60.0),
        default=None,
        help="mains frequency, Hz (notches; virtual: hum; default 50). When given it is stored in "
        "the recording, which myoflow analyze then uses (not given: analyze detects it)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    parser.add_argument(
        "--status-every", type=positive, default=2.0, help="real seconds between status lines"
    )
    parser.add_argument("--scan-timeout", type=positive, default=10.0, help="seconds to find the straps")
    virtual = parser.add_argument_group("virtual straps (with --virtual)")
    virtual.add_argument("--fast", action="store_true", help="virtual time instead of real time")
    virtual.add_argument("--rate", type=float, default=1000.0, help="EMG rate in Hz, 200-2000 (default 1000)")
    virtual.add_argument("--drop", type=float, default=0.0, help="probability a notification is lost")
    virtual.add_argument("--seed", type=int, default=7, help="seed of the synthetic session and the radio")


def run(args: argparse.Namespace) -> int:
    from myoflow.commands._signals import stop_like_ctrl_c

    # installed first: a SIGTERM/SIGHUP while the modules load or the straps connect stops the
    # command as Ctrl-C does, with a message, instead of killing it silently; it takes effect
    # once the set-up is done (received.arm() in _record)
    with stop_like_ctrl_c("myoflow record", armed=False) as received:
        try:
            return _run(args, received)
        except KeyboardInterrupt:  # before the recording started, or during its finalising
            return _stopped_early(args, received)


def _run(args: argparse.Namespace, received: Stops) -> int:
    import logging
    import signal

    from bleak.exc import BleakError

    from myoflow.commands._signals import exit_code
    from myoflow.devices.errors import IngestError
    from myoflow.devices.profiles import ProfileError
    from myoflow.lsl import LslError
    from myoflow.storage.schema import RecordingError

    logging.getLogger("bumble").setLevel(logging.ERROR)
    args.mains_given = args.mains is not None
    if args.mains is None:
        args.mains = 50.0
    try:
        result = _record(args, received)
    except (ValueError, ProfileError, LslError) as exc:
        print(f"myoflow record: {exc}", file=sys.stderr)
        return 2
    except (IngestError, BleakError, TimeoutError, OSError, RecordingError) as exc:
        print(f"myoflow record: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    for st in result.statuses:
        print("  " + st.summary())
    how = "interrupted, "
    if received and received[0] != signal.SIGINT:
        how = f"stopped by {signal.Signals(received[0]).name}, "
    if result.path is None:  # stopped while the straps were connecting: no stream was planned
        print(f"nothing recorded ({how}before the straps were connected): no file written")
        return exit_code(received, result.interrupted)
    print(
        f"recorded {result.packets} packets to {result.path} ({how if result.interrupted else ''}finalised)"
    )
    for line in _empty_streams(result.path):
        print(f"myoflow record: warning: {line}", file=sys.stderr)
    return exit_code(received, result.interrupted)


def _stopped_early(args: argparse.Namespace, received: Stops) -> int:
    """Say what a stop before the recording started (or during its finalising) left behind."""
    import signal

    from myoflow.commands._signals import exit_code

    by = "interrupted"
    if received and received[0] != signal.SIGINT:
        by = f"stopped by {signal.Signals(received[0]).name}"
    live = Path(args.out)
    if live.exists() and getattr(args, "_recording_started", False):
        print(
            f"myoflow record: {by} while finalising {live}: run 'myoflow recover {live}'",
            file=sys.stderr,
        )
    else:
        print(f"myoflow record: {by} before the recording started: nothing recorded, no file written",
              file=sys.stderr)  # fmt: skip
    return exit_code(received, True)


def _empty_streams(path: Path) -> list[str]:
    """One line per stream of the finalised recording ``path`` that holds no samples."""
    from myoflow.storage.reader import open_recording

    with open_recording(path) as rec:
        empty = [name for name, s in rec.streams.items() if s.n_samples == 0]
    return [f"{name}: no samples were received before the stop; the file holds none" for name in empty]


def _record(args: argparse.Namespace, received: Stops) -> SessionResult:
    from myoflow.session.recording import mvc_timing, record_session
    from myoflow.storage.schema import SessionMetadata

    check_virtual_options(args)
    placements = parse_placements(args.placement)
    if Path(args.out).exists() and not args.overwrite:
        raise ValueError(f"--out {args.out} already exists; pass --overwrite to replace it")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)  # sessions/x.h5 into a new folder
    given = getattr(args, "mains_given", True)
    mains = {"mains_hz": args.mains, "mains_source": "given at record"} if given else {}
    meta = SessionMetadata(
        subject_id=args.subject, exercise=args.exercise, notes=args.notes, filter_settings=mains
    )
    timing = None
    if args.calibrate_mvc:
        timing = mvc_timing(
            virtual=args.virtual,
            lead_s=args.mvc_lead,
            contraction_s=args.mvc_contraction,
            rest_s=args.mvc_rest,
        )
    if args.virtual:
        opened, meta, n_emg = _virtual(args, meta, placements, timing)
    else:
        from myoflow.session.straps import emg_channels, real_ingest, strap_configs

        configs = strap_configs(args.device, args.profile, placements)
        n_emg = emg_channels(configs)
        if args.calibrate_mvc and n_emg == 0:
            names = [c.resolved_profile().name for c in configs]  # type: ignore[union-attr]
            raise ValueError(f"--calibrate-mvc needs an EMG stream; the profiles {names} have none")
        opened = real_ingest(configs, args.scan_timeout)
    lsl = lsl_sinks(args)
    console = _Console(args.status_every)

    def started(ingest: Any) -> None:
        args._recording_started = True
        console.ingest = ingest
        print(f"recording {', '.join(s.name for s in ingest.straps)} to {args.out}", flush=True)
        # before any data, so that a misspelt --placement can be fixed before the session
        for line in stream_placement_warnings(ingest.streams.values()):
            print(f"myoflow record: warning: {line}", file=sys.stderr, flush=True)

    try:
        received.arm()  # a stop signal during the set-up stops here
        return record_session(
            opened,
            args.out,
            meta,
            args.seconds,
            [console, *lsl],
            mvc=timing,
            n_emg=n_emg,
            mains_hz=args.mains,
            overwrite=args.overwrite,
            say=lambda line: print(f"  mvc: {line}", flush=True),
            on_started=started,
        )
    finally:
        for sink in lsl:
            sink.close()


def _virtual(
    args: argparse.Namespace,
    meta: SessionMetadata,
    placements: dict[str, dict[str, str]],
    timing: MvcTiming | None,
) -> tuple[OpenIngest, SessionMetadata, int]:
    """The virtual straps on a session that outlasts the recording (after an MVC trial when
    the recording starts with a guided calibration), and the metadata that says so."""
    import dataclasses

    from myoflow.rigs.virtual_glute import EMG_CHANNELS, DemoSettings, VirtualGlute, session_seconds

    settings = DemoSettings(
        seconds=session_seconds(args.seconds),
        exercise=args.exercise,
        emg_rate=args.rate,
        mains_hz=args.mains,
        seed=args.seed,
        realtime=not args.fast,
        drop=args.drop,
    )
    rig = VirtualGlute(settings)
    extra: dict[str, Any] = {
        "seed": args.seed,
        "drop": args.drop,
        "fast": bool(args.fast),
        "emg_rate": args.rate,
    }
    signals = None
    if timing is not None:  # the synthetic person contracts on the guided procedure's cues
        signals = rig.after_mvc_trial(timing.contraction_s, timing.lead_s)
        extra["session_starts_s"] = signals.lead_s
    meta = dataclasses.replace(meta, extra={"virtual": extra})
    return rig.opener(signals, placements=placements), meta, EMG_CHANNELS


class _Console:
    """Counts gaps, prints state changes, and a status line every ``every`` real seconds.

    Runs on the ingest's thread (its ``on_block``), where the straps' statistics live.
    """

    def __init__(self, every: float) -> None:
        import time

        self.every, self.ingest = every, None
        self._next = time.monotonic() + every
        self.gaps = 0

    def on_block(self, block: Any) -> None:
        import time

        if self.ingest is None or time.monotonic() < self._next:
            return
        self._next = time.monotonic() + self.every
        for status in self.ingest.status():
            print("  " + status.summary(), flush=True)

    def on_gap(self, gap: Any) -> None:
        self.gaps += 1

    def on_status(self, status: Any) -> None:
        if status.state in ("reconnecting", "failed"):
            print(f"  {status.name}: {status.state}{': ' + status.error if status.error else ''}", flush=True)
