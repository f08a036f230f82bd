"""CSV import in chunks: same recording as one pass, infinities become gaps, a BOM is no header,
a failed import leaves nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from myoflow.storage import textfiles_delimited
from myoflow.storage.import_text import import_csv
from myoflow.storage.reader import open_recording
from myoflow.storage.schema import RecordingError


def _csv(path: Path, n: int, *, holes: bool = True) -> np.ndarray:
    rng = np.random.default_rng(5)
    data = rng.integers(-3000, 3000, (n, 3)).astype(float)
    lines = ["a,b,c"]
    for i, row in enumerate(data):
        if holes and i % 997 == 500:
            lines.append(f"{int(row[0])},,{int(row[2])}")  # a missing value: a gap
        elif holes and i == 1234:
            lines.append("1,oops,3")  # stray text: reported, a gap
        else:
            lines.append(",".join(str(int(v)) for v in row))
    path.write_text("\n".join(lines) + "\n")
    return data


def test_chunked_import_equals_one_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "x.csv"
    data = _csv(src, 5000)
    whole = import_csv(src, tmp_path / "whole.h5", 500.0, ["a=emg", "b=emg", "c=acc"])
    monkeypatch.setattr(textfiles_delimited, "CHUNK_ROWS", 333)
    monkeypatch.setattr(textfiles_delimited.DelimitedReader.chunks, "__defaults__", (333,))
    chunked = import_csv(src, tmp_path / "chunked.h5", 500.0, ["a=emg", "b=emg", "c=acc"])
    assert whole.streams == chunked.streams and whole.gaps == chunked.gaps
    assert whole.notes[:-1] == chunked.notes[:-1]
    assert any("'oops' on line 1236" in n for n in chunked.notes)
    with open_recording(tmp_path / "whole.h5") as a, open_recording(tmp_path / "chunked.h5") as b:
        for name in ("emg", "acc"):
            va, vb = a.streams[name], b.streams[name]
            np.testing.assert_array_equal(va.raw(), vb.raw())
            np.testing.assert_array_equal(va.gap_table, vb.gap_table)
            np.testing.assert_array_equal(va.times(), vb.times())
        assert a.streams["emg"].raw_dtype == np.int16
        keep = np.ones(len(data), bool)
        keep[np.arange(500, len(data), 997)] = False
        keep[1234] = False
        np.testing.assert_array_equal(a.streams["emg"].raw(), data[keep][:, :2])
        assert a.streams["acc"].n_samples == len(data)  # column c is whole


def test_infinities_become_gaps_never_zero(tmp_path: Path) -> None:
    src = tmp_path / "inf.csv"
    src.write_text("a,b\n1,2\n3,inf\n5,-inf\n7,8\n9,10\n")
    report = import_csv(src, tmp_path / "o.h5", 100.0, ["a=emg", "b=emg"])
    assert any("2 value(s) are infinite" in n for n in report.notes)
    with open_recording(tmp_path / "o.h5") as rec:
        v = rec.streams["emg"]
        np.testing.assert_array_equal(v.physical(), [[1, 2], [7, 8], [9, 10]])
        assert [(g.start_index, g.n_missing) for g in v.gaps] == [(1, 2)]


def test_byte_order_mark_does_not_eat_the_first_row(tmp_path: Path) -> None:
    for name, header in (("plain.csv", b""), ("named.csv", b"x,y\n")):
        src = tmp_path / name
        src.write_bytes(b"\xef\xbb\xbf" + header + b"1,2\r\n3,4\r\n5,6\r\n")
        cols = ["x=emg", "y=emg"] if header else ["1=emg", "2=emg"]
        report = import_csv(src, tmp_path / f"{name}.h5", 100.0, cols)
        assert report.streams == {"emg": 3}
        with open_recording(tmp_path / f"{name}.h5") as rec:
            np.testing.assert_array_equal(rec.streams["emg"].physical(), [[1, 2], [3, 4], [5, 6]])
            assert rec.streams["emg"].info.channels == (("x", "y") if header else ("column1", "column2"))


FILLER = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[3]), int(sys.argv[3])))
from myoflow.cli import main
sys.exit(main(["import", "csv", sys.argv[1], "--rate", "1000", "--map", "a=emg", "--map", "b=emg",
               "--out", sys.argv[2]]))
"""


def test_import_on_a_full_disk_leaves_no_output(tmp_path: Path) -> None:
    src = tmp_path / "x.csv"
    _csv(src, 200_000, holes=False)
    out = tmp_path / "o.h5"
    proc = subprocess.run([sys.executable, "-c", FILLER, str(src), str(out), "400000"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert str(out) in last and "nothing was written" in last, last
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv"]


def test_import_error_names_the_output(tmp_path: Path) -> None:
    src = tmp_path / "x.csv"
    _csv(src, 100, holes=False)
    with pytest.raises(RecordingError, match="o.h5"):
        import_csv(src, tmp_path / "no" / "dir" / "o.h5", 100.0, ["a=emg"])


EXPORT = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
from myoflow.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("fmt", ["csv", "nwb"])
def test_export_on_a_full_disk_fails_cleanly(tmp_path: Path, fmt: str) -> None:
    if fmt == "nwb":
        pytest.importorskip("pynwb")
    src = Path(__file__).resolve().parents[2] / "recordings" / "glute_bridge_virtual.h5"
    out = tmp_path / ("o.nwb" if fmt == "nwb" else "csv")
    argv = [sys.executable, "-c", EXPORT, "100000", "export", fmt, str(src), "--out", str(out)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])  # not -11 (segfault)
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert str(out) in proc.stderr and "nothing" in proc.stderr and "too large" in proc.stderr
    assert list(tmp_path.iterdir()) == []
