"""`export --pseudonymise`: subject ids become a keyed hash, BLE addresses and notes are gone."""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import re
from pathlib import Path

import pytest

from myoflow.cli import main
from myoflow.storage.pseudonymise import Pseudonymiser, load_key

BASE = Path(__file__).resolve().parents[2] / "recordings" / "glute_bridge_virtual.h5"
MAC = re.compile(r"([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}")


def test_keyed_hash_is_stable_and_needs_the_key() -> None:
    a, b = Pseudonymiser(b"k" * 16), Pseudonymiser(b"j" * 16)
    expected = "sub-" + hmac.new(b"k" * 16, b"demo-01", hashlib.sha256).hexdigest()[:16]
    assert a.subject("demo-01") == expected == a.subject("demo-01")
    assert b.subject("demo-01") != expected and a.subject("") == ""
    assert a.text("strap C0:00:00:00:00:01 and aa-bb-cc-dd-ee-ff") == (
        "strap <address removed> and <address removed>"
    )
    assert a.text("12:34 at 10:20:30") == "12:34 at 10:20:30"  # times are not addresses


def test_keys_are_required_and_long_enough(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MYOFLOW_PSEUDONYM_KEY", raising=False)
    with pytest.raises(ValueError, match="needs a secret key"):
        load_key(None)
    short = tmp_path / "k"
    short.write_text("abc\n")
    with pytest.raises(ValueError, match="3 bytes; use at least 16"):
        load_key(short)
    monkeypatch.setenv("MYOFLOW_PSEUDONYM_KEY", "x" * 20)
    assert load_key(None) == b"x" * 20


def test_csv_export_holds_no_address_subject_or_notes(tmp_path: Path, capsys) -> None:
    key = tmp_path / "key"
    key.write_bytes(b"0123456789abcdef0123\n")
    out = tmp_path / "csv"
    argv = ["export", "csv", str(BASE), "--out", str(out), "--pseudonymise", "--key-file", str(key)]
    assert main(argv) == 0
    text = "".join(p.read_text() for p in out.iterdir())
    assert not MAC.search(text) and "demo-01" not in text and "virtual glute bridges" not in text
    pseudonym = Pseudonymiser(b"0123456789abcdef0123").subject("demo-01")
    assert f'"subject_id": "{pseudonym}"' in (out / "session.json").read_text()
    plain = tmp_path / "plain"
    assert main(["export", "csv", str(BASE), "--out", str(plain)]) == 0
    assert MAC.search((plain / "session.json").read_text())  # the control: addresses are there
    for name in ("diy_emg.csv", "thigh_gyro.csv"):  # samples unchanged
        assert (out / name).read_text() == (plain / name).read_text()
    capsys.readouterr()
    assert main(["export", "csv", str(BASE), "--out", str(tmp_path / "x"), "--key-file", str(key)]) == 2
    assert "add --pseudonymise" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("pynwb") is None, reason="needs pynwb")
def test_nwb_export_holds_no_address_subject_or_notes(tmp_path: Path, monkeypatch) -> None:
    import h5py

    monkeypatch.setenv("MYOFLOW_PSEUDONYM_KEY", "0123456789abcdef0123")
    out = tmp_path / "s.nwb"
    assert main(["export", "nwb", str(BASE), "--out", str(out), "--pseudonymise"]) == 0
    texts: list[str] = []

    def collect(name: str, obj) -> None:
        for v in obj.attrs.values():
            texts.append(str(v))
        if isinstance(obj, h5py.Dataset) and obj.dtype.kind in "OSU":
            texts.extend(str(x) for x in obj[()].ravel()) if obj.shape else texts.append(str(obj[()]))

    with h5py.File(out, "r") as f:
        f.visititems(collect)
        subject = f["general/subject/subject_id"][()].decode()
    blob = "\n".join(texts)
    assert not MAC.search(blob) and "demo-01" not in blob and "virtual glute bridges" not in blob
    assert subject == Pseudonymiser(b"0123456789abcdef0123").subject("demo-01")
