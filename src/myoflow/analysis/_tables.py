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
    "MUSCLE_FIELDS",
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
