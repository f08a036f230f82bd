"""Live gait: cyclic movement is re-segmented into cycles by the offline rule, as offline.

A walking-like session made here: a thigh angle stream whose every 1.1 s stride has a large
swing excursion and a small bend (the heel strike), and two EMG channels bursting once per
stride. Offline (:func:`~myoflow.analysis.session_metrics.analyse_arrays`) recognises cycles
(:func:`~myoflow.analysis.rep_checks.cycle_period`) and cuts one per stride; the live analysis
first finds reps (the bends as partial reps), then, with the same rule, switches to cycles
(:mod:`myoflow.analysis.live_cycles`) and gives the offline cycles.
"""

from __future__ import annotations

import numpy as np

from myoflow.analysis.live import LiveAnalysis
from myoflow.analysis.onset_emg import RawEmg
from myoflow.analysis.reps import movement_angle
from myoflow.analysis.session_metrics import analyse_arrays
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.stream import Block, StreamInfo

FS_EMG, FS_ANGLE = 1000.0, 100.0
STRIDE_S, REST_S, STRIDES = 1.1, 3.0, 16
MUSCLES = ("glute_max_r", "biceps_femoris_r")


def _bump(t: np.ndarray, start: float, width: float) -> np.ndarray:
    u = np.clip((t - start) / width, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * u)


def _walk(seed: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Thigh angle (deg) at 100 Hz and EMG (uV) ``(n, 2)`` at 1 kHz: rest, then strides."""
    rng = np.random.default_rng(seed)
    dur = REST_S + STRIDES * STRIDE_S + 2.0
    ta = np.arange(int(dur * FS_ANGLE)) / FS_ANGLE
    te = np.arange(int(dur * FS_EMG)) / FS_EMG
    angle = np.full(ta.size, 40.0)
    amp = np.full((te.size, 2), 3.0)
    for k in range(STRIDES):
        s = REST_S + k * STRIDE_S + rng.normal(0.0, 0.02)
        angle -= 40.0 * _bump(ta, s, 0.55) + 8.0 * _bump(ta, s + 0.7, 0.25)  # swing, heel-strike bend
        amp[:, 0] += 90.0 * _bump(te, s + 0.55, 0.35)  # glute near heel strike
        amp[:, 1] += 70.0 * _bump(te, s + 0.35, 0.35)  # hamstrings at the end of the swing
    angle += rng.normal(0.0, 0.2, ta.size)
    emg = (rng.standard_normal((te.size, 2)) * amp).astype(np.float32)
    return angle, emg


def _feed(
    angle: np.ndarray,
    emg: np.ndarray,
    chunk_s: float = 0.02,
    stop_s: float | None = None,
    muscles: tuple[str, ...] = MUSCLES,
) -> LiveAnalysis:
    """A live analysis fed ``emg`` (one column per muscle) and the thigh ``angle`` as
    ``chunk_s`` blocks in time order, up to ``stop_s`` (s; all when None)."""
    channels = tuple(f"ch{i + 1}" for i in range(len(muscles)))
    e_info = StreamInfo("strap/emg", "emg", FS_EMG, channels, muscles)
    a_info = StreamInfo("thigh/angle", "angle", FS_ANGLE, ("phi",), ("thigh_r",))
    live = LiveAnalysis([e_info, a_info], mvc=dict.fromkeys(muscles, 100.0))
    blocks = []
    for info, data, fs in ((e_info, emg, FS_EMG), (a_info, angle[:, None].astype(np.float32), FS_ANGLE)):
        step = int(round(chunk_s * fs))
        times = np.arange(len(data)) / fs
        blocks += [Block(info, data[i : i + step], times[i : i + step], i) for i in range(0, len(data), step)]
    blocks.sort(key=lambda b: float(b.times[-1]))
    for b in blocks:
        if stop_s is not None and float(b.times[-1]) > stop_s:
            break
        live.on_block(b)
        live.poll()
    return live


def test_live_walking_is_cut_into_the_offline_cycles() -> None:
    angle, emg = _walk()
    env = envelope_offline(emg, FS_EMG, profile_for_rate(FS_EMG, 50.0))
    offline = analyse_arrays(env, FS_EMG, MUSCLES, np.full(2, 100.0), movement_angle(None, angle), FS_ANGLE)
    assert offline.rep_kind == "cycle" and len(offline.results) >= STRIDES - 1
    assert not any(r.partial for r in offline.reps)
    live = _feed(angle, emg)
    assert live.rep_kind == "cycle" and live.cycle_period_s is not None
    assert any(w.startswith("cyclic movement (e.g. gait)") for w in live.warnings), live.warnings
    assert any(r.partial for r in live.superseded)  # before the switch: the bends were partial reps
    assert not any(r.partial for r in live.results)
    # every offline cycle but the last (its end is the end of the data) is a live cycle
    assert len(live.results) == len(offline.results) - 1
    verdicts = []
    for a, b in zip(live.results, offline.results, strict=False):
        assert a.index == b.index and a.set_index == b.set_index == 0
        for phase in ("start", "top", "eccentric", "bottom", "end"):
            assert abs(a.phases[phase] - b.phases[phase]) <= 0.011, (a.index, phase)  # one grid cell
        # the bottom window: capped at the median bottom-to-next-start, live of the cycles so far
        # (measured: ends within 30 ms, equal from the 7th cycle on)
        w_live, w_off = a.relaxation[MUSCLES[0]].window_s, b.relaxation[MUSCLES[0]].window_s
        assert w_live[0] == w_off[0] and abs(w_live[1] - w_off[1]) <= 0.04
        verdicts += [a.relaxation[m].relaxed == b.relaxation[m].relaxed for m in MUSCLES]
        for m in MUSCLES:
            # measured <= 21 %: 0.35 s bursts through the causal live envelope vs the zero-phase one
            assert abs(a.muscles[m].peak_pct - b.muscles[m].peak_pct) < 0.3 * b.muscles[m].peak_pct
    # measured 25-29 of 30 (seeds 4-6): the 0.4 s bottom window of a stride makes the 0.2 s gap
    # rule borderline, and the live and offline envelopes differ slightly
    assert np.mean(verdicts) >= 0.8


def test_cycle_onsets_are_searched_to_the_cycle_end_live_and_offline() -> None:
    """The glute bursts at 0.55 s into each stride, after the swing's top (~0.28 s): a cycle's
    onset search runs to its end, not its top (before: no glute onset in any cycle)."""
    angle, emg = _walk()
    env = envelope_offline(emg, FS_EMG, profile_for_rate(FS_EMG, 50.0))
    raw = RawEmg(emg, FS_EMG, 0.0)
    offline = analyse_arrays(
        env, FS_EMG, MUSCLES, np.full(2, 100.0), movement_angle(None, angle), FS_ANGLE, raw=raw
    )
    live = _feed(angle, emg)
    for results in (offline.results, live.results):
        for m in MUSCLES:
            assert all(r.muscles[m].onset_ms is not None for r in results[1:]), m
    pairs = [
        (a.muscles[m].onset_ms, b.muscles[m].onset_ms)
        for a, b in zip(live.results, offline.results, strict=False)
        for m in MUSCLES
    ]
    # the same changepoint onset live and offline (measured 26 of 30 within 1 ms; the others: a
    # burst of the previous stride crossing the threshold just after the search start, 0.5 s
    # before the cycle, in the causal live envelope and not in the zero-phase offline one)
    same = [a is not None and b is not None and abs(a - b) <= 1.0 for a, b in pairs]
    assert np.mean(same) >= 0.8
