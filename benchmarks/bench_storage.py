"""Storage benchmark: recording 16 EMG channels at 2 kHz plus an IMU (acc + gyro, 3 axes each at
100 Hz), all int16, and replaying it.

Writer: the :class:`~myoflow.storage.writer.Recorder` fed as fast as possible (``on_full="wait"``,
nothing dropped) in packets of 20 ms (40 EMG samples with a packet row, 2 IMU samples), then in
5 ms packets for the per-packet cost. Reported: sustained speed (seconds of data per wall
second, until everything is flushed), CPU per second of data (all threads), and the time to
finalise (compress, verify, rename) with live and final file sizes.

Replay: :class:`~myoflow.storage.replay.Replayer` with ``speed=None`` into a sink that counts,
in 20 ms blocks as the live ingest delivers them (and 1 s blocks: the reader's own speed).

Memory: a one-hour recording is written to a temporary folder (about 250 MB; removed at the end)
and replayed in a fresh process, whose peak resident memory (``VmHWM``) is reported.

Targets (issue 4): writer >= 200x real time, replay >= 1000x real time, one-hour replay < 200 MB.
Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_storage.py [--hour-s 3600]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from myoflow.storage.reader import open_recording
from myoflow.storage.replay import Replayer
from myoflow.storage.writer import Recorder
from myoflow.stream import Block, Gap, StreamInfo

from _common import finish, machine, median_time

FS, CHANNELS, IMU_FS = 2000.0, 16, 100.0
EMG = StreamInfo("strap/emg", "emg", FS, tuple(f"ch{i}" for i in range(CHANNELS)))
ACC = StreamInfo("strap/acc", "acc", IMU_FS, ("x", "y", "z"), ("thigh_r",) * 3)
GYRO = StreamInfo("strap/gyro", "gyro", IMU_FS, ("x", "y", "z"), ("thigh_r",) * 3)
TILE_S = 10  # seconds of distinct samples, repeated (longer than gzip's 32 kB window)


def make_tiles(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Bursting EMG-like int16 counts ``(TILE_S * FS, 16)`` and IMU counts ``(TILE_S * IMU_FS, 3)``."""
    rng = np.random.default_rng(seed)
    n = int(TILE_S * FS)
    t = np.arange(n) / FS
    bursts = 1.0 + 4.0 * (np.sin(2 * np.pi * 0.25 * t[:, None] + np.arange(CHANNELS)) > 0.6)
    emg = np.round(rng.standard_normal((n, CHANNELS)) * 40.0 * bursts).astype(np.int16)
    m = int(TILE_S * IMU_FS)
    imu = np.round(np.cumsum(rng.standard_normal((m, 3)) * 20.0, axis=0) % 8000 - 4000).astype(np.int16)
    return emg, imu


def record(
    path: Path, seconds: float, packet_s: float, tiles: tuple[np.ndarray, np.ndarray], finalise: bool = True
) -> dict[str, float]:
    """Feed ``seconds`` of data in packets of ``packet_s`` as fast as possible; time it."""
    emg, imu = tiles
    rec = Recorder(path, on_full="wait", queue_size=4096, overwrite=True)
    rec.add_stream(EMG, "int16", 0.0447)
    rec.add_stream(ACC, "int16", 1 / 4096)
    rec.add_stream(GYRO, "int16", 1 / 16.4)
    rec.start()
    per = int(round(packet_s * FS))
    per_imu = max(1, int(round(packet_s * IMU_FS)))
    total = int(seconds * FS)
    t0 = 1000.0
    n = m = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    while n < total:
        k = n % emg.shape[0]
        block = emg[k : k + per]
        times = t0 + (n + np.arange(len(block))) / FS
        rec.write_block(EMG.name, block, times, host_time=times[-1] + 0.004, counter=n // per)
        n += len(block)
        while (m + per_imu) / IMU_FS <= n / FS:
            j = m % imu.shape[0]
            t_imu = t0 + (m + np.arange(per_imu)) / IMU_FS
            rec.write_block(ACC.name, imu[j : j + per_imu], t_imu)
            rec.write_block(GYRO.name, imu[j : j + per_imu], t_imu)
            m += per_imu
    rec.flush()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    live_mb = path.stat().st_size / 1e6
    f0 = time.perf_counter()
    rec.close(finalise=finalise)
    return {
        "speed_x": seconds / wall,
        "cpu_ms_per_s": 1000.0 * cpu / seconds,
        "finalise_s": time.perf_counter() - f0,
        "live_mb": live_mb,
        "final_mb": path.stat().st_size / 1e6,
    }


class Count:
    """A replay sink that only counts (the cost of reading and ordering, nothing else)."""

    def __init__(self) -> None:
        self.samples = 0
        self.items = 0

    def on_block(self, block: Block) -> None:
        self.samples += len(block)
        self.items += 1

    def on_gap(self, gap: Gap) -> None:
        self.items += 1


def replay_speed(path: Path, block_s: float) -> tuple[float, int]:
    """Seconds of recording replayed per wall second (median of 3), and items delivered."""
    with open_recording(path) as rec:
        duration = Replayer(rec, None).duration

        def once() -> int:
            sink = Count()
            Replayer(rec, None, block_s=block_s).run(sink)
            return sink.items

        wall, items = median_time(once, repeats=3, warmup=1)
    return duration / wall, items


CHILD = """
import json, sys, time
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
from myoflow.storage.reader import open_recording
from myoflow.storage.replay import Replayer
class Count:
    samples = items = 0
    def on_block(self, b): self.samples += len(b); self.items += 1
    def on_gap(self, g): self.items += 1
rec = open_recording(sys.argv[1])
before = status("VmHWM:")
sink, t0 = Count(), time.perf_counter()
replayer = Replayer(rec, None, block_s=float(sys.argv[2]))
replayer.run(sink)
wall = time.perf_counter() - t0
print(json.dumps({"before_mb": before, "peak_mb": status("VmHWM:"), "wall_s": wall,
                  "duration_s": replayer.duration, "samples": sink.samples, "items": sink.items}))
"""


def replay_in_child(path: Path, block_s: float) -> dict[str, float]:
    """Replay ``path`` in a fresh interpreter; its peak RSS (MB) before and after, and timing."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(block_s)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hour-s", type=float, default=3600.0, help="length of the long recording, s")
    parser.add_argument("--writer-s", type=float, default=60.0, help="length of the writer runs, s")
    args = parser.parse_args()
    started = time.perf_counter()
    tiles = make_tiles()
    figures: dict[str, object] = {"benchmark": "storage", **machine()}
    with tempfile.TemporaryDirectory(prefix="myoflow-bench-") as tmp:
        folder = Path(tmp)
        print(f"writer: 16 ch x 2 kHz int16 + acc/gyro 100 Hz, {args.writer_s:g} s as fast as possible")
        for packet_ms in (20, 5):
            w = record(folder / f"w{packet_ms}.h5", args.writer_s, packet_ms / 1000, tiles)
            print(
                f"  {packet_ms:2d} ms packets: {w['speed_x']:7.0f}x real time, "
                f"CPU {w['cpu_ms_per_s']:.2f} ms per s of data; finalise {w['finalise_s']:.2f} s "
                f"({w['live_mb']:.1f} MB live -> {w['final_mb']:.1f} MB final)"
            )
            figures[f"writer_speed_x_{packet_ms}ms"] = w["speed_x"]
            figures[f"writer_cpu_ms_per_s_{packet_ms}ms"] = w["cpu_ms_per_s"]
            if packet_ms == 20:
                figures["finalise_s_per_min"] = w["finalise_s"] * 60 / args.writer_s
                figures["final_mb_per_min"] = w["final_mb"] * 60 / args.writer_s
        short = folder / "w20.h5"
        for block_ms in (20, 1000):
            speed, items = replay_speed(short, block_ms / 1000)
            print(f"replay ({block_ms} ms blocks, {items} items): {speed:7.0f}x real time")
            figures[f"replay_speed_x_{block_ms}ms"] = speed
        print(f"one-hour recording ({args.hour_s:g} s): writing ...", flush=True)
        hour = folder / "hour.h5"
        h = record(hour, args.hour_s, 0.02, tiles)
        print(
            f"  written at {h['speed_x']:.0f}x real time, finalised in {h['finalise_s']:.1f} s, "
            f"{h['final_mb']:.0f} MB ({h['live_mb']:.0f} MB live)"
        )
        for block_ms in (20, 1000):
            child = replay_in_child(hour, block_ms / 1000)
            speed = child["duration_s"] / child["wall_s"]
            print(
                f"  replayed in a fresh process, {block_ms} ms blocks: {child['wall_s']:.1f} s "
                f"({speed:.0f}x real time, {child['items']} items); peak RSS {child['peak_mb']:.0f} MB "
                f"({child['before_mb']:.0f} MB after imports and open)"
            )
            figures[f"hour_replay_speed_x_{block_ms}ms"] = speed
            figures[f"hour_replay_peak_rss_mb_{block_ms}ms"] = child["peak_mb"]
        figures.update(
            hour_writer_speed_x=h["speed_x"],
            hour_finalise_s=h["finalise_s"],
            hour_file_mb=h["final_mb"],
            hour_replay_rss_before_mb=child["before_mb"],
        )
    figures["targets_met"] = bool(
        figures["writer_speed_x_20ms"] >= 200
        and figures["hour_replay_speed_x_1000ms"] >= 1000
        and max(figures["hour_replay_peak_rss_mb_20ms"], figures["hour_replay_peak_rss_mb_1000ms"]) < 200
    )
    figures["runtime_s"] = time.perf_counter() - started
    print(f"total {figures['runtime_s']:.0f} s")
    finish(figures)


if __name__ == "__main__":
    main()
