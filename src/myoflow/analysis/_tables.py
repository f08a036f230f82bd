"""A report's results as rows: per rep (the CSV), per set and per session, and as DataFrames.

:class:`~myoflow.analysis.report.Report` calls these (``rep_rows``, ``to_csv``,
``to_dataframe``). pandas is optional (``pip install 'myoflow[pandas]'``); it is imported only
by :func:`report_frame`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from myoflow._checks import check_option

if TYPE_CHECKING:
    from myoflow.analysis.report import Report

__all__ = [
    "ASSIST_FIELDS",
    "MUSCLE_FIELDS",
    "after_set_dict",
    "assist_dict",
    "assist_row",
    "TABLES",
    "handover_fields",
    "rep_rows",
    "report_frame",
    "set_rows",
    "session_row",
]

#: Per-muscle activation fields of a rep, as the JSON and the CSV name them.
MUSCLE_FIELDS = ("peak_pct", "mean_pct", "onset_ms", "onset_uncertainty_ms", "offset_ms", "time_above_s")
#: Values of ``Report.to_dataframe(table)``.
TABLES = ("reps", "sets", "session")


#: Per-agonist antagonist-assist fields of a rep in the CSV (:mod:`myoflow.analysis.antagonist_assist`).
ASSIST_FIELDS = ("assist_burst", "assist_burst_ms", "assist_relaxed_after", "assist_relax_delay_ms")


def assist_dict(a: Any) -> dict[str, Any]:
    """One rep's antagonist-assist record as in the JSON (``reps[i].antagonist_assist``)."""
    return {
        "antagonist": a.antagonist,
        "burst": a.burst,
        "burst_s": a.burst_s,
        "burst_ms": a.burst_ms,
        "burst_peak_pct": a.burst_peak_pct,
        "relaxed_after": a.relaxed_after,
        "relax_delay_ms": a.relax_delay_ms,
    }


def after_set_dict(a: Any) -> dict[str, Any]:
    """One muscle's relaxation after a set as in the JSON (``sets[i].after_set``)."""
    return {
        "set_end_s": a.set_end_s,
        "time_to_relax_s": a.time_to_relax_s,
        "residual_pct": a.residual_pct,
        "residual_x_rest": a.residual_x_rest,
        "relaxed": a.relaxed,
        "rest_after_s": a.rest_after_s,
    }


def assist_row(a: Any) -> dict[str, Any]:
    """The same record as CSV cells, keyed by :data:`ASSIST_FIELDS` (booleans as 0/1)."""
    return {
        "assist_burst": int(a.burst),
        "assist_burst_ms": a.burst_ms,
        "assist_relaxed_after": None if a.relaxed_after is None else int(a.relaxed_after),
        "assist_relax_delay_ms": a.relax_delay_ms,
    }


def handover_fields(h: Any) -> dict[str, Any]:
    """The handover's onsets and crossover, as both the JSON and the CSV name them."""
    return {
        "hamstring_onset_ms": h.hamstring_onset_ms,
        "glute_onset_ms": h.glute_onset_ms,
        "crossover_s": h.crossover_s,
        "crossover_ms": h.crossover_ms,
        "crossover_angle_deg": h.crossover_hip_deg,
        "crossover_pct": h.crossover_pct,
    }


def rep_rows(report: Report) -> list[dict[str, Any]]:
    """One dict per rep, keys ``report.csv_columns()`` in order, None for a missing value."""
    cols = report.csv_columns()
    unit = None if report.metrics is None else report.metrics.context.unit
    rows = []
    for r in report.reps:
        row: dict[str, Any] = {
            "rep": r.index,
            "set_index": r.set_index,
            "partial": int(r.partial),
            "level_unit": unit,
            "rom_deg": r.rom_deg,
            "concentric_s": r.concentric_s,
            "top_hold_s": r.phases["eccentric"] - r.phases["top"],
            "eccentric_phase_s": r.phases["bottom"] - r.phases["eccentric"],
        }
        row.update({f"{k}_s": v for k, v in r.phases.items()})
        for m in report.placements:
            act, rel = r.muscles[m], r.relaxation[m]
            row.update({f"{m}.{f}": getattr(act, f) for f in MUSCLE_FIELDS})
            row[f"{m}.relaxed"] = int(rel.relaxed)
            row[f"{m}.bottom_min_pct"] = rel.bottom_min_pct
            row[f"{m}.bottom_min_x_rest"] = rel.bottom_min_x_rest
            row[f"{m}.longest_gap_s"] = rel.longest_gap_s
            row[f"{m}.threshold_pct"] = rel.threshold_pct
            cue = rel.antagonist
            row[f"{m}.antagonist_cue"] = None if cue is None else int(cue.cue)
            row[f"{m}.antagonist_lead_ms"] = None if cue is None else cue.lead_ms
        h = r.handover
        if h is not None:
            st = h.stall
            row.update(
                {
                    **handover_fields(h),
                    "stall_start_s": None if st is None else st.start_s,
                    "stall_duration_s": None if st is None else st.duration_s,
                    "stall_angle_deg": None if st is None else st.hip_deg,
                    "stall_activation_drop_pct": None if st is None else st.activation_drop_pct,
                }
            )
        row.update({f"{m}.eccentric_hold_pct": v for m, v in r.eccentric_hold_pct.items()})
        row.update({f"{p}.cocontraction_pct": v for p, v in r.cocontraction_pct.items()})
        for block in (report.fatigue, report.symmetry):
            if block is not None:
                row.update(
                    {f"{m}.{k}": v for m, vals in block.rep_dict(r.index).items() for k, v in vals.items()}
                )
        for m, a in r.antagonist_assist.items():
            row.update({f"{m}.{f}": v for f, v in assist_row(a).items()})
        rows.append({k: row.get(k) for k in cols})
    return rows


def set_rows(report: Report) -> list[dict[str, Any]]:
    """One dict per set: index, first and last rep (1-based), span (s), its summary, tension shares."""
    rows = []
    for s in [] if report.metrics is None else report.metrics.sets:
        row: dict[str, Any] = {
            "set_index": s.index,
            "first_rep": s.reps[0] if s.reps else None,
            "last_rep": s.reps[-1] if s.reps else None,
            "start_s": s.span_s[0],
            "end_s": s.span_s[1],
        }
        row.update(report.summary(s.index))
        row["n_reps"] = int(row["n_reps"])
        row.update({f"{m}.sustained_tension_share": v for m, v in s.sustained_tension_share.items()})
        for m, a in s.after_set.items():
            row[f"{m}.time_to_relax_s"] = a.time_to_relax_s
            row[f"{m}.residual_pct"] = a.residual_pct
            row[f"{m}.relaxed_after_set"] = int(a.relaxed)
        rest = [a.rest_after_s for a in s.after_set.values()]
        row["rest_after_s"] = rest[0] if rest else None
        rows.append(row)
    return rows


def session_row(report: Report) -> dict[str, Any]:
    """The session in one dict: file, subject, exercise, level unit, then :meth:`Report.summary`."""
    src = report.source
    unit = None if report.metrics is None else report.metrics.context.unit
    row: dict[str, Any] = {
        "file": src.get("file"),
        "subject_id": src.get("subject_id") or None,
        "exercise": src.get("exercise") or None,
        "level_unit": unit,
    }
    row.update(report.summary())
    row["n_reps"] = int(row["n_reps"])
    return row


def report_frame(report: Report, table: str = "reps") -> Any:
    """``report.to_dataframe(table)``: a pandas DataFrame of :data:`TABLES` ``table``."""
    from myoflow._extras import require

    check_option(table, "table", TABLES)
    pd = require("pandas", "Report.to_dataframe")
    if table == "reps":
        return pd.DataFrame(rep_rows(report), columns=report.csv_columns())
    if table == "sets":
        rows = set_rows(report)
        lead = ["set_index", "first_rep", "last_rep", "start_s", "end_s", "n_reps"]
        return pd.DataFrame(rows, columns=list(dict.fromkeys([*lead, *(k for r in rows for k in r)])))
    return pd.DataFrame([session_row(report)])
