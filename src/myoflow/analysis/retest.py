"""Test-retest: two sessions (or two sets of one session) side by side, metric by metric.

For the "test again after a different stimulus" workflow: each side is a flat summary
``{metric: value}`` (:meth:`myoflow.analysis.report.Report.summary` for a session or a set,
:meth:`myoflow.analysis.balance.BalanceTest.summary` for a balance test), and every metric
present on either side gets a row: ``a``, ``b``, ``diff = b - a`` (in the metric's unit, which
its name carries: ``_ms``, ``_pct``, ``_deg``, ``_share``...) and ``pct_change = 100 * (b - a) /
|a|`` (None when ``a`` is 0 or missing). Metrics missing on one side have ``None`` there.

With each session's reps (:func:`~myoflow.analysis.trials.rep_summaries`), every metric also
gets its measurement error: :func:`~myoflow.analysis.reliability.reliability_stats` over the
``(2 sessions, k reps)`` table gives ``icc2_1``, ``icc3_1`` and ``sem = sqrt(MSE)`` (one rep's
spread), ``mdc95`` is the MDC95 of the difference of the two session values
(:func:`~myoflow.analysis.trials.mdc95_between`: ``1.96 sem sqrt(1/m_a + 1/m_b)`` for sessions of
``m_a`` and ``m_b`` reps), and ``verdict`` is ``"within noise"`` when ``|diff| <= mdc95``, else
``"better"``/``"worse"`` or ``"up"``/``"down"`` (:func:`~myoflow.analysis.trials.judge`).
:func:`compare_reports` does this; the statistics are None where they cannot be computed (fewer
than 2 reps in a session, a metric missing in a rep).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from myoflow.analysis.report import Report
from myoflow.analysis.trials import judge, mdc95_between, metric_reliability, rep_summaries

__all__ = ["MetricChange", "Retest", "compare", "compare_reports", "compare_sets"]


@dataclass(frozen=True)
class MetricChange:
    """One metric on both sides (None where missing or not finite), and, when both sessions'
    reps were given, their reliability, the MDC95 and the verdict on ``diff`` (module docstring)."""

    metric: str
    a: float | None
    b: float | None
    diff: float | None
    pct_change: float | None
    icc2_1: float | None = None
    icc3_1: float | None = None
    sem: float | None = None
    mdc95: float | None = None
    verdict: str | None = None


@dataclass(frozen=True)
class Retest:
    """Both sides' labels and one :class:`MetricChange` per metric, in a stable order."""

    label_a: str
    label_b: str
    changes: tuple[MetricChange, ...]
    trials: str | None = None

    def __getitem__(self, metric: str) -> MetricChange:
        for c in self.changes:
            if c.metric == metric:
                return c
        raise KeyError(f"no metric {metric!r}; have: {', '.join(c.metric for c in self.changes)}")

    def to_dict(self) -> dict[str, Any]:
        """The comparison as plain Python objects (labels and one entry per metric)."""
        return {
            "a": self.label_a,
            "b": self.label_b,
            "trials": self.trials,
            "metrics": [{f: getattr(c, f) for f in _FIELDS} for c in self.changes],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (strict: no NaN)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def to_csv(self) -> str:
        """``metric, a, b, diff, pct_change, icc2_1, icc3_1, sem, mdc95, verdict`` rows (empty
        cells for None)."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["metric", self.label_a, self.label_b, *_FIELDS[3:]])
        for c in self.changes:
            values = [getattr(c, f) for f in _FIELDS[1:-1]]
            w.writerow([c.metric, *("" if v is None else f"{v:.6g}" for v in values), c.verdict or ""])
        return buf.getvalue()

    def format(self) -> str:
        """A text table."""
        width = max([len(c.metric) for c in self.changes] + [6])
        wa, wb = max(12, len(self.label_a)), max(12, len(self.label_b))  # columns fit their labels
        stats = any(c.mdc95 is not None for c in self.changes)
        head = f"{'metric':<{width}} {self.label_a:>{wa}} {self.label_b:>{wb}} {'diff':>10} {'change %':>9}"
        lines = [head + (f" {'ICC(2,1)':>8} {'MDC95':>9}  verdict" if stats else "")]
        for c in self.changes:
            cells = [_fmt(c.a, wa), _fmt(c.b, wb), _fmt(c.diff, 10), _fmt(c.pct_change, 9)]
            if stats:
                cells += [_fmt(c.icc2_1, 8), _fmt(c.mdc95, 9), f" {c.verdict or '-'}"]
            lines.append(f"{c.metric:<{width}} " + " ".join(cells))
        if stats:
            lines.append(f"(MDC95 of the difference of the session values, from the spread of {self.trials})")
        return "\n".join(lines)


def compare(
    a: Mapping[str, float],
    b: Mapping[str, float],
    labels: tuple[str, str] = ("A", "B"),
    trials: tuple[Sequence[Mapping[str, float]], Sequence[Mapping[str, float]]] | None = None,
) -> Retest:
    """Per-metric differences of two flat summaries (module docstring).

    Parameters
    ----------
    a, b
        Flat summaries ``{metric: value}``.
    labels
        Names of the two sides.
    trials
        Optional: each side's reps as flat summaries
        (:func:`~myoflow.analysis.trials.rep_summaries`); adds the measurement error and a
        verdict to every metric.
    """
    if len(labels) != 2:
        raise ValueError(f"labels must be two names, got {labels!r}")
    if trials is not None and len(trials) != 2:
        raise ValueError(f"trials must be two lists of summaries (one per side), got {len(trials)}")
    order = list(a) + [k for k in b if k not in a]
    changes = []
    for key in order:
        va, vb = _num(a.get(key)), _num(b.get(key))
        diff = None if va is None or vb is None else vb - va
        pct = None if diff is None or va is None or va == 0 else 100.0 * diff / abs(va)
        change = MetricChange(key, va, vb, diff, pct)
        if trials is not None and key != "n_reps":
            stats, _ = metric_reliability(trials, key)
            if stats is not None:
                mdc = mdc95_between(stats, len(trials[0]), len(trials[1]))
                change = MetricChange(
                    key, va, vb, diff, pct, _num(stats.icc2_1), _num(stats.icc3_1), _num(stats.sem_mse),
                    _num(mdc), judge(key, diff, mdc),
                )  # fmt: skip
        changes.append(change)
    kind = None if trials is None else f"{len(trials[0])} and {len(trials[1])} reps"
    return Retest(str(labels[0]), str(labels[1]), tuple(changes), kind)


def compare_reports(a: Report, b: Report, labels: tuple[str, str] | None = None) -> Retest:
    """Two sessions' whole-session summaries, each metric judged against the MDC95 from the
    spread of the sessions' reps; labels default to the file names."""
    if labels is None:
        labels = (_name(a, "A"), _name(b, "B"))
    return compare(a.summary(), b.summary(), labels, (rep_summaries(a), rep_summaries(b)))


def compare_sets(report: Report, set_a: int = 0, set_b: int = 1) -> Retest:
    """Two sets of one session (0-based set indices)."""
    have = sorted({r.set_index for r in report.reps})
    for name, s in (("set_a", set_a), ("set_b", set_b)):
        if s not in have:
            raise ValueError(f"{name}={s!r} is not a set of this session; sets: {have}")
    return compare(report.summary(set_a), report.summary(set_b), (f"set {set_a}", f"set {set_b}"))


_FIELDS = ("metric", "a", "b", "diff", "pct_change", "icc2_1", "icc3_1", "sem", "mdc95", "verdict")


def _num(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _name(report: Report, default: str) -> str:
    file = report.source.get("file")
    return str(file).replace("\\", "/").rsplit("/", 1)[-1] if file else default


def _fmt(v: float | None, width: int) -> str:
    return f"{'-':>{width}}" if v is None else f"{v:>{width}.4g}"
