"""NWB export with the analysis: reps as trials, sets as epochs, envelopes as processed data,
read back with pynwb (and checked by its validator)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pynwb = pytest.importorskip("pynwb")
REPO = Path(__file__).resolve().parents[2]
RECORDING = REPO / "recordings" / "glute_bridge_virtual.h5"


def test_reps_sets_and_envelopes_round_trip_through_pynwb(tmp_path: Path, capsys) -> None:
    from myoflow.cli import main
    from myoflow.reports import analyze
    from myoflow.storage.reader import open_recording

    out = tmp_path / "s.nwb"
    assert main(["export", "nwb", str(RECORDING), "--out", str(out), "--validate"]) == 0
    assert "pynwb validation: 0 error(s)" in capsys.readouterr().out
    report = analyze(RECORDING)
    with open_recording(RECORDING) as rec:
        t_ref = min(v.times(0, 1)[0] for v in rec.streams.values() if v.n_samples)
    shift = report.source["t0_host_s"] - t_ref
    with pynwb.NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        trials = nwb.trials.to_dataframe()
        assert list(trials["rep"]) == [r.index for r in report.reps]
        assert list(trials["set"]) == [r.set_index + 1 for r in report.reps]
        for (_, row), r in zip(trials.iterrows(), report.reps, strict=True):
            ph = r.phases
            for col, key in (
                ("start_time", "start"),
                ("top_time", "top"),
                ("eccentric_time", "eccentric"),
                ("bottom_time", "bottom"),
                ("stop_time", "end"),
            ):
                assert row[col] == pytest.approx(ph[key] + shift, abs=1e-9)
            tense = [m for m, v in r.relaxation.items() if not v.relaxed]
            assert bool(row["relaxed"]) == (not tense) and row["tense_muscles"] == ",".join(tense)
            cross = r.handover.crossover_s
            assert (
                row["crossover_time"] == pytest.approx(cross + shift)
                if cross is not None
                else np.isnan(row["crossover_time"])
            )
            assert row["glute_max_r_peak_pct"] == pytest.approx(r.muscles["glute_max_r"].peak_pct)
        assert (~trials["relaxed"]).sum() == 1  # rep 3 of the example stays tense
        epochs = nwb.epochs.to_dataframe()
        assert len(epochs) == len(report.metrics.sets) and list(epochs["n_reps"]) == [len(report.reps)]
        module = nwb.processing["myoflow"]
        env = module["envelope"]
        assert env.unit == report.metrics.context.unit == "% MVC" and env.rate == report.signals.emg_fs
        assert env.starting_time == pytest.approx(shift)
        np.testing.assert_array_equal(env.data[:], report.signals.envelope)
        angle = module["movement_angle"]
        assert angle.unit == "deg" and angle.rate == report.signals.angle_fs
        np.testing.assert_allclose(angle.data[:], report.signals.angle)
        assert nwb.acquisition["diy_emg"].data.shape[0] == report.signals.envelope.shape[0]


def test_without_analysis_the_file_has_no_processing_module(tmp_path: Path) -> None:
    from myoflow.cli import main

    out = tmp_path / "plain.nwb"
    assert main(["export", "nwb", str(RECORDING), "--out", str(out), "--no-analysis"]) == 0
    with pynwb.NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        assert "myoflow" not in nwb.processing and nwb.epochs is None
        assert nwb.trials is None or "rep" not in nwb.trials.colnames


def test_channels_without_placements_get_valid_nwb_names(tmp_path: Path) -> None:
    """Unplaced channels are named ``diy/emg/ch1``; NWB forbids '/' and ':' in names, so the
    per-muscle trial columns and processed series are renamed (``diy_emg_ch1_peak_pct``), not a
    failed export (bench_damaged found it on a live file left by a killed recorder)."""
    import importlib.util
    import sys

    from myoflow.cli import main
    from myoflow.storage.nwb_trials import nwb_names

    assert nwb_names(["diy/emg/ch1_peak_pct", "a:b", "a_b", "a/b"]) == [
        "diy_emg_ch1_peak_pct",
        "a_b",
        "a_b_2",
        "a_b_3",
    ]
    script = REPO / "scripts" / "make_damaged_corpus.py"
    spec = importlib.util.spec_from_file_location("make_damaged_corpus", script)
    make = importlib.util.module_from_spec(spec)
    sys.modules["make_damaged_corpus"] = make  # its dataclasses look their module up
    spec.loader.exec_module(make)
    live = make.make_live_base(tmp_path / "live.h5")
    out = tmp_path / "live.nwb"
    assert main(["export", "nwb", str(live), "--out", str(out)]) == 0
    with pynwb.NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        columns = list(nwb.trials.colnames) if nwb.trials is not None else []
        assert all("/" not in c and ":" not in c for c in columns)
        assert nwb.acquisition["diy_emg"].data.shape == (10000, 4)
