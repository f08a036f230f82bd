"""Test-retest: two sessions (or two sets of one session) side by side, metric by metric.

For the "test again after a different stimulus" workflow: each side is a flat summary
``{metric: value}`` (:meth:`myoflow.analysis.report.Report.summary` for a session or a set,
:meth:`myoflow.analysis.balance.BalanceTest.summary` for a balance test), and every metric
present on either side gets a row: ``a``, ``b``, ``diff = b - a`` (in the metric's unit, which
its name carries: ``_ms``, ``_pct``, ``_deg``, ``_share``...) and ``pct_change = 100 * (b - a) /
|a|`` (None when ``a`` is 0 or missing). Metrics missing on one side have ``None`` there.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from myoflow.analysis.report import Report

__all__ = ["MetricChange", "Retest", "compare", "compare_reports", "compare_sets"]


@dataclass(frozen=True)
class MetricChange:
    """One metric on both sides (None where missing or not finite)."""

    metric: str
    a: float | None
    b: float | None
    diff: float | None
    pct_change: float | None


@dataclass(frozen=True)
class Retest:
    """Both sides' labels and one :class:`MetricChange` per metric, in a stable order."""

    label_a: str
    label_b: str
    changes: tuple[MetricChange, ...]

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
            "metrics": [
                {"metric": c.metric, "a": c.a, "b": c.b, "diff": c.diff, "pct_change": c.pct_change}
                for c in self.changes
            ],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (strict: no NaN)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def to_csv(self) -> str:
        """``metric, a, b, diff, pct_change`` rows (empty cells for None)."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["metric", self.label_a, self.label_b, "diff", "pct_change"])
        for c in self.changes:
            values = (c.a, c.b, c.diff, c.pct_change)
            w.writerow([c.metric, *("" if v is None else f"{v:.6g}" for v in values)])
        return buf.getvalue()

    def format(self) -> str:
        """A text table."""
        width = max([len(c.metric) for c in self.changes] + [6])
        wa, wb = max(12, len(self.label_a)), max(12, len(self.label_b))  # columns fit their labels
        lines = [
            f"{'metric':<{width}} {self.label_a:>{wa}} {self.label_b:>{wb}} {'diff':>10} {'change %':>9}"
        ]
        for c in self.changes:
            cells = [_fmt(c.a, wa), _fmt(c.b, wb), _fmt(c.diff, 10), _fmt(c.pct_change, 9)]
            lines.append(f"{c.metric:<{width}} " + " ".join(cells))
        return "\n".join(lines)


def compare(a: Mapping[str, float], b: Mapping[str, float], labels: tuple[str, str] = ("A", "B")) -> Retest:
    """Per-metric differences of two flat summaries (module docstring)."""
    if len(labels) != 2:
        raise ValueError(f"labels must be two names, got {labels!r}")
    order = list(a) + [k for k in b if k not in a]
    changes = []
    for key in order:
        va, vb = _num(a.get(key)), _num(b.get(key))
        diff = None if va is None or vb is None else vb - va
        pct = None if diff is None or va is None or va == 0 else 100.0 * diff / abs(va)
        changes.append(MetricChange(key, va, vb, diff, pct))
    return Retest(str(labels[0]), str(labels[1]), tuple(changes))


def compare_reports(a: Report, b: Report, labels: tuple[str, str] | None = None) -> Retest:
    """Two sessions' whole-session summaries; labels default to the file names."""
    if labels is None:
        labels = (_name(a, "A"), _name(b, "B"))
    return compare(a.summary(), b.summary(), labels)


def compare_sets(report: Report, set_a: int = 0, set_b: int = 1) -> Retest:
    """Two sets of one session (0-based set indices)."""
    have = sorted({r.set_index for r in report.reps})
    for name, s in (("set_a", set_a), ("set_b", set_b)):
        if s not in have:
            raise ValueError(f"{name}={s!r} is not a set of this session; sets: {have}")
    return compare(report.summary(set_a), report.summary(set_b), (f"set {set_a}", f"set {set_b}"))


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
