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

__all__ = ["truth_summary", "virtual_source"]


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
    """How the live rep results of a virtual session agree with the generator's truth: reps
    found and relaxed-at-the-bottom verdicts agreeing (None for real straps or before data)."""
    from myoflow.rigs.demo import matching_truth

    session, origin = getattr(source, "session", None), getattr(source, "origin", None)
    if session is None or origin is None or source.analysis is None:
        return None
    glutes = [m for m in source.analysis.muscles if m.startswith("glute_max")]
    truth_glute = next((m for m in session.placements if m.startswith("glute_max")), None)
    results = [r for r in source.analysis.results if not r.partial]
    agree = 0
    for r in results:
        t = matching_truth(r, session.truth, -origin)
        if t is not None and glutes and truth_glute and glutes[0] in r.relaxation:
            agree += t.muscles[truth_glute].relaxed == r.relaxation[glutes[0]].relaxed
    return (
        f"live reps: {len(results)} of the {len(session.truth)} the synthetic session holds "
        f"(the window may close before the last); relaxed verdicts agreeing with the truth: "
        f"{agree}/{len(results)}"
    )
