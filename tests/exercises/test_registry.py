"""The exercise registry: the shipped files, names and aliases, user files, and the errors a
broken file gives (one line naming the file and the field)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from myoflow.analysis.placement import parse_placement
from myoflow.exercises import (
    MOVEMENT_FAMILIES,
    ExerciseError,
    exercise_names,
    get_exercise,
    load_exercise,
    shipped_names,
)

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "src" / "myoflow" / "exercises" / "data"
#: What issue 16 asks to ship, at least.
REQUIRED = {
    "glute_bridge",
    "single_leg_glute_bridge",
    "hip_thrust",
    "rdl",
    "deadlift",
    "clamshell",
    "reverse_clamshell",
    "side_lying_hip_abduction",
    "hip_hike",
    "lateral_band_walk",
    "copenhagen_plank",
    "single_leg_balance",
}


def test_every_required_exercise_ships_and_every_family_is_used() -> None:
    assert REQUIRED <= set(shipped_names())
    assert {get_exercise(n).family for n in shipped_names()} == set(MOVEMENT_FAMILIES)


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_shipped_file_is_consistent(name: str) -> None:
    ex = get_exercise(name)
    assert ex.name == name and Path(ex.source).name == f"{name}.toml"
    for muscle in (*ex.muscles.prime_movers, *ex.muscles.synergists, *ex.muscles.antagonists):
        p = parse_placement(muscle)
        assert p.kind == "muscle" and p.canonical == muscle
    assert not set(ex.muscles.prime_movers) & set(ex.muscles.antagonists)
    assert set(ex.relax_targets) <= set(ex.muscles.prime_movers)
    emg = {s.placement for s in ex.straps if s.kind == "emg" and s.required}
    assert emg & set(ex.muscles.prime_movers), "a required EMG strap must sit on a prime mover"
    assert any(s.kind == "imu" and s.placement == ex.movement.segment and s.required for s in ex.straps)
    lo, hi = ex.target_band
    assert 0 <= lo < hi
    if ex.isometric:
        assert ex.phases.hold_s is not None and ex.metrics.relaxation == "after_set"
    else:
        assert ex.phases.tempo_s is not None and sum(ex.phases.tempo_s) > 0


def test_the_four_original_exercises_keep_their_bands_and_cue_rules() -> None:
    bands = {
        "glute_bridge": (40.0, 80.0),
        "hip_thrust": (50.0, 90.0),
        "rdl": (30.0, 70.0),
        "deadlift": (40.0, 80.0),
    }
    for name, band in bands.items():
        ex = get_exercise(name)
        assert ex.target_band == band and ex.family == "sagittal_hinge" and ex.metrics.handover
        assert ex.relax_targets == ("glute_max",)
        assert ex.metrics.eccentric_hold == (name in ("glute_bridge", "hip_thrust"))


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("RDL", "rdl"),
        ("Romanian deadlift", "rdl"),
        ("copenhagen-adduction", "copenhagen_plank"),
        ("Clams", "clamshell"),
        ("balance test", "single_leg_balance"),
        ("glute_bridge", "glute_bridge"),
    ],
)
def test_names_and_aliases_ignore_case_spaces_and_hyphens(given: str, name: str) -> None:
    assert get_exercise(given).name == name


def test_aliases_are_unique_across_files() -> None:
    seen: dict[str, str] = {}
    for name in shipped_names():
        for word in (name, *get_exercise(name).aliases):
            key = "_".join(word.lower().replace("-", " ").replace("_", " ").split())
            assert seen.setdefault(key, name) == name, f"{word!r} of {name} also names {seen[key]}"


def test_unknown_name_lists_the_choices_and_suggests() -> None:
    with pytest.raises(
        ExerciseError, match=r"unknown exercise 'clamshel' \(did you mean clamshell\?\); known: "
    ):
        get_exercise("clamshel")


def _user_file(tmp_path: Path, name: str = "cable_kickback", **replace: str) -> Path:
    text = (DATA / "glute_bridge.toml").read_text()
    text = text.replace('name = "glute_bridge"', f'name = "{name}"')
    text = text.replace('aliases = ["bridge", "supine bridge", "hip bridge"]', f'aliases = ["{name} alias"]')
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def test_user_file_by_path_is_registered_by_name(tmp_path: Path) -> None:
    path = _user_file(tmp_path, "user_kickback_a", **{"mvc_pct = [40.0, 80.0]": "mvc_pct = [35.0, 65.0]"})
    ex = get_exercise(str(path))
    assert ex.name == "user_kickback_a" and ex.target_band == (35.0, 65.0) and ex.source == str(path)
    assert get_exercise("user_kickback_a") is ex and get_exercise(path) == ex
    assert "user_kickback_a" in exercise_names() and "user_kickback_a" not in shipped_names()


def test_user_file_may_not_take_a_shipped_name(tmp_path: Path) -> None:
    path = _user_file(tmp_path, "clamshell")
    with pytest.raises(
        ExerciseError, match=r"clamshell\.toml: name 'clamshell' is already a shipped exercise"
    ):
        get_exercise(path)


BROKEN = [
    ('family = "sagittal_hinge"', 'family = "twist"', r"movement\.family must be one of sagittal_hinge, "),
    (
        'segment = "thigh"',
        'segment = "shank"',
        r"movement\.segment must be one of thigh, pelvis; got 'shank'",
    ),
    (
        'prime_movers = ["glute_max"]',
        'prime_movers = ["glute_maxx"]',
        r"muscles\.prime_movers\[0\] is not a known muscle",
    ),
    (
        'prime_movers = ["glute_max"]',
        'prime_movers = ["glute_max_r"]',
        r"prime_movers\[0\] must be the canonical stem",
    ),
    (
        'prime_movers = ["glute_max"]',
        "prime_movers = []",
        r"muscles\.prime_movers must name at least one muscle",
    ),
    ("mvc_pct = [40.0, 80.0]", "mvc_pct = [80.0, 40.0]", r"targets\.mvc_pct must be \[low, high\]"),
    (
        "mvc_pct = [40.0, 80.0]",
        'mvc_pct = "high"',
        r"targets\.mvc_pct must be \[low, high\] % MVC; got 'high'",
    ),
    (
        'relaxation = "per_rep"',
        'relaxation = "sometimes"',
        r"metrics\.relaxation must be one of per_rep, after_set",
    ),
    ("handover = true", 'handover = "yes"', r"metrics\.handover must be true or false; got 'yes'"),
    (
        "concentric_s = 1.5",
        "concentric_s = -1.5",
        r"phases\.concentric_s must be in \[0\.0, 60\.0\] s; got -1\.5",
    ),
    ('kind = "dynamic"', 'kind = "isometric"', r"phases\.bottom_s is not a known field; known here: kind"),
    ("eccentric_hold = true", "eccentric_hold = true\nfancy = 1", r"metrics\.fancy is not a known field"),
    ('title = "Glute bridge"', "", r": title is missing"),
    ('placement = "glute_max"', 'placement = "thigh"', r"straps\[0\]\.placement is not a known muscle"),
    (
        'kind = "imu"\nplacement = "thigh"',
        'kind = "imu"\nplacement = "pelvis"',
        r"straps must include the 'thigh' IMU",
    ),
    ("[movement]", '[movement]\nmin_excursion_deg = "big"', r"movement\.min_excursion_deg must be a number"),
    ('name = "user_broken"', 'name = "User Broken"', r": name must be snake_case"),
]


@pytest.mark.parametrize(("old", "new", "message"), BROKEN, ids=[b[2][:40] for b in BROKEN])
def test_a_broken_field_is_one_line_naming_file_and_field(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = _user_file(tmp_path, "user_broken", **{old: new})
    with pytest.raises(ExerciseError) as info:
        load_exercise(path)
    text = str(info.value)
    assert "\n" not in text and text.startswith(f"{path}: ")
    assert re.search(message, text), text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name = [", r"not valid TOML"),
        (b"\xff\xfe", r"not UTF-8"),
        (b"v = " + b"[" * 5000 + b"]" * 5000, r"TOML"),
    ],
)
def test_unreadable_files_are_one_line_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    with pytest.raises(ExerciseError, match=rf"bad\.toml: .*{message}"):
        load_exercise(path)
    with pytest.raises(ExerciseError, match=r"missing\.toml: cannot read"):
        get_exercise(str(tmp_path / "missing.toml"))


def test_package_data_ships_the_files() -> None:
    tool = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "myoflow.exercises" in tool["packages"]
    assert tool["package-data"]["myoflow.exercises"] == ["data/*.toml"]
    assert {p.stem for p in DATA.glob("*.toml")} == set(shipped_names())


def test_importing_the_registry_loads_no_analysis_or_higher_layer() -> None:
    code = (
        "import sys, myoflow.exercises as e\n"
        "print(' '.join(m for m in sys.modules if m.startswith(('myoflow.analysis', 'myoflow.dsp', "
        "'myoflow.storage', 'myoflow.devices', 'myoflow.dashboard', 'myoflow.synth', 'numpy'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == []


def test_docs_page_lists_every_shipped_exercise() -> None:
    text = (REPO / "docs" / "exercises.md").read_text()
    missing = [n for n in shipped_names() if f"`{n}`" not in text]
    assert not missing, f"add {missing} to docs/exercises.md"
