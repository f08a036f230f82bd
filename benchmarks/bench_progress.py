"""Progress benchmark: ``track_progress`` over 200 recordings of one person.

The recordings are synthetic glute-bridge sessions (6 reps, EMG 4 channels at 1 kHz, pelvis
and thigh IMUs, ~0.7 MB each; the glute's peak rising over the days, MVC references stored),
written once and cached in the temp folder (``myoflow-bench-progress-<n>``). Measured:

1. the first index build: the catalogue deleted, every file analysed (local worker processes);
2. the answer after the build (nothing changed): median of 5 runs, against the goal of 2 s;
3. on a copy of the folder with its catalogue, one file deleted and one re-recorded: the
   update analyses exactly the changed file and drops the deleted one, and the answer then.

Run: ``make bench BENCH=progress`` or ``.venv/bin/python benchmarks/bench_progress.py [--files 200]``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from myoflow.dsp.normalise import mvc_reference
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.reports.progress import track_progress
from myoflow.storage.catalogue import CATALOGUE_NAME
from myoflow.storage.schema import ClockAnchor, SessionMetadata
from myoflow.storage.writer import Recorder
from myoflow.synth.calibration import mvc_trial
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import generate_session

from _common import finish, machine, median_time

GOAL_S = 2.0


def write_session(path: Path, day: int, seed: int, mvc: dict[str, float]) -> None:
    glute = 40.0 + 30.0 * day / 200.0
    s = generate_session(
        SessionConfig(n_reps=6, emg_rate=1000.0, seed=seed, peak_pct=(glute, 30.0, 26.0, 20.0))
    )
    meta = SessionMetadata(subject_id="S1", exercise="glute_bridge", mvc_references=mvc)
    emg, imu = s.emg_block(), s.imu_blocks()
    tmp = path.with_suffix(".part")
    tmp.unlink(missing_ok=True)
    with Recorder(tmp, meta, clock=ClockAnchor(100.0, 1.7e9 + day * 86400.0), on_full="wait") as rec:
        for b in (emg, *imu):
            rec.add_stream(b.stream, np.float32)
        rec.start()
        for b in (emg, *imu):
            rec.write_block(b.stream.name, b.data, b.times + 100.0)
    tmp.rename(path)


def make_folder(folder: Path, n_files: int) -> float:
    """Write the missing recordings; returns the seconds spent."""
    t0 = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    base = SessionConfig(n_reps=6, emg_rate=1000.0, seed=0)
    fs = base.emg_rate
    ref = mvc_reference(envelope_offline(mvc_trial(base).emg, fs, profile_for_rate(fs, base.hum_hz)), fs)
    mvc = {p: float(v) for p, v in zip(base.placements, ref, strict=True)}
    for day in range(n_files):
        path = folder / f"S1_{day:03d}.h5"
        if not path.exists():
            write_session(path, day, 1000 + day, mvc)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=200, help="recordings (default 200)")
    args = parser.parse_args()
    figures: dict[str, object] = {"benchmark": "progress", **machine(), "files": args.files}
    folder = Path(tempfile.gettempdir()) / f"myoflow-bench-progress-{args.files}"
    written = make_folder(folder, args.files)
    print(f"{args.files} recordings in {folder} ({written:.1f} s to write the missing ones)")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{folder / CATALOGUE_NAME}{suffix}").unlink(missing_ok=True)

    t0 = time.perf_counter()
    first = track_progress(folder, "S1")
    figures["first_build_s"] = time.perf_counter() - t0
    print(f"first index build: {figures['first_build_s']:.1f} s; {first.notes[-1]}")
    answer, result = median_time(lambda: track_progress(folder, "S1"), repeats=5, warmup=1)
    figures["answer_s"] = answer
    figures["answer_vs_goal"] = answer / GOAL_S
    glute = result.track("glute_max_r.peak_pct")
    print(
        f"progress answer after the build: {answer * 1000:.0f} ms (goal {GOAL_S:.0f} s: "
        f"{answer / GOAL_S:.3f} of it); {len(result.tracks)} tracks, glute peak "
        f"{glute.overall_change:+.1f} (MDC95 {glute.overall_mdc95:.1f}): {glute.overall_verdict}"
    )

    with tempfile.TemporaryDirectory(prefix="myoflow-bench-progress-copy-") as tmp:
        copy = Path(shutil.copytree(folder, Path(tmp) / "recordings"))
        deleted, changed = sorted(copy.glob("S1_*.h5"))[1:3]
        deleted.unlink()
        changed.unlink()
        base = SessionConfig(n_reps=6, emg_rate=1000.0, seed=0)
        write_session(changed, 2, 7, {p: 150.0 for p in base.placements})
        t0 = time.perf_counter()
        after = track_progress(copy, "S1", workers=0)
        figures["update_after_change_s"] = time.perf_counter() - t0
        note = after.notes[-1]
        ok = "1 file(s) analysed" in note and "1 dropped" in note
        n_points = len(after.track("glute_max_r.peak_pct").points)
        figures["survives_delete_and_change"] = bool(ok and n_points == args.files - 1)
        print(f"one file deleted, one re-recorded: {note}; {n_points} sessions tracked")
    finish(figures)


if __name__ == "__main__":
    main()
