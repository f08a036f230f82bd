"""A :class:`~myoflow.dashboard.live_source.LiveSource` over virtual straps, and its truth.

:func:`virtual_source` streams the virtual glute-bridge straps
(:mod:`myoflow.rigs.virtual_glute`) through the real ingest path into a live session for the
dashboard (``dashboard --virtual``, ``demo`` with a display, the tests); :func:`truth_summary`
says how the live reps agree with the synthetic session's truth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from myoflow.dashboard.live_source import LiveSource

__all__ = ["CLOSE_S", "truth_summary", "virtual_source"]

#: Time (s) after a rep's bottom rest ends within which the live counter may still be closing it
#: (it waits for the next rep to get under way, or for a typical rest to pass; see
#: :mod:`myoflow.analysis.live_reps`): measured 0.8-1.6 s on the virtual glute bridge.
CLOSE_S = 2.0


def virtual_source(
    seconds: float | None,
    *,
    exercise: str = "glute_bridge",
    fast: bool = False,
    emg_rate: float = 1000.0,
    mains_hz: float = 50.0,
    seed: int = 7,
    drop: float = 0.0,
    calibrated: bool = True,
    window_s: float = 10.0,
    extra_sinks: Sequence[Any] = (),
    placements: Mapping[str, Mapping[str, str]] | None = None,
) -> LiveSource:
    """A :class:`LiveSource` over the virtual glute-bridge straps
    (:func:`myoflow.rigs.virtual_glute.virtual_glute_ingest`).

    The synthetic session lasts ``seconds`` plus a margin (60 s when None, then it ends);
    ``calibrated`` starts with MVC references from its synthetic MVC trial, which also serves
    the MVC wizard's contractions. ``placements`` overrides channel placements by stream
    (``{"diy/emg": {"ch1": "glute_max_l"}}``, as ``--placement``); the MVC references follow the
    renamed channels. The returned source keeps the synthetic ``session`` (with its truth) and,
    once streaming, ``origin`` (the ingest clock at the session's time 0) for
    :func:`truth_summary`.
    """
    from myoflow.rigs.virtual_glute import DemoSettings, VirtualGlute, session_seconds

    settings = DemoSettings(
        seconds=session_seconds(seconds),
        exercise=exercise,
        emg_rate=emg_rate,
        mains_hz=mains_hz,
        seed=seed,
        realtime=not fast,
        drop=drop,
    )
    rig = VirtualGlute(settings)
    session = rig.session
    mvc = rig.mvc() if calibrated else None
    renamed = rig.renamed_muscles(placements)  # placement given -> the synthetic muscle it shows
    if mvc is not None and renamed:
        mvc = {
            **{m: v for m, v in mvc.items() if m not in renamed.values()},
            **{n: mvc[o] for n, o in renamed.items()},
        }

    def contraction(muscle: str, _seconds: float) -> tuple[np.ndarray, float]:
        return rig.contraction(renamed.get(muscle, muscle))

    def on_rig(clock: Any, _straps: Any) -> None:
        source.origin = float(clock.origin)

    source = LiveSource(
        rig.opener(placements=placements, on_rig=on_rig),
        mvc=mvc,
        exercise=exercise,
        mains_hz=mains_hz,
        seconds=seconds,
        window_s=window_s,
        contraction=contraction,
        label="virtual straps",
        extra_sinks=extra_sinks,
    )
    source.session = session  # type: ignore[attr-defined]
    source.origin = None  # type: ignore[attr-defined]
    return source


def truth_summary(source: Any) -> str | None:
    """How the live rep results of a virtual session agree with the generator's truth (None
    for real straps or before data).

    Only the synthetic reps that ended inside what was streamed are compared: those whose
    bottom rest ended :data:`CLOSE_S` before the last sample the live analysis received
    (the live counter closes a rep up to about that long after its rest ends), and any later
    one the counter did close. A rep still going when the stream stopped (the session outlasts
    ``--seconds``) is not counted as missed. Relaxation is judged on the exercise's relax
    target (:func:`myoflow.rigs.demo.judged_muscle`).
    """
    from myoflow.rigs.demo import judged_muscle, matching_truth

    session, origin = getattr(source, "session", None), getattr(source, "origin", None)
    analysis = source.analysis
    if session is None or origin is None or analysis is None or analysis.newest_cell is None:
        return None
    streamed = analysis.newest_cell / analysis.grid_hz - origin  # session time of the last cell
    live_muscle = judged_muscle(analysis.muscles, analysis.exercise)
    true_muscle = judged_muscle(session.placements, session.config.exercise)
    pairs = [(r, matching_truth(r, session.truth, -origin)) for r in analysis.results if not r.partial]
    matched = {t.index for _, t in pairs if t is not None}
    expected = [t for t in session.truth if t.end_s <= streamed - CLOSE_S or t.index in matched]
    agree = sum(
        t.muscles[true_muscle].relaxed == r.relaxation[live_muscle].relaxed
        for r, t in pairs
        if t is not None and live_muscle in r.relaxation
    )
    unmatched = sum(t is None for _, t in pairs)
    later = len(session.truth) - len(expected)
    return (
        f"live reps: {len(matched)} of the {len(expected)} synthetic reps that ended in the "
        f"{streamed:.1f} s streamed"
        + (f" ({later} more still going or just ending when it stopped, not compared)" if later else "")
        + (f"; {unmatched} live reps match no synthetic rep" if unmatched else "")
        + f"; {true_muscle} relaxed verdicts agreeing with the truth: {agree}/{len(matched)}"
    )
