"""EMG-BIDS export, checked by tools myoflow did not write: the official BIDS validator
(bids-validator-deno), MNE's EDF/BDF readers and mne-bids.

Round trip: export -> read back -> the same samples (within the format's quantisation: exact
for int16 counts in EDF), the same units, the same events (recording events, gaps, analysed reps).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from myoflow.storage.bids import export_bids
from myoflow.storage.reader import open_recording
from myoflow.storage.schema import ClockAnchor, SessionMetadata
from myoflow.storage.writer import Recorder
from myoflow.stream import Event, Gap, StreamInfo

pytest.importorskip("edfio")
mne = pytest.importorskip("mne")
mne_bids = pytest.importorskip("mne_bids")
REPO = Path(__file__).resolve().parents[2]
RECORDINGS = [
    REPO / "recordings" / "glute_bridge_virtual.h5",
    REPO / "recordings" / "glute_bridge_virtual_retest.h5",
]
EMG = StreamInfo("strap/emg", "emg", 1000.0, ("ch1", "ch2"), ("glute_max_r", "biceps_femoris_l"))
ACC = StreamInfo("strap/acc", "acc", 100.0, ("x", "y", "z"), ("thigh_r",) * 3)
FLOAT_EMG = StreamInfo("other/emg", "emg", 500.0, ("a",), ("vastus_lateralis_r",))


def _tsv(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _validate(root: Path) -> list[str]:
    from myoflow.storage.bids_validate import validate_bids

    errors, _ = validate_bids(root)
    return errors


@pytest.fixture
def gappy(tmp_path: Path) -> Path:
    """2 s of int16 EMG with a 50-sample loss at 1.0 s, float acc, a float EMG stream, events."""
    path = tmp_path / "gappy.h5"
    rng = np.random.default_rng(3)
    emg = rng.integers(-2000, 2000, size=(2000, 2), dtype=np.int16)
    meta = SessionMetadata(subject_id="P-07", exercise="hip_thrust")
    rec = Recorder(path, meta, clock=ClockAnchor(100.0, 1_700_000_000.0), on_full="wait")
    rec.add_stream(EMG, np.int16, scale=[0.5, 0.25], device=None)
    rec.add_stream(ACC, np.float32)
    rec.add_stream(FLOAT_EMG, np.float32)
    rec.start()
    t = 100.0 + np.arange(2000) / 1000.0
    rec.write_block(EMG.name, emg[:1000], t[:1000], start_index=0)
    rec.write_gap(Gap(EMG, 1000, 50, t[1000], t[1049], "loss"))
    rec.write_block(EMG.name, emg[1050:], t[1050:], start_index=1050)
    rec.write_block(
        ACC.name,
        rng.normal(0, 1, size=(200, 3)).astype(np.float32),
        100.0 + np.arange(200) / 100.0,
        start_index=0,
    )
    rec.write_block(
        FLOAT_EMG.name,
        rng.normal(0, 80, size=(1000, 1)).astype(np.float32),
        100.0 + np.arange(1000) / 500.0,
        start_index=0,
    )
    rec.write_event(Event(100.25, "marker", "cue", None, {"n": 1}))
    rec.close()
    return path


def test_two_sessions_make_a_valid_dataset_read_back_by_mne_bids(tmp_path: Path, capsys) -> None:
    from myoflow.cli import main
    from myoflow.reports import analyze

    out = tmp_path / "dataset"
    assert main(["export", "bids", *map(str, RECORDINGS), "--out", str(out), "--validate"]) == 0
    said = capsys.readouterr().out
    assert "BIDS validator: 0 error(s)" in said
    desc = json.loads((out / "dataset_description.json").read_text())
    assert desc["BIDSVersion"] == "1.11.1" and desc["DatasetType"] == "raw"
    emg_dir = out / "sub-demo01" / "emg"
    for run, path in enumerate(RECORDINGS, start=1):
        stem = emg_dir / f"sub-demo01_task-glutebridge_run-{run}"
        side = json.loads(Path(f"{stem}_emg.json").read_text())
        assert side["EMGPlacementScheme"] == "Other" and side["SamplingFrequency"] == 1000.0
        assert (
            side["EMGChannelCount"] == 4
            and side["SoftwareFilters"] == "n/a"
            and side["PowerLineFrequency"] == 50.0
        )
        channels = _tsv(Path(f"{stem}_channels.tsv"))
        assert [c["target_muscle"] for c in channels][:2] == ["glute max (right)", "biceps femoris (right)"]
        assert {c["type"] for c in channels} == {"EMG"} and {c["units"] for c in channels} == {"uV"}
        bp = mne_bids.BIDSPath(subject="demo01", task="glutebridge", run=run, datatype="emg", root=out)
        raw = mne_bids.read_raw_bids(bp, verbose="error")
        assert set(raw.get_channel_types()) == {"emg"} and raw.info["sfreq"] == 1000.0
        assert raw.info["line_freq"] == 50.0
        with open_recording(path) as rec:
            v = rec.streams["diy/emg"]
            phys = v.physical().astype(np.float64)
            pos = v.sample_indices() - v.sample_indices(0, 1)[0]  # grid places, lost samples counted
            meas = rec.clock.unix_s + v.times(0, 1)[0] - rec.clock.monotonic_s
        got = raw.get_data()[:, pos].T * 1e6  # V -> uV
        # int16 counts at 0.5 uV: the EDF digital values are the counts, so the samples are exact
        assert np.abs(got - phys).max() < 1e-6
        assert abs(raw.info["meas_date"].timestamp() - meas) < 1.0  # EDF start: whole seconds
        report = analyze(path)
        reps = [a for a in raw.annotations if a["description"] == "rep"]
        assert len(reps) == len(report.reps) > 0
        for a, r in zip(reps, report.reps, strict=True):
            assert a["onset"] == pytest.approx(r.phases["start"], abs=1e-3)
            assert a["duration"] == pytest.approx(r.phases["end"] - r.phases["start"], abs=1e-3)
        rows = [e for e in _tsv(Path(f"{stem}_events.tsv")) if e["trial_type"] == "rep"]
        tense = [int(e["rep"]) for e in rows if e["relaxed"] == "no"]
        assert tense == [r.index for r in report.reps if not all(x.relaxed for x in r.relaxation.values())]
    motion = out / "sub-demo01" / "motion" / "sub-demo01_task-glutebridge_tracksys-thigh_run-1_motion.tsv"
    data = np.genfromtxt(motion, delimiter="\t", missing_values="n/a")
    with open_recording(RECORDINGS[0]) as rec:
        acc = rec.streams["thigh/acc"].physical().astype(np.float64) * 9.80665
    assert np.allclose(data[: acc.shape[0], :3], acc, rtol=1e-6, atol=1e-5)
    ch = _tsv(motion.with_name(motion.name.replace("_motion.tsv", "_channels.tsv")))
    assert [(c["type"], c["component"], c["units"]) for c in ch[:4]] == [
        ("ACCEL", "x", "m/s^2"),
        ("ACCEL", "y", "m/s^2"),
        ("ACCEL", "z", "m/s^2"),
        ("GYRO", "x", "deg/s"),
    ]
    scans = _tsv(out / "sub-demo01" / "sub-demo01_scans.tsv")
    assert len(scans) == 2 * 3 and all(s["acq_time"].startswith("2026-") for s in scans)


def test_gaps_are_zero_filled_and_listed_and_floats_go_to_bdf(gappy: Path, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    files = export_bids([gappy], out)
    names = sorted(f.name for f in files)
    assert "sub-P07_task-hipthrust_recording-strapemg_emg.edf" in names  # int16 -> EDF
    assert "sub-P07_task-hipthrust_recording-otheremg_emg.bdf" in names  # float32 -> BDF
    assert _validate(out) == []
    emg_dir = out / "sub-P07" / "emg"
    raw = mne.io.read_raw_edf(emg_dir / "sub-P07_task-hipthrust_recording-strapemg_emg.edf", verbose="error")
    x = raw.get_data().T * 1e6
    with open_recording(gappy) as rec:
        v = rec.streams["strap/emg"]
        phys = v.physical().astype(np.float64)
        fv = rec.streams["other/emg"]
        fphys = fv.physical().astype(np.float64)
    assert raw.n_times == 2000  # 1950 samples + the 50 lost ones on their grid places
    assert np.abs(x[:1000] - phys[:1000]).max() < 1e-6 and np.abs(x[1050:2000] - phys[1000:]).max() < 1e-6
    assert np.all(x[1000:1050] == 0.0)
    events = _tsv(emg_dir / "sub-P07_task-hipthrust_recording-strapemg_events.tsv")
    gap = [e for e in events if e["trial_type"] == "gap"]
    assert len(gap) == 1 and float(gap[0]["onset"]) == pytest.approx(1.0) and gap[0]["stream"] == "strap/emg"
    marker = [e for e in events if e["trial_type"] == "marker"]
    assert float(marker[0]["onset"]) == pytest.approx(0.25) and json.loads(marker[0]["data"]) == {"n": 1}
    assert [a["description"] for a in raw.annotations] == ["gap"]
    bdf = mne.io.read_raw_bdf(emg_dir / "sub-P07_task-hipthrust_recording-otheremg_emg.bdf", verbose="error")
    y = bdf.get_data()[0, :1000] * 1e6
    step = (fphys.max() - fphys.min()) / (2**24 - 1)  # 24-bit quantisation over the stream's range
    assert np.abs(y - fphys[:, 0]).max() <= step + 1e-3
    channels = _tsv(emg_dir / "sub-P07_task-hipthrust_recording-strapemg_channels.tsv")
    assert [c["target_muscle"] for c in channels] == ["glute max (right)", "biceps femoris (left)"]
    forced = export_bids([gappy], tmp_path / "bdf", fmt="bdf", subject="X1", task="test")
    assert sum(f.suffix == ".bdf" for f in forced) == 2


def test_bad_input_is_one_clear_error_and_leaves_nothing(gappy: Path, tmp_path: Path) -> None:
    from myoflow.storage.schema import RecordingError

    out = tmp_path / "ds"
    out.mkdir()
    with pytest.raises(ValueError, match="already exists"):
        export_bids([gappy], out)
    with pytest.raises(ValueError, match="fmt must be one of auto, edf, bdf"):
        export_bids([gappy], tmp_path / "x", fmt="gdf")
    with pytest.raises(RecordingError, match="missing.h5"):
        export_bids([gappy, tmp_path / "missing.h5"], tmp_path / "y")
    anon = tmp_path / "anon.h5"
    rec = Recorder(anon, SessionMetadata(), clock=ClockAnchor(100.0, 1_700_000_000.0), on_full="wait")
    rec.add_stream(EMG, np.int16, device=None)
    rec.start()
    rec.write_block(EMG.name, np.zeros((1000, 2), np.int16), 100.0 + np.arange(1000) / 1000.0, start_index=0)
    rec.close()
    with pytest.raises(ValueError, match="anon.h5: the recording has no subject id; give one"):
        export_bids([anon], tmp_path / "z")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["anon.h5", "ds", "gappy.h5"]
    assert len(export_bids([anon], tmp_path / "z", subject="01", task="rest")) > 0


def test_channel_names_are_unique_and_fit_edf() -> None:
    from myoflow.storage.bids_files import channel_names, label, target_muscle

    two = StreamInfo("s/emg", "emg", 1000.0, ("ch1", "ch2"), ("glute_max_r", "glute_max_r"))
    assert channel_names(two) == ["glute_max_r_ch1", "glute_max_r_ch2"]
    long = StreamInfo("s/emg", "emg", 1000.0, ("a",), ("gastrocnemius_lateralis_r",))
    assert channel_names(long) == ["gastrocnemius_la"] and len(channel_names(long)[0]) == 16
    assert channel_names(EMG) == ["glute_max_r", "biceps_femoris_l"]
    assert label("demo-01", "x") == "demo01" and label("__", "fallback") == "fallback"
    assert target_muscle("vastus_lateralis_l") == "vastus lateralis (left)" and target_muscle(None) == "n/a"
    from myoflow.storage.bids_files import _header_range

    # the EDF header has 8 characters per number: rounded outwards, never inside the data
    # (423.70000000000005 * 1e4 is exactly 4237000.0 in floating point: a plain ceil gave 423.7)
    for lo, hi in (
        (-265.5, 423.70000000000005),
        (-0.123456789, 98765.4321),
        (-131072.0 * 4.028, 131071 * 4.028),
    ):
        a, b = _header_range((lo, hi))
        assert a <= lo and b >= hi and len(f"{a:g}") <= 8 and len(f"{b:g}") <= 8


@pytest.mark.realdata
def test_a_real_uci_recording_exports_to_a_valid_bdf_dataset(shared_data: Path, tmp_path: Path) -> None:
    """Float mV samples of a third-party file: BDF+, within one 24-bit step of the stored values."""
    from myoflow.storage.import_text import import_uci

    h5 = tmp_path / "1Npie.h5"
    import_uci(shared_data / "uci_lower_limb_semg" / "N_TXT" / "1Npie.txt", h5, side="r")
    out = tmp_path / "ds"
    files = export_bids([h5], out)
    assert _validate(out) == []
    bdf = next(f for f in files if f.suffix == ".bdf")
    raw = mne.io.read_raw_bdf(bdf, verbose="error")
    with open_recording(h5) as rec:
        v = rec.streams["uci/emg"]
        phys = v.physical().astype(np.float64)
        pos = v.sample_indices() - v.sample_indices(0, 1)[0]
        unit = v.info.unit
    scale = {"mV": 1e3, "uV": 1e6}[unit]
    got = raw.get_data()[:, pos].T * scale
    step = (phys.max(axis=0) - phys.min(axis=0)) / (2**24 - 1)
    assert np.all(np.abs(got - phys) <= step * 1.01 + 1e-9)
    channels = _tsv(bdf.with_name(bdf.name.replace("_emg.bdf", "_channels.tsv")))
    assert [c["units"] for c in channels] == [unit] * v.info.n_channels
    assert {c["target_muscle"] for c in channels} >= {"rectus femoris (right)", "biceps femoris (right)"}
