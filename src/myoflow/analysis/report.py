"""The analysis report: per rep, per set and per session results, as JSON and CSV.

:func:`myoflow.reports.analyze` returns a :class:`Report`. It wraps the metric core's
:class:`~myoflow.analysis.session_metrics.SessionMetrics` with what the recording said (file,
streams, exercise, how the movement angle was made, what is missing) and turns it into

* :meth:`Report.to_dict` / :meth:`Report.to_json`: the versioned JSON document
  (``schema = "myoflow.analysis-report"``, :data:`SCHEMA_VERSION`), keys documented in
  ``docs/analysis-report.md``. Units are in the key names (``_s``, ``_ms``, ``_deg``, ``_pct``,
  ``_share`` 0-1); ``_pct`` levels are in ``session.level_unit`` (``% MVC`` or
  ``% session peak``). Missing values (no onset, no crossover, NaN) are ``null``.
* :meth:`Report.to_csv`: one row per rep (columns in the same document).
* :meth:`Report.summary`: flat ``{metric: value}`` of the whole session (or one set), the
  numbers :mod:`myoflow.analysis.retest` compares.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from myoflow.analysis._tables import (
    ASSIST_FIELDS,
    MUSCLE_FIELDS,
    after_set_dict,
    assist_dict,
    handover_fields,
    rep_rows,
    report_frame,
)
from myoflow.analysis.placement import parse_placement
from myoflow.analysis.rep_summary import RepResult
from myoflow.analysis.session_metrics import SessionMetrics

if TYPE_CHECKING:
    from myoflow.analysis.ensemble import Ensemble
    from myoflow.analysis.fatigue import SessionFatigue
    from myoflow.analysis.symmetry import SessionSymmetry

SCHEMA = "myoflow.analysis-report"
#: Bumped whenever a key changes meaning or disappears (added keys keep the version).
SCHEMA_VERSION = 1
#: Per-rep CSV columns ``<muscle>.<field>`` of the fatigue and (per pair) symmetry results.
FATIGUE_FIELDS = ("mnf_hz", "mdf_hz", "rms_uv")
SYMMETRY_FIELDS = ("si_peak_pct", "si_mean_pct", "onset_diff_ms")
#: Balance sway carried by :meth:`Report.summary` from ``movement["holds"]`` (single-leg balance).
SWAY_KEYS = ("sway_rms_ap_deg", "sway_rms_ml_deg", "ellipse_area_deg2")


@dataclass(frozen=True)
class Signals:
    """The arrays a report was computed from (kept for plotting; not part of the JSON).

    ``envelope`` ``(n, ch)`` normalised zero-phase envelope in the session's level unit at
    ``emg_fs`` Hz, sample 0 at session time 0; ``angle`` ``(m,)`` movement angle in deg at
    ``angle_fs`` Hz from time 0 (None in EMG-only mode).
    """

    envelope: np.ndarray
    emg_fs: float
    angle: np.ndarray | None = None
    angle_fs: float | None = None


@dataclass
class Report:
    """Everything :func:`~myoflow.reports.analyze` found in one recording.

    Attributes
    ----------
    source
        ``file``, ``subject_id``, ``exercise``, ``emg_streams``, ``movement_streams``,
        ``start_utc``, ``t0_host_s`` (host-clock time of session time 0), ``duration_s``.
    movement
        ``source`` (``"hip"``, ``"segment"``, ``"knee"``, ``"emg"``), ``description``,
        ``angle_rate_hz``, ``sign`` (+1, or -1 when the angle was negated).
    metrics
        The metric core's results; None when nothing could be analysed.
    notes
        What was assumed, repaired or missing, in words.
    unavailable
        Metric -> why it cannot be computed (e.g. ``"handover needs a hamstring and a glute
        channel ..."``).
    channels
        Placement -> ``{"stream": name, "channel": label}`` of each EMG channel.
    signals
        The arrays behind the results, for :func:`myoflow.reports.plot.plot_report`.
    normalisation
        ``method`` (``"mvc"``, ``"submaximal"``, ``"session_peak"``), ``unit``,
        ``references`` ``{muscle: {"value_uv", "source"}}``, ``missing`` (channels without one).
    mains
        ``mains_hz`` used by the notch filters and ``source`` (given, stored, detected, assumed).
    warnings
        Where a result may be wrong and why (unknown placements, unsure rep detection); the
        command line prints them on stderr.
    fatigue, symmetry, ensembles
        Spectral fatigue per rep and set (:mod:`myoflow.analysis.fatigue`), left/right
        symmetry (:mod:`myoflow.analysis.symmetry`) and phase -> time-normalised ensemble
        (:mod:`myoflow.analysis.ensemble`); None/empty when not computed.
    """

    source: dict[str, Any]
    movement: dict[str, Any]
    metrics: SessionMetrics | None
    notes: list[str] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    channels: dict[str, dict[str, str]] = field(default_factory=dict)
    emg_rate_hz: float | None = None
    signals: Signals | None = None
    normalisation: dict[str, Any] = field(default_factory=dict)
    mains: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    fatigue: SessionFatigue | None = None
    symmetry: SessionSymmetry | None = None
    ensembles: dict[str, Ensemble] = field(default_factory=dict)

    @property
    def reps(self) -> list[RepResult]:
        """Per-rep results (empty when nothing was analysed)."""
        return [] if self.metrics is None else list(self.metrics.results)

    @property
    def placements(self) -> tuple[str, ...]:
        """The EMG channels' placements, in channel order (empty when nothing was analysed)."""
        return () if self.metrics is None else self.metrics.context.placements

    # ------------------------------------------------------------------ flat summaries

    def summary(self, set_index: int | None = None) -> dict[str, float]:
        """Flat per-metric summary of the session, or of one set (0-based ``set_index``).

        Keys: ``n_reps``, ``rom_deg``, ``concentric_s``, ``eccentric_s`` (means),
        ``<muscle>.peak_pct`` / ``.mean_pct`` / ``.time_above_s`` (means), ``<muscle>.onset_ms``
        (median of the reps with an onset), ``<muscle>.relaxed_share`` (0-1),
        ``<muscle>.bottom_min_pct`` (mean), ``crossover_ms`` / ``crossover_angle_deg`` /
        ``crossover_pct`` (medians), ``crossover_share`` and ``stall_share`` (0-1 of reps),
        ``<glute>.eccentric_hold_pct`` and ``<pair>.cocontraction_pct`` (means); for the
        single-leg balance test, ``sway_rms_ap_deg`` / ``sway_rms_ml_deg`` /
        ``ellipse_area_deg2`` (means over the reps' holds, ``movement["holds"]``). A metric
        with no value in any rep is NaN.
        """
        reps = [r for r in self.reps if set_index is None or r.set_index == set_index]
        out: dict[str, float] = {"n_reps": float(len(reps))}
        if not reps:
            return out
        out["rom_deg"] = _mean(r.rom_deg for r in reps)
        out["concentric_s"] = _mean(r.concentric_s for r in reps)
        out["eccentric_s"] = _mean(r.phases["bottom"] - r.phases["eccentric"] for r in reps)
        for m in self.placements:
            acts = [r.muscles[m] for r in reps]
            out[f"{m}.peak_pct"] = _mean(a.peak_pct for a in acts)
            out[f"{m}.mean_pct"] = _mean(a.mean_pct for a in acts)
            out[f"{m}.time_above_s"] = _mean(a.time_above_s for a in acts)
            out[f"{m}.onset_ms"] = _median(a.onset_ms for a in acts)
            out[f"{m}.relaxed_share"] = _mean(float(r.relaxation[m].relaxed) for r in reps)
            out[f"{m}.bottom_min_pct"] = _mean(r.relaxation[m].bottom_min_pct for r in reps)
        hands = [r.handover for r in reps if r.handover is not None]
        if hands:
            out["crossover_ms"] = _median(h.crossover_ms for h in hands)
            out["crossover_angle_deg"] = _median(h.crossover_hip_deg for h in hands)
            out["crossover_pct"] = _median(h.crossover_pct for h in hands)
            out["crossover_share"] = _mean(float(h.crossover_s is not None) for h in hands)
            out["stall_share"] = _mean(float(h.stall is not None) for h in hands)
        for m in reps[0].eccentric_hold_pct:
            out[f"{m}.eccentric_hold_pct"] = _mean(r.eccentric_hold_pct[m] for r in reps)
        for pair in reps[0].cocontraction_pct:
            out[f"{pair}.cocontraction_pct"] = _mean(r.cocontraction_pct[pair] for r in reps)
        indices = {r.index for r in reps}
        holds = [h for h in self.movement.get("holds") or () if h.get("rep") in indices and SWAY_KEYS[0] in h]
        for k in SWAY_KEYS if holds else ():
            out[k] = _mean(h.get(k) for h in holds)
        return out

    # ------------------------------------------------------------------ JSON

    def to_dict(self) -> dict[str, Any]:
        """The JSON document as plain Python objects (``None`` for missing values)."""
        m = self.metrics
        session: dict[str, Any] = {
            "level_unit": None if m is None else m.context.unit,
            "mode": self.movement.get("source"),
            "rep_source": None if m is None else m.rep_source,
            "rep_kind": "rep" if m is None else m.rep_kind,
            "emg_rate_hz": self.emg_rate_hz,
            "angle_rate_hz": self.movement.get("angle_rate_hz"),
            "n_reps": len(self.reps),
            "n_sets": 0 if m is None else len(m.sets),
            "muscles": {},
            "bottom_rest_s": None if m is None else m.context.bottom_rest_s,
            "antagonists": {} if m is None else dict(m.context.antagonists),
            "normalisation": dict(self.normalisation),
            "mains_hz": self.mains.get("mains_hz"),
            "mains_source": self.mains.get("source"),
            "onset_method": None if m is None else m.context.params.onset_method,
            "unavailable": dict(self.unavailable),
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "summary": self.summary(),
            "fatigue": None if self.fatigue is None else self.fatigue.to_dict(),
            "symmetry": None if self.symmetry is None else self.symmetry.to_dict(),
        }
        if m is not None:
            lv = m.context.levels
            for c, name in enumerate(m.context.placements):
                session["muscles"][name] = {
                    "role": parse_placement(name).role,
                    **self.channels.get(name, {}),
                    "rest_mean_pct": float(lv.mean[c]),
                    "rest_sd_pct": float(lv.sd[c]),
                    "rest_threshold_pct": float(lv.rest_threshold[c]),
                    "onset_threshold_pct": float(lv.onset_threshold[c]),
                }
        sets = []
        for s in [] if m is None else m.sets:
            sets.append(
                {
                    "index": s.index,
                    "reps": list(s.reps),
                    "span_s": list(s.span_s),
                    "sustained_tension_share": dict(s.sustained_tension_share),
                    "relaxed_share": dict(s.relaxed_share),
                    "after_set": {m: after_set_dict(a) for m, a in s.after_set.items()},
                    "summary": self.summary(s.index),
                    "fatigue": None if self.fatigue is None else self.fatigue.set_dict(s.index),
                    "symmetry": None if self.symmetry is None else self.symmetry.set_dict(s.index),
                }
            )
        doc = {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "source": dict(self.source),
            "movement": dict(self.movement),
            "session": session,
            "sets": sets,
            "reps": [self._rep_dict(r) for r in self.reps],
            "ensembles": {phase: e.to_dict() for phase, e in self.ensembles.items()},
        }
        return _jsonable(doc)

    def _rep_dict(self, r: RepResult) -> dict[str, Any]:
        d = rep_to_dict(r)
        d["fatigue"] = None if self.fatigue is None else self.fatigue.rep_dict(r.index)
        d["symmetry"] = None if self.symmetry is None else self.symmetry.rep_dict(r.index)
        return d

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (strict: no NaN or Infinity)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    # ------------------------------------------------------------------ CSV

    def csv_columns(self) -> list[str]:
        """Column names of :meth:`to_csv`, in order."""
        cols = ["rep", "set_index", "partial", "level_unit", "rom_deg"]
        cols += [f"{p}_s" for p in ("start", "top", "eccentric", "bottom", "end")]
        cols += ["concentric_s", "top_hold_s", "eccentric_phase_s"]
        for m in self.placements:
            cols += [f"{m}.{f}" for f in MUSCLE_FIELDS]
            cols += [f"{m}.{f}" for f in ("relaxed", "bottom_min_pct", "bottom_min_x_rest", "longest_gap_s")]
            cols += [f"{m}.threshold_pct", f"{m}.antagonist_cue", f"{m}.antagonist_lead_ms"]
        reps = self.reps
        if reps and reps[0].handover is not None:
            cols += [
                "hamstring_onset_ms",
                "glute_onset_ms",
                "crossover_s",
                "crossover_ms",
                "crossover_angle_deg",
                "crossover_pct",
                "stall_start_s",
                "stall_duration_s",
                "stall_angle_deg",
                "stall_activation_drop_pct",
            ]
        if reps:
            cols += [f"{m}.eccentric_hold_pct" for m in reps[0].eccentric_hold_pct]
            cols += [f"{p}.cocontraction_pct" for p in reps[0].cocontraction_pct]
            cols += [f"{m}.{f}" for m in reps[0].antagonist_assist for f in ASSIST_FIELDS]
        if self.fatigue is not None:
            cols += [f"{m}.{k}" for m in self.placements for k in FATIGUE_FIELDS]
        if self.symmetry is not None:
            cols += [f"{m}.{k}" for m, _, _ in self.symmetry.pairs for k in SYMMETRY_FIELDS]
        return cols

    def rep_rows(self) -> list[dict[str, Any]]:
        """One dict per rep, keys :meth:`csv_columns` in order, None for a missing value."""
        return rep_rows(self)

    def to_csv(self) -> str:
        """One row per rep (:meth:`rep_rows`); empty cells for missing values (header only when no reps)."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self.csv_columns(), lineterminator="\n")
        writer.writeheader()
        for row in self.rep_rows():
            writer.writerow({k: _cell(v) for k, v in row.items()})
        return buf.getvalue()

    def to_dataframe(self, table: str = "reps") -> Any:
        """A table of the report as a pandas DataFrame (``pip install 'myoflow[pandas]'``).

        Parameters
        ----------
        table
            ``"reps"``: one row per rep, the columns of :meth:`to_csv`; ``"sets"``: one row per
            set (``set_index``, ``first_rep``, ``last_rep``, ``start_s``, ``end_s``, then the
            keys of :meth:`summary` for that set and ``<muscle>.sustained_tension_share``);
            ``"session"``: one row, ``file``, ``subject_id``, ``exercise``, ``level_unit`` and
            :meth:`summary`.

        Returns
        -------
        pandas.DataFrame
            Missing values are NaN (numbers) or None (text).
        """
        return report_frame(self, table)


def rep_to_dict(r: RepResult) -> dict[str, Any]:
    """One rep as in the JSON document (``reps[i]``); NaN left in (see :func:`_jsonable`)."""
    ph = r.phases
    relax = {}
    for m, rel in r.relaxation.items():
        cue = rel.antagonist
        relax[m] = {
            "relaxed": rel.relaxed,
            "bottom_min_pct": rel.bottom_min_pct,
            "bottom_min_x_rest": rel.bottom_min_x_rest,
            "threshold_pct": rel.threshold_pct,
            "gaps_s": [list(g) for g in rel.gaps_s],
            "longest_gap_s": rel.longest_gap_s,
            "window_s": list(rel.window_s),
            "antagonist": None
            if cue is None
            else {"muscle": cue.antagonist, "cue": cue.cue, "lead_ms": cue.lead_ms, "peak_pct": cue.peak_pct},
        }
    h = r.handover
    handover = None
    if h is not None:
        st = h.stall
        handover = {
            **handover_fields(h),
            "stall": None
            if st is None
            else {
                "start_s": st.start_s,
                "end_s": st.end_s,
                "duration_s": st.duration_s,
                "angle_deg": st.hip_deg,
                "min_speed_pct": st.min_speed_pct,
                "activation_drop_pct": st.activation_drop_pct,
                "from_crossover_s": st.from_crossover_s,
            },
        }
    return {
        "index": r.index,
        "set_index": r.set_index,
        "partial": r.partial,
        "rom_deg": r.rom_deg,
        "phases_s": dict(ph),
        "durations_s": {
            "concentric": ph["top"] - ph["start"],
            "top_hold": ph["eccentric"] - ph["top"],
            "eccentric": ph["bottom"] - ph["eccentric"],
            "bottom_rest": ph["end"] - ph["bottom"],
        },
        "muscles": {m: {f: getattr(a, f) for f in MUSCLE_FIELDS} for m, a in r.muscles.items()},
        "relaxation": relax,
        "handover": handover,
        "eccentric_hold_pct": dict(r.eccentric_hold_pct),
        "cocontraction_pct": dict(r.cocontraction_pct),
        "antagonist_assist": {m: assist_dict(a) for m, a in r.antagonist_assist.items()},
    }


def _finite(values: Iterable[float | None]) -> np.ndarray:
    arr = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    return arr[np.isfinite(arr)]


def _mean(values: Iterable[float | None]) -> float:
    v = _finite(values)
    return float(v.mean()) if v.size else float("nan")


def _median(values: Iterable[float | None]) -> float:
    v = _finite(values)
    return float(np.median(v)) if v.size else float("nan")


def _jsonable(x: Any) -> Any:
    """Plain JSON types: numpy scalars to Python, tuples to lists, NaN and infinities to None."""
    kind = type(x)  # the plain types first (a report holds ~200,000 values)
    if kind is float:
        return x if math.isfinite(x) else None
    if kind is dict:
        return {str(k): _jsonable(v) for k, v in x.items()}
    if kind is list or kind is tuple:
        return [_jsonable(v) for v in x]
    if x is None or kind is str or kind is int or kind is bool:
        return x
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        v = float(x)
        return v if math.isfinite(v) else None
    return x


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, (float, np.floating)):
        return "" if not math.isfinite(float(v)) else f"{float(v):.6g}"
    return v
