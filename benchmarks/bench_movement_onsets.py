"""Knee-extensor onsets against when the knee starts to move (UCI seated leg extensions).

No expert-marked onsets are reachable (docs/metrics.md, "Against human experts"); this scores
every onset method on truth it never sees: the extension onsets of the knee goniometer in the
UCI lower-limb dataset's seated leg extensions (``benchmarks/_movement_truth.py`` has the rule).
For each extension and each knee extensor (rectus femoris, vastus medialis) the nearest onset
within -1.0..+0.5 s is taken; its lead is onset minus movement onset (negative: EMG first).

Figures per method: extensions found, median lead and quartiles, the share *after* the movement
began (certainly late), the share later than 20 ms before it (late by the shortest published
knee-extensor electromechanical delay), and the spread: the median over file x muscle of the
median absolute deviation of the leads (a consistent detector keeps each muscle's lead steady).

Data: ``--data`` is a folder holding UCI ``*sen.txt`` files at any depth. The default,
``../shared/data/uci_lower_limb_semg``, holds two (1Nsen, 4Nsen); all 22 (21 distinct) are in
the dataset (``SEMG_DB1/N_TXT``, ``A_TXT``). Run from the repository root:

    .venv/bin/python benchmarks/bench_movement_onsets.py [--data DIR] [--methods changepoint,threshold]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _movement_truth import (  # noqa: E402
    EXTENSORS,
    METHODS,
    MUSCLES,
    detections,
    first_extensor,
    leads_ms,
    summarise,
    trials,
)

from _common import finish  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "uci_lower_limb_semg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with UCI *sen.txt files")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated onset methods")
    args = parser.parse_args()
    methods = [m for m in args.methods.split(",") if m]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"unknown method(s) {unknown}; choose from {', '.join(METHODS)}")
    recs = trials(args.data)
    # per method: "muscle" cases (one per file x extensor) and "first" cases (one per file)
    cases: dict[str, dict[str, list[np.ndarray]]] = {m: {"muscle": [], "first": []} for m in methods}
    for rec in recs:
        found = detections(rec, methods)
        for m in methods:
            if m not in found:  # a classic detector without a rest period before the first extension
                continue
            per = [leads_ms(found[m][MUSCLES.index(mus)], rec.movement_s) for mus in EXTENSORS]
            cases[m]["muscle"].extend(per)
            cases[m]["first"].append(first_extensor(per))
    n_ext = int(sum(r.movement_s.size for r in recs))
    print(f"{len(recs)} distinct recordings from {args.data}: {n_ext} extensions")
    print("lead = onset - movement onset (ms); per muscle: RF and VM each; first: the earlier of the two")
    print(
        f"{'method':18s} {'found':>6s} {'median':>7s} {'q25..q75':>13s} {'spread':>7s} | "
        f"{'first: found':>12s} {'median':>7s} {'after':>6s} {'>-20ms':>7s}"
    )
    figures: dict[str, object] = {"recordings": len(recs), "extensions": n_ext}
    for m in methods:
        if not cases[m]["muscle"]:
            print(f"{m:18s} (no rest period before the first extension in any recording)")
            continue
        s, f = summarise(cases[m]["muscle"]), summarise(cases[m]["first"])
        print(
            f"{m:18s} {s['found'] * 100:5.0f}% {s['median']:7.0f} {s['q25']:6.0f}..{s['q75']:<5.0f} "
            f"{s['spread']:7.0f} | "
            f"{f['found'] * 100:11.0f}% {f['median']:7.0f} {f['late'] * 100:5.0f}% {f['floor'] * 100:6.0f}%"
        )
        figures.update({f"{m} found": s["found"], f"{m} median": s["median"], f"{m} spread": s["spread"]})
        figures.update(
            {f"{m} first median": f["median"], f"{m} first after": f["late"], f"{m} first >-20ms": f["floor"]}
        )
    finish(figures)


if __name__ == "__main__":
    main()
