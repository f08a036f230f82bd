"""Text-format parsers on the real third-party files and on variants with each quirk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from myoflow.storage.textfiles import TextFormatError, read_opensignals, read_uci_lower_limb

UCI_HEADER = (
    "File Name: x.log\r\n"
    "Channel 1: 'RF', 4 values, engineering units: mV, no filters.\r\n"
    "Channel 2: 'BF', 4 values, engineering units: mV, no filters.\r\n"
    "Channel 3: 'VM', 4 values, engineering units: mV, no filters.\r\n"
    "Channel 4: 'ST', 4 values, engineering units: mV, no filters.\r\n"
    "Channel 5: 'FX', 4 values, engineering units: deg, no filters.\r\n"
    "\r\n"
)


@pytest.mark.realdata
def test_uci_files_parse_with_their_quirks_reported(shared_data: Path) -> None:
    folder = shared_data / "uci_lower_limb_semg"
    rec = read_uci_lower_limb(folder / "N_TXT" / "1Nmar.txt")
    assert rec.columns == ["RF", "BF", "VM", "ST", "FX"]
    assert rec.units == ["mV", "mV", "mV", "mV", "deg"]
    assert rec.rate == 1000.0
    emg_rows = np.flatnonzero(~np.isnan(rec.data[:, :4]).all(axis=1))
    assert emg_rows[-1] + 1 == 5681  # the README's count: 19 angle-only rows follow
    assert any("7.5V" in note for note in rec.notes)
    assert any("only the angle" in note for note in rec.notes)

    spanish = read_uci_lower_limb(folder / "A_TXT" / "10Amar.txt")
    assert spanish.columns == ["RF", "BF", "VM", "ST", "FX", "events"]
    assert set(np.unique(spanish.column("events"))) <= set(range(32))

    truncated = read_uci_lower_limb(folder / "N_TXT" / "4Nsen.txt")
    assert any("lack" in note for note in truncated.notes)


def test_mixed_line_endings_and_stray_tokens(tmp_path: Path) -> None:
    body = "0.1\t0.2\t0.3\t0.4\t10\r0.1\t0.2\t0.3\t0.4\t11\n0.5\t0.6\t0.7\t0.8\t7.5V\r\n\t\t\t\t12\r\n"
    f = tmp_path / "quirky.txt"
    f.write_bytes((UCI_HEADER + body).encode())
    rec = read_uci_lower_limb(f)
    assert rec.data.shape == (4, 5)
    np.testing.assert_allclose(rec.column("FX")[:2], [10, 11])
    assert np.isnan(rec.column("FX")[2])
    assert rec.column("FX")[3] == 12
    assert any("'7.5V'" in n and "line 10" in n for n in rec.notes)


def test_non_uci_file_names_the_file(tmp_path: Path) -> None:
    f = tmp_path / "other.txt"
    f.write_text("time,emg\n0,1\n")
    with pytest.raises(TextFormatError, match="other.txt.*not a UCI lower-limb"):
        read_uci_lower_limb(f)
    with pytest.raises(TextFormatError, match="other.txt.*Sampling Rate"):
        read_opensignals(f)
    with pytest.raises(TextFormatError, match="missing.txt.*cannot read"):
        read_uci_lower_limb(tmp_path / "missing.txt")


@pytest.mark.realdata
def test_opensignals_files(shared_data: Path) -> None:
    rec = read_opensignals(shared_data / "biosppy_examples" / "emg.txt")
    assert rec.rate == 1000.0 and rec.columns == ["EMG"] and rec.data.shape == (100_000, 1)
    assert 1900 < np.median(rec.data) < 2200  # raw 12-bit counts around mid-scale
    acc = read_opensignals(shared_data / "biosppy_examples" / "acc.txt")
    assert acc.rate == 100.0 and acc.data.shape[1] == 3 and acc.units[0] == "m/s^2"
