"""Progress over sessions: per exercise and muscle, each metric over time, each change judged
against the measurement's noise.

The input is one :class:`SessionRecord` per analysed recording of a person (its flat session
summary and its reps' summaries: :meth:`~myoflow.analysis.report.Report.summary`,
:func:`~myoflow.analysis.trials.rep_summaries`). For each exercise, in date order, each
tracked metric (:data:`MUSCLE_METRICS` per muscle, :data:`SESSION_METRICS`, and balance sway
when present) becomes a :class:`Track`:

* its value per session and the change from the session before (``change``), judged against
  the MDC95 of that difference (``verdict``: :func:`~myoflow.analysis.trials.judge`);
* ``reliability``: :func:`~myoflow.analysis.reliability.reliability_stats` over all the
  exercise's sessions x their first ``k`` reps, which gives ICC(2,1), ICC(3,1) and ``SEM =
  sqrt(MSE)``; the MDC95 of two sessions of ``m_a`` and ``m_b`` reps is ``1.96 SEM sqrt(1 / m_a +
  1 / m_b)`` (:func:`~myoflow.analysis.trials.mdc95_between`);
* the change from the first session to the last, judged the same way.

Fewer than 2 sessions with 2 reps: values and changes, no verdicts (``note`` says why). An
MDC95 of your own (``mdc95=``, e.g. from a between-day test-retest study) replaces the one from
the reps for the metrics it names.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from myoflow.analysis.reliability import Reliability
from myoflow.analysis.trials import judge, mdc95_between, metric_reliability

__all__ = [
    "MUSCLE_METRICS",
    "SESSION_METRICS",
    "Point",
    "Progress",
    "SessionRecord",
    "Track",
    "build_progress",
]

#: Per-muscle summary metrics tracked: activation (peak and mean, level unit), share of reps
#: relaxed at the bottom (0-1), lowest level at the bottom (level unit).
MUSCLE_METRICS = ("peak_pct", "mean_pct", "relaxed_share", "bottom_min_pct")
#: Whole-session metrics tracked: the hip-extension handover's angle and timing, stalls; and
#: the single-leg balance test's sway, when a session's summary carries it.
SESSION_METRICS = (
    "crossover_angle_deg",
    "crossover_ms",
    "stall_share",
    "sway_rms_ap_deg",
    "sway_rms_ml_deg",
    "ellipse_area_deg2",
)


@dataclass(frozen=True)
class SessionRecord:
    """One analysed recording: where it is, when, whose, what, and its numbers.

    ``summary`` is the flat session summary, ``reps`` one flat summary per rep (None or NaN
    for a missing value); ``start_utc`` an ISO 8601 text (sorts by time).
    """

    path: str
    start_utc: str | None
    subject: str | None
    exercise: str | None
    summary: Mapping[str, float | None]
    reps: Sequence[Mapping[str, float | None]] = ()
    level_unit: str | None = None


@dataclass(frozen=True)
class Point:
    """One session's value of a track; ``change``, ``mdc95`` and ``verdict`` compare it with the
    session before that has a value (None for the first)."""

    path: str
    start_utc: str | None
    value: float | None
    n_reps: int
    change: float | None = None
    mdc95: float | None = None
    verdict: str | None = None


@dataclass(frozen=True)
class Track:
    """One metric of one exercise over the sessions (module docstring)."""

    exercise: str
    metric: str
    points: tuple[Point, ...]
    reliability: Reliability | None
    note: str
    overall_change: float | None = None
    overall_mdc95: float | None = None
    overall_verdict: str | None = None

    @property
    def muscle(self) -> str | None:
        """The muscle of a per-muscle metric (``glute_max_r``), else None."""
        return self.metric.rsplit(".", 1)[0] if "." in self.metric else None

    @property
    def name(self) -> str:
        """The metric without its muscle (``peak_pct``)."""
        return self.metric.rsplit(".", 1)[-1]


@dataclass
class Progress:
    """All tracks of one person (or of everyone in a folder when ``subject`` is None)."""

    subject: str | None
    tracks: list[Track]
    sessions: int
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def track(self, metric: str, exercise: str | None = None) -> Track:
        """The track of ``metric`` (of ``exercise`` when there are several); KeyError naming the choices."""
        found = [t for t in self.tracks if t.metric == metric and exercise in (None, t.exercise)]
        if not found:
            have = sorted({t.metric for t in self.tracks})
            raise KeyError(
                f"no track {metric!r}{f' for {exercise}' if exercise else ''}; have: {', '.join(have)}"
            )
        return found[0]

    def to_dict(self) -> dict[str, Any]:
        """Plain Python objects (NaN as None): subject, counts, one entry per track."""
        return {
            "subject": self.subject,
            "sessions": self.sessions,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "notes": list(self.notes),
            "tracks": [
                {
                    "exercise": t.exercise,
                    "metric": t.metric,
                    "note": t.note,
                    "reliability": None if t.reliability is None else t.reliability.to_dict(),
                    "overall": {
                        "change": t.overall_change,
                        "mdc95": t.overall_mdc95,
                        "verdict": t.overall_verdict,
                    },
                    "points": [{f: _num_or(getattr(p, f)) for f in _POINT_FIELDS} for p in t.points],
                }
                for t in self.tracks
            ],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as strict JSON."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def to_csv(self) -> str:
        """One row per track and session: ``exercise, metric, session, start_utc, value, n_reps,
        change, mdc95, verdict, icc2_1, icc3_1, sem`` (empty cells for None)."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["exercise", "metric", *_POINT_FIELDS, "icc2_1", "icc3_1", "sem"])
        for t in self.tracks:
            r = t.reliability
            stats = ("", "", "") if r is None else (_cell(r.icc2_1), _cell(r.icc3_1), _cell(r.sem_mse))
            for p in t.points:
                w.writerow([t.exercise, t.metric, *(_cell(getattr(p, f)) for f in _POINT_FIELDS), *stats])
        return buf.getvalue()

    def format(self) -> str:
        """A text table: per track the first and last value, the change, its MDC95 and verdict,
        ICC(2,1) and SEM."""
        lines = [f"subject {self.subject or '(all)'}: {self.sessions} sessions"]
        for exercise in dict.fromkeys(t.exercise for t in self.tracks):
            tracks = [t for t in self.tracks if t.exercise == exercise]
            n = max(len(t.points) for t in tracks)
            lines.append(f"\n{exercise} ({n} sessions)")
            width = max(len(t.metric) for t in tracks)
            lines.append(
                f"{'metric':<{width}} {'first':>9} {'last':>9} {'change':>9} {'MDC95':>9}  {'verdict':<12}"
                f" {'ICC(2,1)':>8} {'SEM':>8}"
            )
            for t in tracks:
                vals = [p.value for p in t.points if p.value is not None]
                r = t.reliability
                cells = [
                    _fmt(vals[0] if vals else None, 9),
                    _fmt(vals[-1] if vals else None, 9),
                    _fmt(t.overall_change, 9),
                    _fmt(t.overall_mdc95, 9),
                    f" {t.overall_verdict or '-':<12}",
                    _fmt(None if r is None else r.icc2_1, 8),
                    _fmt(None if r is None else r.sem_mse, 8),
                ]
                lines.append(f"{t.metric:<{width}} " + " ".join(cells))
        for path, reason in self.skipped:
            lines.append(f"skipped {path}: {reason}")
        return "\n".join(lines)


def build_progress(
    records: Iterable[SessionRecord],
    subject: str | None = None,
    metrics: Sequence[str] | None = None,
    mdc95: Mapping[str, float] | None = None,
) -> Progress:
    """The progress of ``subject`` (None: every record) over its sessions (module docstring).

    Parameters
    ----------
    records
        Analysed sessions, any order (sorted here by start time, then path).
    subject
        Keep only this subject's sessions.
    metrics
        Metric names to track (``"peak_pct"``, ``"crossover_angle_deg"``, or a full key
        ``"glute_max_r.peak_pct"``); default :data:`MUSCLE_METRICS` and :data:`SESSION_METRICS`.
    mdc95
        Your own MDC95 per metric (a full key or a metric name, in the metric's unit), e.g. from
        a between-day test-retest study; it judges every change of that metric instead of the
        one from the reps (the reps' reliability is still reported).
    """
    given = dict(mdc95 or {})
    for key, value in given.items():
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"mdc95[{key!r}] must be a positive number, got {value!r}")
    wanted = tuple(metrics) if metrics is not None else MUSCLE_METRICS + SESSION_METRICS
    chosen = [r for r in records if subject is None or r.subject == subject]
    chosen.sort(key=lambda r: (r.start_utc or "", r.path))
    skipped = [(r.path, "no reps") for r in chosen if not r.reps]
    usable = [r for r in chosen if r.reps]
    tracks = []
    for exercise in sorted({r.exercise or "unknown" for r in usable}):
        group = [r for r in usable if (r.exercise or "unknown") == exercise]
        keys = dict.fromkeys(k for r in group for k in r.summary if _tracked(k, wanted))
        for key in keys:
            own = given.get(key, given.get(key.rsplit(".", 1)[-1]))
            tracks.append(_track(exercise, key, group, own))
    return Progress(subject, tracks, len(chosen), skipped)


def _tracked(key: str, wanted: Sequence[str]) -> bool:
    return key in wanted or key.rsplit(".", 1)[-1] in wanted and "." in key


def _track(exercise: str, metric: str, group: Sequence[SessionRecord], own_mdc: float | None) -> Track:
    stats, note = metric_reliability([r.reps for r in group], metric)
    if own_mdc is not None:
        note = f"MDC95 {own_mdc:g} given; {note}"

    def mdc_of(n_a: int, n_b: int) -> float | None:
        if own_mdc is not None:
            return float(own_mdc)
        return None if stats is None else mdc95_between(stats, n_a, n_b)

    points: list[Point] = []
    last: tuple[float, int] | None = None
    for r in group:
        value = _num(r.summary.get(metric))
        n = len(r.reps)
        if value is None:
            points.append(Point(r.path, r.start_utc, None, n))
            continue
        change = mdc = None
        if last is not None:
            change = value - last[0]
            mdc = mdc_of(last[1], n)
        points.append(Point(r.path, r.start_utc, value, n, change, mdc, judge(metric, change, mdc)))
        last = (value, n)
    valued = [(p.value, p.n_reps) for p in points if p.value is not None]
    overall = mdc_all = None
    if len(valued) >= 2:
        (v0, n0), (v1, n1) = valued[0], valued[-1]
        overall = v1 - v0
        mdc_all = mdc_of(n0, n1)
    return Track(
        exercise, metric, tuple(points), stats, note, overall, mdc_all, judge(metric, overall, mdc_all)
    )


_POINT_FIELDS = ("path", "start_utc", "value", "n_reps", "change", "mdc95", "verdict")


def _num(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _num_or(v: Any) -> Any:
    return _num(v) if isinstance(v, float) else v


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}" if math.isfinite(v) else ""
    return str(v)


def _fmt(v: float | None, width: int) -> str:
    return f"{'-':>{width}}" if v is None or not math.isfinite(v) else f"{v:>{width}.4g}"
