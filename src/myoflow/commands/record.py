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
from typing import Any

from myoflow.commands._shared import add_lsl_option, lsl_sinks


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, metavar="FILE", help="the recording to write (.h5)")
    parser.add_argument(
        "--seconds", type=float, default=None, help="how long to record (default: until Ctrl-C)"
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
        "--exercise", default="glute_bridge", help="exercise name (virtual: glute_bridge or rdl)"
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
    parser.add_argument("--status-every", type=float, default=2.0, help="real seconds between status lines")
    parser.add_argument("--scan-timeout", type=float, default=10.0, help="seconds to find the straps")
    virtual = parser.add_argument_group("virtual straps (with --virtual)")
    virtual.add_argument("--fast", action="store_true", help="virtual time instead of real time")
    virtual.add_argument("--rate", type=float, default=1000.0, help="EMG rate in Hz, 200-2000 (default 1000)")
    virtual.add_argument("--drop", type=float, default=0.0, help="probability a notification is lost")
    virtual.add_argument("--seed", type=int, default=7, help="seed of the synthetic session and the radio")


def parse_placements(items: list[str]) -> dict[str, dict[str, str]]:
    """``["diy/emg:ch1=glute_max_l", ...]`` -> ``{"diy/emg": {"ch1": "glute_max_l"}}``."""
    out: dict[str, dict[str, str]] = {}
    for item in items:
        stream, sep, rest = item.rpartition(":")
        channel, eq, placement = rest.partition("=")
        if not (sep and eq and stream and channel and placement):
            raise ValueError(
                "--placement must look like STREAM:CHANNEL=PLACEMENT (e.g. diy/emg:ch1=glute_max_r), "
                f"got {item!r}"
            )
        out.setdefault(stream, {})[channel] = placement
    return out


def run(args: argparse.Namespace) -> int:
    import logging
    import signal

    from bleak.exc import BleakError

    from myoflow.commands._signals import exit_code, stop_like_ctrl_c
    from myoflow.devices.errors import IngestError
    from myoflow.devices.profiles import ProfileError
    from myoflow.lsl import LslError
    from myoflow.storage.schema import RecordingError

    logging.getLogger("bumble").setLevel(logging.ERROR)
    args.mains_given = args.mains is not None
    if args.mains is None:
        args.mains = 50.0
    try:
        with stop_like_ctrl_c("myoflow record") as received:  # SIGTERM, SIGHUP: finalise as for Ctrl-C
            result = _record(args)
    except (ValueError, ProfileError, LslError) as exc:
        print(f"myoflow record: {exc}", file=sys.stderr)
        return 2
    except (IngestError, BleakError, TimeoutError, OSError, RecordingError) as exc:
        print(f"myoflow record: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    for st in result.statuses:
        print("  " + st.summary())
    how = f"stopped by {signal.Signals(received[0]).name}, " if received else "interrupted, "
    print(
        f"recorded {result.packets} packets to {result.path} ({how if result.interrupted else ''}finalised)"
    )
    from myoflow.commands._shared import placement_warnings

    for line in placement_warnings(str(result.path)):
        print(f"myoflow record: warning: {line}", file=sys.stderr)
    return exit_code(received, result.interrupted)


def _record(args: argparse.Namespace) -> Any:
    from myoflow.session.guided_mvc import GuidedMvc
    from myoflow.session.recorder_sink import RecorderSink
    from myoflow.session.run import run_session
    from myoflow.storage.schema import SessionMetadata

    for name in ("seconds", "status_every", "scan_timeout"):
        value = getattr(args, name)
        if value is not None and not value > 0:
            raise ValueError(f"--{name.replace('_', '-')} must be positive, got {value}")
    placements = parse_placements(args.placement)
    from pathlib import Path

    if Path(args.out).exists() and not args.overwrite:
        raise ValueError(f"--out {args.out} already exists; pass --overwrite to replace it")
    given = getattr(args, "mains_given", True)
    mains = {"mains_hz": args.mains, "mains_source": "given at record"} if given else {}
    meta = SessionMetadata(
        subject_id=args.subject, exercise=args.exercise, notes=args.notes, filter_settings=mains
    )
    timing = _mvc_timing(args)
    if args.virtual:
        opened, meta, n_emg = _virtual(args, meta, placements, timing)
    else:
        opened, n_emg = _real(args, placements)
    lsl = lsl_sinks(args)
    recorder = RecorderSink(args.out, meta, overwrite=args.overwrite)
    console = _Console(args.status_every)
    sinks: list[Any] = [console, *lsl]
    seconds = args.seconds
    if timing is not None:
        guided = GuidedMvc(
            *timing,
            mains_hz=args.mains,
            say=lambda line: print(f"  mvc: {line}", flush=True),
            emit=recorder.on_event,
            on_references=lambda refs, t: recorder.update_metadata(time_s=t, mvc_references=refs),
        )
        sinks.append(guided)
        if seconds is not None:
            seconds += guided.duration_s(n_emg)

    def started(ingest: Any) -> None:
        console.ingest = ingest
        print(f"recording {', '.join(s.name for s in ingest.straps)} to {args.out}", flush=True)

    try:
        return run_session(opened, seconds, sinks, recorder=recorder, on_started=started)
    finally:
        for sink in lsl:
            sink.close()


def _mvc_timing(args: argparse.Namespace) -> tuple[float, float, float] | None:
    """``(lead, contraction, rest)`` seconds of the guided MVC calibration, None without it."""
    if not args.calibrate_mvc:
        return None
    rest = args.mvc_rest if args.mvc_rest is not None else 3.5 if args.virtual else 10.0
    contraction = args.mvc_contraction
    # Virtual: the synthetic trial rests `lead` before each contraction and ramps down 0.5 s after it.
    lead = args.mvc_lead if args.mvc_lead is not None else rest - 0.5 if args.virtual else 5.0
    for name, value, low in (
        ("--mvc-rest", rest, 1.0),
        ("--mvc-contraction", contraction, 1.0),
        ("--mvc-lead", lead, 0.5),
    ):
        if not value >= low:
            raise ValueError(f"{name} must be at least {low:g} s, got {value}")
    if args.virtual and args.mvc_lead is not None and abs(lead - (rest - 0.5)) > 1e-9:
        raise ValueError(
            "--virtual: the synthetic person rests --mvc-rest - 0.5 s before the first contraction, "
            f"so --mvc-lead must be {rest - 0.5:g}"
        )
    return lead, contraction, rest


def _virtual(
    args: argparse.Namespace,
    meta: Any,
    placements: dict[str, dict[str, str]],
    timing: tuple[float, float, float] | None,
) -> tuple[Any, Any, int]:
    import dataclasses

    from myoflow.rigs.demo import DemoSettings
    from myoflow.rigs.virtual_glute import EMG_CHANNELS, virtual_glute_ingest
    from myoflow.synth.calibration import mvc_trial, trial_then_session
    from myoflow.synth.session import generate_session

    if args.exercise not in ("glute_bridge", "rdl"):
        raise ValueError(f"--exercise must be glute_bridge or rdl with --virtual, got {args.exercise!r}")
    seconds = max(12.0, (args.seconds or 60.0) + 6.0)  # the session outlasts the recording
    settings = DemoSettings(
        seconds=seconds,
        exercise=args.exercise,
        emg_rate=args.rate,
        mains_hz=args.mains,
        seed=args.seed,
        drop=args.drop,
    )
    config = settings.session_config()
    signals: Any = generate_session(config)
    if timing is not None:  # the synthetic person contracts on the guided procedure's cues
        lead, contraction, _ = timing
        signals = trial_then_session(mvc_trial(config, contraction_s=contraction, rest_s=lead), signals)
    extra = {
        "virtual": {"seed": args.seed, "drop": args.drop, "fast": bool(args.fast), "emg_rate": args.rate}
    }
    if timing is not None:
        extra["virtual"]["session_starts_s"] = signals.lead_s
    meta = dataclasses.replace(meta, extra=extra)

    def opened(sinks: Any) -> Any:
        return virtual_glute_ingest(
            signals, sinks, fast=args.fast, drop=args.drop, seed=args.seed, placements=placements
        )

    return opened, meta, EMG_CHANNELS


def _real(args: argparse.Namespace, placements: dict[str, dict[str, str]]) -> tuple[Any, int]:
    from myoflow.devices.ingest import Ingest, StrapConfig
    from myoflow.devices.profiles import load_profile
    from myoflow.session.run import ingest_of

    devices, profiles = list(args.device), list(args.profile)
    if devices and len(profiles) > 1 and len(profiles) != len(devices):
        raise ValueError(
            f"give one --profile per --device, or one for all: got {len(devices)} and {len(profiles)}"
        )
    if not profiles:
        raise ValueError(
            "give the --profile of each strap (a shipped name or a .toml path), or use --virtual"
        )
    if len(profiles) == 1 and len(devices) > 1:
        profiles = profiles * len(devices)
    loaded = [load_profile(p) for p in profiles]
    devices = devices or [None] * len(loaded)
    configs = []
    for i, (device, profile) in enumerate(zip(devices, loaded, strict=True)):
        name = (
            profile.name
            if i == 0
            else f"{profile.name}-{i + 1}"
            if profile.name in [p.name for p in loaded[:i]]
            else profile.name
        )
        mine = {k.split("/", 1)[1]: v for k, v in placements.items() if k.split("/", 1)[0] == name}
        configs.append(StrapConfig(profile, device=device, name=name, placements=mine or None))
    names = {c.name for c in configs}
    unknown = sorted(k for k in placements if k.split("/", 1)[0] not in names)
    if unknown:
        raise ValueError(f"--placement names unknown stream(s) {unknown}; the straps are {sorted(names)}")
    n_emg = sum(len(spec.channels) for profile in loaded for spec in profile.streams if spec.kind == "emg")
    if args.calibrate_mvc and n_emg == 0:
        raise ValueError(
            f"--calibrate-mvc needs an EMG stream; the profiles {[p.name for p in loaded]} have none"
        )
    return lambda sinks: ingest_of(lambda: Ingest(configs, sinks, scan_timeout=args.scan_timeout)), n_emg


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
