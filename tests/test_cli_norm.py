"""The command line side of issue 12's normalisation work: `import --map` with placement
synonyms and unknown names, `analyze --mvc/--mvc-from/--normalise`, the mains frequency kept
with an import, and batch tables that never mix `% MVC` and `% session peak` in one column."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from myoflow import cli
from myoflow.commands import analyze as analyze_cmd
from myoflow.commands import batch as batch_cmd
from myoflow.commands import import_ as import_cmd
from myoflow.storage.reader import open_recording
from myoflow.storage.schema import ClockAnchor, SessionMetadata
from myoflow.storage.writer import Recorder
from myoflow.stream import StreamInfo
from myoflow.synth.calibration import mvc_trial
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import SyntheticSession, generate_session

CFG = SessionConfig(n_reps=3, emg_rate=1000.0, imu_rate=1000.0, seed=31, hum_hz=60.0, noise_preset="typical")
COLS = ("GM", "BF", "ST", "GMED")


def _main(argv: list[str]) -> int:
    if argv[0] in cli.COMMANDS:
        return cli.main(argv)
    module = {"import": import_cmd, "analyze": analyze_cmd, "batch": batch_cmd}[argv[0]]
    parser = argparse.ArgumentParser(prog=f"myoflow {argv[0]}", description=module.__doc__)
    module.add_arguments(parser)
    return module.run(parser.parse_args(argv[1:]))


@pytest.fixture(scope="module")
def session() -> SyntheticSession:
    return generate_session(CFG)


@pytest.fixture(scope="module")
def table(session: SyntheticSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cols = {name: session.emg[:, i] / 1000.0 for i, name in enumerate(COLS)}
    for seg, (acc, gyro) in session.imu.items():
        for k, axis in enumerate("xyz"):
            cols[f"{seg}_a{axis}"], cols[f"{seg}_g{axis}"] = acc[:, k], gyro[:, k]
    n = min(len(v) for v in cols.values())
    path = tmp_path_factory.mktemp("csv") / "session.csv"
    np.savetxt(
        path,
        np.column_stack([v[:n] for v in cols.values()]),
        fmt="%.6g",
        delimiter=",",
        header=",".join(cols),
        comments="",
    )
    return path


def _import(table: Path, out: Path, emg: dict[str, str], *extra: str) -> list[str]:
    args = ["import", "csv", str(table), "--rate", "1000", "--out", str(out), *extra]
    for col, place in emg.items():
        args += ["--map", f"{col}=emg:{place}", "--unit", f"{col}=mV"]
    for seg, place in (("pelvis", "sacrum"), ("thigh", "Thigh-R")):
        for axis in "xyz":
            args += ["--map", f"{seg}_a{axis}=acc:{place}", "--map", f"{seg}_g{axis}=gyro:{place}"]
    return args


def _trial(path: Path, placements: tuple[str, ...], rate: float = CFG.emg_rate) -> Path:
    trial = mvc_trial(dataclasses.replace(CFG, emg_rate=rate))
    info = StreamInfo("trial/emg", "emg", trial.fs, trial.placements, placements)
    with Recorder(path, SessionMetadata(), clock=ClockAnchor(0.0, 1.7e9), on_full="wait") as rec:
        rec.add_stream(info, np.float32)
        rec.start()
        rec.write_block(info.name, trial.emg, trial.times)
    return path


def test_import_synonyms_store_mains_and_analyze_reads_them(table: Path, tmp_path: Path, capsys) -> None:
    places = {"GM": "gluteus_maximus_right", "BF": "BF_R", "ST": "Semitendinosus-Right", "GMED": "GMed_R"}
    out = tmp_path / "s.h5"
    assert _main(_import(table, out, places)) == 0
    captured = capsys.readouterr()
    assert "warning" not in captured.err
    assert "mains frequency 60 Hz detected from the EMG spectrum" in captured.out
    with open_recording(out) as rec:
        assert rec.metadata.filter_settings == {
            "mains_hz": 60.0,
            "mains_source": "detected from the spectrum at import",
        }
    assert _main(["analyze", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    s = doc["session"]
    assert set(s["muscles"]) == {"glute_max_r", "biceps_femoris_r", "semitendinosus_r", "glute_med_r"}
    assert s["mains_hz"] == 60.0 and s["mains_source"].startswith("stored in the recording")
    assert "handover" not in s["unavailable"] and doc["reps"][0]["handover"] is not None
    assert doc["movement"]["source"] == "hip"  # a sacrum IMU is the pelvis
    assert doc["session"]["n_reps"] == 3


def test_unknown_placement_is_warned_about_at_import_and_analyze(table: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "gm.h5"
    places = {"GM": "GM", "BF": "biceps_femoris_r", "ST": "semitendinosus_r", "GMED": "glute_med_r"}
    assert _main(_import(table, out, places, "--mains", "50")) == 0
    err = capsys.readouterr().err
    assert "channel 'GM': placement 'GM' is not a known muscle" in err and "glute_max" in err
    with open_recording(out) as rec:
        assert rec.metadata.filter_settings["mains_hz"] == 50.0  # as given, even if wrong
    assert _main(["analyze", str(out)]) == 0
    captured = capsys.readouterr()
    assert "warning: synth" not in captured.err and "placement 'GM' is not a known muscle" in captured.err
    assert "not available: handover" in captured.out and "WARNING: " in captured.out


def test_mvc_values_and_trial_files_on_the_command_line(table: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "s.h5"
    canon = ("glute_max_r", "biceps_femoris_r", "semitendinosus_r", "glute_med_r")
    assert _main(_import(table, out, dict(zip(COLS, canon, strict=True)))) == 0
    trial = _trial(tmp_path / "mvc.h5", ("GMax_R", "BF_R", "ST_R", "GMed_R"))
    capsys.readouterr()
    argv = ["analyze", str(out), "--json", "--mvc", "glute_max_r=263", "--mvc-from", str(trial)]
    assert _main(argv) == 0
    s = json.loads(capsys.readouterr().out)["session"]
    assert s["level_unit"] == "% MVC"
    refs = s["normalisation"]["references"]
    assert refs["glute_max_r"] == {"value_uv": 263.0, "source": "mvc argument"}
    assert refs["semitendinosus_r"]["source"] == "trial file mvc.h5"
    # a misspelt muscle is not silently dropped: the report says it matched no channel
    assert _main(["analyze", str(out), "--json", "--mvc", "glute_maks_r=263"]) == 0
    s = json.loads(capsys.readouterr().out)["session"]
    assert any("'glute_maks_r' (mvc/--mvc) names no EMG channel" in n for n in s["notes"]), s["notes"]
    assert s["level_unit"] == "% session peak"
    assert (
        _main(["analyze", str(out), "--json", "--mvc", "glute_max_r=263", "--normalise", "submaximal"]) == 2
    )
    assert "needs a reference for every EMG channel; none for biceps_femoris_r" in capsys.readouterr().err
    assert _main(["analyze", str(out), "--mvc", "glute_max_r=lots"]) == 2
    assert "--mvc 'glute_max_r=lots': expected MUSCLE=UV" in capsys.readouterr().err
    # one muscle twice, in one spelling or two: refused (was: the last, or the exact spelling, won)
    for twice in (["glute_max_r=260", "GMax_R=200"], ["glute_max_r=200,glute_max_r=260"]):
        assert _main(["analyze", str(out), *(a for v in twice for a in ("--mvc", v))]) == 2
        assert "glute_max_r was already given (glute_max_r=" in capsys.readouterr().err
    assert _main(["analyze", str(out), "--mvc-from", str(tmp_path / "none.h5")]) == 1


def _write(path: Path, s: SyntheticSession, mvc: dict[str, float]) -> Path:
    meta = SessionMetadata(subject_id=path.stem, exercise="glute_bridge", mvc_references=mvc)
    blocks = (s.emg_block(), *s.imu_blocks())
    with Recorder(path, meta, clock=ClockAnchor(0.0, 1.7e9), on_full="wait") as rec:
        for b in blocks:
            rec.add_stream(b.stream, np.float32)
        rec.start()
        for b in blocks:
            rec.write_block(b.stream.name, b.data, b.times)
    return path


def test_batch_keeps_mvc_and_session_peak_levels_in_separate_columns(session, tmp_path: Path, capsys) -> None:
    refs = dict(zip(session.placements, session.config.mvc_values().tolist(), strict=True))
    a = _write(tmp_path / "a.h5", session, refs)  # % MVC
    b = _write(tmp_path / "b.h5", session, {})  # % session peak
    out = tmp_path / "t.csv"
    assert _main(["batch", str(a), str(b), "--out", str(out), "--workers", "0"]) == 0
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    by = {k: [r for r in rows if r["subject"] == k] for k in ("a", "b")}
    assert {r["level_unit"] for r in by["a"]} == {"% MVC"}
    assert {r["level_unit"] for r in by["b"]} == {"% session peak"}
    for r in by["a"]:
        assert float(r["glute_max_r.peak_pct"]) > 10 and r["glute_max_r.peak_pct_session_peak"] == ""
    for r in by["b"]:
        assert r["glute_max_r.peak_pct"] == "" and float(r["glute_max_r.peak_pct_session_peak"]) > 10
    capsys.readouterr()


def test_dashboard_and_replay_use_a_stored_mains_unless_given(session, tmp_path: Path) -> None:
    from myoflow.commands import dashboard as dashboard_cmd

    path = tmp_path / "m.h5"
    meta = SessionMetadata(filter_settings={"mains_hz": 60.0, "mains_source": "given at record"})
    emg = session.emg_block()
    with Recorder(path, meta, clock=ClockAnchor(0.0, 1.7e9), on_full="wait") as rec:
        rec.add_stream(emg.stream, np.float32)
        rec.start()
        rec.write_block(emg.stream.name, emg.data[:2000], emg.times[:2000])
    parser = argparse.ArgumentParser()
    dashboard_cmd.add_arguments(parser)
    assert dashboard_cmd._replay_mains(parser.parse_args(["--replay", str(path)])) == 60.0
    assert dashboard_cmd._replay_mains(parser.parse_args(["--replay", str(path), "--mains", "50"])) == 50.0


@pytest.mark.realdata
def test_import_uci_keeps_the_placements_given_and_warns_about_unknown_ones(
    shared_data: Path, tmp_path: Path, capsys
) -> None:
    """`import uci --placements` was accepted and silently dropped (the dataset's own names were
    stored, with the note that they carry no side)."""
    src = shared_data / "uci_lower_limb_semg" / "N_TXT" / "1Nsen.txt"
    out = tmp_path / "u.h5"
    places = "Rectus.Femoris.L,BF_L,vastus-medialis-L,GM"
    assert _main(["import", "uci", str(src), "--placements", places, "--mains", "60", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "placements carry no side" not in captured.out
    assert "channel 'ST': placement 'GM' is not a known muscle" in captured.err
    with open_recording(out) as rec:
        assert rec.streams["uci/emg"].info.placements == tuple(places.split(","))
    # the side in any of the vocabulary's forms (was: only r or l)
    for side, suffix in (("R", "_r"), ("left", "_l")):
        sided = tmp_path / f"{side}.h5"
        assert _main(["import", "uci", str(src), "--side", side, "--mains", "60", "--out", str(sided)]) == 0
        with open_recording(sided) as rec:
            assert rec.streams["uci/knee_angle"].info.placements == (f"knee{suffix}",)
    bad = ["import", "uci", str(src), "--placements", "RF_L,BF_L", "--out", str(tmp_path / "b.h5")]
    assert _main(bad) == 2
    assert "give 4 non-empty names (RF, BF, VM, ST" in capsys.readouterr().err


def test_onset_method_is_chosen_on_the_command_line_and_stored(table: Path, tmp_path: Path, capsys) -> None:
    """The onset methods were reachable only through the Python API (`ActivationParams`)."""
    from myoflow.analysis.activation import ONSET_METHODS
    from myoflow.commands._shared import add_analysis_options

    parser = argparse.ArgumentParser()
    add_analysis_options(parser, "exercise")
    (action,) = [a for a in parser._actions if a.dest == "onset_method"]
    assert set(action.choices or ()) == set(ONSET_METHODS)
    out = tmp_path / "s.h5"
    canon = ("glute_max_r", "biceps_femoris_r", "semitendinosus_r", "glute_med_r")
    assert _main(_import(table, out, dict(zip(COLS, canon, strict=True)))) == 0
    capsys.readouterr()
    found = {}
    for method in (None, "threshold"):
        argv = ["analyze", str(out), "--json"] + ([] if method is None else ["--onset-method", method])
        assert _main(argv) == 0
        doc = json.loads(capsys.readouterr().out)
        found[method] = doc["session"]["onset_method"]
        muscles = [m for rep in doc["reps"] for m in rep["muscles"].values() if m["onset_ms"] is not None]
        threshold = method == "threshold"
        assert muscles and all((m["onset_uncertainty_ms"] is None) == threshold for m in muscles)
    assert found == {None: "changepoint", "threshold": "threshold"}


def test_two_channels_with_one_muscle_are_warned_about(table: Path, tmp_path: Path, capsys) -> None:
    """Two spellings of one muscle: the second channel silently became 'glute_max_r@emg' with role
    'other' (left out of handover and eccentric hold)."""
    out = tmp_path / "dup.h5"
    places = {"GM": "gluteus_maximus_right", "BF": "GMax_R", "ST": "semitendinosus_r", "GMED": "glute_med_r"}
    assert _main(_import(table, out, places, "--mains", "60")) == 0
    capsys.readouterr()
    assert _main(["analyze", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    s = json.loads(captured.out)["session"]
    assert set(s["muscles"]) == {"glute_max_r", "glute_max_r@emg", "semitendinosus_r", "glute_med_r"}
    text = "emg channel 'BF': placement 'GMax_R' is the muscle of channel 'GM' too: named 'glute_max_r@emg'"
    assert text in captured.err and any(w.startswith(text) for w in s["warnings"])


@pytest.mark.realdata
def test_real_file_with_synonyms_and_an_unknown_angle_placement(
    shared_data: Path, tmp_path: Path, capsys
) -> None:
    """A UCI file as a plain table (header line added in a temporary copy), imported with placement
    synonyms; the knee angle's placement is misspelt ('kne_l'): the note said 'movement angle
    is a other angle ... are other degrees'."""
    src = shared_data / "uci_lower_limb_semg" / "N_TXT" / "1Nsen.txt"
    lines = src.read_bytes().decode("latin-1").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start = next(i for i, ln in enumerate(lines) if not ln.strip()) + 1
    table = tmp_path / "1Nsen.tsv"
    table.write_text("\n".join(["RF\tBF\tVM\tST\tFX", *(ln for ln in lines[start:] if ln.strip())]) + "\n")
    out = tmp_path / "s.h5"
    maps = {"RF": "emg:rectus-femoris-L", "BF": "emg:L_BF", "VM": "emg:VM_L", "ST": "emg:ST_L"}
    maps["FX"] = "angle:kne_l"
    argv = ["import", "csv", str(table), "--rate", "1000", "--out", str(out)]
    for col, m in maps.items():
        argv += ["--map", f"{col}={m}"] + (["--unit", f"{col}=mV"] if m.startswith("emg") else [])
    assert _main(argv) == 0
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and "placement 'kne_l' is not a known body segment or joint" in err
    assert _main(["analyze", str(out), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)["session"]
    muscles = ("rectus_femoris_l", "biceps_femoris_l", "vastus_medialis_l", "semitendinosus_l")
    assert set(s["muscles"]) == set(muscles)
    assert s["mains_hz"] == 60.0 and s["n_reps"] >= 1
    angle_note = [n for n in s["notes"] if n.startswith("movement angle is")]
    assert angle_note == [
        "movement angle is from a joint not named by its placement: rom_deg and the crossover/stall "
        "angles are in its degrees"
    ]


def test_an_mvc_trial_at_another_filter_profile_is_warned_about(table: Path, tmp_path: Path, capsys) -> None:
    """A 200 Hz trial (low-rate profile) for a 1 kHz session: its references are on another scale
    (docs/metrics.md, Normalisation), which nothing said."""
    out = tmp_path / "s.h5"
    canon = ("glute_max_r", "biceps_femoris_r", "semitendinosus_r", "glute_med_r")
    assert _main(_import(table, out, dict(zip(COLS, canon, strict=True)))) == 0
    slow = _trial(tmp_path / "mvc200.h5", canon, rate=200.0)
    same = _trial(tmp_path / "mvc2000.h5", canon, rate=2000.0)  # the 1 kHz profile: no warning
    capsys.readouterr()
    assert _main(["analyze", str(out), "--json", "--mvc-from", str(slow), str(same)]) == 0
    captured = capsys.readouterr()
    warning = "MVC trial mvc200.h5 is at 200 Hz (low_rate filter profile), this recording at 1000 Hz"
    assert captured.err.count("warning: MVC trial ") == 1 and warning in captured.err
    assert any(w.startswith(warning) for w in json.loads(captured.out)["session"]["warnings"])


def test_trial_muscles_that_match_no_channel_are_named(table: Path, tmp_path: Path, capsys) -> None:
    """A trial recorded on the other side matched nothing, and the report only said 'no MVC
    references' without why."""
    out = tmp_path / "s.h5"
    canon = ("glute_max_r", "biceps_femoris_r", "semitendinosus_r", "glute_med_r")
    assert _main(_import(table, out, dict(zip(COLS, canon, strict=True)))) == 0
    left = _trial(tmp_path / "left.h5", ("GMax_L", "BF_L", "ST_L", "glute_med_r"))
    capsys.readouterr()
    assert _main(["analyze", str(out), "--json", "--mvc-from", str(left)]) == 0
    s = json.loads(capsys.readouterr().out)["session"]
    assert s["level_unit"] == "% session peak"  # three muscles lack a reference
    named = [n for n in s["notes"] if n.startswith("MVC trial file left.h5: ")]
    assert named and "glute_max_l, biceps_femoris_l, semitendinosus_l name(s) no EMG channel" in named[0]


@pytest.mark.realdata
def test_gait_text_report_and_plot_title_count_cycles(shared_data: Path, tmp_path: Path, capsys) -> None:
    """UCI walking is analysed as cycles, but the text report and the plot title said 'reps'."""
    from myoflow.reports import analyze
    from myoflow.reports.plot import _title

    out = tmp_path / "1Nmar.h5"
    src = shared_data / "uci_lower_limb_semg" / "N_TXT" / "1Nmar.txt"
    assert _main(["import", "uci", str(src), "--side", "r", "--out", str(out)]) == 0
    capsys.readouterr()
    assert _main(["analyze", str(out)]) == 0
    assert "4 cycle(s) in 1 set(s)" in capsys.readouterr().out
    assert _title(analyze(out)).endswith("(4 cycles in 1 set(s))")


@pytest.mark.realdata
def test_no_rep_on_a_drifting_rest_position_says_what_to_change(shared_data: Path, tmp_path: Path) -> None:
    """UCI 1Npie (standing knee flexion): the knee rests at 3 deg first, 15-20 deg later; the
    default min_rep_frac finds no rep and the report said only 'no complete rep was found'."""
    from myoflow.reports import analyze
    from myoflow.storage.import_text import import_uci

    out = tmp_path / "1Npie.h5"
    import_uci(shared_data / "uci_lower_limb_semg" / "N_TXT" / "1Npie.txt", out, side="r")
    report = analyze(out)
    assert not report.reps
    assert any(n.startswith("no complete rep was found: if the rest position drifts") for n in report.notes)
    assert len(analyze(out, rep_options={"min_rep_frac": 0.35}).reps) == 4  # what the note suggests
