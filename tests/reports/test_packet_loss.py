"""Analysis of a recording with BLE packet loss (the `myoflow demo --drop 0.02` case): short
gaps do not cut the envelope into runs too short to filter, so a session losing 2 % of its
packets gives the same reps and verdicts as the same session without loss.

Before the fix, every stretch between two gaps shorter than 2 s was left out: at 2 % loss of
20-sample packets that is most of the recording (NaN peaks, relaxed verdicts 6/10 in the demo).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from myoflow.reports import analyze
from myoflow.reports._inputs import bridged_runs
from myoflow.storage.schema import ClockAnchor, SessionMetadata
from myoflow.storage.writer import Recorder
from myoflow.stream import Gap
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import SyntheticSession, generate_session

CFG = SessionConfig(
    n_reps=5, emg_rate=1000.0, imu_rate=52.0, seed=11, tense_reps=(2,), noise_preset="typical"
)
PACKET = 20  # samples per notification, as the DIY strap at 1 kHz sends


def _write(path: Path, s: SyntheticSession, drop: float) -> int:
    """Write ``s`` with each EMG packet lost with probability ``drop`` (a gap); returns the gaps."""
    emg = s.emg_block()
    meta = SessionMetadata(subject_id="S1", exercise="glute_bridge")
    rng = np.random.default_rng(5)
    n_gaps = 0
    with Recorder(path, meta, clock=ClockAnchor(0.0, 1.7e9), on_full="wait") as rec:
        for b in (emg, *s.imu_blocks()):
            rec.add_stream(b.stream, np.float32)
        rec.start()
        for b in s.imu_blocks():
            rec.write_block(b.stream.name, b.data, b.times)
        n = emg.data.shape[0]
        for i in range(0, n, PACKET):
            j = min(n, i + PACKET)
            if 0 < i and j < n and rng.random() < drop:
                t = emg.times
                rec.write_gap(Gap(emg.stream, i, j - i, float(t[i]), float(t[j])))
                n_gaps += 1
            else:
                rec.write_block(emg.stream.name, emg.data[i:j], emg.times[i:j])
    return n_gaps


def test_bridged_runs_join_only_short_gaps() -> None:
    assert bridged_runs([(0, 10), (12, 20), (40, 50)], 2) == [(0, 20), (40, 50)]
    assert bridged_runs([(0, 10)], 5) == [(0, 10)]
    assert bridged_runs([], 5) == []


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("loss")
    s = generate_session(CFG)
    clean, lossy = folder / "clean.h5", folder / "lossy.h5"
    assert _write(clean, s, 0.0) == 0
    n_gaps = _write(lossy, s, 0.02)
    assert n_gaps >= 20  # about one gap a second
    return analyze(clean).to_dict(), analyze(lossy).to_dict(), n_gaps


def test_two_percent_packet_loss_keeps_reps_levels_and_verdicts(pair) -> None:
    clean, lossy, n_gaps = pair
    assert len(lossy["reps"]) == len(clean["reps"]) == CFG.n_reps
    assert not any("between gaps left out" in n for n in lossy["session"]["notes"])
    assert any("gap(s) of at most 100 ms filtered across" in n for n in lossy["session"]["notes"])
    for rc, rl in zip(clean["reps"], lossy["reps"], strict=True):
        for m, act in rc["muscles"].items():
            peak = rl["muscles"][m]["peak_pct"]
            assert peak is not None and np.isfinite(peak), (rl["index"], m)
            assert peak == pytest.approx(act["peak_pct"], rel=0.08), (rl["index"], m)
            assert rl["relaxation"][m]["relaxed"] == rc["relaxation"][m]["relaxed"], (rl["index"], m)
    tense = [r["index"] for r in lossy["reps"] if not r["relaxation"]["glute_max_r"]["relaxed"]]
    assert tense == [3]  # the generator's 0-based rep 2


def test_the_mains_line_is_found_in_a_recording_with_lost_packets(tmp_path: Path) -> None:
    """A 60 Hz session losing 5 % of its packets, with no mains frequency stored: the spectrum
    must still say 60 Hz (the rows are put back on their sample grid: joined across the gaps, the
    pieces would be out of phase with the mains)."""
    from dataclasses import replace

    from myoflow.analysis.mains import detect_mains

    s = generate_session(replace(CFG, hum_hz=60.0, n_reps=3))
    path = tmp_path / "lossy60.h5"
    assert _write(path, s, 0.05) >= 30
    report = analyze(path)
    assert report.mains == {"mains_hz": 60.0, "source": "detected from the spectrum"}
    lost = np.random.default_rng(1).random(s.emg.shape[0] // PACKET) < 0.05
    keep = ~np.repeat(lost, PACKET)[: s.emg.shape[0]]
    on_grid = np.where(keep[:, None], s.emg[: keep.size], np.nan)
    assert detect_mains(on_grid, CFG.emg_rate) == 60.0
