"""``StreamView.physical_into``: the samples of ``physical`` read into a given array (straight
from the file when they are stored as float32 in their unit)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from myoflow.storage.reader import open_recording
from myoflow.storage.schema import RecordingError, SessionMetadata
from myoflow.storage.writer import Recorder
from myoflow.stream import StreamInfo

EMG = StreamInfo("s/emg", "emg", 1000.0, ("a", "b", "c"), ("glute_max_r", "biceps_femoris_r", "glute_med_r"))
INT = StreamInfo("s/int", "emg", 1000.0, ("x", "y"))


@pytest.fixture()
def path(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    p = tmp_path / "r.h5"
    with Recorder(p, SessionMetadata(subject_id="S"), on_full="wait") as rec:
        rec.add_stream(EMG, np.float32)
        rec.add_stream(INT, "int16", np.array([0.1, 2.5]), np.array([-3.0, 0.25]))
        rec.start()
        x = rng.normal(0, 50, (5000, 3)).astype(np.float32)
        x[7, 1] = -0.0
        t = 10 + np.arange(5000) / 1000.0
        rec.write_block(EMG.name, x, t)
        rec.write_block(INT.name, rng.integers(-3000, 3000, (5000, 2)), t)
    return p


@pytest.mark.parametrize("stream", [EMG.name, INT.name])
def test_physical_into_equals_physical(path: Path, stream: str) -> None:
    with open_recording(path) as rec:
        view = rec.streams[stream]
        out = np.full((5000, view.info.n_channels), np.nan, dtype=np.float32)
        for r0 in range(0, 5000, 1024):  # rows of a larger array, as _grid reads
            r1 = min(5000, r0 + 1024)
            view.physical_into(out[r0:r1], r0, r1)
        want = view.physical()
        assert np.array_equal(out, want)
        assert np.array_equal(np.signbit(out), np.signbit(want))  # -0.0 reads 0.0, as raw * 1 + 0
        with pytest.raises(ValueError, match="C-contiguous float32 array of shape"):
            view.physical_into(np.empty((10, view.info.n_channels)), 0, 10)


def test_physical_into_refuses_a_non_finite_sample(path: Path) -> None:
    with h5py.File(path, "r+") as f:
        f["streams/s_emg/raw"][1234, 2] = np.inf
    with open_recording(path) as rec:
        out = np.empty((5000, 3), dtype=np.float32)
        with pytest.raises(RecordingError, match="sample row 1234 holds a non-finite value"):
            rec.streams[EMG.name].physical_into(out)
