"""BLE ingest benchmark: 3 virtual straps (Ganglion 4 x 200 Hz + accel, Polar H10 ACC 200 Hz +
ECG 130 Hz, Myo 8 x 200 Hz EMG + 50 Hz IMU) through Bumble -> bleak -> the ingest -> a sink.

1. **Throughput, virtual time** (default 60 s of data): the straps run on a VirtualClock, so the
   whole minute goes through as fast as the machine allows. Reported: wall time, process CPU
   (simulator + Bumble + bleak + ingest), and the **ingest's own CPU**: the consumer tasks time
   themselves with ``time.thread_time`` (decode, timebase, delivery to the sink), plus the
   notification callback (stamp + enqueue) timed in isolation, per notification, times the
   notification count. As a cross-check the ledgers' sent packets are replayed through fresh
   decoders with no asyncio at all.
2. **Latency, real time** (default 20 s): the same straps paced by the wall clock. Reported:
   notification-to-Block latency (host receive stamp in the callback -> Block handed to the sink),
   median and p99, and the consumers' CPU in real time.

Target: ingest CPU under 5 % of one core per second of data.
Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_ingest.py [--seconds 60] [--realtime 20]``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time

import numpy as np

from myoflow.devices.ble import StrapLink
from myoflow.devices.decoding import StrapDecoder
from myoflow.devices.profiles import load_profile
from myoflow.devices.sinks import Sink
from myoflow.rigs.virtual_rig import PROFILE_OF_KIND, virtual_rig

from _common import finish, machine, print_figures

KINDS = ("ganglion", "polar_h10", "myo")
TARGET_PCT = 5.0


class CountingSink(Sink):
    """What a console would do: count samples (so the sink costs next to nothing)."""

    def __init__(self) -> None:
        self.samples = 0
        self.gaps = 0

    def on_block(self, block) -> None:  # noqa: ANN001
        self.samples += len(block)

    def on_gap(self, gap) -> None:  # noqa: ANN001
        self.gaps += 1


async def session(seconds: float, fast: bool) -> dict:
    sink = CountingSink()
    async with virtual_rig(KINDS, fast=fast, seed=1) as rig:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        async with rig.ingest([sink]) as ingest:
            cpu1, wall1 = time.process_time(), time.perf_counter()
            await ingest.run(seconds)
            cpu2, wall2 = time.process_time(), time.perf_counter()
        notifications = sum(len(s.ledger.packets(fate="sent")) for s in rig.straps)
        sent = [[r for r in s.ledger.records if r.fate == "sent"] for s in rig.straps]
    return {
        "setup_wall_s": wall1 - wall0,
        "setup_cpu_s": cpu1 - cpu0,
        "wall_s": wall2 - wall1,
        "process_cpu_s": cpu2 - cpu1,
        "consumer_cpu_s": ingest.cpu_s,
        "latencies": ingest.latencies(),
        "notifications": notifications,
        "samples": sink.samples,
        "gaps": sink.gaps,
        "sent": sent,
    }


def callback_cost(n: int = 200_000) -> float:
    """Seconds per notification of the callback: stamp with time.monotonic and enqueue."""
    queue: list = []
    link = StrapLink("C0:00:00:00:00:01", load_profile("ganglion_fw3"), queue.append, time.monotonic)
    uuid, data = "2d30c082-f39f-4ce6-923f-3484ea480596", bytearray(20)
    on_notify = link._on_notify
    t0 = time.thread_time()
    for _ in range(n):
        on_notify(uuid, None, data)
    return (time.thread_time() - t0) / n


def replay_cost(sent: list[list]) -> tuple[float, int]:
    """CPU s to decode and time every sent notification with fresh decoders (no asyncio)."""
    total, count = 0.0, 0
    for kind, records in zip(KINDS, sent, strict=True):
        decoder = StrapDecoder(load_profile(PROFILE_OF_KIND[kind]), kind)
        t0 = time.thread_time()
        for r in records:
            decoder.feed(r.sent_at, r.char, r.payload)
        total += time.thread_time() - t0
        count += len(records)
    return total, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="virtual-time data, s (default 60)")
    parser.add_argument(
        "--realtime", type=float, default=20.0, help="real-time run for latency, s (default 20)"
    )
    args = parser.parse_args()
    logging.getLogger("bumble").setLevel(logging.ERROR)

    fast = asyncio.run(session(args.seconds, fast=True))
    per_note = callback_cost()
    ingest_cpu = fast["consumer_cpu_s"] + per_note * fast["notifications"]
    replay_s, replay_n = replay_cost(fast["sent"])
    real = asyncio.run(session(args.realtime, fast=False))
    lat = real["latencies"] * 1e3
    real_ingest = real["consumer_cpu_s"] + per_note * real["notifications"]

    figures = {
        "benchmark": "ingest",
        "straps": len(KINDS),
        "virtual_data_s": args.seconds,
        "virtual_wall_s": fast["wall_s"],
        "speedup_vs_real_time": args.seconds / fast["wall_s"],
        "notifications": fast["notifications"],
        "notifications_per_data_s": fast["notifications"] / args.seconds,
        "samples_delivered": fast["samples"],
        "ingest_cpu_pct_of_core": 100.0 * ingest_cpu / args.seconds,
        "consumer_cpu_us_per_notification": 1e6 * fast["consumer_cpu_s"] / fast["notifications"],
        "callback_us_per_notification": 1e6 * per_note,
        "replay_decode_cpu_pct_of_core": 100.0 * replay_s / args.seconds,
        "replay_us_per_notification": 1e6 * replay_s / replay_n,
        "whole_process_cpu_pct_virtual": 100.0 * fast["process_cpu_s"] / args.seconds,
        "realtime_s": args.realtime,
        "realtime_notifications": real["notifications"],
        "realtime_ingest_cpu_pct_of_core": 100.0 * real_ingest / args.realtime,
        "realtime_process_cpu_pct_of_core": 100.0 * real["process_cpu_s"] / real["wall_s"],
        "latency_median_ms": float(np.median(lat)),
        "latency_p99_ms": float(np.percentile(lat, 99)),
        "latency_max_ms": float(lat.max()),
        "target_ingest_cpu_pct": TARGET_PCT,
        "meets_target": bool(100.0 * ingest_cpu / args.seconds < TARGET_PCT),
    }
    figures |= machine()
    print_figures(figures)
    finish(figures)


if __name__ == "__main__":
    main()
