"""Onset truth the EMG detectors never see: when the knee starts to extend, from a goniometer.

No public surface-EMG recording with onsets marked by human experts could be reached from this
project (docs/metrics.md, "Against human experts", lists what was searched). The independent
truth that can be reached is mechanical: the UCI lower-limb dataset (SEMG_DB1) records a knee
goniometer beside the EMG, and in its seated leg extensions (``*sen.txt``) the knee extensors
(rectus femoris ``RF``, vastus medialis ``VM``) must fire before the knee starts to extend:
EMG precedes force by the electromechanical delay (20-100 ms for the knee extensors in maximal
isometric extensions, Zhou et al. 1995, J Hum Mov Stud 28:127-146) and the limb moves only once
the force exceeds gravity's. So an extensor onset detected *after* the movement began is late,
and one less than 20 ms before it is late by that physiological floor. What the truth cannot
say is how much earlier the muscle started: that lead varies between people and repetitions.

Movement onset (this module's rule, independent of myoflow's own rep segmenter):

* the goniometer trace (the files store it at 1 kHz, interpolated from 50 Hz, 0.1 deg steps)
  is smoothed with a centred 60 ms moving average;
* the goniometer's sign differs between subjects, so the *rest* plateau is whichever of the
  trace's 5th and 95th percentiles has the lower extensor RMS within 15 % of the range (the
  EMG's level only orients the angle; its timing is never used);
* each excursion from within 30 % of the range to beyond 50 % of it away from rest is one
  extension; its onset is the last sample before the excursion's peak angular speed (within
  0.5 s of the 50 % crossing) at which the speed away from rest was below 5 % of that peak.

The EMG is the files' raw EMG (mV, stored here in uV), mains detected from its spectrum.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from myoflow.analysis.activity import session_onsets
from myoflow.analysis.mains import detect_mains
from myoflow.analysis.onset_emg import RawEmg
from myoflow.dsp.offline import zero_phase_fft
from myoflow.dsp.onset_methods import METHODS as CLASSIC
from myoflow.dsp.onset_methods import detect as classic_detect
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.storage.textfiles import read_uci_lower_limb

FS = 1000.0
MUSCLES = ("RF", "BF", "VM", "ST")
#: The prime movers of a seated knee extension (columns of ``MUSCLES``).
EXTENSORS = ("RF", "VM")
#: A burst drives a movement when it began at most 1 s before the movement onset or within 0.5 s
#: after it (:func:`leads_ms`).
WINDOW_S = (-1.0, 0.5)
#: Shortest knee-extensor electromechanical delay reported by Zhou et al. (1995), ms.
EMD_MIN_MS = 20.0
#: myoflow's analysis methods (``session_onsets``), then the classic detectors.
MYOFLOW = ("changepoint", "refined", "threshold")
METHODS = MYOFLOW + CLASSIC


@dataclass(frozen=True)
class Trial:
    """One recording: ``name`` (``N_TXT/4Nsen.txt``), ``emg`` ``(n, 4)`` uV in ``MUSCLES``
    order, ``knee`` ``(n,)`` deg, ``movement_s`` ``(k,)`` extension onsets (s)."""

    name: str
    emg: np.ndarray
    knee: np.ndarray
    movement_s: np.ndarray


def load(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(emg (n, 4) uV float64, knee angle (n,) deg)`` of one UCI file, rows without EMG dropped."""
    rec = read_uci_lower_limb(path)
    emg = np.stack([rec.column(m) for m in MUSCLES], axis=1)
    ok = np.flatnonzero(np.all(np.isfinite(emg), axis=1))
    if ok.size == 0:
        raise ValueError(f"{path}: no row holds all four EMG channels")
    n = int(ok[-1]) + 1
    return np.nan_to_num(emg[:n]).astype(np.float64) * 1000.0, rec.column("FX")[:n].astype(np.float64)


def _smooth(x: np.ndarray, width_s: float) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64).copy()
    bad = ~np.isfinite(x)
    if bad.all():
        raise ValueError("the goniometer trace holds no finite sample")
    if bad.any():
        x[bad] = np.interp(np.flatnonzero(bad), np.flatnonzero(~bad), x[~bad])
    k = max(1, int(round(width_s * FS)))
    padded = np.pad(x, (k // 2, k - 1 - k // 2), mode="edge")
    return np.convolve(padded, np.ones(k) / k, mode="valid")


def movement_onsets(
    knee: np.ndarray, emg: np.ndarray, movers: Iterable[int], frac: float = 0.05
) -> np.ndarray:
    """Extension onsets (s) of a goniometer trace ``knee`` ``(n,)`` deg at :data:`FS` (module
    docstring); ``emg`` ``(n, ch)`` and the ``movers`` columns only orient the angle."""
    a = _smooth(knee, 0.06)
    lo, hi = np.percentile(a, [5, 95])
    span = float(hi - lo)
    if span < 20.0:
        return np.zeros(0)
    cols = list(movers)
    rms = [float(np.sqrt(np.mean(emg[np.abs(a - lev) < 0.15 * span][:, cols] ** 2))) for lev in (lo, hi)]
    rest, sign = (lo, 1.0) if rms[0] <= rms[1] else (hi, -1.0)
    dev = sign * (a - rest)
    speed = np.gradient(dev) * FS
    near, far = dev < 0.3 * span, dev > 0.5 * span
    half = int(0.5 * FS)
    out, armed = [], False
    for i in range(a.size):
        if near[i]:
            armed = True
        elif far[i] and armed:
            armed = False
            w0, w1 = max(0, i - half), min(a.size, i + half)
            peak = w0 + int(np.argmax(speed[w0:w1]))
            slow = np.flatnonzero(speed[:peak] < frac * speed[peak])
            if slow.size and peak - slow[-1] < 3 * half:
                out.append((slow[-1] + 1) / FS)
    return np.asarray(out)


def trials(folder: Path, pattern: str = "*sen.txt") -> list[Trial]:
    """Every seated-extension file under ``folder`` (any depth), identical recordings once
    (the dataset stores subject 2N's files as copies of 1N's), sorted by name."""
    paths = sorted(Path(folder).rglob(pattern))
    if not paths:
        raise FileNotFoundError(f"no {pattern} file under {folder} (UCI lower-limb EMG, SEMG_DB1)")
    seen: set[str] = set()
    out = []
    for path in paths:
        emg, knee = load(path)
        digest = hashlib.sha1(np.ascontiguousarray(emg).tobytes()).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        movers = [MUSCLES.index(m) for m in EXTENSORS]
        out.append(Trial(f"{path.parent.name}/{path.name}", emg, knee, movement_onsets(knee, emg, movers)))
    return out


def detections(trial: Trial, methods: Iterable[str] = METHODS) -> dict[str, list[np.ndarray]]:
    """Bursts per ``MUSCLES`` column for each method: ``(k, 2)`` ``[onset, end)`` in s, the onset
    the method's own (refined or changepoint onsets can precede the threshold interval's start).
    The classic detectors get the still stretch before the first extension (0.2-1.5 s before it)
    as their known rest period, and are left out when it is shorter than 0.3 s."""
    mains = detect_mains(trial.emg, FS) or 50.0
    prof = profile_for_rate(FS, mains)
    out: dict[str, list[np.ndarray]] = {}
    wanted = list(methods)
    env = envelope_offline(trial.emg.astype(np.float32), FS, prof)
    raw = RawEmg(trial.emg, FS, 0.0, mains)
    for m in wanted:
        if m in MYOFLOW:
            got = session_onsets(env, FS, method=m, raw=raw)
            out[m] = [
                np.column_stack([on, iv[:, 1] / FS])
                for on, iv in zip(got.onsets_s, got.intervals, strict=True)
            ]
    classic = [m for m in wanted if m in CLASSIC]
    if classic and trial.movement_s.size:
        r0 = max(0, int((trial.movement_s[0] - 1.5) * FS))
        r1 = int((trial.movement_s[0] - 0.2) * FS)
        if r1 - r0 >= int(0.3 * FS):
            band, notches = prof.filters(FS, offline=True)
            filtered = zero_phase_fft(
                trial.emg, FS, band, passes=1, notch_sos=notches if len(notches) else None
            )
            for m in classic:
                out[m] = [iv / FS for iv in classic_detect(filtered, FS, (r0, r1), m)]
    return out


def leads_ms(bursts: np.ndarray, movement_s: np.ndarray) -> np.ndarray:
    """Per movement onset, the onset of the burst that drives it minus the movement onset (ms;
    negative = EMG first), NaN when there is none: the burst in progress at the movement onset
    if it began at most 1 s before it (an older one was not started by this movement), else the
    first burst beginning in the 0.5 s after it. ``bursts``: ``(k, 2)`` ``[onset, end)`` s."""
    b = np.asarray(bursts, dtype=np.float64).reshape(-1, 2)
    out = np.full(len(movement_s), np.nan)
    for k, t in enumerate(movement_s):
        running = np.flatnonzero((b[:, 0] <= t) & (b[:, 1] > t))
        if running.size:
            on = b[running[-1], 0]
            if on >= t + WINDOW_S[0]:
                out[k] = (on - t) * 1000.0
            continue
        after = b[(b[:, 0] > t) & (b[:, 0] <= t + WINDOW_S[1]), 0]
        if after.size:
            out[k] = (after.min() - t) * 1000.0
    return out


def first_extensor(leads: list[np.ndarray]) -> np.ndarray:
    """Per movement, the earliest of the muscles' leads (ms; NaN where none found): the knee
    cannot extend before at least one of its extensors fires, but a two-joint rectus femoris
    can start after the vasti (seen in the UCI files), so only the first one is held to it."""
    return np.fmin.reduce(np.vstack(leads), axis=0)


def summarise(per_case: list[np.ndarray]) -> dict[str, float]:
    """Figures over cases (one array of leads, ms, per file and muscle): ``n`` movements,
    ``found`` share with a driving burst, ``median``/``q25``/``q75`` lead (ms), ``late`` share
    after the movement onset, ``floor`` share later than 20 ms before it (both among the found),
    ``spread`` median over cases (>= 3 found) of the median absolute deviation (ms)."""
    v = np.concatenate(per_case) if per_case else np.zeros(0)
    f = v[np.isfinite(v)]
    mads = []
    for c in per_case:
        c = c[np.isfinite(c)]
        if c.size >= 3:
            mads.append(float(np.median(np.abs(c - np.median(c)))))
    nan = float("nan")
    return {
        "n": float(v.size),
        "found": float(f.size / v.size) if v.size else nan,
        "median": float(np.median(f)) if f.size else nan,
        "q25": float(np.percentile(f, 25)) if f.size else nan,
        "q75": float(np.percentile(f, 75)) if f.size else nan,
        "late": float(np.mean(f > 0.0)) if f.size else nan,
        "floor": float(np.mean(f > -EMD_MIN_MS)) if f.size else nan,
        "spread": float(np.median(mads)) if mads else nan,
    }
