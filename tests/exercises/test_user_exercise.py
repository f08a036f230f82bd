"""A user's own exercise file, end to end: the command line and the offline analysis read it,
the live analysis cues with its words and rules, and the dashboard model draws its target band
on its prime movers - without touching the package."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from myoflow import cli
from myoflow.analysis.live_types import LiveSnapshot
from myoflow.dashboard.model import DashboardModel
from myoflow.exercises import exercise_names, get_exercise, shipped_names
from myoflow.reports import analyze
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import generate_session

DATA = Path(__file__).resolve().parents[2] / "src" / "myoflow" / "exercises" / "data"


@pytest.fixture(scope="module")
def user_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    text = (DATA / "glute_bridge.toml").read_text()
    swaps = {
        'name = "glute_bridge"': 'name = "user_hip_lift"',
        'title = "Glute bridge"': 'title = "Hip lift (my clinic)"',
        'aliases = ["bridge", "supine bridge", "hip bridge"]': 'aliases = ["my hip lift"]',
        'prime_movers = ["glute_max"]': 'prime_movers = ["glute_max", "biceps_femoris"]',
        'synergists = ["biceps_femoris", "semitendinosus", "erector_spinae"]': (
            'synergists = ["semitendinosus"]'
        ),
        'relax_targets = ["glute_max"]\n': "",
        "mvc_pct = [40.0, 80.0]": "mvc_pct = [20.0, 50.0]",
        "[cues]\n": '[cues]\nrelax = "soften the seat at the bottom"\n',
        "eccentric_hold = true": "eccentric_hold = false",
    }
    for old, new in swaps.items():
        assert old in text or not new, old
        text = text.replace(old, new)
    path = tmp_path_factory.mktemp("user") / "user_hip_lift.toml"
    path.write_text(text)
    return path


def test_user_exercise_end_to_end(
    user_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], record_session, replay_live
) -> None:
    session = generate_session(SessionConfig(n_reps=5, seed=2, emg_rate=1000.0, tense_reps=(1,)))
    rec = tmp_path / "s.h5"
    mvc = record_session(rec, session, "user_hip_lift")  # the file names an exercise not shipped

    # command line: --exercise takes the file; the report names the user's exercise
    assert cli.main(["analyze", str(rec), "--exercise", str(user_file), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["source"]["exercise"] == "user_hip_lift" and doc["session"]["n_reps"] == 5
    ex = get_exercise("my hip lift")
    assert ex.source == str(user_file) and "user_hip_lift" in exercise_names()
    assert "user_hip_lift" not in shipped_names()

    # offline, now by name (registered), and live with the same file
    offline = analyze(rec, exercise="user_hip_lift", mains_hz=50.0).metrics.results
    live = replay_live(rec, "user_hip_lift", mvc)
    assert [r.relaxation["glute_max_r"].relaxed for r in live.results] == [
        r.relaxation["glute_max_r"].relaxed for r in offline
    ]
    assert not offline[1].relaxation["glute_max_r"].relaxed
    relax = [c for c in live.cues if c.kind == "relax"]
    assert relax and all(c.text == "soften the seat at the bottom" for c in relax)
    assert 2 in {c.rep_index for c in relax}
    assert not [c for c in live.cues if c.kind == "squeeze"]  # eccentric_hold = false in the file

    # dashboard model: the user's band on the user's prime movers only
    model = DashboardModel("user_hip_lift")
    assert model.target_band == (20.0, 50.0)
    snap: LiveSnapshot = live.snapshot()
    frame = model.frame(snap, polled=live.results)
    bands = {lane.muscle: lane.band for lane in frame.lanes}
    assert bands["glute_max_r"] == (20.0, 50.0) and bands["biceps_femoris_r"] == (20.0, 50.0)
    assert bands["semitendinosus_r"] is None
    assert np.isfinite([lane.latest for lane in frame.lanes]).all()


def test_a_broken_user_file_is_one_line_from_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad_ex.toml"
    bad.write_text(
        (DATA / "clamshell.toml")
        .read_text()
        .replace('name = "clamshell"', 'name = "bad_ex"')
        .replace('family = "axial_rotation"', 'family = "twist"')
    )
    with pytest.raises(SystemExit) as info:
        cli.main(["analyze", str(tmp_path / "x.h5"), "--exercise", str(bad)])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.endswith(
        f"{bad}: movement.family must be one of sagittal_hinge, frontal_abduction, axial_rotation, "
        "pelvic_hike, stepping, isometric_hold; got 'twist'"
    )


def _bottom_snapshot(muscles: tuple[str, ...], tense: str, seconds: float = 3.0) -> LiveSnapshot:
    """A snapshot 2 s into a bottom phase with ``tense`` held at 30 % (threshold 5 %), the rest at 1 %."""
    grid = 100.0
    times = np.arange(int(seconds * grid)) / grid
    env = np.full((times.size, len(muscles)), 1.0, dtype=np.float32)
    env[:, muscles.index(tense)] = 30.0
    return LiveSnapshot(
        times=times,
        envelope_pct=env,
        muscles=muscles,
        unit="% MVC",
        angle_deg=np.zeros(times.size),
        angle_label="femur rotation",
        angle_mode="segment",
        phase="bottom",
        rep_count=1,
        rest_threshold_pct=dict.fromkeys(muscles, 5.0),
        delay_ms=50.0,
        last_results=(),
    )


@pytest.mark.parametrize(
    ("exercise", "tense", "banner"),
    [
        ("glute_bridge", "glute_max_r", "relax fully at the bottom"),
        ("clamshell", "glute_med_r", "let the top knee rest and the hip go soft"),
        ("clamshell", "glute_max_r", ""),  # not a relax target of the clamshell
        ("lateral_band_walk", "glute_med_r", ""),  # relaxation is judged after the set
    ],
)
def test_the_live_relax_banner_watches_the_exercise_relax_targets(
    exercise: str, tense: str, banner: str
) -> None:
    muscles = ("glute_max_r", "glute_med_r")
    model = DashboardModel(exercise)
    frames = [model.frame(_bottom_snapshot(muscles, tense, s)) for s in (1.0, 2.0, 3.0)]
    assert frames[-1].cue_text == banner
