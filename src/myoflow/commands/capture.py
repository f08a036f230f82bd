"""Capture the raw notifications of straps, with host receive times, to a JSON-lines file that
replays through the same decoding as a live strap (see docs/hardware-testing.md).

Real straps: give one --device (address or advertised name) per strap, each with its --profile
(a shipped profile name or a .toml path; inferred from the advertisement when left out).
--virtual captures virtual straps instead (--kinds as for `myoflow stream`).

--check FILE decodes a capture as a live session would and prints, per stream, the samples,
gaps, lost samples and corrupt notifications: what to attach to a bug report, and what the
regression tests compare.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC
from typing import Any

from myoflow.commands._shared import check_virtual_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=None, help="capture file to write (.jsonl)")
    parser.add_argument("--check", default=None, metavar="FILE", help="decode a capture and report it")
    parser.add_argument("--virtual", action="store_true", help="capture virtual straps (no adapter needed)")
    parser.add_argument(
        "--device", action="append", default=[], metavar="ADDRESS_OR_NAME", help="a strap (repeat)"
    )
    parser.add_argument(
        "--profile", action="append", default=[], metavar="NAME_OR_PATH", help="profile of each --device"
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to capture (default 60 s)")
    parser.add_argument(
        "--scan-timeout", type=float, default=10.0, help="seconds to find the straps (default 10)"
    )
    parser.add_argument(
        "--kinds",
        default="ganglion,polar_h10,myo",
        help="with --virtual: which virtual straps, comma-separated",
    )
    parser.add_argument(
        "--fast", action="store_true", help="with --virtual: virtual time instead of real time"
    )
    parser.add_argument("--seed", type=int, default=0, help="with --virtual: seed of the session")


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from bleak.exc import BleakError

    from myoflow.devices.capture import CaptureError
    from myoflow.devices.errors import IngestError
    from myoflow.devices.profiles import ProfileError

    logging.getLogger("bumble").setLevel(logging.ERROR)
    try:
        if (args.out is None) == (args.check is None):
            raise ValueError("give --out FILE to capture, or --check FILE to decode a capture")
        check_virtual_options(args)
        if args.check is not None:
            print(check_report(args.check))
            return 0
        for name in ("seconds", "scan_timeout"):
            if not getattr(args, name) > 0:
                raise ValueError(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
        count = asyncio.run(_capture(args))
    except (ValueError, ProfileError, CaptureError) as exc:
        print(f"myoflow capture: {exc}", file=sys.stderr)
        return 2
    except (IngestError, BleakError, TimeoutError, OSError) as exc:
        print(f"myoflow capture: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    print(f"{count} notifications written to {args.out}; check it with: myoflow capture --check {args.out}")
    return 0


def check_report(path: str) -> str:
    """Decode the capture at ``path`` and describe what each stream got, one line per stream."""
    from myoflow.devices.capture import read_capture, replay_capture

    capture = read_capture(path)
    decoders = replay_capture(capture)
    lines = [f"{path}: {len(capture.notifications)} notifications over {capture.duration_s:.1f} s"]
    for name, decoder in decoders.items():
        lines.append(f"{name} ({capture.profiles[name].name}): {decoder.corrupt} corrupt notifications")
        for stats in decoder.stats().values():
            lines.append(
                f"  {stats.stream}: {stats.samples} samples in {stats.packets} packets, "
                f"{stats.gaps} gaps ({stats.lost_samples} samples lost, {stats.unknown_gaps} unknown), "
                f"{stats.effective_rate:.2f} Hz (nominal {stats.nominal_rate:g}), "
                f"data up to {stats.delivery_s:.2f} s late"
            )
    return "\n".join(lines)


def _configs(args: argparse.Namespace) -> list[Any]:
    from myoflow.devices.ingest import StrapConfig

    devices, profiles = list(args.device), list(args.profile)
    if devices and len(profiles) > 1 and len(profiles) != len(devices):
        raise ValueError(
            f"give one --profile per --device, or one for all: got {len(devices)} and {len(profiles)}"
        )
    if not devices:
        return [StrapConfig(p) for p in profiles] or [StrapConfig()]
    profiles = profiles if len(profiles) > 1 else (profiles * len(devices) or [None] * len(devices))
    return [StrapConfig(p, device=d) for d, p in zip(devices, profiles, strict=True)]


async def _capture(args: argparse.Namespace) -> int:
    from datetime import datetime

    from myoflow.devices.capture import CaptureWriter

    if not args.virtual:
        import time

        from myoflow.devices.ingest import Ingest

        writer = CaptureWriter(args.out, (time.monotonic(), datetime.now(UTC).isoformat()))
        with writer:
            await _run(Ingest(_configs(args), [writer], scan_timeout=args.scan_timeout), writer, args.seconds)
        return writer.notifications
    from myoflow.devices.ingest import ReconnectPolicy
    from myoflow.rigs.virtual_rig import virtual_rig

    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    async with virtual_rig(kinds, fast=args.fast, seed=args.seed) as rig:
        writer = CaptureWriter(args.out, (rig.clock(), datetime.now(UTC).isoformat()))
        with writer:
            ingest = rig.ingest([writer], reconnect=ReconnectPolicy(initial_s=0.05, max_s=1.0))
            await _run(ingest, writer, args.seconds)
    return writer.notifications


async def _run(ingest: Any, writer: Any, seconds: float) -> None:
    async with ingest:
        for strap in ingest.straps:  # before any consumer runs: straps first, then notifications
            writer.add_strap(strap.name, strap.profile, getattr(strap.device, "address", strap.device))
        print(f"capturing {', '.join(s.name for s in ingest.straps)} for {seconds:g} s", flush=True)
        await ingest.run(seconds)
