"""CPU cost of one changepoint onset per call (the live analysis: one call per muscle and rep).

``myoflow.dsp.onset_raw.refine_onset_raw`` with one detection, on ``bench_dsp.py``'s signal
(2 kHz, bursts every 4 s with a 150 ms rise, mains hum and a DC offset): the first ``--onsets``
(20) threshold onsets of channel 0, each refined by its own call. CPU time (``process_time``)
per onset, the median of ``--repeats`` passes over the onsets, in a fresh process per round.

``--against REV`` runs the code of a git revision (its ``src/``, exported with ``git archive``)
in the same rounds, taking turns with this checkout, so the load of the machine weighs on both
alike, and reports the largest onset and uncertainty differences between the two (the numbers
must not change when only the cost does). Example: ``python benchmarks/bench_onset_single.py
--against 876d077`` (the last code before the per-channel batching of the fit).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def child(n_onsets: int, repeats: int) -> dict:
    """Time the calls in this process (``PYTHONPATH`` chooses the code)."""
    sys.path.insert(0, str(HERE))
    from bench_dsp import FS, make_emg

    from myoflow.dsp.onset_raw import refine_onset_raw, refine_sos
    from myoflow.dsp.onsets import detect_onsets
    from myoflow.dsp.pipeline import STANDARD, envelope_offline
    from myoflow.dsp.rest import quietest_baseline

    x = make_emg(n_onsets * 4.0 / 60.0 + 0.2)
    env = envelope_offline(x, FS, STANDARD)
    iv = detect_onsets(env, FS, quietest_baseline(env, FS))[0][:n_onsets]
    prev = np.concatenate([[0], iv[:-1, 1]]).tolist()
    det = iv[:, 0].tolist()
    sos = refine_sos(FS, 50.0)
    raw = np.ascontiguousarray(x[:, 0])
    got = [refine_onset_raw(raw, FS, d, sos, e) for d, e in zip(det, prev, strict=True)]  # warm-up
    per = []
    for _ in range(repeats):
        t0 = time.process_time()
        for d, e in zip(det, prev, strict=True):
            refine_onset_raw(raw, FS, d, sos, e)
        per.append((time.process_time() - t0) / len(det) * 1000.0)
    return {"ms": per, "at": [g[0] for g in got], "unc": [g[1] for g in got], "onsets": len(det)}


def _export(rev: str, into: Path) -> Path:
    """``rev``'s ``src/`` under ``into`` (``git archive``)."""
    blob = subprocess.run(["git", "archive", rev, "src"], cwd=REPO, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def _run(src: Path, args: argparse.Namespace) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    argv = [sys.executable, __file__, "--child", "--onsets", str(args.onsets), "--repeats", str(args.repeats)]
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--onsets", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--against", metavar="REV", help="also time this git revision, taking turns")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.onsets, args.repeats)))
        return
    from _common import finish, machine

    with tempfile.TemporaryDirectory() as tmp:
        codes = {"this": REPO / "src"}
        if args.against:
            codes[args.against] = _export(args.against, Path(tmp))
        runs: dict[str, list[dict]] = {name: [] for name in codes}
        for k in range(args.rounds):
            for name, src in codes.items():
                got = _run(src, args)
                runs[name].append(got)
                ms = sorted(got["ms"])
                print(f"round {k + 1} {name:>10}: {np.median(ms):.3f} ms per onset (min {ms[0]:.3f})")
    figures: dict = {"onsets": runs["this"][0]["onsets"], **machine()}
    figures["load_1min"] = os.getloadavg()[0]
    for name, got in runs.items():
        meds = [float(np.median(g["ms"])) for g in got]
        key = "this" if name == "this" else "against"
        figures[f"{key}_cpu_ms_per_onset"] = float(np.median(meds))
        figures[f"{key}_cpu_ms_per_onset_rounds"] = [round(v, 3) for v in meds]
        # the least of every pass: the cost with the least interference from other work
        figures[f"{key}_cpu_ms_per_onset_min"] = float(min(min(g["ms"]) for g in got))
    if args.against:
        a, b = runs["this"][0], runs[args.against][0]
        figures["against"] = args.against
        # as text: the closing JSON line rounds floats to 4 decimals
        figures["max_onset_diff_samples"] = f"{np.max(np.abs(np.subtract(a['at'], b['at']))):.2g}"
        ua, ub = np.array(a["unc"]), np.array(b["unc"])
        unc_diff = float(np.nanmax(np.abs(ua - ub))) if np.isfinite(ua).any() else 0.0
        figures["max_uncertainty_diff_s"] = f"{unc_diff:.2g}"
        figures["this_vs_against"] = figures["this_cpu_ms_per_onset"] / figures["against_cpu_ms_per_onset"]
        figures["this_vs_against_min"] = (
            figures["this_cpu_ms_per_onset_min"] / figures["against_cpu_ms_per_onset_min"]
        )
    for key, value in figures.items():
        print(f"{key:36s} {value}")
    finish(figures)


if __name__ == "__main__":
    main()
