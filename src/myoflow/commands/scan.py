"""List the Bluetooth LE devices in range: name, address, signal strength (RSSI) and the strap
profiles each one matches.

With --virtual, the virtual straps (Ganglion, Polar H10 and Myo by default, on an in-process
Bumble link) are scanned through the same bleak code path, so no adapter is needed.
"""

from __future__ import annotations

import argparse
import sys

from myoflow.commands._shared import positive


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--virtual", action="store_true", help="scan the virtual straps instead of the Bluetooth adapter"
    )
    parser.add_argument(
        "--timeout", type=positive, default=None, help="seconds to listen (default 5; 1 with --virtual)"
    )
    parser.add_argument(
        "--kinds",
        default="ganglion,polar_h10,myo",
        help="with --virtual: which virtual straps, comma-separated, from myo, ganglion, polar_h10, "
        "polar_verity, diy (default ganglion,polar_h10,myo)",
    )
    parser.add_argument("--known", action="store_true", help="list only devices that match a strap profile")


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from bleak.exc import BleakError

    from myoflow.devices.errors import IngestError

    timeout = args.timeout if args.timeout is not None else (1.0 if args.virtual else 5.0)
    logging.getLogger("bumble").setLevel(logging.ERROR)
    try:
        seen = asyncio.run(_scan(args, timeout))
    except ValueError as exc:
        print(f"myoflow scan: {exc}", file=sys.stderr)
        return 2
    except (IngestError, BleakError, TimeoutError, OSError) as exc:
        print(f"myoflow scan: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    if args.known:
        seen = [d for d in seen if d.profiles]
    if not seen:
        print(f"no devices seen in {timeout:g} s")
        return 0
    width = max(len(d.name or "(no name)") for d in seen)
    print(f"{'NAME':<{width}}  {'ADDRESS':<17}  {'RSSI':>4}  PROFILES")
    for d in seen:
        rssi = "" if d.rssi is None else str(d.rssi)
        profiles = ", ".join(d.profiles) or "-"
        print(f"{d.name or '(no name)':<{width}}  {d.address:<17}  {rssi:>4}  {profiles}")
    return 0


async def _scan(args: argparse.Namespace, timeout: float) -> list:
    from myoflow.devices.ble import scan

    if not args.virtual:
        return await scan(timeout)
    from myoflow.rigs.virtual_rig import virtual_rig

    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    async with virtual_rig(kinds) as rig:
        return await scan(timeout, backend=rig.link.scanner_backend)
