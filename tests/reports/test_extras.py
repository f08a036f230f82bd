"""Fatigue, symmetry and ensemble curves through `myoflow analyze` on an imported recording.

A synthetic glute bridge with both sides placed (glute max 45 % MVC right, 30 % left;
hamstrings 30 % both) is written as CSV and imported as a user would. The right glute's raw EMG
is then replaced, rep by rep, by Shwedyk-spectrum noise (:func:`myoflow.synth.emg.emg_noise`)
whose spectrum is compressed by a known factor per rep while its amplitude rises: the
signature of fatigue. The other channels keep the generator's unchanged spectrum.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import myoflow as mf
from myoflow import cli
from myoflow.synth.config import SessionConfig
from myoflow.synth.emg import emg_noise
from myoflow.synth.session import SyntheticSession, generate_session

PLACES = ("glute_max_r", "glute_max_l", "biceps_femoris_r", "biceps_femoris_l")
CFG = SessionConfig(
    placements=PLACES,
    peak_pct=(45.0, 30.0, 30.0, 30.0),
    n_reps=8,
    emg_rate=1000.0,
    imu_rate=1000.0,
    seed=4,
    noise_preset="clean",
)
#: The same MVC reference (envelope uV) for both sides of a muscle, as from a calibration.
MVC = {"glute_max_r": 250.0, "glute_max_l": 250.0, "biceps_femoris_r": 200.0, "biceps_femoris_l": 200.0}
K = np.linspace(1.0, 0.65, CFG.n_reps)  # spectral scale of the right glute per rep
GAIN = np.linspace(1.0, 1.3, CFG.n_reps)  # its amplitude per rep


def _fatigued(session: SyntheticSession) -> np.ndarray:
    emg = session.emg.astype(np.float64).copy()
    fs = CFG.emg_rate
    rng = np.random.default_rng(99)
    act_uv = session.activation_pct[:, 0] / 100.0 * session.mvc_uv["glute_max_r"]
    bounds = [int(t.onset_s * fs) - int(0.5 * fs) for t in session.truth] + [emg.shape[0]]
    for i in range(CFG.n_reps):
        a, b = max(bounds[i], 0), bounds[i + 1]
        noise = emg_noise(b - a, 1, fs, rng, 60.0 * K[i], 120.0 * K[i])[:, 0]
        emg[a:b, 0] = noise * act_uv[a:b] * GAIN[i] + rng.standard_normal(b - a)
    return emg


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    session = generate_session(CFG)
    emg = _fatigued(session)
    cols = {f"e{i}": emg[:, i] for i in range(len(PLACES))}
    for seg, (acc, gyro) in session.imu.items():
        for k, axis in enumerate("xyz"):
            cols[f"{seg}_a{axis}"] = acc[:, k]
            cols[f"{seg}_g{axis}"] = gyro[:, k]
    n = min(len(v) for v in cols.values())
    folder = tmp_path_factory.mktemp("extras")
    table = folder / "session.csv"
    data = np.column_stack([v[:n] for v in cols.values()])
    np.savetxt(table, data, fmt="%.6g", delimiter=",", header=",".join(cols), comments="")
    out = folder / "session.h5"
    args = ["import", "csv", str(table), "--rate", "1000", "--exercise", "glute_bridge", "--out", str(out)]
    for i, place in enumerate(PLACES):
        args += ["--map", f"e{i}=emg:{place}", "--unit", f"e{i}=uV"]
    for seg, place in (("pelvis", "pelvis"), ("thigh", "thigh_r")):
        for axis in "xyz":
            args += ["--map", f"{seg}_a{axis}=acc:{place}", "--map", f"{seg}_g{axis}=gyro:{place}"]
    assert cli.main(args) == 0
    return out


def test_report_carries_fatigue_symmetry_and_ensembles(recording: Path) -> None:
    report = mf.analyze(recording, mvc=MVC)
    assert len(report.reps) == CFG.n_reps and report.metrics.context.unit == "% MVC"
    fat = report.fatigue
    assert fat is not None and fat.limit is None
    sets = {s.muscle: s for s in fat.sets}
    tired = sets["glute_max_r"]
    assert tired.fatigue and tired.quadrant == "fatigue"
    assert tired.mdf_slope_hz_per_rep < -2.0 and tired.rms_slope_pct_per_rep > 1.0
    assert not any(sets[m].fatigue for m in PLACES[1:])
    sym = report.symmetry
    assert sym is not None and [p[0] for p in sym.pairs] == ["glute_max", "biceps_femoris"]
    by = {s.muscle: s for s in sym.sets}
    assert by["glute_max"].si_peak_pct < -20.0 and abs(by["biceps_femoris"].si_peak_pct) < 15.0
    ens = report.ensembles
    assert set(ens) == {"concentric", "eccentric"}
    assert ens["concentric"].n_reps == CFG.n_reps and ens["concentric"].mean.shape == (101, 4)
    assert ens["concentric"].unit == report.metrics.context.unit

    doc = json.loads(report.to_json())
    assert doc["session"]["fatigue"]["band_hz"] == [20.0, 450.0]
    assert doc["session"]["fatigue"]["summary"]["glute_max_r.fatigue"] == 1.0
    assert doc["sets"][0]["fatigue"]["glute_max_r"]["fatigue"] is True
    assert set(doc["reps"][0]["fatigue"]) == set(PLACES)
    assert doc["reps"][0]["symmetry"]["glute_max"]["si_peak_pct"] < 0
    set_sym = doc["sets"][0]["symmetry"]
    assert set(set_sym) == {"glute_max", "biceps_femoris"} and "muscle" not in set_sym["glute_max"]
    assert set_sym["glute_max"]["si_peak_pct"] == pytest.approx(by["glute_max"].si_peak_pct)
    assert doc["session"]["symmetry"]["pairs"]["glute_max"] == {"left": "glute_max_l", "right": "glute_max_r"}
    assert len(doc["ensembles"]["eccentric"]["muscles"]["glute_max_l"]["sd"]) == 101
    header = report.to_csv().splitlines()[0].split(",")
    assert "glute_max_r.mdf_hz" in header and "glute_max.si_peak_pct" in header
    rows = report.rep_rows()
    first, last = rows[0]["glute_max_r.mdf_hz"], rows[-1]["glute_max_r.mdf_hz"]
    assert last < first - 10.0


def test_analyze_text_lists_fatigue_and_symmetry(recording: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mvc = ",".join(f"{m}={v:g}" for m, v in MVC.items())
    assert cli.main(["analyze", str(recording), "--mvc", mvc]) == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if ln.startswith("  set 0 ")]
    glute = next(ln for ln in lines if "glute_max_r" in ln and "MDF" in ln)
    assert glute.endswith("FATIGUE")
    assert any(ln.startswith("  set 0 glute_max ") and "SI peak -" in ln for ln in lines)
    assert "ensemble curves" in out
    # without MVC references each side is scaled to its own peak: the report says what that means
    session_peak = mf.analyze(recording)
    assert session_peak.symmetry is not None and "own maximum" in session_peak.symmetry.note
    assert any("own maximum" in n for n in session_peak.notes)


def test_grid_rows_reads_windows_as_the_whole_grid() -> None:
    """The window reader fatigue uses gives the same samples (NaN where lost) as reading the
    whole stream onto its grid, on the example recording with gaps."""
    from myoflow.reports._extras import GridRows
    from myoflow.reports._inputs import _grid

    path = Path(__file__).resolve().parents[2] / "recordings" / "glute_bridge_virtual_retest.h5"
    with mf.open_recording(path) as rec:
        view = next(v for v in rec.streams.values() if v.info.kind == "emg")
        assert view.gaps, "the retest recording has gaps"
        whole = _grid(view)[0]
        rows = GridRows(view)
        assert rows.shape == whole.shape
        lost = np.flatnonzero(np.isnan(whole[:, 0]))
        starts = [0, int(lost[0]) - 50, int(lost[-1]) - 3, whole.shape[0] - 100, 12345]
        for a in starts:
            np.testing.assert_allclose(rows[a : a + 200], whole[a : a + 200], rtol=1e-6, atol=1e-4)
        assert np.isnan(rows[int(lost[0]) - 50 : int(lost[0]) + 5]).any()
