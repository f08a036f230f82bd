"""Honest rep finding: recognise cyclic movement (gait) as cycles, and say when reps are unsure.

Rep segmentation (:mod:`myoflow.analysis.reps`) assumes an exercise: reps separated by a
rest at the bottom. Two situations break that assumption, and the analysis must say so
rather than report confident numbers:

* **Cyclic movement** (walking, running, cycling): the limb never rests. A knee angle in gait
  has a large swing flexion per stride and a small bend at heel strike; the rep rules count
  the small bend as a separate, *partial* rep, and the relaxation verdict then looks for rest
  in a window that has none. :func:`cycle_period` recognises cyclic movement: at least
  :data:`MIN_CYCLES` full-size excursions, started at a regular interval (at least 60 % of
  the intervals within 25 % of their median) that is short (median <= :data:`MAX_CYCLE_S`;
  a strength-exercise rep with its phases and a rest takes longer). :func:`angle_cycles` then
  turns the main excursions into **cycles**: the small excursions between them are part of
  the cycle (not partial reps), each cycle runs from one main excursion's start to the next.
* **EMG-only reps** (no movement angle): bursts of the prime movers' envelope are taken as
  reps. :func:`emg_rep_doubts` lists why the count may be wrong: always that there is no
  movement angle; bursts as large as the counted ones (1.5 x the prominence needed) that were
  merged into a neighbour because they came sooner than ``min_rep_s``; intervals between
  bursts that vary a lot.

Partial reps much smaller than the rest of their set (below :data:`TINY_PARTIAL` of the median
range) are flagged by :func:`partial_doubts`: they are often a different movement (a bend at
heel strike, a shift of the position), not a short rep.

Onsets in cycles are searched from ``onset_search_s`` before the cycle's start to its end (reps:
to their top), so a muscle that fires late in the cycle (hamstrings in terminal swing) has its
onset found; one still active through the whole search has none there.
:func:`cycle_onset_doubts` names the muscles that have none in some cycles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from scipy.signal import find_peaks

from myoflow.analysis.reps import Rep, segment_reps

__all__ = [
    "MAX_CYCLE_S",
    "MIN_CYCLES",
    "TINY_PARTIAL",
    "as_cycles",
    "cycle_onset_doubts",
    "cycle_period",
    "cycle_results_doubts",
    "emg_rep_doubts",
    "partial_doubts",
]

#: Cyclic movement needs at least this many full-size excursions.
MIN_CYCLES = 3
#: ... started at most this many seconds apart (median).
MAX_CYCLE_S = 2.0
#: A partial rep below this fraction of its set's median range is doubted.
TINY_PARTIAL = 0.3


def _full(reps: list[Rep]) -> list[Rep]:
    """The full-size excursions: not partial, or (EMG reps, no range) all of them."""
    return [r for r in reps if not r.partial]


def cycle_period(reps: list[Rep], fs: float) -> float | None:
    """The median cycle (s) when ``reps`` (indices at ``fs`` Hz) are a cyclic movement
    (module docstring), else None."""
    full = _full(reps)
    if len(full) < MIN_CYCLES:
        return None
    intervals = np.diff([r.start for r in full]) / fs
    period = float(np.median(intervals))
    regular = float(np.mean(np.abs(intervals - period) <= 0.25 * period))
    return period if period <= MAX_CYCLE_S and regular >= 0.6 else None


def as_cycles(reps: list[Rep], n: int) -> list[Rep]:
    """``reps`` as movement cycles: the full-size excursions only, each ending at the next
    one's start (the last at ``n``, the end of the data), none partial, all in set 0."""
    full = _full(reps)
    ends = [r.start for r in full[1:]] + [n]
    return [replace(r, end=e, partial=False, set_index=0) for r, e in zip(full, ends, strict=True)]


#: ``min_rep_frac`` of the re-segmentation of a cyclic angle: only the main excursions.
CYCLE_REP_FRAC = 0.35


def angle_cycles(angle: np.ndarray, fs: float, reps: list[Rep], rep_options: dict[str, float]) -> list[Rep]:
    """Cycles of a cyclic movement angle: the angle re-segmented so that only its main
    excursions count (``min_rep_frac`` at least :data:`CYCLE_REP_FRAC`; a gait stride's knee
    angle does not return to the same level between swings), then :func:`as_cycles`; the
    excursions ``reps`` already found when that keeps fewer than :data:`MIN_CYCLES`."""
    options = {**rep_options, "min_rep_frac": max(CYCLE_REP_FRAC, rep_options.get("min_rep_frac", 0.0))}
    main = segment_reps(angle, fs, **options)
    return as_cycles(main if len(_full(main)) >= MIN_CYCLES else reps, angle.size)


def partial_doubts(reps: list[Rep]) -> list[str]:
    """A sentence for the partial reps below :data:`TINY_PARTIAL` of their set's median range."""
    out = []
    for s in sorted({r.set_index for r in reps}):
        members = [r for r in reps if r.set_index == s]
        typical = float(np.median([r.rom for r in members]))
        tiny = [
            k + 1
            for k, r in enumerate(reps)
            if r.set_index == s and r.partial and r.rom < TINY_PARTIAL * typical
        ]
        if tiny:
            out.append(
                f"partial rep(s) {', '.join(map(str, tiny))} moved less than {TINY_PARTIAL:.0%} of the "
                f"set's typical range ({typical:.0f} deg): they may be another movement (a shift of "
                "position, a knee bend at heel strike), not reps; check the plot, or raise "
                "min_rep_frac (--min-rep-frac) to leave them out"
            )
    return out


def cycle_onset_doubts(onsets: dict[str, list[float | None]], search_s: float) -> list[str]:
    """A sentence naming the muscles without an onset in some cycles.

    ``onsets`` maps each muscle to its onset (ms, or None) in each cycle; ``search_s`` is how
    long before a cycle's start the search begins (s). [] when every cycle has every onset.
    """
    counted = {name: sum(v is None for v in values) for name, values in onsets.items()}
    missing = {name: k for name, k in counted.items() if k}
    if not missing:
        return []
    n = max(len(values) for values in onsets.values())
    counts = ", ".join(f"{name} {k} of {n}" for name, k in missing.items())
    return [
        f"onsets in cycles are searched from {search_s:g} s before each cycle's start to its end, so "
        f"a muscle that is active through the whole search or never rises above its threshold has "
        f"none there: no onset in {counts} cycles (the envelope and the relaxation windows are "
        "still analysed)"
    ]


def cycle_results_doubts(results: Sequence[Any], search_s: float) -> list[str]:
    """:func:`cycle_onset_doubts` of the movement cycles' results so far
    (:class:`~myoflow.analysis.rep_summary.RepResult`: each muscle's ``onset_ms``): the one rule
    the offline analysis (once, over every cycle) and the live one (after each finished cycle,
    :class:`~myoflow.analysis.live.LiveAnalysis`) call. [] without results."""
    if not results:
        return []
    names = list(results[0].muscles)
    return cycle_onset_doubts({name: [r.muscles[name].onset_ms for r in results] for name in names}, search_s)


def emg_rep_doubts(
    driver: np.ndarray, fs: float, reps: list[Rep], prominence: float, min_rep_s: float = 1.5
) -> list[str]:
    """Why EMG-only reps may be miscounted (module docstring).

    ``driver`` ``(n,)`` is the smoothed mean envelope the bursts were found in,
    ``prominence`` the prominence a burst needed to count (same unit), ``min_rep_s`` the
    shortest interval between two counted bursts.
    """
    out = [
        f"no movement angle: {len(reps)} rep(s) were taken from bursts of the prime movers' EMG; the "
        "count and the phases are unsure (wear a pelvis/thigh IMU or record a joint angle)"
    ]
    if driver.size < 3 or not np.isfinite(driver).all():
        return out
    big, _ = find_peaks(driver, prominence=1.5 * prominence)
    counted = [r.top for r in reps]
    merged = [int(p) for p in big if min((abs(int(p) - c) for c in counted), default=driver.size) > 0.5 * fs]
    if merged:
        times = ", ".join(f"{p / fs:.1f}" for p in merged[:6]) + (" ..." if len(merged) > 6 else "")
        out.append(
            f"{len(merged)} more EMG burst(s) as large as the counted ones (at {times} s) lay within "
            f"{min_rep_s:g} s of a counted rep and were merged into it: if the movement is faster "
            "than that (e.g. gait), the rep count is too low"
        )
    if len(reps) >= 3:
        gaps = np.diff([r.top for r in reps]) / fs
        cv = float(np.std(gaps) / np.mean(gaps))
        if cv > 0.3:
            out.append(
                f"the intervals between the EMG bursts vary by {cv:.0%} (coefficient of variation): "
                "bursts may have been merged or missed"
            )
    return out
