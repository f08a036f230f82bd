"""Plot knee-extensor onsets against the goniometer's extension onsets (UCI seated extensions).

For each file: the knee angle with the extension onsets of ``benchmarks/_movement_truth.py``
(black), then rectus femoris and vastus medialis raw EMG (uV, median removed, none of our
filters) with the ``changepoint`` (red) and ``threshold`` (blue, dashed) onsets. The figures in
``docs/img/uci_sen_onsets_*.png`` let a reader check docs/metrics.md "Against human experts".
Run from the repository root:

    .venv/bin/python scripts/plot_movement_onsets.py [--data DIR] [--out docs/img]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from _movement_truth import EXTENSORS, FS, MUSCLES, Trial, detections, trials  # noqa: E402

NAMES = {"RF": "rectus femoris", "VM": "vastus medialis"}


def plot(rec: Trial, out: Path) -> Path:
    found = detections(rec, ("changepoint", "threshold"))
    t = np.arange(rec.knee.size) / FS
    fig, axes = plt.subplots(1 + len(EXTENSORS), 1, figsize=(11, 7), sharex=True)
    axes[0].plot(t, rec.knee, color="k", lw=1)
    axes[0].set_ylabel("knee (deg)")
    axes[0].set_title(
        f"{rec.name}: extension onsets (black), changepoint (red) and threshold (blue dashed) onsets"
    )
    for k, mus in enumerate(EXTENSORS):
        ax, c = axes[k + 1], MUSCLES.index(mus)
        raw = rec.emg[:, c] - np.median(rec.emg[:, c])
        ax.plot(t, raw, color="0.55", lw=0.4)
        lim = float(np.percentile(np.abs(raw), 99.5)) or 1.0
        ax.set_ylim(-lim, lim)
        ax.set_ylabel(f"{mus} (uV)")
        ax.text(0.01, 0.85, NAMES[mus], transform=ax.transAxes, fontsize=8)
        for on in found["changepoint"][c][:, 0]:
            ax.axvline(on, color="tab:red", lw=1.2)
        for on in found["threshold"][c][:, 0]:
            ax.axvline(on, color="tab:blue", lw=1.0, ls="--")
    for ax in axes:
        for mv in rec.movement_s:
            ax.axvline(mv, color="k", lw=1.5)
    axes[-1].set_xlabel("time (s)")
    fig.tight_layout()
    target = out / f"uci_sen_onsets_{Path(rec.name).stem}.png"
    fig.savefig(target, dpi=80)
    plt.close(fig)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/uci_lower_limb_semg"))
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for rec in trials(args.data):
        print(plot(rec, args.out))


if __name__ == "__main__":
    main()
