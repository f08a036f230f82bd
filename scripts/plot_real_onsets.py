"""Plot detected onsets on the raw traces of the UCI walking files, for docs/metrics.md.

For each file: the knee goniometer angle, then each muscle's raw EMG (mV, only the median
removed: none of our filters) with the analysis envelope on top, the automatic rest level, the
threshold detections (grey lines) and the refined onsets with their uncertainty (red lines and
bands). A reader can check every onset against the raw signal. Run from the repository root:

    .venv/bin/python scripts/plot_real_onsets.py [--data ../shared/data] [--out docs/img]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from myoflow.analysis.activity import session_onsets  # noqa: E402
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate  # noqa: E402
from myoflow.storage.textfiles import read_uci_lower_limb  # noqa: E402

FS = 1000.0
MUSCLES = ("RF", "BF", "VM", "ST")
NAMES = {"RF": "rectus femoris", "BF": "biceps femoris", "VM": "vastus medialis", "ST": "semitendinosus"}
FILES = ("N_TXT/1Nmar.txt", "A_TXT/1Amar.txt", "A_TXT/10Amar.txt")


def plot(path: Path, out: Path, seconds: float = 8.0) -> Path:
    rec = read_uci_lower_limb(path)
    emg = np.stack([rec.column(m) for m in MUSCLES], axis=1)
    n = int(np.flatnonzero(np.all(np.isfinite(emg), axis=1))[-1]) + 1
    emg = np.nan_to_num(emg[:n]).astype(np.float32)
    knee = rec.column("FX")[:n]
    env = envelope_offline(emg, FS, profile_for_rate(FS))
    found = session_onsets(env, FS, method="refined")
    scale = found.analysis.max(axis=0)
    m = min(n, int(seconds * FS))
    t = np.arange(m) / FS
    fig, axes = plt.subplots(5, 1, figsize=(11, 10), sharex=True)
    axes[0].plot(t, knee[:m], color="k", lw=1)
    axes[0].set_ylabel("knee (deg)")
    axes[0].set_title(
        f"{path.parent.name}/{path.name}: raw EMG, analysis envelope, onsets "
        "(grey: threshold, red: refined +- uncertainty)"
    )
    for c, mus in enumerate(MUSCLES):
        ax = axes[c + 1]
        raw = emg[:m, c] - np.median(emg[:, c])
        ax.plot(t, raw, color="0.6", lw=0.4)
        lim = float(np.percentile(np.abs(raw), 99.5)) or 1.0
        e = found.analysis[:m, c] / scale[c] * lim
        ax.plot(t, e, color="tab:blue", lw=1.2)
        ax.axhline(found.levels.onset_threshold[c] / scale[c] * lim, color="tab:blue", ls=":", lw=0.8)
        for on in found.intervals[c][:, 0] / FS:
            if on < seconds:
                ax.axvline(on, color="0.3", lw=0.8)
        for on, u in zip(found.onsets_s[c], found.uncertainty_s[c], strict=True):
            if on < seconds:
                ax.axvline(on, color="tab:red", lw=1.2)
                if np.isfinite(u):
                    ax.axvspan(on - u, on + u, color="tab:red", alpha=0.15)
        ax.set_ylim(-lim, lim)
        ax.set_ylabel(f"{mus} (mV)")
        ax.text(0.01, 0.85, NAMES[mus], transform=ax.transAxes, fontsize=8)
    axes[-1].set_xlabel("time (s)")
    fig.tight_layout()
    target = out / f"uci_gait_onsets_{path.stem}.png"
    fig.savefig(target, dpi=90)
    plt.close(fig)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        print(plot(args.data / "uci_lower_limb_semg" / name, args.out))


if __name__ == "__main__":
    main()
