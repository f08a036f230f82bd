"""The cycle-onset warning live as offline: one rule, both paths.

Offline, ``analyze`` warns when muscles have no onset in some gait cycles (their onset search
runs from 0.5 s before each cycle to its end). The live analysis and the dashboard's status
did not. Here a synthetic walk (the thigh angle of :mod:`tests.analysis.test_live_cycles`, a
glute and a hamstring bursting once per stride, and a semitendinosus channel that never
bursts) is analysed offline and fed as live 20 ms blocks: both warn about the same muscle,
with the sentence of the same function
(:func:`~myoflow.analysis.rep_checks.cycle_results_doubts`), and the dashboard shows it.
"""

from __future__ import annotations

import numpy as np

from myoflow.analysis.live import LiveAnalysis
from myoflow.analysis.onset_emg import RawEmg
from myoflow.analysis.rep_checks import cycle_results_doubts
from myoflow.analysis.reps import movement_angle
from myoflow.analysis.session_metrics import analyse_arrays
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate

from .test_live_cycles import FS_ANGLE, FS_EMG, _walk
from .test_live_cycles import _feed as feed

MUSCLES = ("glute_max_r", "biceps_femoris_r", "semitendinosus_r")  # the last never bursts
SILENT = MUSCLES[2]


def _walk3(seed: int = 4) -> tuple[np.ndarray, np.ndarray]:
    angle, emg = _walk(seed)
    quiet = np.random.default_rng(seed + 100).standard_normal((emg.shape[0], 1)) * 3.0
    return angle, np.hstack([emg, quiet.astype(np.float32)])


def _cycle_warnings(warnings: list[str] | tuple[str, ...]) -> list[str]:
    return [w for w in warnings if w.startswith("onsets in cycles are searched")]


def _feed(angle: np.ndarray, emg: np.ndarray, stop_s: float | None = None) -> LiveAnalysis:
    return feed(angle, emg, stop_s=stop_s, muscles=MUSCLES)


def test_live_gives_the_offline_cycle_onset_warning() -> None:
    angle, emg = _walk3()
    env = envelope_offline(emg, FS_EMG, profile_for_rate(FS_EMG, 50.0))
    offline = analyse_arrays(
        env,
        FS_EMG,
        MUSCLES,
        np.full(3, 100.0),
        movement_angle(None, angle),
        FS_ANGLE,
        raw=RawEmg(emg, FS_EMG, 0.0),
    )
    assert offline.rep_kind == "cycle"
    (off,) = _cycle_warnings(offline.warnings)
    n_off = len(offline.results)
    assert f"{SILENT} {n_off} of {n_off}" in off
    live = _feed(angle, emg)
    assert live.rep_kind == "cycle"
    (on,) = _cycle_warnings(live.warnings)  # one sentence, updated per cycle, never repeated
    n_live = len(live.results)
    assert n_live == n_off - 1  # the last cycle ends with the data (test_live_cycles)
    assert f"{SILENT} {n_live} of {n_live}" in on
    # the same function on the same kind of results: the live sentence is the offline rule's
    assert [on] == cycle_results_doubts(live.results, live.params.onset_search_s)
    # and offline's sentence for the cycles live saw is word for word the live one, when the
    # muscles that fire have onsets in both (measured: every cycle after the first)
    assert off.replace(f"{n_off} of {n_off}", f"{n_live} of {n_live}") == on
    # the display: the snapshot carries it and the dashboard's status shows it as a warning
    snap = live.snapshot()
    assert on in snap.warnings
    from myoflow.dashboard.model import DashboardModel

    frame = DashboardModel().frame(snap)
    assert any(line.warning and line.text == on for line in frame.statuses)


def test_the_live_warning_grows_with_the_cycles_and_only_once_they_are_cycles() -> None:
    angle, emg = _walk3()
    early = _feed(angle, emg, stop_s=4.5)  # rest and the first stride: no cycles yet
    assert early.rep_kind == "rep" and not _cycle_warnings(early.warnings)
    part = _feed(angle, emg, stop_s=3.0 + 10 * 1.1)
    assert part.rep_kind == "cycle"
    (mid,) = _cycle_warnings(part.warnings)
    n = len(part.results)
    assert n >= 3 and f"{SILENT} {n} of {n}" in mid
