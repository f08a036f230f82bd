"""Repeats inside a session, and a metric's measurement error from them.

One person's measurement error is seen where the same thing is measured again under the same
conditions: the reps of a session. :func:`rep_summaries` gives each rep as a flat summary
(:meth:`~myoflow.analysis.report.Report.summary` of that rep alone, so every metric follows the
same rule as the session's), and :func:`metric_reliability` turns the reps of several sessions
into the ``(sessions, reps)`` table of :func:`~myoflow.analysis.reliability.reliability_stats`:
rows are sessions, columns the first ``k`` reps in order (``k``: the fewest any session has).
Its ``sem_mse = sqrt(MSE)`` is the spread of one rep's value with the sessions' differences and
the rep-order effect (fatigue, warm-up) taken out.

A session's value is the mean (median for onsets and crossovers) over its ``m`` reps, so the
difference of two sessions of ``m_a`` and ``m_b`` reps has the standard error ``SEM sqrt(1 / m_a
+ 1 / m_b)``, and :func:`mdc95_between` is ``1.96`` times that: with one rep each it is the
textbook ``MDC95 = 1.96 sqrt(2) SEM``. A median's standard error is larger (about 1.25x for
normal data), so the verdict on onsets and crossover times is a little optimistic.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from myoflow.analysis.reliability import Reliability, ReliabilityError, reliability_stats
from myoflow.analysis.report import Report

__all__ = ["GOOD_DIRECTION", "direction", "judge", "mdc95_between", "metric_reliability", "rep_summaries"]

Summary = Mapping[str, float | None]

#: Metric name endings whose change has a good direction: +1 higher is better, -1 lower is
#: better. Any other metric's change is only "up" or "down".
GOOD_DIRECTION: dict[str, int] = {
    "relaxed_share": +1,
    "bottom_min_pct": -1,
    "stall_share": -1,
    "sustained_tension_share": -1,
    "sway_rms_ap_deg": -1,
    "sway_rms_ml_deg": -1,
    "path_length_deg": -1,
    "mean_velocity_deg_s": -1,
    "ellipse_area_deg2": -1,
}


def rep_summaries(report: Report) -> list[dict[str, float]]:
    """Each rep of the session as a flat summary (``n_reps`` left out), in rep order."""
    if report.metrics is None:
        return []
    reps = report.reps
    relabelled = [dataclasses.replace(r, set_index=i) for i, r in enumerate(reps)]
    twin = dataclasses.replace(report, metrics=dataclasses.replace(report.metrics, results=relabelled))
    out = []
    for i in range(len(reps)):
        summary = twin.summary(i)
        summary.pop("n_reps", None)
        out.append(summary)
    return out


def metric_reliability(reps: Sequence[Sequence[Summary]], metric: str) -> tuple[Reliability | None, str]:
    """ICC, SEM and MDC95 of ``metric`` from each session's reps.

    Parameters
    ----------
    reps
        Per session, its reps' flat summaries (:func:`rep_summaries`), in session order.
    metric
        A summary key (``"glute_max_r.peak_pct"``).

    Returns
    -------
    (Reliability or None, str)
        The statistics over the sessions that have the metric in each of the first ``k`` reps
        (``k``: the fewest reps any session has, at least 2), and a note; None and the reason
        when fewer than 2 sessions have 2 reps.
    """
    rows = [[_value(t, metric) for t in session] for session in reps]
    rows = [r for r in rows if len(r) >= 2]
    if len(rows) < 2:
        return None, f"{metric}: needs 2 sessions with 2 reps each, got {len(rows)}"
    k = min(len(r) for r in rows)
    table = np.array([r[:k] for r in rows], dtype=np.float64)
    try:
        stats = reliability_stats(table)
    except ReliabilityError as exc:
        return None, f"{metric}: {exc}"
    return stats, f"{stats.n} sessions x {k} reps"


def mdc95_between(stats: Reliability, n_a: int, n_b: int) -> float:
    """MDC95 of the difference of two session values that average ``n_a`` and ``n_b`` reps:
    ``1.96 sqrt(MSE) sqrt(1 / n_a + 1 / n_b)`` (module docstring); metric unit."""
    if n_a < 1 or n_b < 1:
        raise ValueError(f"sessions need at least 1 rep each, got {n_a} and {n_b}")
    return 1.96 * stats.sem_mse * math.sqrt(1.0 / n_a + 1.0 / n_b)


def direction(metric: str) -> int:
    """+1 (higher is better), -1 (lower is better) or 0 (no direction) for a summary key."""
    return GOOD_DIRECTION.get(metric.rsplit(".", 1)[-1], 0)


def judge(metric: str, change: float | None, mdc95: float | None) -> str | None:
    """A change against its MDC95: ``"within noise"`` when ``|change| <= MDC95``, else
    ``"better"`` or ``"worse"`` (metrics with a :data:`GOOD_DIRECTION`) or ``"up"`` /
    ``"down"``; None without a change or an MDC, and for a change against an MDC95 of 0 (reps
    with no spread, e.g. every compared rep relaxed in both sessions: the noise is unknown,
    not zero)."""
    if change is None or mdc95 is None or not math.isfinite(change) or not math.isfinite(mdc95):
        return None
    if mdc95 <= 0.0 and change != 0.0:
        return None
    if abs(change) <= mdc95:
        return "within noise"
    sign = direction(metric)
    if sign == 0:
        return "up" if change > 0 else "down"
    return "better" if change * sign > 0 else "worse"


def _value(summary: Summary, metric: str) -> float:
    v: Any = summary.get(metric)
    if v is None:
        return math.nan
    return float(v)
