"""myoflow.session.run: virtual straps -> real bleak ingest -> recorder + sinks, replay, crashes."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from myoflow.analysis.live import LiveAnalysis
from myoflow.devices.profiles import load_profile
from myoflow.rigs.demo import DemoSettings
from myoflow.rigs.virtual_glute import EMG_STREAM, synthetic_mvc, virtual_glute_ingest
from myoflow.session.live import EnvelopeSummary
from myoflow.session.recorder_sink import RecorderSink
from myoflow.session.run import run_session
from myoflow.storage.reader import open_recording
from myoflow.storage.replay import Replayer
from myoflow.storage.schema import SessionMetadata
from myoflow.synth.session import generate_session

logging.getLogger("bumble").setLevel(logging.ERROR)
SESSION = generate_session(DemoSettings(seconds=20, seed=3).session_config())
MVC = synthetic_mvc(SESSION.config)
# ledger stream of each recorded stream: (strap index, ledger name)
LEDGER = {
    EMG_STREAM: (0, "emg"),
    "pelvis/acc": (1, "acc"),
    "pelvis/gyro": (1, "gyro"),
    "thigh/acc": (2, "acc"),
    "thigh/gyro": (2, "gyro"),
}


def _record(path, seconds, sinks=(), drop=0.0, late_sinks=None):
    rig = {}

    def opened(s):
        return virtual_glute_ingest(
            SESSION, s, fast=True, drop=drop, seed=5, on_rig=lambda clock, straps: rig.update(straps=straps)
        )

    rec = RecorderSink(path, SessionMetadata(subject_id="T1", exercise="glute_bridge"))
    result = run_session(opened, seconds, sinks, recorder=rec, late_sinks=late_sinks)
    return result, rig["straps"]


@pytest.fixture(scope="module")
def lossy(tmp_path_factory):
    path = tmp_path_factory.mktemp("session") / "lossy.h5"
    live = EnvelopeSummary(mains_hz=50.0)
    analysis = []

    def late(streams):
        analysis.append(LiveAnalysis(list(streams.values()), mvc=MVC))
        return analysis

    result, straps = _record(path, 16.0, [live], drop=0.02, late_sinks=late)
    return path, result, straps, live, analysis[0]


def test_raw_samples_and_gaps_match_what_the_straps_sent(lossy) -> None:
    path, result, straps, _, _ = lossy
    assert result.path == path and not result.interrupted
    with open_recording(path) as rec:
        assert rec.state == "final"
        assert list(rec.streams) == list(LEDGER)
        for name, (k, ledger_name) in LEDGER.items():
            view = rec.streams[name]
            sent = straps[k].ledger.samples(ledger_name, "sent")
            n = view.n_samples
            assert n > 0.9 * view.rate * 15  # about 16 s of data arrived and was stored
            # every stored sample is one the strap sent, in order, with its exact counts
            np.testing.assert_array_equal(view.sample_indices(), sent.index[:n])
            np.testing.assert_array_equal(view.raw().astype(np.int64), sent.values[:n])
            # gaps: exactly the samples of dropped packets before the last stored sample
            last = int(view.sample_indices(n - 1, n)[0])
            lost = straps[k].ledger.samples(ledger_name, ("dropped", "flushed", "interrupted"))
            assert sum(g.n_missing for g in view.gaps) == int(np.sum(lost.index < last))
            # per-packet table: host receive times and counters / device times
            packets = view.packets
            assert packets["n_samples"].sum() == n
            assert np.all(np.diff(packets["host_time"]) >= 0)
            assert np.all(packets["counter" if name == EMG_STREAM else "device_time_ns"] >= 0)
        assert sum(len(v.gaps) for v in rec.streams.values()) >= 3  # 2 % of ~1700 packets


def test_metadata_holds_profiles_verbatim_and_devices(lossy) -> None:
    path, _, straps, _, _ = lossy
    verity = load_profile("polar_verity_acc_gyro")
    with open_recording(path) as rec:
        meta = rec.metadata
        profiles = meta.extra["profiles"]
        assert profiles["pelvis"]["toml"] == verity.source_text
        assert profiles["diy"]["profile"] == "diy_emg_4ch_1000hz"
        assert verity.source_text in meta.profile_toml
        assert meta.subject_id == "T1"
        # what each strap discarded (by kind) is kept: a clean virtual link discards nothing
        assert meta.extra["discards"] == {name: {} for name in profiles}
        dev = rec.streams["thigh/gyro"].device
        assert dev.model == "Polar Verity Sense" and dev.address == straps[2].address
        assert rec.streams[EMG_STREAM].info.placements == SESSION.placements
        assert rec.streams[EMG_STREAM].raw_dtype == np.int16
        assert rec.streams[EMG_STREAM].scale[0] == 0.5  # the DIY packets' uV per count


def test_replay_gives_the_live_results_exactly(lossy) -> None:
    path, _, _, live, _ = lossy
    replayed = EnvelopeSummary(mains_hz=50.0)
    with open_recording(path) as rec:
        Replayer(rec, speed=None, block_s=0.037).run(replayed)
    a, b = live.summary()[EMG_STREAM], replayed.summary()[EMG_STREAM]
    for x, y in zip(a, b, strict=True):  # identical envelopes; times rebuilt to within 1e-9 s
        assert x["peak"] == y["peak"]
        assert x["peak_time_s"] == pytest.approx(y["peak_time_s"], abs=1e-9)
        assert x["mean"] == pytest.approx(y["mean"], rel=1e-12)  # running sums over other chunks
    assert live.summary()[EMG_STREAM][0]["peak"] > 50.0  # a real envelope, not zeros


def _replayed(path, block_s: float) -> LiveAnalysis:
    with open_recording(path) as rec:
        replayed = LiveAnalysis(
            [v.info for v in rec.streams.values()], mvc=rec.metadata.mvc_references or MVC
        )
        Replayer(rec, speed=None, block_s=block_s).run(replayed)
    return replayed


def _numbers(x: object, path: str = "") -> dict[str, object]:
    """Every scalar of a (nested) rep result, by its path."""
    if hasattr(x, "__dataclass_fields__"):
        return {
            k: v for f in x.__dataclass_fields__ for k, v in _numbers(getattr(x, f), f"{path}.{f}").items()
        }
    if isinstance(x, dict):
        return {k: v for key, item in x.items() for k, v in _numbers(item, f"{path}[{key}]").items()}
    if isinstance(x, (list, tuple)):
        return {k: v for i, item in enumerate(x) for k, v in _numbers(item, f"{path}[{i}]").items()}
    return {path: x}


@pytest.mark.parametrize("block_s", [0.05, 0.013])
def test_replay_gives_the_live_results_to_float_rounding(lossy, block_s: float) -> None:
    """Live order (each strap's packets bunched, streams interleaved as the radio delivered them)
    and replay order (time order, other block sizes) give the same reps, phases, verdicts, cues
    and numbers: acc and gyro are paired by time, the rest window and the session peak are
    anchored on grid cells, not on what had arrived when."""
    path, _, _, _, live = lossy
    replayed = _replayed(path, block_s)
    assert len(live.results) == len(replayed.results) == 2
    assert [(c.kind, c.rep_index, c.time) for c in replayed.cues] == [
        (c.kind, c.rep_index, c.time) for c in live.cues
    ]
    for a, b in zip(live.results, replayed.results, strict=True):
        assert a.phases == b.phases
        x, y = _numbers(a), _numbers(b)
        assert x.keys() == y.keys()
        for key, value in x.items():
            if isinstance(value, float):  # measured: equal to 5e-12 (chunked filters' rounding)
                assert y[key] == pytest.approx(value, rel=1e-6, abs=1e-9, nan_ok=True), key
            else:
                assert y[key] == value, key


class _Boom:
    def __init__(self, after: int) -> None:
        self.after, self.samples = after, 0

    def on_block(self, block) -> None:
        if block.stream.name == EMG_STREAM:
            if self.samples >= self.after:
                raise RuntimeError("sink failed")
            self.samples += len(block)


def test_a_failing_sink_leaves_a_finalised_file_with_everything_delivered(tmp_path) -> None:
    path = tmp_path / "crash.h5"
    boom = _Boom(after=3000)
    with pytest.raises(RuntimeError, match="sink failed"):
        _record(path, 30.0, [boom])
    with open_recording(path) as rec:
        assert rec.state == "final"
        n = rec.streams[EMG_STREAM].n_samples
        # everything the sinks saw before the failure is in the file (and nothing invented)
        assert boom.samples <= n <= boom.samples + 200
        assert rec.streams["thigh/acc"].n_samples > 0
