"""Every named onset method, classic detectors included, through the analysis a user runs.

The classic detectors (Hodges & Bui, TKEO, double threshold) were reachable only as
:func:`myoflow.dsp.onset_methods.detect`; ``myoflow analyze/report/batch --onset-method`` and
``ActivationParams(onset_method=...)`` offered changepoint, refined and threshold. Here each
method gives onsets on a real UCI gait recording (imported as docs/import-export.md says) and on
a synthetic session whose true onsets the generator kept; the report says which method ran.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from myoflow.analysis.activation import ActivationParams, analysis_envelope, normalise, rest_levels
from myoflow.analysis.onset_emg import RawEmg
from myoflow.analysis.onset_names import CLASSIC_ONSET_METHODS, ONSET_METHODS, check_onset_method
from myoflow.cli import main
from myoflow.dsp.onset_methods import METHODS
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.reports._analyze import analyze
from myoflow.storage.import_text import import_uci
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import generate_session

from .conftest import run_synthetic

BF, RF = "biceps_femoris_r", "rectus_femoris_r"


@pytest.fixture(scope="module")
def gait(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = (
        Path(__file__).resolve().parents[3]
        / "shared"
        / "data"
        / "uci_lower_limb_semg"
        / "N_TXT"
        / "1Nmar.txt"
    )
    if not src.is_file():
        pytest.skip(f"UCI gait recording not found at {src}")
    out = tmp_path_factory.mktemp("gait") / "1Nmar.h5"
    import_uci(src, out, side="r")
    return out


def test_the_registry_holds_every_detector_of_the_signal_core() -> None:
    assert set(CLASSIC_ONSET_METHODS) == set(METHODS)
    assert ONSET_METHODS[0] == ActivationParams().onset_method == "changepoint"
    assert set(ONSET_METHODS) == {"changepoint", "refined", "threshold", *METHODS}


@pytest.mark.parametrize("method", ONSET_METHODS)
def test_every_method_finds_gait_onsets_in_a_real_walk(gait: Path, method: str) -> None:
    """1Nmar (walking, 4 cycles): rectus femoris and biceps femoris burst in every cycle
    (docs/img/uci_gait_onsets_1Nmar.png); each method finds their onset in at least 3 of 4."""
    r = analyze(gait, mvc=[100.0] * 4, params=ActivationParams(onset_method=method))
    assert r.metrics is not None and r.metrics.rep_kind == "cycle" and len(r.reps) == 4
    assert r.metrics is not None and r.metrics.context.params.onset_method == method
    for muscle in (BF, RF):
        onsets = [rep.muscles[muscle].onset_ms for rep in r.reps]
        assert sum(o is not None for o in onsets) >= 3, (method, muscle, onsets)
        # every onset lies inside the cycle's search (0.5 s before its start to its end)
        assert all(-500.0 <= o <= 1500.0 for o in onsets if o is not None)
    if method in CLASSIC_ONSET_METHODS:
        assert all(rep.muscles[m].onset_uncertainty_ms is None for rep in r.reps for m in rep.muscles)


def test_the_json_and_the_batch_table_say_which_classic_method_ran(
    gait: Path, tmp_path: Path, capsys
) -> None:
    assert main(["analyze", str(gait), "--json", "--onset-method", "hodges_bui"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert json.dumps(doc).count('"onset_method": "hodges_bui"') >= 1
    table = tmp_path / "table.csv"
    assert main(["batch", str(gait), "--out", str(table), "--onset-method", "tkeo"]) == 0
    rows = table.read_text().splitlines()
    assert "onset_method" in rows[0].split(",") and ",tkeo," in rows[1]


def test_an_unknown_method_is_one_line_naming_the_choices(gait: Path, capsys) -> None:
    with pytest.raises(ValueError) as err:
        ActivationParams(onset_method="hodges")
    text = str(err.value)
    assert "\n" not in text and all(m in text for m in ONSET_METHODS)
    with pytest.raises(ValueError, match="choose one of changepoint, refined"):
        check_onset_method("bonato")
    for command in ("analyze", "report", "batch"):
        with pytest.raises(SystemExit) as stop:
            main(
                [
                    command,
                    str(gait),
                    "--onset-method",
                    "hodges",
                    *(["--out", "x.csv"] if command == "batch" else []),
                ]
            )
        assert stop.value.code == 2
        err_lines = [line for line in capsys.readouterr().err.splitlines() if "--onset-method" in line]
        assert any("invalid choice: 'hodges'" in line and "double_threshold" in line for line in err_lines)


def test_classic_onsets_on_a_synthetic_session_lie_near_the_truth() -> None:
    """Sessions with a rest at the start: each classic method's onset of each muscle in each rep
    is found, within 150 ms of where the generator's activation left rest (the classic detectors
    are 10-150 ms from the truth on the benchmark's signals: docs/metrics.md)."""
    cfg = SessionConfig(n_reps=5, emg_rate=1000.0, seed=11, noise_preset="clean")
    session = generate_session(cfg)
    raw = RawEmg(session.emg, cfg.emg_rate, 0.0, cfg.hum_hz)
    for method in CLASSIC_ONSET_METHODS:
        _, m = run_synthetic(cfg, raw=raw, params=ActivationParams(onset_method=method))
        assert len(m.results) == len(session.truth) == 5
        errors = []
        for res, truth in zip(m.results, session.truth, strict=True):
            for name in session.placements:
                true_onset, onset = truth.muscles[name].onset_s, res.muscles[name].onset_ms
                if true_onset is not None and onset is not None:
                    errors.append(res.start_s + onset / 1000.0 - true_onset)
        assert len(errors) >= 0.8 * 5 * len(session.placements), (method, len(errors))
        assert float(np.median(np.abs(errors))) < 0.15, (method, np.median(np.abs(errors)))


def test_the_rest_window_is_where_the_rest_levels_came_from() -> None:
    """The classic methods' rest period is the analysis' own rest window (``RestLevels.rest_s``)."""
    cfg = SessionConfig(n_reps=3, emg_rate=1000.0, seed=3)
    session = generate_session(cfg)
    fs = cfg.emg_rate
    env = envelope_offline(session.emg, fs, profile_for_rate(fs, cfg.hum_hz))
    ae = analysis_envelope(normalise(env, fs).envelope, fs)
    lv = rest_levels(ae, fs)
    assert lv.rest_s is not None and lv.rest_s.shape == (len(session.placements), 2)
    for c, (a, b) in enumerate(np.rint(lv.rest_s * fs).astype(int)):
        assert 0 <= a < b <= ae.shape[0]
        seg = ae[a:b, c].astype(np.float64)
        assert float(seg.mean()) == pytest.approx(lv.mean[c], rel=1e-6)


def test_a_classic_method_without_raw_emg_says_what_it_needs() -> None:
    cfg = SessionConfig(n_reps=2, emg_rate=1000.0, seed=1)
    with pytest.raises(ValueError, match="'tkeo' needs the raw EMG"):
        run_synthetic(cfg, params=ActivationParams(onset_method="tkeo"))


def test_session_onsets_take_every_method() -> None:
    """:func:`~myoflow.analysis.activity.session_onsets` (the accuracy benchmark's and the docs'
    whole-recording bursts) takes the same names; a classic burst lies near a threshold one."""
    from myoflow.analysis.activity import session_onsets

    cfg = SessionConfig(n_reps=4, emg_rate=1000.0, seed=5, noise_preset="clean")
    session = generate_session(cfg)
    fs = cfg.emg_rate
    env = envelope_offline(session.emg, fs, profile_for_rate(fs, cfg.hum_hz))
    raw = RawEmg(session.emg, fs, 0.0, cfg.hum_hz)
    ref = session_onsets(env, fs, method="threshold", raw=raw)
    for method in ONSET_METHODS:
        got = session_onsets(env, fs, method=method, raw=raw)
        for c, on in enumerate(got.onsets_s):
            assert on.size >= 4, (method, c)
            near = [np.min(np.abs(ref.onsets_s[c] - t)) for t in on]
            assert float(np.median(near)) < 0.2, (method, c)
