"""Stream straps over Bluetooth LE and report what arrived: per strap and stream, the samples
received, the gaps, the loss and the effective sample rate (with a status line every few
seconds).

Real straps: give one --device (address or advertised name) per strap, each with its --profile
(a shipped profile name or a .toml path; inferred from the advertisement when left out). With
no --device the first strap that matches each --profile (or any shipped profile) is used.

--virtual streams virtual straps (Ganglion + Polar H10 + Myo by default, driven by a synthetic
glute-bridge session) through the same bleak code, in real time; --fast runs them in virtual
time instead (a minute of data in a few seconds). --drop, --skew, --jitter and
--disconnect-every impair the virtual radio link.

--lsl also publishes every stream, an envelope per EMG stream and a marker stream (gaps, strap
states) over Lab Streaming Layer for LabRecorder, OpenViBE and other LSL tools (needs pylsl:
pip install 'myoflow[lsl]'; LSL announces the streams on the local network, see docs/lsl.md).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from myoflow.commands._shared import add_lsl_option, check_virtual_options, lsl_sinks, positive


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--virtual", action="store_true", help="stream virtual straps (no adapter needed)")
    parser.add_argument(
        "--device",
        action="append",
        default=[],
        metavar="ADDRESS_OR_NAME",
        help="a strap to stream (repeat for several)",
    )
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="NAME_OR_PATH",
        help="profile of the matching --device (repeat; one for all is fine)",
    )
    parser.add_argument("--seconds", type=positive, default=10.0, help="how long to stream (default 10 s)")
    parser.add_argument(
        "--status-every", type=positive, default=2.0, help="seconds between status lines (default 2)"
    )
    parser.add_argument(
        "--scan-timeout", type=positive, default=10.0, help="seconds to find the straps (default 10)"
    )
    add_lsl_option(parser)
    virtual = parser.add_argument_group("virtual straps (with --virtual)")
    virtual.add_argument(
        "--kinds",
        default="ganglion,polar_h10,myo",
        help="comma-separated, from myo, ganglion, polar_h10, polar_verity, diy",
    )
    virtual.add_argument("--fast", action="store_true", help="virtual time instead of real time")
    virtual.add_argument("--drop", type=float, default=0.0, help="probability a notification is lost")
    virtual.add_argument("--skew", type=float, default=0.0, help="strap clock error in ppm")
    virtual.add_argument("--jitter", type=float, default=0.0, help="extra radio delay, up to this many s")
    virtual.add_argument(
        "--disconnect-every", type=float, default=None, metavar="S", help="force a disconnect every S s"
    )
    virtual.add_argument("--seed", type=int, default=0, help="seed of the session and the radio")


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from bleak.exc import BleakError

    from myoflow.devices.errors import IngestError
    from myoflow.devices.profiles import ProfileError
    from myoflow.lsl import LslError

    logging.getLogger("bumble").setLevel(logging.ERROR)
    try:
        report, interrupted = asyncio.run(_stream(args))
    except (ValueError, ProfileError, LslError) as exc:
        print(f"myoflow stream: {exc}", file=sys.stderr)
        return 2
    except (IngestError, BleakError, TimeoutError, OSError) as exc:
        print(f"myoflow stream: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    print(report)
    if interrupted:
        print("interrupted: the straps were stopped and disconnected", file=sys.stderr)
        return 130
    return 0


async def _stream(args: argparse.Namespace) -> tuple[str, bool]:
    from myoflow.devices.ingest import Ingest

    check_virtual_options(args)
    console = _Console()
    if not args.virtual:
        sinks = [console, *lsl_sinks(args)]
        ingest = Ingest(_configs(args), sinks, scan_timeout=args.scan_timeout)
        return await _run(ingest, args, console)
    from myoflow.devices.ingest import ReconnectPolicy
    from myoflow.devices.virtual.radio import LinkConditions
    from myoflow.rigs.virtual_rig import virtual_rig

    conditions = LinkConditions(
        drop_prob=args.drop,
        clock_ppm=args.skew,
        jitter_s=args.jitter,
        disconnect_every_s=args.disconnect_every,
        seed=args.seed,
    )
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    async with virtual_rig(kinds, conditions=conditions, fast=args.fast, seed=args.seed) as rig:
        sinks = [console, *lsl_sinks(args, rig.clock)]
        ingest = rig.ingest(sinks, reconnect=ReconnectPolicy(initial_s=0.05, max_s=1.0))
        return await _run(ingest, args, console)


def _configs(args: argparse.Namespace) -> list[Any]:
    from myoflow.devices.ingest import StrapConfig

    devices, profiles = list(args.device), list(args.profile)
    if devices and len(profiles) > 1 and len(profiles) != len(devices):
        raise ValueError(
            f"give one --profile per --device, or one for all: got {len(devices)} device(s) "
            f"and {len(profiles)} profile(s)"
        )
    if not devices:
        return [StrapConfig(p) for p in profiles] or [StrapConfig()]
    if len(profiles) <= 1:
        profiles = profiles * len(devices) or [None] * len(devices)
    return [StrapConfig(p, device=d) for d, p in zip(devices, profiles, strict=True)]


async def _run(ingest: Any, args: argparse.Namespace, console: _Console) -> tuple[str, bool]:
    import asyncio

    interrupted = False
    try:
        async with ingest:
            names = ", ".join(s.name for s in ingest.straps)
            print(f"streaming {names} for {args.seconds:g} s", flush=True)
            left = float(args.seconds)
            try:
                while left > 1e-9:
                    step = min(args.status_every, left)
                    await ingest.run(step)
                    left -= step
                    if left > 1e-9:
                        for status in ingest.status():
                            print("  " + status.summary(), flush=True)
            except asyncio.CancelledError:  # Ctrl-C: this is the top-level task; stop cleanly, report
                interrupted = True
    finally:  # after the straps stopped: LSL outlets end with the straps' last state
        for sink in ingest.sinks:
            close = getattr(sink, "close", None)
            if callable(close):
                close()
    return _report(ingest.status(), console), interrupted


class _Console:
    """A sink that counts gaps and prints state changes after the start."""

    def __init__(self) -> None:
        self.gaps: dict[str, int] = {}

    def on_block(self, block: Any) -> None:
        pass

    def on_gap(self, gap: Any) -> None:
        self.gaps[gap.stream.name] = self.gaps.get(gap.stream.name, 0) + 1

    def on_status(self, status: Any) -> None:
        if status.state in ("reconnecting", "failed") or (status.state == "streaming" and status.reconnects):
            why = f": {status.error}" if status.error else ""
            print(f"  {status.name}: {status.state}{why}", flush=True)


def _report(statuses: list[Any], console: _Console) -> str:
    rows = [("strap", "stream", "samples", "gaps", "lost", "loss %", "rate Hz", "nominal")]
    for st in statuses:
        for name, s in st.streams.items():
            lost = "?" if s.unknown_gaps else str(s.lost_samples)
            total = s.samples + s.lost_samples
            loss = "?" if s.unknown_gaps else f"{100.0 * s.lost_samples / total if total else 0.0:.2f}"
            rows.append(
                (
                    st.name,
                    name,
                    str(s.samples),
                    str(s.gaps),
                    lost,
                    loss,
                    f"{s.effective_rate:.2f}",
                    f"{s.nominal_rate:g}",
                )
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        for r in rows
    ]
    for st in statuses:
        extra = [f"{st.connections} connection(s)", f"{st.reconnects} reconnect(s)"]
        if st.battery is not None:
            extra.append(f"battery {st.battery}%")
        if st.corrupt:
            extra.append(f"{st.corrupt} corrupt")
        discards = getattr(st, "discards", {})
        if discards:
            extra.append("discarded " + ", ".join(f"{n} {kind}" for kind, n in sorted(discards.items())))
        if st.error:
            extra.append(f"failed: {st.error}")
        lines.append(f"{st.name} ({st.device}, {st.profile}): {st.state}, " + ", ".join(extra))
    return "\n".join(lines)
