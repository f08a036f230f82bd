"""Offline metrics of a whole session from arrays: reps, per-rep results, per-set summaries.

``analyse_arrays(envelope, emg_fs, placements, mvc, movement, angle_fs)`` normalises the
envelopes (% MVC, or % session peak without an MVC), finds the reps from the movement angle
(or, with no IMU, from the prime movers' EMG, flagged ``mode == "emg"``), builds the
:class:`~myoflow.analysis.rep_summary.SessionContext` and runs
:func:`~myoflow.analysis.rep_summary.analyse_rep` on every rep. Pass the zero-phase envelope
(:func:`myoflow.dsp.pipeline.envelope_offline`): no delay to correct. Recordings, the report
format and the command line are built on top of this elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from myoflow._checks import as_signal, check_rate
from myoflow.analysis._columns import fill_by_columns
from myoflow.analysis.activation import ActivationParams, analysis_envelope, normalise, rest_levels
from myoflow.analysis.onset_emg import RawEmg
from myoflow.analysis.placement import antagonist_of, parse_placement, prime_movers
from myoflow.analysis.relaxation import sustained_tension_share
from myoflow.analysis.rep_checks import (
    angle_cycles,
    as_cycles,
    cycle_period,
    cycle_results_doubts,
    emg_rep_doubts,
    partial_doubts,
)
from myoflow.analysis.rep_summary import (
    RepResult,
    SessionContext,
    analyse_reps,
    rep_window_s,
    typical_bottom_rest_s,
)
from myoflow.analysis.reps import MovementAngle, Rep, emg_driver, segment_reps, segment_reps_emg
from myoflow.analysis.set_relaxation import SetRelaxation, set_relaxation
from myoflow.dsp.onsets import Baseline


@dataclass(frozen=True)
class SetSummary:
    """One set: its reps (1-based indices), time span (s), and per muscle the sustained
    tension share (0-1, :func:`~myoflow.analysis.relaxation.sustained_tension_share`), the
    share of its reps judged relaxed (0-1) and the relaxation after the set
    (:mod:`myoflow.analysis.set_relaxation`)."""

    index: int
    reps: tuple[int, ...]
    span_s: tuple[float, float]
    sustained_tension_share: dict[str, float]
    relaxed_share: dict[str, float]
    after_set: dict[str, SetRelaxation] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionMetrics:
    """Everything :func:`analyse_arrays` found; ``rep_source`` says what the reps came from,
    ``rep_kind`` whether they are exercise reps (``"rep"``) or movement cycles (``"cycle"``,
    :mod:`myoflow.analysis.rep_checks`), ``warnings`` where they are unsure."""

    context: SessionContext
    rep_source: str
    reps: list[Rep]
    results: list[RepResult]
    sets: list[SetSummary]
    rep_kind: str = "rep"
    warnings: list[str] = field(default_factory=list)


def default_antagonists(placements: Sequence[str]) -> dict[str, str]:
    """Each glute, hamstring, abductor or adductor channel -> its placed antagonist, if any."""
    out = {}
    for p in placements:
        if parse_placement(p).role in ("glute", "hamstring", "abductor", "adductor"):
            other = antagonist_of(placements, p)
            if other is not None:
                out[p] = other
    return out


def build_context(
    analysis_env: np.ndarray,
    emg_fs: float,
    placements: Sequence[str],
    unit: str,
    reps: Sequence[Rep],
    rep_fs: float,
    mode: str,
    params: ActivationParams | None = None,
    baseline: Baseline | None = None,
    antagonists: dict[str, str] | None = None,
    cocontraction_pairs: Sequence[tuple[str, str]] = (),
    not_measured: Mapping[str, str] | None = None,
    onset_search_to: str = "top",
) -> SessionContext:
    """The session context from its normalised analysis envelope ``(n, ch)`` and its reps.

    ``antagonists`` defaults to :func:`default_antagonists`; ``baseline`` to each channel's
    quietest second (:func:`~myoflow.analysis.activation.rest_levels`); ``not_measured``: the
    metrics the exercise switches off, with the reason
    (:func:`~myoflow.analysis.exercise_rules.exercise_not_measured`); ``onset_search_to``:
    ``"end"`` for movement cycles (:attr:`~myoflow.analysis.rep_summary.SessionContext.onset_search_to`).
    """
    params = params or ActivationParams()
    levels = rest_levels(analysis_env, emg_fs, params, baseline)
    return SessionContext(
        placements=tuple(placements),
        unit=unit,
        mode=mode,
        levels=levels,
        bottom_rest_s=typical_bottom_rest_s(list(reps), rep_fs),
        params=params,
        antagonists=default_antagonists(placements) if antagonists is None else dict(antagonists),
        cocontraction_pairs=tuple((a, b) for a, b in cocontraction_pairs),
        not_measured=dict(not_measured or {}),
        onset_search_to=onset_search_to,
    )


def analyse_arrays(
    envelope: np.ndarray,
    emg_fs: float,
    placements: Sequence[str],
    mvc: np.ndarray | None = None,
    movement: MovementAngle | None = None,
    angle_fs: float | None = None,
    params: ActivationParams | None = None,
    baseline: Baseline | None = None,
    antagonists: dict[str, str] | None = None,
    cocontraction_pairs: Sequence[tuple[str, str]] = (),
    rep_options: Mapping[str, float] | None = None,
    unit: str | None = None,
    raw: RawEmg | None = None,
    not_measured: Mapping[str, str] | None = None,
) -> SessionMetrics:
    """Reps, per-rep metrics and set summaries of one session.

    Parameters
    ----------
    envelope
        ``(n, ch)`` zero-phase envelope in physical units (uV), sample 0 at time 0.
    emg_fs
        Its rate in Hz.
    placements
        Muscle per channel (``glute_max_r``, ``biceps_femoris_r``, ...).
    mvc
        ``(ch,)`` MVC references in the envelope's unit; None: % of session peak.
    movement, angle_fs
        Flexion angle (:func:`~myoflow.analysis.reps.movement_angle`) at ``angle_fs`` Hz
        starting at time 0; None: EMG-only mode.
    params, baseline, antagonists, cocontraction_pairs, not_measured
        See :func:`build_context`.
    rep_options
        Keyword arguments of :func:`~myoflow.analysis.reps.segment_reps` (``min_rep_frac``,
        ``min_range_deg``, ...) for the reps of ``movement``; not used in EMG-only mode.
    unit
        Level label for ``mvc`` references that are not maximal (``normalise``).
    raw
        The raw EMG (channels as in ``envelope``, same clock) for ``changepoint`` onsets
        (:class:`~myoflow.analysis.onset_emg.RawEmg`); None: onsets are threshold crossings.
    """
    emg_fs = check_rate(emg_fs, "emg_fs")
    env = as_signal(envelope, "envelope")
    if env.shape[1] != len(placements):
        raise ValueError(
            f"envelope has {env.shape[1]} channel(s) but {len(placements)} placements were given"
        )
    params = params or ActivationParams()
    norm = normalise(env, emg_fs, mvc, unit=unit)
    # each channel is smoothed on its own: two groups of channels on two threads, same numbers
    analysis = fill_by_columns(
        lambda e, o: analysis_envelope(e, emg_fs, params, out=o),
        norm.envelope,
        np.empty(norm.envelope.shape, dtype=np.float32),
    )
    warnings: list[str] = []
    if movement is None:
        movers = prime_movers(placements)
        reps = segment_reps_emg(analysis, emg_fs, movers)
        rep_fs, mode, source = emg_fs, "emg", "EMG only (prime movers' envelope; no IMU worn)"
        angle, n_rep = None, analysis.shape[0]
        driver = emg_driver(analysis, emg_fs, movers)
        lo, hi = np.percentile(driver, [1.0, 99.0])
        warnings += emg_rep_doubts(driver, emg_fs, reps, 0.25 * float(hi - lo))
    else:
        if angle_fs is None:
            raise ValueError("angle_fs (Hz) is needed with a movement angle")
        rep_fs = check_rate(angle_fs, "angle_fs")
        reps = segment_reps(movement.angle_deg, rep_fs, **(rep_options or {}))
        mode, source, angle = movement.source, movement.description, movement.angle_deg
        n_rep = movement.angle_deg.size
    period = cycle_period(reps, rep_fs)
    rep_kind = "rep"
    if period is not None:
        rep_kind = "cycle"
        if movement is None:
            reps = as_cycles(reps, n_rep)
        else:
            reps = angle_cycles(movement.angle_deg, rep_fs, reps, dict(rep_options or {}))
        warnings.append(
            f"cyclic movement (e.g. gait): {len(reps)} cycles of {period:.2f} s (median) are analysed as "
            "cycles, not reps: smaller excursions inside a cycle are part of it (no partial reps), "
            "and there is no rest between cycles, so 'relaxed' only means a 0.2 s EMG gap "
            "after the cycle's main excursion"
        )
    elif movement is not None:
        warnings += partial_doubts(reps)
    ctx = build_context(
        analysis,
        emg_fs,
        placements,
        norm.unit,
        reps,
        rep_fs,
        mode,
        params,
        baseline,
        antagonists,
        cocontraction_pairs,
        not_measured,
        "end" if rep_kind == "cycle" else "top",
    )
    results = analyse_reps(
        reps, rep_fs, norm.envelope, emg_fs, ctx, angle, rep_fs if angle is not None else None, raw=raw
    )
    if rep_kind == "cycle":
        warnings += cycle_results_doubts(results, ctx.params.onset_search_s)
    sets = set_summaries(results, analysis, emg_fs, 0.0, ctx)
    return SessionMetrics(ctx, source, list(reps), results, sets, rep_kind, warnings)


def set_summaries(
    results: Sequence[RepResult], analysis_env: np.ndarray, emg_fs: float, emg_t0: float, ctx: SessionContext
) -> list[SetSummary]:
    """Per-set summaries from the reps' results and the session's analysis envelope ``(n, ch)``
    (sample 0 at ``emg_t0`` s)."""
    env = as_signal(analysis_env, "analysis_env")
    out = []
    set_ids = sorted({r.set_index for r in results})
    for k, s in enumerate(set_ids):
        members = [r for r in results if r.set_index == s]
        later = [r for r in results if k + 1 < len(set_ids) and r.set_index == set_ids[k + 1]]
        span = (members[0].phases["start"], rep_window_s(members[-1].phases, ctx)[1])
        starts = [r.phases["start"] for r in members]
        share, relaxed = {}, {}
        for c, name in enumerate(ctx.placements):
            share[name] = sustained_tension_share(
                env[:, c],
                emg_fs,
                emg_t0,
                span,
                starts,
                float(ctx.levels.rest_threshold[c]),
                ctx.params.min_gap_s,
            )
            relaxed[name] = float(np.mean([r.relaxation[name].relaxed for r in members]))
        after = set_relaxation(
            env,
            emg_fs,
            emg_t0,
            ctx.placements,
            members[-1].phases["bottom"],
            later[0].phases["start"] if later else None,
            ctx.levels.mean,
            ctx.levels.rest_threshold,
            ctx.params.min_gap_s,
        )
        out.append(SetSummary(s, tuple(r.index for r in members), span, share, relaxed, after))
    return out
