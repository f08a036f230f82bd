"""``track_progress`` / ``myoflow progress`` on a folder of synthetic recordings of one person
whose glute gets stronger (peak 45 -> 72 % MVC over four sessions, the MVC reference fixed),
the hamstrings and glute medius unchanged; plus another subject and a broken file. The
catalogue is a cache: a second run analyses nothing, a deleted and a changed file are noticed."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from myoflow import cli
from myoflow.dsp.normalise import mvc_reference
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.reports.catalogue_index import open_catalogue
from myoflow.reports.progress import plot_progress, track_progress
from myoflow.storage.catalogue import CATALOGUE_NAME
from myoflow.storage.schema import ClockAnchor, SessionMetadata
from myoflow.storage.writer import Recorder
from myoflow.synth.calibration import mvc_trial
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import generate_session

GLUTE_PEAKS = (45.0, 54.0, 63.0, 72.0)
OTHERS = (30.0, 26.0, 20.0)


def write_session(path: Path, cfg: SessionConfig, subject: str, day: int) -> None:
    """A synthetic session as a recording made on ``day`` (days after 2023-11-14), with the
    person's MVC references (from the seed-0 calibration trial, the same every day)."""
    fs = cfg.emg_rate
    base = SessionConfig(n_reps=cfg.n_reps, emg_rate=fs, seed=0)
    mvc = mvc_reference(envelope_offline(mvc_trial(base).emg, fs, profile_for_rate(fs, cfg.hum_hz)), fs)
    s = generate_session(cfg)
    meta = SessionMetadata(
        subject_id=subject,
        exercise=cfg.exercise,
        mvc_references={p: float(v) for p, v in zip(s.placements, mvc, strict=True)},
    )
    emg, imu = s.emg_block(), s.imu_blocks()
    with Recorder(path, meta, clock=ClockAnchor(100.0, 1.7e9 + day * 86400.0), on_full="wait") as rec:
        for b in (emg, *imu):
            rec.add_stream(b.stream, np.float32)
        rec.start()
        for b in (emg, *imu):
            rec.write_block(b.stream.name, b.data, b.times + 100.0)


def _cfg(glute: float, seed: int) -> SessionConfig:
    return SessionConfig(n_reps=8, emg_rate=1000.0, seed=seed, peak_pct=(glute, *OTHERS))


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("progress-src")
    for day, glute in enumerate(GLUTE_PEAKS):
        write_session(root / f"s1_day{day}.h5", _cfg(glute, 10 + day), "S1", day)
    (root / "other").mkdir()
    write_session(root / "other" / "s2.h5", _cfg(45.0, 3), "S2", 0)
    (root / "broken.h5").write_bytes((root / "s1_day0.h5").read_bytes()[:4000])
    return root


@pytest.fixture()
def folder(source: Path) -> Path:
    """The recordings and their catalogue, shared by the tests that change neither."""
    return source


@pytest.fixture()
def fresh(source: Path, tmp_path: Path) -> Path:
    """A copy of the recordings without a catalogue, for a test that changes them."""
    copy = Path(shutil.copytree(source, tmp_path / "recordings"))
    for db in copy.rglob(f"{CATALOGUE_NAME}*"):
        db.unlink()
    return copy


def test_glute_gets_stronger_beyond_the_mdc(folder: Path) -> None:
    p = track_progress(folder, "S1", workers=0)
    assert p.subject == "S1" and p.sessions == 4 and p.skipped == []
    assert p.notes[-1].startswith("catalogue: ")
    glute = p.track("glute_max_r.peak_pct")
    values = [pt.value for pt in glute.points]
    assert len(values) == 4 and values == sorted(values), values
    assert glute.reliability is not None and glute.reliability.n == 4 and glute.reliability.k == 8
    assert glute.overall_change > glute.overall_mdc95 > 0 and glute.overall_verdict == "up"
    assert glute.overall_change == pytest.approx(72.0 - 45.0, rel=0.35)
    unchanged = [p.track(f"{m}.peak_pct") for m in ("biceps_femoris_r", "semitendinosus_r", "glute_med_r")]
    assert sum(t.overall_verdict == "within noise" for t in unchanged) >= 2, [
        (t.overall_change, t.overall_mdc95) for t in unchanged
    ]
    assert {t.exercise for t in p.tracks} == {"glute_bridge"}
    assert {"crossover_angle_deg", "glute_max_r.relaxed_share", "glute_max_r.bottom_min_pct"} <= {
        t.metric for t in p.tracks
    }
    doc = json.loads(p.to_json())
    assert doc["tracks"][0]["points"][1]["mdc95"] is not None
    rows = p.to_csv().splitlines()
    assert rows[0].startswith("exercise,metric,path,start_utc,value,n_reps,change,mdc95,verdict")
    assert len(rows) == 1 + 4 * len(p.tracks)
    assert "glute_max_r.peak_pct" in p.format()


def test_the_catalogue_is_a_cache_that_follows_the_folder(fresh: Path) -> None:
    folder = fresh
    first = track_progress(folder, "S1", workers=0)
    assert "6 file(s) analysed (1 failed)" in first.notes[-1]  # every recording, the broken one too
    again = track_progress(folder, "S1", workers=0)
    assert "0 file(s) analysed" in again.notes[-1] and "6 unchanged" in again.notes[-1]
    assert again.to_dict()["tracks"] == first.to_dict()["tracks"]
    (folder / "s1_day1.h5").unlink()
    (folder / "s1_day3.h5").unlink()
    write_session(folder / "s1_day3.h5", _cfg(90.0, 99), "S1", 3)  # the last session, re-recorded
    changed = track_progress(folder, "S1", workers=0)
    assert "1 file(s) analysed" in changed.notes[-1] and "1 dropped" in changed.notes[-1]
    glute = changed.track("glute_max_r.peak_pct")
    assert [Path(pt.path).name for pt in glute.points] == ["s1_day0.h5", "s1_day2.h5", "s1_day3.h5"]
    assert glute.points[-1].value > first.track("glute_max_r.peak_pct").points[-1].value + 5
    (folder / CATALOGUE_NAME).write_bytes(b"\0garbage" * 64)  # a damaged cache loses nothing
    rebuilt = track_progress(folder, "S1", workers=0)
    assert any("rebuilt" in n for n in rebuilt.notes)
    assert rebuilt.to_dict()["tracks"] == changed.to_dict()["tracks"]


def test_subjects_and_errors(folder: Path) -> None:
    with open_catalogue(folder) as cat:  # a changed analysis (code fingerprint) makes rows stale
        assert re.search(r"report schema \d+, index-\d+, code [0-9a-f]{12}$", cat.version), cat.version
    with pytest.raises(ValueError, match=r"2 subjects \(S1, S2\): name one"):
        track_progress(folder, workers=0)
    with pytest.raises(ValueError, match="no recording of subject 'S9'.*subjects: S1, S2"):
        track_progress(folder, "S9", workers=0)
    s2 = track_progress(folder / "other", workers=0)  # one subject in that folder
    assert s2.subject == "S2" and s2.sessions == 1
    assert s2.track("glute_max_r.peak_pct").reliability is None
    assert s2.track("glute_max_r.peak_pct").overall_verdict is None


def test_command_line(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    picture = tmp_path / "progress.png"
    assert (
        cli.main(["progress", "S1", "--folder", str(folder), "--workers", "0", "--plot", str(picture)]) == 0
    )
    out, err = capsys.readouterr()
    assert "glute_max_r.peak_pct" in out and "MDC95" in out and "wrote" in err
    assert picture.stat().st_size > 10_000 and picture.read_bytes()[:4] == b"\x89PNG"
    assert cli.main(["progress", str(folder), "--subject", "S1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["subject"] == "S1" and doc["sessions"] == 4
    assert cli.main(["progress", str(folder), "--subject", "S1", "--csv", "--metric", "peak_pct"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert {r.split(",")[1] for r in rows[1:]} == {
        f"{m}.peak_pct" for m in ("glute_max_r", "biceps_femoris_r", "semitendinosus_r", "glute_med_r")
    }
    assert cli.main(["progress", str(folder), "--subject", "S1", "--json", "--mdc", "peak_pct=1000"]) == 0
    doc = json.loads(capsys.readouterr().out)
    glute = next(t for t in doc["tracks"] if t["metric"] == "glute_max_r.peak_pct")
    assert glute["overall"]["mdc95"] == 1000.0 and glute["overall"]["verdict"] == "within noise"
    assert glute["note"].startswith("MDC95 1000 given")
    assert cli.main(["progress", str(folder), "--subject", "S1", "--mdc", "peak_pct"]) == 2
    assert "expected METRIC=VALUE" in capsys.readouterr().err
    assert cli.main(["progress", str(folder)]) == 2
    assert "name one" in capsys.readouterr().err
    assert cli.main(["progress", "S1", "--folder", str(tmp_path / "none")]) == 1
    capsys.readouterr()
    # a mistyped folder is not taken for a subject id (which would index the current folder)
    assert cli.main(["progress", str(tmp_path / "typo") + "/"]) == 1
    assert f"{tmp_path / 'typo'}/: no such folder" in capsys.readouterr().err
    assert cli.main(["progress", "S1", "--folder", str(folder), "--plot", "x.gif"]) == 2
    with pytest.raises(ValueError, match="no exercise 'rdl'"):
        plot_progress(track_progress(folder, "S1"), tmp_path / "x.png", "rdl")
