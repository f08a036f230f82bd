"""CSV and NWB exports: round trips through import, content, gaps, events, NWB validation."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from myoflow.storage.exporters import channel_columns, export_csv
from myoflow.storage.import_text import import_csv, import_uci
from myoflow.storage.reader import open_recording
from myoflow.storage.schema import ClockAnchor, SessionMetadata
from myoflow.storage.writer import Recorder
from myoflow.stream import Event, Gap, StreamInfo

HAVE_PYNWB = importlib.util.find_spec("pynwb") is not None
needs_pynwb = pytest.mark.skipif(not HAVE_PYNWB, reason="pynwb not installed (pip install 'myoflow[nwb]')")

EMG = StreamInfo("strap/emg", "emg", 1000.0, ("ch1", "ch2"), ("glute_max_r", "biceps_femoris_r"))
ACC = StreamInfo("strap/acc", "acc", 100.0, ("x", "y", "z"), ("thigh_r",) * 3)


@pytest.fixture
def session(tmp_path: Path) -> Path:
    """2 s of int16 EMG (a 50-sample loss at 1.0 s) and float IMU, with two reps and a marker."""
    path = tmp_path / "session.h5"
    rng = np.random.default_rng(3)
    emg = rng.integers(-2000, 2000, size=(2000, 2), dtype=np.int16)
    acc = rng.normal(0, 1, size=(200, 3)).astype(np.float32)
    meta = SessionMetadata(subject_id="S01", exercise="glute_bridge", notes="test session")
    rec = Recorder(path, meta, clock=ClockAnchor(100.0, 1_700_000_000.0), on_full="wait")
    rec.add_stream(EMG, np.int16, scale=[0.5, 0.25], device=None)
    rec.add_stream(ACC, np.float32)
    rec.start()
    t = 100.0 + np.arange(2000) / 1000.0
    rec.write_block(EMG.name, emg[:1000], t[:1000], start_index=0)
    rec.write_gap(Gap(EMG, 1000, 50, t[1000], t[1049], "loss"))
    rec.write_block(EMG.name, emg[1050:], t[1050:], start_index=1050)
    rec.write_block(ACC.name, acc, 100.0 + np.arange(200) / 100.0, start_index=0)
    for k, (a, b) in enumerate(((100.2, 100.8), (101.1, 101.7))):
        rec.write_event(Event(a, "rep_start", f"rep {k + 1}", EMG.name))
        rec.write_event(Event(b, "rep_end", f"rep {k + 1}", EMG.name))
    rec.write_event(Event(100.5, "marker", "cue", None, {"n": 1}))
    rec.close()
    return path


def _read_csv(path: Path) -> tuple[list[str], np.ndarray]:
    with path.open() as f:
        rows = list(csv.reader(f))
    return rows[0], np.array(rows[1:], dtype=np.float64).reshape(-1, len(rows[0]))


def test_csv_export_content_gaps_events(session: Path, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    files = export_csv(session, out)
    assert sorted(f.name for f in files) == sorted(
        [
            "strap_emg.csv",
            "strap_emg_gaps.csv",
            "strap_acc.csv",
            "strap_acc_gaps.csv",
            "events.csv",
            "session.json",
        ]
    )
    header, data = _read_csv(out / "strap_emg.csv")
    assert header == ["time_s", "index", "emg_glute_max_r_uV", "emg_biceps_femoris_r_uV"]
    assert data.shape == (1950, 4)
    with open_recording(session) as rec:
        view = rec.streams[EMG.name]
        np.testing.assert_array_equal(data[:, 2:], view.raw() * [0.5, 0.25])
        np.testing.assert_allclose(data[:, 0], view.times(), atol=1e-9)
    # the gap is visible: no rows for indices 1000..1049, the index jumps
    assert data[999, 1] == 999 and data[1000, 1] == 1050
    gaps = (out / "strap_emg_gaps.csv").read_text().splitlines()
    assert gaps[0] == "index,n_missing,t_start_s,t_end_s,reason"
    assert gaps[1].startswith("1000,50,101.0,101.049") and gaps[1].endswith(",loss")
    assert (out / "strap_acc_gaps.csv").read_text().splitlines() == [gaps[0]]
    acc_header, _ = _read_csv(out / "strap_acc.csv")
    assert acc_header[2:] == ["acc_thigh_r_x_g", "acc_thigh_r_y_g", "acc_thigh_r_z_g"]
    with (out / "events.csv").open() as f:
        events = list(csv.DictReader(f))
    assert [e["kind"] for e in events] == ["rep_start", "rep_end", "rep_start", "rep_end", "marker"]
    assert json.loads(events[4]["data"]) == {"n": 1} and float(events[4]["time_s"]) == 100.5
    assert events[0]["stream"] == EMG.name and events[4]["stream"] == ""
    session_json = json.loads((out / "session.json").read_text())
    assert session_json["metadata"]["subject_id"] == "S01"
    assert session_json["clock"] == {"monotonic_s": 100.0, "unix_s": 1_700_000_000.0}
    with pytest.raises(ValueError, match="already holds"):
        export_csv(session, out)
    export_csv(session, out, overwrite=True)


def test_channel_columns_sanitise_units() -> None:
    gyro = StreamInfo("g", "gyro", 100.0, ("x", "y"), ("shank_l", "shank_l"))
    assert channel_columns(gyro) == ["gyro_shank_l_x_deg_s", "gyro_shank_l_y_deg_s"]
    bare = StreamInfo("e", "emg", 100.0, ("a", "b"), None, "counts")
    assert channel_columns(bare) == ["emg_a_counts", "emg_b_counts"]


def test_round_trip_csv_import_export(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    values = np.round(rng.normal(0, 1, size=(300, 3)), 4)
    values[100:104, 0] = np.nan  # a hole in GM: becomes a gap of 4
    lines = ["GM;BF;hip"] + [";".join("" if np.isnan(v) else f"{v}" for v in row) for row in values]
    src = tmp_path / "in.csv"
    src.write_text("\n".join(lines) + "\n")
    import_csv(
        src,
        tmp_path / "r.h5",
        500.0,
        ["GM=emg:glute_max_r", "BF=emg:biceps_femoris_r", "hip=angle:hip_r"],
        units={"GM": "mV", "BF": "mV"},
    )
    export_csv(tmp_path / "r.h5", tmp_path / "out")
    header, emg = _read_csv(tmp_path / "out" / "emg.csv")
    assert header[2:] == ["emg_glute_max_r_uV", "emg_biceps_femoris_r_uV"]
    keep = ~np.isnan(values[:, 0])
    np.testing.assert_array_equal(emg[:, 1], np.flatnonzero(keep))
    np.testing.assert_allclose(emg[:, 2:], values[keep, :2] * 1000, rtol=1e-9)
    np.testing.assert_allclose(emg[:, 0], np.flatnonzero(keep) / 500.0, atol=1e-9)
    _, hip = _read_csv(tmp_path / "out" / "angle.csv")
    np.testing.assert_allclose(hip[:, 2], values[:, 2], rtol=1e-9)
    gaps = (tmp_path / "out" / "emg_gaps.csv").read_text().splitlines()
    assert len(gaps) == 2 and gaps[1].startswith("100,4,0.2,")


@needs_pynwb
def test_nwb_export_validates_and_maps_everything(session: Path, tmp_path: Path) -> None:
    import pynwb

    from myoflow.storage.nwb import export_nwb

    out = export_nwb(session, tmp_path / "s.nwb")
    assert pynwb.validate(path=str(out)) == []
    with pynwb.NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        assert nwb.subject.subject_id == "S01" and nwb.session_description == "glute_bridge"
        assert nwb.session_start_time.timestamp() == pytest.approx(1_700_000_000.0)
        es = nwb.acquisition["strap_emg"]
        assert type(es).__name__ == "ElectricalSeries"
        assert list(nwb.electrodes["location"][:]) == ["glute_max_r", "biceps_femoris_r"]
        with open_recording(session) as rec:
            raw = rec.streams[EMG.name].raw()
        np.testing.assert_array_equal(es.data[:], raw)
        np.testing.assert_allclose(es.channel_conversion[:], [0.5, 0.25])
        assert es.conversion == pytest.approx(1e-6)
        assert es.timestamps[1000] == pytest.approx(1.050)  # after the gap
        acc = nwb.acquisition["strap_acc"]
        assert type(acc).__name__ == "TimeSeries" and acc.unit == "g" and acc.rate == pytest.approx(100)
        trials = nwb.trials.to_dataframe()
        np.testing.assert_allclose(trials["start_time"], [0.2, 1.1], atol=1e-9)
        np.testing.assert_allclose(trials["stop_time"], [0.8, 1.7], atol=1e-9)
        assert list(trials["label"]) == ["rep 1", "rep 2"]
        invalid = nwb.invalid_times.to_dataframe()
        assert list(invalid["n_missing"]) == [50] and list(invalid["reason"]) == ["loss"]
        assert invalid["start_time"].iloc[0] == pytest.approx(1.0)
        assert len(nwb.intervals["events"]) == 5
    with pytest.raises(ValueError, match="already exists"):
        export_nwb(session, out)


@needs_pynwb
@pytest.mark.realdata
def test_nwb_export_of_an_imported_uci_file_validates(shared_data: Path, tmp_path: Path) -> None:
    import pynwb

    from myoflow.storage.nwb import export_nwb

    import_uci(shared_data / "uci_lower_limb_semg" / "N_TXT" / "1Nmar.txt", tmp_path / "u.h5", side="r")
    out = export_nwb(tmp_path / "u.h5", tmp_path / "u.nwb")
    assert pynwb.validate(path=str(out)) == []
    with pynwb.NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        assert list(nwb.electrodes["location"][:]) == [
            "rectus_femoris_r",
            "biceps_femoris_r",
            "vastus_medialis_r",
            "semitendinosus_r",
        ]
        assert nwb.acquisition["uci_emg"].data.shape == (5681, 4)
        assert nwb.acquisition["uci_knee_angle"].unit == "deg"
        assert list(nwb.invalid_times.to_dataframe()["stream"]) == ["uci/knee_angle"]


@needs_pynwb
def test_nwb_export_of_a_long_recording_streams_in_buffers(tmp_path: Path) -> None:
    """A recording many buffers long, with a gap and per-channel offsets (physical float32
    path), comes out sample for sample while Python holds far less than one stream at a time."""
    import tracemalloc

    import pynwb

    from myoflow.storage.nwb import ROWS_PER_BUFFER, export_nwb

    info = StreamInfo("long/emg", "emg", 2000.0, tuple(f"ch{k}" for k in range(16)), None)
    n = 600_000 + 1234  # 5 min at 2 kHz
    assert n > 10 * ROWS_PER_BUFFER
    rng = np.random.default_rng(5)
    raw = rng.integers(-3000, 3000, size=(n, 16), dtype=np.int16)
    t = 100.0 + np.arange(n + 100) / 2000.0
    path = tmp_path / "long.h5"
    rec = Recorder(path, SessionMetadata(), clock=ClockAnchor(100.0, 1_700_000_000.0), on_full="wait")
    rec.add_stream(info, np.int16, scale=np.full(16, 0.5), offset=np.arange(16.0), device=None)
    rec.start()
    cut = 3 * ROWS_PER_BUFFER + 77
    for a in range(0, cut, 20000):
        rec.write_block(info.name, raw[a : min(a + 20000, cut)], t[a : min(a + 20000, cut)], start_index=a)
    rec.write_gap(Gap(info, cut, 100, t[cut], t[cut + 99], "loss"))
    for a in range(cut, n, 20000):
        b = min(a + 20000, n)
        rec.write_block(info.name, raw[a:b], t[a + 100 : b + 100], start_index=a + 100)
    rec.close()
    whole_physical = n * 16 * 4  # bytes of the stream as float32
    tracemalloc.start()
    out = export_nwb(path, tmp_path / "long.nwb")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # Loading the stream whole (raw, float64 and float32 copies) held 140 MB here (3.6x the stream).
    assert peak < whole_physical / 3, (
        f"export held {peak / 1e6:.1f} MB (the stream is {whole_physical / 1e6:.1f} MB)"
    )
    with pynwb.NWBHDF5IO(str(out), "r") as io:
        es = io.read().acquisition["long_emg"]
        np.testing.assert_allclose(es.data[:], raw * 0.5 + np.arange(16.0), rtol=1e-6)
        stamps = es.timestamps[:]
        np.testing.assert_allclose(stamps, np.r_[t[:cut], t[cut + 100 : n + 100]] - 100.0, atol=1e-9)


def test_no_stream_file_replaces_another_output(tmp_path: Path) -> None:
    from myoflow.storage.exporters import export_csv, output_names
    from myoflow.storage.writer import Recorder
    from myoflow.stream import StreamInfo

    assert output_names(["events", "x", "x_gaps", "x/gaps"]) == {
        "events": ("events_.csv", "events__gaps.csv"),
        "x": ("x.csv", "x_gaps.csv"),
        "x_gaps": ("x_gaps_.csv", "x_gaps__gaps.csv"),
        "x/gaps": ("x_gaps__.csv", "x_gaps___gaps.csv"),
    }
    path = tmp_path / "r.h5"
    rec = Recorder(path)
    for name in ("events", "session"):
        rec.add_stream(StreamInfo(name, "emg", 100.0, ("a",)), "int16")
    rec.start()
    rec.write_block("events", np.arange(10)[:, None], np.arange(10) / 100)
    rec.write_block("session", np.arange(5)[:, None], np.arange(5) / 100)
    rec.close()
    files = {p.name for p in export_csv(path, tmp_path / "out")}
    assert files == {"events_.csv", "events__gaps.csv", "session.csv", "session_gaps.csv",
                     "events.csv", "session.json"}
    assert (tmp_path / "out" / "events.csv").read_text().startswith("time_s,kind,label")
    assert len((tmp_path / "out" / "events_.csv").read_text().splitlines()) == 11
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "r.h5"]  # no temporary left


def test_failed_export_leaves_nothing(tmp_path: Path) -> None:
    import shutil

    import h5py

    from myoflow.storage.exporters import export_csv
    from myoflow.storage.schema import RecordingError

    src = Path(__file__).resolve().parents[2] / "recordings" / "glute_bridge_virtual.h5"
    bad = tmp_path / "bad.h5"
    shutil.copy(src, bad)
    with h5py.File(bad, "r+") as f:  # damage that only a read of the samples finds
        raw = f["streams/thigh_gyro/raw"][:].astype(np.float64)
        raw[-1, 0] = np.inf
        del f["streams/thigh_gyro/raw"]
        f["streams/thigh_gyro/raw"] = raw
    with pytest.raises(RecordingError, match="thigh/gyro"):
        export_csv(bad, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.h5"]
