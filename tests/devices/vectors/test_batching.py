"""Late IMU batches (Polar Verity Sense: ~71 samples every 1-2 s) leave per-rep results unchanged.

Real Verity Sense straps deliver ACC in frames of about 71 samples at 52 Hz, one every 1 to 2
seconds (``polar_issues.json``, issue 317). The live analysis must give the same reps, phases and
numbers as when the same samples arrive in time order (which is what a replay and the offline
analysis see), only later. The virtual rig's Verity straps send such frames; the end-to-end check
(live session = replay of its recording) is ``tests/test_session.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from myoflow.analysis.live import LiveAnalysis
from myoflow.stream import Block
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import generate_session

BATCHING = json.loads((Path(__file__).parent / "polar_issues.json").read_text())["batching"]


def _frames(block: Block, per: int) -> list[Block]:
    """``block`` cut into frames of ``per`` samples (the last one shorter)."""
    return [
        Block(block.stream, block.data[a : a + per], block.times[a : a + per], block.start_index + a)
        for a in range(0, len(block), per)
    ]


def _arrivals(session, imu_frame: int, imu_every_s: float | None) -> list[tuple[float, Block]]:
    """EMG in 20 ms blocks due at their last sample; IMU in frames of ``imu_frame`` samples,
    each arriving with the first batch delivery after its last sample (``imu_every_s`` apart;
    None: at its last sample)."""
    emg = session.emg_block()
    out = [(float(b.times[-1]), b) for b in _frames(emg, max(1, int(0.02 * emg.stream.rate)))]
    for k, imu in enumerate(session.imu_blocks()):
        phase = 0.31 * k  # the straps' batches are not in step
        for frame in _frames(imu, imu_frame):
            due = float(frame.times[-1])
            if imu_every_s is not None:
                due = phase + imu_every_s * np.ceil((due - phase) / imu_every_s)
            out.append((due, frame))
    out.sort(key=lambda x: x[0])
    return out


def _run(session, imu_frame: int, imu_every_s: float | None) -> tuple[LiveAnalysis, dict[int, float]]:
    items = _arrivals(session, imu_frame, imu_every_s)
    live = LiveAnalysis(_streams(session), mvc=None)
    came: dict[int, float] = {}
    for due, blk in items:
        live.on_block(blk)
        for res in live.poll():
            if hasattr(res, "rom_deg"):
                came[res.index] = due
    return live, came


def _numbers(x: object, path: str = "") -> dict[str, object]:
    """Every scalar of a (nested) rep result, by its path."""
    if hasattr(x, "__dataclass_fields__"):
        fields = x.__dataclass_fields__
        return {k: v for f in fields for k, v in _numbers(getattr(x, f), f"{path}.{f}").items()}
    if isinstance(x, dict):
        return {k: v for key, item in x.items() for k, v in _numbers(item, f"{path}[{key}]").items()}
    if isinstance(x, (list, tuple)):
        return {k: v for i, item in enumerate(x) for k, v in _numbers(item, f"{path}[{i}]").items()}
    return {path: x}


def _streams(session):
    return [session.emg_block().stream, *(b.stream for b in session.imu_blocks())]


@pytest.fixture(scope="module")
def session():
    cfg = SessionConfig(n_reps=5, seed=7, tense_reps=(1,), stall_reps=(3,), emg_rate=1000.0, imu_rate=52.0)
    return generate_session(cfg)


@pytest.mark.parametrize("every_s", BATCHING["interval_s"])
def test_verity_batches_give_the_same_reps_later(session, every_s: float) -> None:
    per = BATCHING["samples_per_delivery"]
    in_time, came_in_time = _run(session, 1, None)
    batched, came_batched = _run(session, per, every_s)
    assert len(in_time.results) == len(batched.results) == len(session.truth)
    for a, b in zip(in_time.results, batched.results, strict=True):
        x, y = _numbers(a), _numbers(b)
        assert x.keys() == y.keys()
        for key, value in x.items():
            if isinstance(value, float):
                assert y[key] == pytest.approx(value, rel=1e-6, abs=1e-9, nan_ok=True), key
            else:
                assert y[key] == value, key
    # the price: each rep's result comes later, by up to one batch interval plus a frame
    delays = [came_batched[i] - came_in_time[i] for i in came_in_time]
    assert max(delays) <= every_s + per / BATCHING["rate_hz"] + 0.1
