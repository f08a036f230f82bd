"""A gap of unknown size (a Myo or Ganglion reconnect, a resync) reaches a recording.

The timebase moves its sample index on by its estimate of the loss; the recording counts only
known losses. Before `session.recorder_sink.StoredIndex` the writer refused the block after such
a gap and `myoflow record` stopped at a real Myo's or Ganglion's first reconnect."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_timebase import Session, run, stream_for

from myoflow.session.recorder_sink import StoredIndex
from myoflow.storage.reader import open_recording
from myoflow.storage.schema import ClockAnchor, SessionMetadata
from myoflow.storage.writer import Recorder
from myoflow.stream import Gap


@pytest.mark.parametrize("kind", ["myo", "ganglion", "polar", "diy"])
def test_a_reconnect_gap_of_unknown_size_is_recorded(kind: str, tmp_path: Path) -> None:
    s = Session(kind, 12, seed=1, gap_at=5.0, gap_s=2.0)  # 2 s without packets
    _, out = run(kind, s)
    info = stream_for(kind)
    index = StoredIndex()
    path = tmp_path / f"{kind}.h5"
    with Recorder(path, SessionMetadata(), clock=ClockAnchor(0.0, 1.7e9), on_full="wait") as rec:
        rec.add_stream(info, np.float32)
        rec.start()
        for item in out:  # as RecorderSink hands them on
            if isinstance(item, Gap):
                rec.write_gap(index.gap(item))
            else:
                rec.write_block(
                    info.name,
                    item.data,
                    item.times,
                    start_index=index.block_start(info.name, item.start_index),
                )
    blocks = [b for b in out if not isinstance(b, Gap)]
    gaps = [g for g in out if isinstance(g, Gap)]
    assert len(gaps) == 1
    with open_recording(path) as r:
        view = r.streams[info.name]
        assert r.state == "final" and view.n_samples == sum(len(b.times) for b in blocks)
        assert [g.n_missing for g in view.gaps] == [gaps[0].n_missing]
        # every sample keeps the time the timebase gave it
        np.testing.assert_allclose(
            view.times(0, view.n_samples), np.concatenate([b.times for b in blocks]), atol=1e-6
        )
