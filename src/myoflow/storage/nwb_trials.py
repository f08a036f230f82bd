"""The analysis of a recording in its NWB file: reps as trials, sets as epochs, envelopes as
processed data (used by :func:`myoflow.storage.nwb.export_nwb`).

Storage knows no metrics: the caller passes the analysis report's JSON document
(:meth:`~myoflow.analysis.report.Report.to_dict`) and the processed arrays as plain data.
Session seconds of the report (0 = the first sample of the first EMG stream, host time
``source.t0_host_s``) become NWB seconds by adding ``t0_host_s - t_ref``.

* **trials**: one row per rep: ``start_time``/``stop_time`` (movement onset to the end of its
  bottom window), ``rep``, ``set`` (1-based), ``partial``, ``rom_deg``, the phase times
  ``top_time``, ``eccentric_time``, ``bottom_time`` and ``crossover_time`` (NWB seconds; NaN when
  there is none), ``relaxed`` (every muscle back at rest at the bottom) and ``tense_muscles``,
  and ``<muscle>_peak_pct`` per muscle;
* **epochs**: one per set (``tags`` ``["set N"]``, ``set``, ``n_reps``);
* **processing module** ``myoflow``: one ``TimeSeries`` per processed array (e.g. ``envelope``
  ``(n, ch)`` in the session's level unit, ``movement_angle`` in deg), with its rate and
  starting time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["PROCESSING_MODULE", "add_analysis"]

#: Name of the NWB processing module that holds the processed series.
PROCESSING_MODULE = "myoflow"

_TRIAL_COLUMNS = {
    "rep": "rep number (1-based)",
    "set": "set number (1-based)",
    "partial": "the rep covered less than the session's usual range",
    "rom_deg": "range of the movement angle in the rep (deg; NaN without an angle)",
    "top_time": "end of the concentric phase (s)",
    "eccentric_time": "start of the eccentric phase (s)",
    "bottom_time": "end of the eccentric phase, start of the bottom window (s)",
    "crossover_time": "glute/hamstring crossover (s; NaN when none)",
    "relaxed": "every muscle relaxed to rest in the bottom window",
    "tense_muscles": "muscles that stayed above rest in the bottom window (comma-separated)",
}


def _num(v: Any) -> float:
    return float("nan") if v is None else float(v)


def add_analysis(
    nwb: Any, analysis: Mapping[str, Any] | None, processed: Sequence[Mapping[str, Any]], t_ref: float
) -> None:
    """Add trials, epochs and the processing module of ``analysis`` to ``nwb`` (see module doc).

    ``processed`` items: ``name``, ``data`` (array, rows = samples), ``rate`` (Hz), ``start_s``
    (session seconds of row 0), ``unit``, ``description``.
    """
    if analysis is None:
        return
    t0 = analysis.get("source", {}).get("t0_host_s")
    if t0 is None:
        return
    shift = float(t0) - t_ref
    reps = analysis.get("reps") or []
    muscles = list((analysis.get("session") or {}).get("muscles") or {})
    column = dict(zip(muscles, nwb_names(f"{m}_peak_pct" for m in muscles), strict=True))
    if reps:
        for name, desc in _TRIAL_COLUMNS.items():
            nwb.add_trial_column(name=name, description=desc)
        for m in muscles:
            nwb.add_trial_column(name=column[m], description=f"peak level of {m} in the rep (level unit)")
        for r in reps:
            ph = r["phases_s"]
            tense = [m for m, v in (r.get("relaxation") or {}).items() if not v.get("relaxed", True)]
            hand = r.get("handover") or {}
            row = {
                "start_time": float(ph["start"]) + shift,
                "stop_time": float(ph["end"]) + shift,
                "rep": int(r["index"]),
                "set": int(r["set_index"]) + 1,
                "partial": bool(r.get("partial")),
                "rom_deg": _num(r.get("rom_deg")),
                "top_time": float(ph["top"]) + shift,
                "eccentric_time": float(ph["eccentric"]) + shift,
                "bottom_time": float(ph["bottom"]) + shift,
                "crossover_time": _num(hand.get("crossover_s")) + shift,
                "relaxed": not tense,
                "tense_muscles": ",".join(tense),
            }
            for m in muscles:
                row[column[m]] = _num(((r.get("muscles") or {}).get(m) or {}).get("peak_pct"))
            nwb.add_trial(**row)
    sets = analysis.get("sets") or []
    if sets:
        nwb.add_epoch_column(name="set", description="set number (1-based)")
        nwb.add_epoch_column(name="n_reps", description="reps in the set")
        for s in sets:
            a, b = s["span_s"]
            nwb.add_epoch(
                start_time=float(a) + shift,
                stop_time=float(b) + shift,
                tags=[f"set {int(s['index']) + 1}"],
                set=int(s["index"]) + 1,
                n_reps=len(s.get("reps") or []),
            )
    _add_processed(nwb, processed, shift)


def nwb_names(names: Iterable[str]) -> list[str]:
    """``names`` as NWB object names: ``/`` and ``:`` (not allowed in NWB) become ``_``, and a
    name made equal to an earlier one gets ``_2``, ``_3``, ... (a channel without a placement is
    ``diy/emg/ch1``)."""
    out: list[str] = []
    for raw in names:
        name = raw.replace("/", "_").replace(":", "_")
        base, k = name, 2
        while name in out:
            name, k = f"{base}_{k}", k + 1
        out.append(name)
    return out


def _add_processed(nwb: Any, processed: Sequence[Mapping[str, Any]], shift: float) -> None:
    from pynwb import TimeSeries

    if not processed:
        return
    module = nwb.create_processing_module(
        name=PROCESSING_MODULE,
        description="myoflow analysis: envelopes and movement angle the results came from",
    )
    names = nwb_names(str(p["name"]) for p in processed)
    for p, name in zip(processed, names, strict=True):
        data = np.asarray(p["data"])
        if data.size == 0:
            continue
        rate = float(p["rate"])
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"processed series {p['name']!r}: rate must be a positive number, got {rate!r}")
        module.add(
            TimeSeries(
                name=name,
                data=data,
                unit=str(p.get("unit") or "n/a"),
                starting_time=float(p.get("start_s", 0.0)) + shift,
                rate=rate,
                description=str(p.get("description") or ""),
                comments=str(p.get("comments") or "no comments"),
            )
        )
