"""A recording made without ``--mains`` stores the mains frequency found in its EMG spectrum
(as ``myoflow import`` does): :class:`myoflow.session.mains_watch.MainsWatch`, checked on a real
third-party recording (UCI 1Nsen, 60 Hz mains, read from ../shared/data) fed as live blocks and
on the virtual straps recorded through ``record_session``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from myoflow.analysis.mains import detect_mains
from myoflow.rigs.demo import DemoSettings
from myoflow.rigs.virtual_glute import VirtualGlute
from myoflow.session.mains_watch import MAINS_SOURCE, MainsWatch
from myoflow.session.recording import record_session
from myoflow.storage.reader import open_recording
from myoflow.storage.schema import SessionMetadata
from myoflow.storage.textfiles import read_uci_lower_limb
from myoflow.stream import Block, StreamInfo

UCI_FS = 1000.0


def _uci_emg(shared_data: Path) -> np.ndarray:
    rec = read_uci_lower_limb(shared_data / "uci_lower_limb_semg" / "N_TXT" / "1Nsen.txt")
    emg = np.stack([rec.column(m) for m in ("RF", "BF", "VM", "ST")], axis=1)
    return emg[np.all(np.isfinite(emg), axis=1)].astype(np.float32)


def _feed(watch: MainsWatch, emg: np.ndarray, skip: slice | None = None) -> None:
    info = StreamInfo("uci/emg", "emg", UCI_FS, ("RF", "BF", "VM", "ST"))
    acc = StreamInfo("uci/acc", "acc", 100.0, ("x", "y", "z"))
    step = int(0.02 * UCI_FS)
    for i in range(0, emg.shape[0], step):
        if skip is not None and skip.start <= i < skip.stop:
            continue  # lost: the stream index jumps
        times = (i + np.arange(min(step, emg.shape[0] - i))) / UCI_FS
        watch.on_block(Block(info, emg[i : i + step], times, i))
        watch.on_block(Block(acc, np.zeros((2, 3), np.float32), times[:2], i // 10))


@pytest.mark.realdata
def test_real_60_hz_mains_is_found_from_live_blocks(shared_data: Path) -> None:
    emg = _uci_emg(shared_data)
    assert detect_mains(emg, UCI_FS) == 60.0  # what import stores for this file
    found: list[tuple[float, float]] = []
    watch = MainsWatch(lambda hz, t: found.append((hz, t)), watch_s=10.0)
    _feed(watch, emg)
    assert found == [(60.0, pytest.approx(10.0, abs=0.021))]  # once, when 10 s had arrived
    watch.finish()
    assert len(found) == 1
    # a session shorter than the window: found when it ends, lost samples left out
    short: list[tuple[float, float]] = []
    watch = MainsWatch(lambda hz, t: short.append((hz, t)))
    _feed(watch, emg[: int(8 * UCI_FS)], skip=slice(3000, 3400))
    assert short == []
    watch.finish()
    assert [hz for hz, _ in short] == [60.0]


def test_no_emg_or_too_little_stores_nothing() -> None:
    found: list[tuple[float, float]] = []
    watch = MainsWatch(lambda hz, t: found.append((hz, t)))
    watch.finish()  # nothing arrived
    watch = MainsWatch(lambda hz, t: found.append((hz, t)))
    hum = np.sin(2 * np.pi * 50.0 * np.arange(1000) / UCI_FS)[:, None] * np.ones(4)
    _feed(watch, hum.astype(np.float32))  # 1 s: under the 2 s the detector needs
    watch.finish()
    assert found == []


@pytest.mark.parametrize("hz", [50.0, 60.0])
def test_a_recording_without_mains_stores_the_detected_one(tmp_path: Path, hz: float) -> None:
    rig = VirtualGlute(DemoSettings(seconds=12.0, mains_hz=hz, realtime=False, seed=2))
    out = tmp_path / "s.h5"
    record_session(rig.opener(), out, SessionMetadata(subject_id="T1"), 6.0, say=lambda line: None)
    with open_recording(out) as rec:
        assert rec.metadata.filter_settings == {"mains_hz": hz, "mains_source": MAINS_SOURCE}
    given = SessionMetadata(subject_id="T1", filter_settings={"mains_hz": 60.0, "mains_source": "given"})
    rig = VirtualGlute(DemoSettings(seconds=12.0, mains_hz=50.0, realtime=False, seed=2))
    record_session(rig.opener(), tmp_path / "g.h5", given, 4.0, say=lambda line: None)
    with open_recording(tmp_path / "g.h5") as rec:
        assert rec.metadata.filter_settings == {"mains_hz": 60.0, "mains_source": "given"}
