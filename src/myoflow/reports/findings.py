"""Plain-language findings of an analysed session, for the printed report and the text output.

:func:`findings` turns a :class:`~myoflow.analysis.report.Report` into short sentences a client
reads, each from one metric of the report and nothing else:

* relaxation: "gluteus maximus (right) stayed above rest at the bottom of 3 of 10 reps (reps 3,
  7, 9)", or that every muscle relaxed after every rep;
* handover: in how many reps the glute took over from the hamstrings, the median time after
  movement onset and hip angle of the crossover, the reps without one, and stalls;
* partial reps, and the onset order of hamstrings and glute;
* tempo: a phase shorter or longer than the exercise's target in some reps
  (:mod:`myoflow.analysis.tempo`);
* fatigue, symmetry and ensemble results when the report carries them (``report.fatigue``,
  ``report.symmetry``);
* the level unit, when it is not % MVC (levels then compare within the session only).

No sentence is made up: a finding the report has no numbers for is left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from myoflow.analysis.placement import parse_placement
from myoflow.analysis.report import Report

__all__ = ["muscle_name", "rep_list", "session_findings"]

#: Canonical stem -> the name a reader knows (others: the stem's words).
_NAMES = {
    "glute_max": "gluteus maximus",
    "glute_med": "gluteus medius",
    "glute_min": "gluteus minimus",
    "tfl": "tensor fasciae latae",
}
_SIDES = {"l": "left", "r": "right"}


def muscle_name(placement: str) -> str:
    """``glute_max_r`` -> ``gluteus maximus (right)``; an unknown name keeps its words."""
    p = parse_placement(placement)
    if not p.known:
        return placement.replace("_", " ")
    name = _NAMES.get(p.muscle, p.muscle.replace("_", " "))
    return f"{name} ({_SIDES[p.side]})" if p.side in _SIDES else name


def rep_list(indices: Sequence[int], most: int = 8) -> str:
    """``[3, 7, 9]`` -> ``"reps 3, 7, 9"`` (``"rep 3"`` for one; the first ``most`` and "...")."""
    items = [str(i) for i in indices]
    text = ", ".join(items[:most]) + (", ..." if len(items) > most else "")
    return ("rep " if len(items) == 1 else "reps ") + text


def _fmt(v: float | None, unit: str, digits: int = 0) -> str | None:
    if v is None or not math.isfinite(float(v)):
        return None
    return f"{float(v):.{digits}f}{unit}"


def session_findings(report: Report) -> list[str]:
    """Short sentences about the session (empty when it has no rep)."""
    reps = report.reps
    if not reps:
        return ["No complete rep was found, so nothing could be judged."]
    n = len(reps)
    kind = "rep" if report.metrics is None else report.metrics.rep_kind
    out: list[str] = []
    by_reps: dict[tuple[int, ...], list[str]] = {}  # muscles that stayed tense in the same reps: one sentence
    for m in report.placements:
        tense = tuple(r.index for r in reps if not r.relaxation[m].relaxed)
        if tense:
            by_reps.setdefault(tense, []).append(muscle_name(m))
    for tense, muscles in by_reps.items():
        who = muscles[0] if len(muscles) == 1 else ", ".join(muscles[:-1]) + " and " + muscles[-1]
        out.append(
            f"{who} stayed above rest at the bottom of {len(tense)} of {n} {kind}s ({rep_list(tense)})."
        )
    if not by_reps:
        out.append(f"Every muscle relaxed to rest at the bottom of every {kind} ({n} of {n}).")
    out += _handover(reps, n)
    partial = [r.index for r in reps if r.partial]
    if partial:
        out.append(f"{len(partial)} of {n} {kind}s were partial, with a shorter range ({rep_list(partial)}).")
    out += _tempo(report.movement.get("tempo") or (), kind)
    out += _fatigue(getattr(report, "fatigue", None))
    out += _symmetry(getattr(report, "symmetry", None))
    unit = report.metrics.context.unit if report.metrics is not None else ""
    if unit and unit != "% MVC":
        out.append(
            f"Levels are in {unit}: they compare muscles within this session only; an MVC "
            "calibration makes them comparable across sessions."
        )
    return [s[:1].upper() + s[1:] for s in out]


#: A tempo phase as a reader says it.
_PHASE_WORDS = {
    "concentric": "the concentric (lifting) phase",
    "top": "the hold at the top",
    "eccentric": "the eccentric (lowering) phase",
    "bottom": "the rest at the bottom",
}


def _tempo(phases: Sequence[dict[str, Any]], kind: str) -> list[str]:
    """One sentence per phase off its target in some reps (the report's ``movement.tempo``)."""
    out = []
    for p in phases:
        n = len(p["seconds"])
        for reps, word in ((p["short_reps"], "shorter"), (p["long_reps"], "longer")):
            if reps:
                out.append(
                    f"{_PHASE_WORDS[p['phase']]} took {p['median_s']:.1f} s (median; target "
                    f"{p['target_s']:g} s): {word} than the target in {len(reps)} of {n} {kind}s "
                    f"({rep_list(reps)})."
                )
    return out


def _handover(reps: Sequence[Any], n: int) -> list[str]:
    hands = [(r.index, r.handover) for r in reps if r.handover is not None]
    if not hands:
        return []
    out = []
    cross = [(i, h) for i, h in hands if h.crossover_s is not None]
    missing = [i for i, h in hands if h.crossover_s is None]
    if cross:
        ms = sorted(float(h.crossover_ms) for _, h in cross if h.crossover_ms is not None)
        deg = sorted(float(h.crossover_hip_deg) for _, h in cross if h.crossover_hip_deg is not None)
        when = _fmt(ms[len(ms) // 2] if ms else None, " ms")
        angle = _fmt(deg[len(deg) // 2] if deg else None, " deg")
        detail = ", ".join(
            x
            for x in (
                f"median {when} after movement onset" if when else None,
                f"at {angle}" if angle else None,
            )
            if x
        )
        out.append(
            f"The glutes took over from the hamstrings in {len(cross)} of {len(hands)} reps"
            + (f" ({detail})." if detail else ".")
        )
    if missing:
        out.append(f"No handover to the glutes in {rep_list(missing)}.")
    stalls = [(i, h.stall) for i, h in hands if h.stall is not None]
    if stalls:
        longest = max(float(s.duration_s) for _, s in stalls)
        out.append(
            f"The movement stalled in {len(stalls)} of {n} reps ({rep_list([i for i, _ in stalls])}; "
            f"longest {longest:.1f} s)."
        )
    ham_first = [
        i
        for i, h in hands
        if h.hamstring_onset_ms is not None
        and h.glute_onset_ms is not None
        and h.hamstring_onset_ms < h.glute_onset_ms
    ]
    both = [i for i, h in hands if h.hamstring_onset_ms is not None and h.glute_onset_ms is not None]
    if both:
        out.append(f"The hamstrings switched on before the glutes in {len(ham_first)} of {len(both)} reps.")
    return out


def _fatigue(fat: Any) -> list[str]:
    if fat is None:
        return []
    flagged = [s for s in fat.sets if s.fatigue]
    out = []
    for s in flagged:
        out.append(
            f"{muscle_name(s.muscle)} showed signs of fatigue in set {s.set_index + 1}: median frequency "
            f"fell {abs(s.mdf_slope_hz_per_rep):.1f} Hz per rep while the amplitude rose."
        )
    if fat.sets and not flagged:
        out.append("No sign of myoelectric fatigue (median frequency down with amplitude up) in any set.")
    return out


def _symmetry(sym: Any) -> list[str]:
    if sym is None or not sym.sets:
        return []
    out = []
    for s in sym.sets:
        if math.isfinite(s.si_peak_pct):
            side = "left" if s.si_peak_pct > 0 else "right"
            out.append(
                f"{muscle_name(s.muscle)}: left/right symmetry index of the peaks {s.si_peak_pct:+.0f} % "
                f"in set {s.set_index + 1} ({side} side higher; 0 is symmetric)."
            )
    return out
