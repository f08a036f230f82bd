"""Synthesise a glute-bridge (or RDL) session with known truth, stream it through the signal core
in 20 ms chunks as a strap would deliver it, and print what each rep did next to the truth.

Runs without a display. Later versions stream the synthetic straps over Bluetooth LE (virtual
straps) and open the live dashboard when a display exists.
"""

from __future__ import annotations

import argparse
import sys
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--headless", action="store_true", help="never open a window (the default when there is no display)"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=45.0,
        help="length of the synthetic session in seconds (default 45; at least 12)",
    )
    parser.add_argument("--exercise", choices=("glute_bridge", "rdl"), default="glute_bridge")
    parser.add_argument(
        "--rate", type=float, default=1000.0, help="EMG sample rate in Hz, 200-2000 (default 1000)"
    )
    parser.add_argument(
        "--mains",
        type=float,
        choices=(50.0, 60.0),
        default=50.0,
        help="mains frequency in Hz for hum and notch (default 50)",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--chunk-ms", type=float, default=20.0, help="size of each live chunk in ms (default 20)"
    )
    parser.add_argument(
        "--realtime", action="store_true", help="pace the chunks at the speed a strap would send them"
    )


def run(args: argparse.Namespace) -> int:
    from myoflow.demo import DemoSettings, run_demo

    try:
        settings = DemoSettings(
            seconds=args.seconds,
            exercise=args.exercise,
            emg_rate=args.rate,
            mains_hz=args.mains,
            seed=args.seed,
            chunk_s=args.chunk_ms / 1000.0,
            realtime=args.realtime,
        )
    except ValueError as exc:
        print(f"myoflow demo: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    report = run_demo(settings, out=sys.stdout)
    print(f"\nprocessed {report.seconds:.1f} s of data in {time.perf_counter() - started:.2f} s")
    return 0
