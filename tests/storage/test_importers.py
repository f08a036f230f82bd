"""Importers on the real third-party files and on small files built with each format's quirks."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from myoflow.storage.import_boards import import_brainflow, import_openbci
from myoflow.storage.import_text import import_csv, import_opensignals, import_uci, parse_column_map
from myoflow.storage.reader import open_recording
from myoflow.storage.textfiles import TextFormatError

HAVE_PYXDF = importlib.util.find_spec("pyxdf") is not None

# file -> (EMG samples, angle samples, angle gaps, events)
UCI_FILES = {
    "N_TXT/1Nmar.txt": (5681, 5699, 1, 0),
    "N_TXT/1Nsen.txt": (15300, 15300, 0, 0),
    "N_TXT/1Npie.txt": (14520, 14520, 0, 0),
    "N_TXT/4Nsen.txt": (15601, 15600, 0, 0),
    "A_TXT/1Amar.txt": (12973, 12973, 0, 0),
    "A_TXT/10Amar.txt": (22896, 22896, 0, 1),
}


def _first_row(path: Path) -> list[float]:
    lines = path.read_bytes().decode("latin-1").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start = next(i for i, ln in enumerate(lines) if not ln.strip()) + 1
    return [float(t) for t in lines[start].split("\t")[:5]]


@pytest.mark.realdata
@pytest.mark.parametrize("name", sorted(UCI_FILES))
def test_uci_files_import_with_their_quirks(shared_data: Path, tmp_path: Path, name: str) -> None:
    src = shared_data / "uci_lower_limb_semg" / name
    n_emg, n_angle, angle_gaps, n_events = UCI_FILES[name]
    report = import_uci(src, tmp_path / "out.h5", side="r")
    assert report.streams == {"uci/emg": n_emg, "uci/knee_angle": n_angle}
    with open_recording(tmp_path / "out.h5") as rec:
        assert rec.state == "final"
        emg, angle = rec.streams["uci/emg"], rec.streams["uci/knee_angle"]
        assert emg.rate == angle.rate == 1000.0
        assert emg.unit == "uV" and angle.unit == "deg"
        assert emg.info.placements == (
            "rectus_femoris_r",
            "biceps_femoris_r",
            "vastus_medialis_r",
            "semitendinosus_r",
        )
        assert angle.info.placements == ("knee_r",)
        assert emg.n_samples == n_emg and angle.n_samples == n_angle
        assert len(angle.gaps) == angle_gaps and emg.gaps == []
        first = _first_row(src)
        np.testing.assert_allclose(emg.physical(0, 1)[0], np.array(first[:4]) * 1000, rtol=1e-6)
        np.testing.assert_allclose(emg.raw(0, 1)[0], first[:4])  # mV as in the file
        assert angle.physical(0, 1)[0, 0] == pytest.approx(first[4])
        np.testing.assert_allclose(emg.times(0, 3), [0.0, 0.001, 0.002])
        assert len(rec.events) == n_events
        meta = rec.metadata
        assert meta.extra["import"]["notes"] == report.notes
        assert all(note in meta.notes for note in report.notes)
        stem = src.stem
        assert meta.subject_id == f"{stem[-4]}{stem[:-4]}"
        assert meta.exercise in ("gait", "seated_knee_extension", "standing_knee_flexion")


@pytest.mark.realdata
def test_uci_known_quirks_are_reported(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "uci_lower_limb_semg"
    report = import_uci(folder / "N_TXT" / "1Nmar.txt", tmp_path / "a.h5")
    text = "\n".join(report.notes)
    assert "'7.5V'" in text and "line 5690" in text
    assert "'uci/emg': the last 19 row(s) have no value" in text
    assert "no side" in text
    with open_recording(tmp_path / "a.h5") as rec:
        (gap,) = rec.streams["uci/knee_angle"].gaps
        assert (gap.start_index, gap.n_missing, gap.reason) == (5682, 1, "missing in file")
        assert gap.t_start == pytest.approx(5.682) and gap.t_end >= gap.t_start
        assert rec.streams["uci/emg"].info.placements[0] == "rectus_femoris"

    report = import_uci(folder / "N_TXT" / "4Nsen.txt", tmp_path / "b.h5")
    assert any("'uci/knee_angle': the last 1 row(s) have no value" in n for n in report.notes)

    report = import_uci(folder / "A_TXT" / "10Amar.txt", tmp_path / "c.h5", side="l")
    with open_recording(tmp_path / "c.h5") as rec:
        (event,) = rec.events
        assert (event.time, event.kind, event.data["bits"]) == (0.0, "marker", 31)
        assert rec.streams["uci/emg"].info.placements[1] == "biceps_femoris_l"
    assert any("initial state 31, 0 change(s)" in n for n in report.notes)


@pytest.mark.realdata
def test_opensignals_emg_counts_and_acc(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "biosppy_examples"
    report = import_opensignals(folder / "emg.txt", tmp_path / "emg.h5")
    assert report.streams == {"opensignals/emg": 100_000}
    assert any("BITalino EMG sensor transfer function" in n for n in report.notes)
    with open_recording(tmp_path / "emg.h5") as rec:
        view = rec.streams["opensignals/emg"]
        assert view.raw_dtype == np.int16 and view.unit == "uV" and view.rate == 1000.0
        assert view.raw(0, 2)[:, 0].tolist() == [2055, 2056]
        expected = (2055 / 4096 - 0.5) * 3.3 / 1009 * 1e6
        assert view.physical(0, 1)[0, 0] == pytest.approx(expected, rel=1e-5)
        assert abs(np.median(view.physical())) < 20.0  # baseline ~2053 counts is ~0 uV
        assert view.duration == pytest.approx(99.999)

    import_opensignals(folder / "emg.txt", tmp_path / "counts.h5", counts=True)
    with open_recording(tmp_path / "counts.h5") as rec:
        view = rec.streams["opensignals/emg"]
        assert view.unit == "counts" and view.physical(0, 1)[0, 0] == 2055

    import_opensignals(folder / "acc.txt", tmp_path / "acc.h5", placements=["a", "b", "c"])
    with open_recording(tmp_path / "acc.h5") as rec:
        view = rec.streams["opensignals/acc"]
        assert view.n_samples == 2000 and view.rate == 100.0 and view.unit == "g"
        assert view.info.channels == ("acc_x", "acc_y", "acc_z")
        raw = view.raw(0, 1)[0]
        np.testing.assert_allclose(raw, [0.28467, -0.88965, 0.22266])
        np.testing.assert_allclose(view.physical(0, 1)[0], raw / 9.80665, rtol=1e-6)


@pytest.mark.realdata
@pytest.mark.skipif(not HAVE_PYXDF, reason="pyxdf not installed (pip install 'myoflow[xdf]')")
def test_xdf_minimal(shared_data: Path, tmp_path: Path) -> None:
    from myoflow.storage._import_xdf import import_xdf

    report = import_xdf(shared_data / "xdf_examples" / "minimal.xdf", tmp_path / "x.h5")
    assert report.streams == {"SendDataC": 9} and report.n_events == 9
    text = "\n".join(report.notes)
    assert "2 clock offset(s) applied, mean -0.1 s" in text
    assert "type 'EEG'" in text and "stored as counts" in text
    with open_recording(tmp_path / "x.h5") as rec:
        view = rec.streams["SendDataC"]
        assert view.raw_dtype == np.int16 and view.rate == 10.0 and view.unit == "counts"
        expected = [[192, 255, 238]] + [[10 + k, 20 + k, 30 + k] for k in (2, 3, 4, 5, 2, 3, 4, 5)]
        assert view.raw().tolist() == expected
        # README: stamps 5.1 ... 5.9 with a clock offset of -0.1 s
        np.testing.assert_allclose(view.times(), np.arange(9) * 0.1 + 5.0, atol=1e-9)
        labels = [e.label for e in rec.events]
        assert labels[1:5] == ["Hello", "World", "from", "LSL"] and labels[0].startswith("<?xml")
        np.testing.assert_allclose([e.time for e in rec.events], np.arange(9) * 0.1 + 5.1, atol=1e-9)
        assert {e.data["xdf_stream"] for e in rec.events} == {"SendDataString"}


@pytest.mark.realdata
@pytest.mark.skipif(not HAVE_PYXDF, reason="pyxdf not installed (pip install 'myoflow[xdf]')")
def test_xdf_damaged_headers_give_one_line_errors(shared_data: Path, tmp_path: Path) -> None:
    from myoflow.storage._import_xdf import import_xdf

    good = (shared_data / "xdf_examples" / "minimal.xdf").read_bytes()
    start = good.find(b"<?xml")
    damaged = {
        "xml": good[: start + 5] + bytes(35) + good[start + 40 :],  # the file header's XML broken
        "length": good[:4] + b"\x07" + good[5:],  # an impossible length-field size
    }
    for name, data in damaged.items():
        path = tmp_path / f"{name}.xdf"
        path.write_bytes(data)
        with pytest.raises(ValueError, match=f"{name}.xdf: ") as info:
            import_xdf(path, tmp_path / f"{name}.h5")
        assert "\n" not in str(info.value)
        assert not (tmp_path / f"{name}.h5").exists()


def _write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode())
    return path


def test_csv_gaps_units_and_repairs(tmp_path: Path) -> None:
    rows = ["time,GM,BF,knee,extra"]
    for i in range(20):
        gm = "" if 8 <= i < 11 else f"{0.001 * i:.3f}"  # a 3-row hole in GM only
        rows.append(f"{i / 100},{gm},{-0.002 * i:.3f},{i},x")
    rows[16] = "0.15,0.015,oops,15,x"  # a stray token in BF
    rows[19] = "0.18,0.018"  # truncated row
    body = "\r\n".join(rows[:10]) + "\r" + "\n".join(rows[10:]) + "\n"
    src = _write(tmp_path / "s.csv", body)
    report = import_csv(
        src,
        tmp_path / "s.h5",
        100.0,
        ["GM=emg:glute_max_r", "BF=emg:biceps_femoris_r", "4=angle:knee_r"],
        units={"GM": "mV", "bf": "mV"},
        subject_id="P07",
        exercise="glute_bridge",
    )
    text = "\n".join(report.notes)
    assert "comma-separated, a header line, 20 row(s) of 5 column(s)" in text
    assert "'oops' on line 17" in text
    assert "1 truncated row(s)" in text and "line(s) 20" in text
    assert "not mapped, not imported: time, extra" in text
    with open_recording(tmp_path / "s.h5") as rec:
        emg, knee = rec.streams["emg"], rec.streams["angle"]
        assert emg.info.channels == ("GM", "BF")
        assert emg.info.placements == ("glute_max_r", "biceps_femoris_r")
        assert knee.info.placements == ("knee_r",) and knee.unit == "deg"
        # rows 8-10 (GM empty), 15 (BF 'oops') and 18 (truncated) are gaps, not invented
        assert [(g.start_index, g.n_missing) for g in emg.gaps] == [(8, 3), (15, 1), (18, 1)]
        assert {g.reason for g in emg.gaps} == {"missing in file"}
        assert emg.n_samples == 20 - 5
        assert [(g.start_index, g.n_missing) for g in knee.gaps] == [(18, 1)]
        assert knee.n_samples == 19 and knee.raw_dtype == np.int16
        np.testing.assert_allclose(emg.physical(0, 3)[:, 0], [0.0, 1.0, 2.0], atol=1e-6)  # mV -> uV
        np.testing.assert_allclose(emg.sample_indices(7, 9), [7, 11])
        np.testing.assert_allclose(emg.times(7, 9), [0.07, 0.11])  # rows keep their file time
        assert rec.metadata.subject_id == "P07" and rec.metadata.exercise == "glute_bridge"


@pytest.mark.parametrize(
    ("text", "delimiter_note"),
    [
        ("a\tb\n1\t2\n3\t4\n", "tab-separated, a header line"),
        ("a;b\n1,5;2\n3,5;4\n", "semicolon-separated, a header line"),
        ("1 2\n3   4\n5 6\n", "whitespace-separated, no header"),
    ],
)
def test_csv_delimiters_and_headers(tmp_path: Path, text: str, delimiter_note: str) -> None:
    src = _write(tmp_path / "d.txt", text)
    report = import_csv(src, tmp_path / "d.h5", 50.0, ["2=acc:thigh_r", "1=acc:thigh_r"])
    assert report.notes[0].startswith(delimiter_note)
    with open_recording(tmp_path / "d.h5") as rec:
        raw = rec.streams["acc"].raw()
    assert raw[0].tolist() == [2, 1.5] if ";" in text else raw[0].tolist() == [2, 1]


def test_csv_bad_arguments(tmp_path: Path) -> None:
    src = _write(tmp_path / "c.csv", "GM,BF\n1,2\n3,4\n")
    with pytest.raises(ValueError, match=r"column 'XX' not found in c.csv; columns are GM, BF"):
        import_csv(src, tmp_path / "o.h5", 100, ["XX=emg:glute_max_r"])
    with pytest.raises(ValueError, match=r"unknown KIND 'emgg'"):
        parse_column_map("GM=emgg:glute_max_r")
    with pytest.raises(ValueError, match=r"expected COLUMN=KIND:PLACEMENT"):
        parse_column_map("GM")
    with pytest.raises(ValueError, match=r"only hold letters, digits, _ . - \(write 'Gluteus_Medius_L'\)"):
        parse_column_map("GM=emg:Gluteus Medius L")  # docs/metrics.md's spelling with spaces
    with pytest.raises(ValueError, match=r"unit 'furlongs' is not a unit for kind 'emg'"):
        import_csv(src, tmp_path / "o.h5", 100, ["GM=emg"], units={"GM": "furlongs"})
    with pytest.raises(ValueError, match=r"rate"):
        import_csv(src, tmp_path / "o.h5", 0, ["GM=emg"])
    assert not (tmp_path / "o.h5").exists()
    import_csv(src, tmp_path / "o.h5", 100, ["GM=emg"])
    with pytest.raises(ValueError, match=r"o.h5 already exists"):
        import_csv(src, tmp_path / "o.h5", 100, ["GM=emg"])
    import_csv(src, tmp_path / "o.h5", 100, ["BF=emg"], overwrite=True)
    with open_recording(tmp_path / "o.h5") as rec:
        assert rec.streams["emg"].info.channels == ("BF",)


def _openbci_text(n: int, skip_at: int, skip: int) -> tuple[str, np.ndarray]:
    counter = np.concatenate([np.arange(skip_at), np.arange(skip_at + skip, n + skip)]) % 256
    exg = np.round(np.sin(np.arange(n))[:, None] * [10.0, 20.0, 30.0, 40.0], 2)
    lines = [
        "%OpenBCI Raw EXG Data",
        "%Number of channels = 4",
        "%Sample Rate = 200 Hz",
        "%Board = OpenBCI_GUI$BoardGanglionBLE",
        "Sample Index, EXG Channel 0, EXG Channel 1, EXG Channel 2, EXG Channel 3, "
        "Accel Channel 0, Accel Channel 1, Accel Channel 2, Other, Timestamp, "
        "Marker Channel, Timestamp (Formatted)",
    ]
    for i in range(n):
        marker = 3.0 if i == 100 else 0.0
        lines.append(
            f"{counter[i]:.1f}, "
            + ", ".join(f"{v}" for v in exg[i])
            + f", 0.0, 0.5, -1.0, 0.0, {1700000000.0 + i / 200:.6f}, {marker}, "
            "2023-11-14 22:13:20.000"
        )
    return "\n".join(lines) + "\n", exg


def test_openbci_gui_file(tmp_path: Path) -> None:
    text, exg = _openbci_text(600, skip_at=300, skip=3)
    src = _write(tmp_path / "OpenBCI-RAW-test.txt", text)
    report = import_openbci(
        src,
        tmp_path / "o.h5",
        placements=["glute_max_r", "biceps_femoris_r", "glute_max_l", "biceps_femoris_l"],
    )
    assert report.streams == {"boardganglionble/emg": 600, "boardganglionble/acc": 600}
    assert any("skips 3 sample(s) in 1 place(s)" in n for n in report.notes)
    with open_recording(tmp_path / "o.h5") as rec:
        emg = rec.streams["boardganglionble/emg"]
        assert emg.rate == 200.0 and emg.unit == "uV" and emg.device.model == "BoardGanglionBLE"
        assert emg.info.placements[0] == "glute_max_r"
        np.testing.assert_allclose(emg.physical(), exg, atol=1e-4)
        (gap,) = emg.gaps
        assert (gap.start_index, gap.n_missing, gap.reason) == (300, 3, "loss")
        assert emg.times(300, 301)[0] == pytest.approx(303 / 200)
        acc = rec.streams["boardganglionble/acc"]
        assert acc.unit == "g" and acc.physical(0, 1)[0].tolist() == [0.0, 0.5, -1.0]
        (event,) = rec.events
        assert event.kind == "marker" and event.label == "marker 3" and event.time == 0.5
        assert rec.clock.unix_s == pytest.approx(1700000000.0)


def test_openbci_rejects_other_text(tmp_path: Path) -> None:
    src = _write(tmp_path / "x.txt", "a,b\n1,2\n")
    with pytest.raises(TextFormatError, match=r"x.txt: not an OpenBCI GUI recording"):
        import_openbci(src, tmp_path / "o.h5")


def test_brainflow_ganglion_csv(tmp_path: Path) -> None:
    n = 400
    rows = np.zeros((n, 15))
    rows[:, 0] = np.arange(n) % 200
    rows[:, 1:5] = np.cos(np.arange(n))[:, None] * [1.5, 2.5, 3.5, 4.5]
    rows[:, 13] = 1700000000.0 + np.arange(n) / 200
    rows[50, 14] = 7.0
    lines = ["\t".join(f"{v:f}" for v in row) for row in rows]  # as DataFilter.write_file
    src = _write(tmp_path / "bf.csv", "\n".join(lines) + "\n")
    report = import_brainflow(src, tmp_path / "b.h5")
    text = "\n".join(report.notes)
    assert "board inferred from the 15 columns: Ganglion (BrainFlow board id 1)" in text
    assert "accelerometer columns hold only zeros" in text
    with open_recording(tmp_path / "b.h5") as rec:
        (name,) = rec.streams
        view = rec.streams[name]
        assert name == "ganglion/emg" and view.rate == 200.0 and view.n_samples == n
        np.testing.assert_allclose(view.physical(), rows[:, 1:5], atol=1e-5)
        assert view.gaps == []
        assert [(e.time, e.label) for e in rec.events] == [(0.25, "marker 7")]
    with pytest.raises(TextFormatError, match=r"15 tab-separated columns but BrainFlow board Cyton"):
        import_brainflow(src, tmp_path / "c.h5", board_id=0)
    rows[::2, 0] = rows[1::2, 0]  # two samples per counter value: loss cannot be detected
    _write(src, "\n".join("\t".join(f"{v:f}" for v in row) for row in rows) + "\n")
    report = import_brainflow(src, tmp_path / "d.h5", board_id=1)
    assert any("lost samples cannot be detected" in n for n in report.notes)
