"""Helpers of the exercise tests: write a synthetic session to a recording, replay it live."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from myoflow.analysis.live import LiveAnalysis
from myoflow.dsp.normalise import mvc_reference
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.storage.reader import open_recording
from myoflow.storage.schema import SessionMetadata
from myoflow.storage.writer import Recorder
from myoflow.stream import Block
from myoflow.synth.calibration import mvc_trial
from myoflow.synth.session import SyntheticSession


def _record(path: Path, session: SyntheticSession, name: str) -> dict[str, float]:
    cfg = session.config
    profile = profile_for_rate(cfg.emg_rate, cfg.hum_hz)
    refs = mvc_reference(envelope_offline(mvc_trial(cfg).emg, cfg.emg_rate, profile), cfg.emg_rate)
    mvc = dict(zip(session.placements, np.asarray(refs, dtype=float).tolist(), strict=True))
    meta = SessionMetadata(subject_id="synthetic", exercise=name, mvc_references=mvc)
    blocks = (session.emg_block(), *session.imu_blocks())
    with Recorder(path, meta, on_full="wait") as rec:
        for b in blocks:
            rec.add_stream(b.stream, np.float32)
        rec.start()
        for b in blocks:
            rec.write_block(b.stream.name, b.data, b.times)
    return mvc


def _replay_live(
    path: Path,
    name: str,
    mvc: dict[str, float],
    chunk_s: float = 0.02,
    each: Callable[[LiveAnalysis], object] | None = None,
) -> LiveAnalysis:
    with open_recording(path) as rec:
        whole = [
            Block(v.info, v.physical(0, v.n_samples), v.times(0, v.n_samples), 0)
            for v in rec.streams.values()
        ]
    live = LiveAnalysis([b.stream for b in whole], mvc=mvc, exercise=name)
    pieces = []
    for b in whole:
        step = max(1, int(round(chunk_s * b.stream.rate)))
        pieces += [
            Block(b.stream, b.data[i : i + step], b.times[i : i + step], i) for i in range(0, len(b), step)
        ]
    pieces.sort(key=lambda blk: float(blk.times[-1]))
    for blk in pieces:
        live.on_block(blk)
        live.poll()
        if each is not None:
            each(live)  # e.g. what a dashboard frame does
    return live


@pytest.fixture
def record_session() -> Callable[[Path, SyntheticSession, str], dict[str, float]]:
    """Write a synthetic session to a recording (metadata: the exercise, the MVC references
    from its synthetic MVC trial); returns those references by placement."""
    return _record


@pytest.fixture
def replay_live() -> Callable[..., LiveAnalysis]:
    """Feed a recording's streams to :class:`LiveAnalysis` in 20 ms blocks, in time order
    (``each(live)`` after every block when given)."""
    return _replay_live
