"""Myoelectric fatigue: mean/median frequency and amplitude of the raw EMG per rep and per set.

As a muscle fatigues, the conduction velocity of its fibres falls, the surface EMG spectrum
compresses towards low frequencies and (to keep the force) more and larger motor units are
recruited: the mean (MNF) and median (MDF) frequency go **down** while the amplitude (RMS) goes
**up** (De Luca 1997, J Appl Biomech 13:135; Cifrek et al. 2009, Clin Biomech 24:327). The
joint analysis of spectrum and amplitude (JASA: Luttmann et al. 1996, Ergonomics 39:298;
Luttmann, Jaeger & Laurig 2000, Int J Ind Ergon 25:645) reads the two trends together:

===============  ==================  ==================
frequency trend  amplitude up        amplitude down
===============  ==================  ==================
down             ``fatigue``         ``force_decrease``
up               ``force_increase``  ``recovery``
===============  ==================  ==================

Method (one rule, used for every window):

1. the raw EMG of each window (plus :data:`PAD_S` either side, up to the nearest lost sample)
   is high-passed zero-phase at 10 Hz (Butterworth, 4th order, forward-backward: offset and
   movement artefact out), and only the spectrum's bins inside :func:`spectral_band` (20-450
   Hz, upper edge ``0.45 fs`` at low rates) count - an ideal band-pass that leaves the in-band
   shape untouched (a Butterworth band-pass at 20 Hz would raise the MDF by ~1 Hz); mains
   harmonics that stand out are cut out of the spectrum (bins within ``mains_halfwidth_hz``,
   linearly bridged);
2. each window (by default a rep's concentric phase, ``start`` -> ``top``) gets a Welch power
   spectrum: Hann segments of ``segment_s`` (0.5 s: 2 Hz bins, so 50 and 60 Hz
   mains fall on a bin) with 50 % overlap, each segment's mean removed;
3. ``MNF = sum(f P) / sum(P)`` and ``MDF`` = the frequency splitting the band's power in half
   (interpolated between bins), both over the band only; ``RMS`` of the high-passed window (uV);
4. per set, a least-squares line over the reps (:func:`set_trend`) gives the slopes in Hz/rep
   and % of the set's mean per rep; the JASA quadrant comes from their signs; ``fatigue`` is
   flagged when the quadrant is ``fatigue`` **and** the MDF slope is significantly below zero
   (two-sided p < 0.05 of the regression, at least 3 reps).

At 200 Hz the spectrum above 100 Hz is missing: MNF/MDF are of the 20-90 Hz part only and sit
well below the full-band values (about -36 Hz on the model spectrum, and a spectral shift moves
them about a quarter as far: docs/fatigue-symmetry.md); their *trends* still follow a spectral
compression, which is what the flag uses.
Dynamic reps add spectral changes of their own (joint angle, force, electrode shift over the
muscle): compare reps of the same exercise and phase only.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy import signal, stats

from myoflow._checks import as_signal, check_option, check_range, check_rate
from myoflow._threads import map_threads
from myoflow.analysis._lowpass import zero_phase
from myoflow.analysis.rep_like import TimedRep, set_fields

__all__ = [
    "FatigueParams",
    "PhasedRep",
    "RepFatigue",
    "SetFatigue",
    "SessionFatigue",
    "jasa_quadrant",
    "session_fatigue",
    "set_trend",
    "spectral_band",
    "spectral_stats",
]

#: Which part of a rep the spectrum is taken from: phase names of ``RepResult.phases``.
WINDOWS = {"concentric": ("start", "top"), "active": ("start", "bottom"), "rep": ("start", "end")}
_BAND_HZ = (20.0, 450.0)
#: High-pass (Hz) applied to the raw EMG before the spectrum.
HIGHPASS_HZ = 10.0
#: Raw EMG this long (s) either side of a window is filtered with it (edge transients).
PAD_S = 0.5


@dataclass(frozen=True)
class FatigueParams:
    """How the spectrum is estimated.

    Attributes
    ----------
    segment_s
        Welch segment length (s), Hann window; a shorter window gets one segment of its length.
    overlap
        Welch segment overlap, 0-0.9 (0.5 = 50 %).
    band_hz
        ``(low, high)`` analysis band in Hz; None: :func:`spectral_band` of the rate.
    window
        Part of each rep analysed: ``"concentric"`` (start -> top), ``"active"`` (start ->
        bottom) or ``"rep"`` (start -> end).
    mains_hz
        Mains frequency whose harmonics are removed from the spectrum (None: none removed).
    mains_halfwidth_hz
        Half-width (Hz) of the cut around each harmonic; at least 3 frequency bins
        (``3 fs / segment samples``: 6 Hz with 0.5 s segments) so the Hann main lobe and
        first side lobes of the line go too.
    min_window_s
        Windows shorter than this give NaN.
    alpha
        Significance level of the MDF slope for the fatigue flag.
    """

    segment_s: float = 0.5
    overlap: float = 0.5
    band_hz: tuple[float, float] | None = None
    window: str = "concentric"
    mains_hz: float | None = None
    mains_halfwidth_hz: float = 3.0
    min_window_s: float = 0.2
    alpha: float = 0.05

    def __post_init__(self) -> None:
        check_range(self.segment_s, "segment_s", 0.05, 5.0, "s")
        check_range(self.overlap, "overlap", 0.0, 0.9)
        check_option(self.window, "window", tuple(WINDOWS))
        check_range(self.min_window_s, "min_window_s", 0.01, 60.0, "s")
        check_range(self.alpha, "alpha", 1e-6, 0.5)


def spectral_band(fs: float) -> tuple[float, float]:
    """The band (Hz) MNF/MDF are computed over at ``fs`` Hz: 20-450 Hz, top at most ``0.45 fs``."""
    fs = check_rate(fs)
    low, high = _BAND_HZ[0], min(_BAND_HZ[1], 0.45 * fs)
    if high <= low + 10.0:
        raise ValueError(f"no spectral band fits at fs={fs:g} Hz: need fs >= {2 * (low + 10) / 0.9:.0f} Hz")
    return low, high


def highpassed(x: np.ndarray, fs: float) -> np.ndarray:
    """Zero-phase 4th-order Butterworth high-pass at :data:`HIGHPASS_HZ` of ``x`` ``(n, ch)`` (float64)."""
    sos = _highpass_sos(float(fs))
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] <= 3 * (2 * sos.shape[0] + 1):
        return x - x.mean(axis=0, keepdims=True)
    return zero_phase(sos, x)  # sosfiltfilt's numbers, cheaper


@functools.lru_cache(maxsize=16)
def _highpass_sos(fs: float) -> np.ndarray:
    return signal.butter(4, HIGHPASS_HZ, btype="highpass", fs=fs, output="sos")


def spectral_stats(
    x: np.ndarray, fs: float, params: FatigueParams | None = None, filtered: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MNF, MDF (Hz) and RMS of one window of raw EMG.

    Parameters
    ----------
    x
        ``(n,)`` or ``(n, ch)`` raw EMG of one window (any unit; NaN-free).
    fs
        Sample rate (Hz).
    params
        Spectral settings (:class:`FatigueParams`).
    filtered
        True when ``x`` is already high-passed (:func:`session_fatigue` filters whole runs).

    Returns
    -------
    mnf, mdf, rms
        Each ``(ch,)`` float64: Hz, Hz, and the unit of ``x``; NaN for a channel with no power.
    """
    p = params or FatigueParams()
    fs = check_rate(fs)
    x = as_signal(x, "x", dtype=np.float64)
    band = p.band_hz or spectral_band(fs)
    if not filtered:
        x = highpassed(x, fs)
    n = x.shape[0]
    nper = max(8, min(n, int(round(p.segment_s * fs))))
    f, pxx = welch_power(x, fs, nper, int(p.overlap * nper))
    keep = (f >= band[0]) & (f <= band[1])
    f, pxx = f[keep], pxx[keep]
    if p.mains_hz:
        pxx = _cut_mains(f, pxx, p.mains_hz, max(p.mains_halfwidth_hz, 3.0 * fs / nper))
    rms = np.sqrt(np.mean(x**2, axis=0))
    return (*_mnf_mdf(f, pxx), rms)


def welch_power(x: np.ndarray, fs: float, nper: int, noverlap: int) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectrum of ``x`` ``(n, ch)``: Hann segments of ``nper`` samples overlapping
    by ``noverlap``, each segment's mean removed, periodograms averaged.

    Returns ``(f (nper // 2 + 1,) Hz, P (nper // 2 + 1, ch))``; ``P`` is proportional to
    ``scipy.signal.welch(..., detrend="constant")`` (the same spectrum up to one constant
    factor, which MNF and MDF do not see); the tail that does not fill a segment is left out,
    as scipy does.
    """
    step = nper - noverlap
    frames = np.lib.stride_tricks.sliding_window_view(x, nper, axis=0)[::step]  # (k, ch, nper)
    frames = frames - frames.mean(axis=2, keepdims=True)
    spec = np.fft.rfft(frames * _hann(nper), axis=2)
    pxx = (spec.real**2 + spec.imag**2).mean(axis=0).T  # (nfreq, ch)
    return np.fft.rfftfreq(nper, 1.0 / fs), pxx


@functools.lru_cache(maxsize=16)
def _hann(n: int) -> np.ndarray:
    return signal.get_window("hann", n)


def _cut_mains(f: np.ndarray, pxx: np.ndarray, mains: float, half: float) -> np.ndarray:
    """Bridge the bins within ``half`` Hz of each mains harmonic that stands out (a bin within one
    bin of it more than 3x the mean of the bins just outside the cut), per channel; others are kept."""
    out = pxx.copy()
    for h in np.arange(mains, f[-1] + half, mains):
        bad = np.abs(f - h) <= half
        side = (np.abs(f - h) > half) & (np.abs(f - h) <= 2 * half)
        if not bad.any() or side.sum() < 2:
            continue
        near = np.abs(f - h) <= (f[1] - f[0])
        hit = pxx[near].max(axis=0) > 3.0 * pxx[side].mean(axis=0)
        for c in np.flatnonzero(hit):
            out[bad, c] = np.interp(f[bad], f[side], pxx[side, c])
    return out


def _mnf_mdf(f: np.ndarray, pxx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    total = pxx.sum(axis=0)
    ok = total > 0
    safe = np.where(ok, total, 1.0)
    mnf = (f[:, None] * pxx).sum(axis=0) / safe
    # cumulative power at bin edges (trapezoid-free: each bin's power spread over its width)
    df = f[1] - f[0] if f.size > 1 else 1.0
    edges = np.concatenate(([f[0] - df / 2], f + df / 2))
    cum = np.vstack([np.zeros(pxx.shape[1]), np.cumsum(pxx, axis=0)]) / safe
    mdf = np.array([np.interp(0.5, cum[:, c], edges) for c in range(pxx.shape[1])])
    return np.where(ok, mnf, np.nan), np.where(ok, mdf, np.nan)


class RowSliceable(Protocol):
    """An ``(n, ch)`` array-like read by row slices (an h5py dataset, a memory map, a lazy
    reader): only the rep windows are read."""

    @property
    def shape(self) -> tuple[int, ...]:
        """``(n, ch)``."""

    def __getitem__(self, rows: slice) -> np.ndarray:
        """Rows ``rows`` as an array ``(len, ch)``."""


#: What :func:`session_fatigue` needs of a rep (e.g. a ``RepResult``): 1-based ``index``,
#: 0-based ``set_index`` and ``phases`` (phase name -> session time in s).
PhasedRep = TimedRep


@dataclass(frozen=True)
class RepFatigue:
    """One rep, one muscle: ``mnf_hz``, ``mdf_hz``, ``rms_uv`` of the window ``window_s``
    (session seconds); NaN when the window was too short or had lost samples."""

    rep: int
    set_index: int
    muscle: str
    window_s: tuple[float, float]
    mnf_hz: float
    mdf_hz: float
    rms_uv: float


@dataclass(frozen=True)
class SetFatigue:
    """One set, one muscle: least-squares trends over its reps.

    ``*_slope_hz_per_rep`` (Hz/rep), ``*_slope_pct_per_rep`` (% of the set's mean per rep),
    ``mdf_p`` (two-sided p of the MDF slope), ``quadrant`` (:func:`jasa_quadrant`, None with
    fewer than 2 reps), ``fatigue`` (quadrant ``fatigue`` and ``mdf_p < alpha``, >= 3 reps).
    """

    set_index: int
    muscle: str
    n_reps: int
    mnf_hz: float
    mdf_hz: float
    rms_uv: float
    mnf_slope_hz_per_rep: float
    mdf_slope_hz_per_rep: float
    mdf_slope_pct_per_rep: float
    rms_slope_pct_per_rep: float
    mdf_p: float
    quadrant: str | None
    fatigue: bool


@dataclass(frozen=True)
class SessionFatigue:
    """Fatigue of a session: ``reps`` (one per rep and muscle), ``sets`` (one per set and
    muscle), the ``band_hz`` and ``params`` used, and ``limit`` (a sentence when the rate
    limits the band, else None)."""

    reps: list[RepFatigue]
    sets: list[SetFatigue]
    band_hz: tuple[float, float]
    params: FatigueParams
    limit: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Session part of the report JSON: method, ``band_hz``, ``limit`` and :meth:`summary`."""
        p = self.params
        return {
            "method": "welch",
            "window": p.window,
            "segment_s": p.segment_s,
            "overlap": p.overlap,
            "highpass_hz": HIGHPASS_HZ,
            "band_hz": list(self.band_hz),
            "alpha": p.alpha,
            "limit": self.limit,
            "summary": self.summary(),
        }

    def rep_dict(self, rep: int) -> dict[str, dict[str, float]]:
        """One rep: muscle -> ``{"mnf_hz", "mdf_hz", "rms_uv"}``."""
        return {
            r.muscle: {"mnf_hz": r.mnf_hz, "mdf_hz": r.mdf_hz, "rms_uv": r.rms_uv}
            for r in self._by_rep.get(rep, ())
        }

    @functools.cached_property
    def _by_rep(self) -> dict[int, list[RepFatigue]]:
        """:attr:`reps` grouped by rep number, in order (one pass, not one per rep asked)."""
        out: dict[int, list[RepFatigue]] = {}
        for r in self.reps:
            out.setdefault(r.rep, []).append(r)
        return out

    def set_dict(self, set_index: int) -> dict[str, dict[str, Any]]:
        """One set: muscle -> its :class:`SetFatigue` fields (without ``set_index``/``muscle``)."""
        return set_fields(self.sets, set_index)

    def summary(self, set_index: int | None = None) -> dict[str, float]:
        """Flat ``<muscle>.mdf_hz`` / ``.mnf_hz`` / ``.mdf_slope_hz_per_rep`` /
        ``.rms_slope_pct_per_rep`` / ``.fatigue`` (0/1, share of sets) over the sets (mean) or
        one set."""
        rows = [s for s in self.sets if set_index is None or s.set_index == set_index]
        out: dict[str, float] = {}
        for m in dict.fromkeys(s.muscle for s in rows):
            mine = [s for s in rows if s.muscle == m]
            for key in ("mdf_hz", "mnf_hz", "mdf_slope_hz_per_rep", "rms_slope_pct_per_rep"):
                vals = np.array([getattr(s, key) for s in mine], dtype=np.float64)
                vals = vals[np.isfinite(vals)]
                out[f"{m}.{key}"] = float(vals.mean()) if vals.size else math.nan
            out[f"{m}.fatigue"] = float(np.mean([s.fatigue for s in mine]))
        return out


def jasa_quadrant(freq_slope: float, amp_slope: float) -> str | None:
    """JASA quadrant (Luttmann et al. 1996) of a frequency and an amplitude trend.

    ``"fatigue"`` (frequency down, amplitude up), ``"force_decrease"`` (both down),
    ``"force_increase"`` (both up), ``"recovery"`` (frequency up, amplitude down); None when
    either slope is NaN.
    """
    if not (math.isfinite(freq_slope) and math.isfinite(amp_slope)):
        return None
    if freq_slope < 0:
        return "fatigue" if amp_slope > 0 else "force_decrease"
    return "force_increase" if amp_slope > 0 else "recovery"


def set_trend(values: Sequence[float]) -> tuple[float, float, float]:
    """Least-squares slope of ``values`` over rep number: ``(slope per rep, slope in % of the
    mean per rep, two-sided p)``; NaN-valued reps are skipped, NaNs with < 2 finite values."""
    y = np.asarray(values, dtype=np.float64)
    x = np.arange(y.size, dtype=np.float64)
    ok = np.isfinite(y)
    if ok.sum() < 2:
        return math.nan, math.nan, math.nan
    x, y = x[ok], y[ok]
    if ok.sum() == 2 or np.ptp(y) == 0:
        slope, p = float((y[-1] - y[0]) / (x[-1] - x[0])), math.nan
    else:
        fit = stats.linregress(x, y)
        slope, p = float(fit.slope), float(fit.pvalue)
    mean = float(y.mean())
    return slope, (100.0 * slope / mean if mean else math.nan), p


def session_fatigue(
    emg: np.ndarray | RowSliceable,
    fs: float,
    placements: Sequence[str],
    reps: Sequence[PhasedRep],
    params: FatigueParams | None = None,
    t0_s: float = 0.0,
) -> SessionFatigue:
    """MNF/MDF/RMS per rep and their trends per set.

    Parameters
    ----------
    emg
        ``(n, ch)`` raw EMG (uV), sample 0 at session time ``t0_s``, NaN where samples were
        lost. Only the rep windows (plus :data:`PAD_S` either side for the filter) are read,
        so an h5py dataset or a memory map works too.
    fs
        Sample rate (Hz).
    placements
        Muscle per channel (``ch`` names).
    reps
        Objects with ``index``, ``set_index`` and ``phases`` (a mapping of phase name -> s),
        e.g. :class:`~myoflow.analysis.rep_summary.RepResult`.
    params
        :class:`FatigueParams`.
    t0_s
        Session time (s) of ``emg``'s sample 0.

    Returns
    -------
    SessionFatigue
        A rep whose window has a lost sample or leaves ``emg`` gets NaN.
    """
    p = params or FatigueParams()
    fs = check_rate(fs)
    x = emg if hasattr(emg, "shape") and hasattr(emg, "__getitem__") else np.asarray(emg)
    if len(x.shape) != 2 or x.shape[1] != len(placements):
        raise ValueError(
            f"emg must be (n, {len(placements)}) for {len(placements)} placements, got shape {x.shape}"
        )
    band = p.band_hz or spectral_band(fs)
    a_name, b_name = WINDOWS[p.window]
    pad = int(round(PAD_S * fs))
    window = (a_name, b_name)

    def one(r: PhasedRep) -> tuple[float, float, np.ndarray, np.ndarray, np.ndarray]:
        return _rep_stats(x, fs, r, window, t0_s, pad, p)

    if isinstance(x, np.ndarray) and len(reps) >= _THREADS_FROM_REPS:
        # the reps are independent and in memory: two threads (filters and FFTs release the GIL)
        per_rep = map_threads(one, reps, FATIGUE_THREADS)
    else:  # a file-backed source is read one window after another
        per_rep = [one(r) for r in reps]
    rows: list[RepFatigue] = []
    for r, (t0, t1, mnf, mdf, rms) in zip(reps, per_rep, strict=True):
        for c, m in enumerate(placements):
            rows.append(
                RepFatigue(
                    int(r.index),
                    int(r.set_index),
                    m,
                    (t0, t1),
                    float(mnf[c]),
                    float(mdf[c]),
                    float(rms[c]),
                )
            )
    sets = _set_rows(rows, placements, p.alpha)
    limit = None
    if band[1] < _BAND_HZ[1]:
        limit = (
            f"at {fs:g} Hz the spectrum is cut at {band[1]:g} Hz: MNF/MDF are of {band[0]:g}-{band[1]:g} Hz "
            "only and read lower than full-band values (docs/fatigue-symmetry.md); their trends still count"
        )
    return SessionFatigue(rows, sets, band, p, limit)


#: Threads :func:`session_fatigue` spreads an in-memory recording's reps over.
FATIGUE_THREADS = 2
#: Fewer reps than this are measured on this thread (a pool costs more than it saves).
_THREADS_FROM_REPS = 32


def _rep_stats(
    x: np.ndarray | RowSliceable,
    fs: float,
    r: PhasedRep,
    window: tuple[str, str],
    t0_s: float,
    pad: int,
    p: FatigueParams,
) -> tuple[float, float, np.ndarray, np.ndarray, np.ndarray]:
    """One rep's window ``(t0, t1)`` (s) and MNF, MDF, RMS ``(ch,)`` (NaN: not measurable)."""
    ph = r.phases
    t0, t1 = float(ph[window[0]]), float(ph[window[1]])
    a, b = int(round((t0 - t0_s) * fs)), int(round((t1 - t0_s) * fs))
    mnf = mdf = rms = np.full(x.shape[1], np.nan)
    if b - a >= p.min_window_s * fs and a >= 0 and b <= x.shape[0]:
        lo, hi = max(0, a - pad), min(x.shape[0], b + pad)
        seg = np.asarray(x[lo:hi], dtype=np.float64)
        lost = np.asarray(np.isnan(seg).any(axis=1))
        if not lost[a - lo : b - lo].any():
            # the padding stops at the nearest lost sample on either side
            before = np.flatnonzero(lost[: a - lo])
            after = np.flatnonzero(lost[b - lo :])
            s0 = before[-1] + 1 if before.size else 0
            s1 = b - lo + after[0] if after.size else seg.shape[0]
            filt = highpassed(seg[s0:s1], fs)
            mnf, mdf, rms = spectral_stats(filt[a - lo - s0 : b - lo - s0], fs, p, filtered=True)
    return t0, t1, mnf, mdf, rms


def _set_rows(rows: list[RepFatigue], placements: Sequence[str], alpha: float) -> list[SetFatigue]:
    out = []
    for s in sorted({r.set_index for r in rows}):
        for m in placements:
            mine = sorted((r for r in rows if r.set_index == s and r.muscle == m), key=lambda r: r.rep)
            mnf = [r.mnf_hz for r in mine]
            mdf = [r.mdf_hz for r in mine]
            rms = [r.rms_uv for r in mine]
            mnf_slope, _, _ = set_trend(mnf)
            mdf_slope, mdf_pct, mdf_p = set_trend(mdf)
            _, rms_pct, _ = set_trend(rms)
            quadrant = jasa_quadrant(mdf_slope, rms_pct)
            n_ok = int(np.isfinite(mdf).sum())
            flag = quadrant == "fatigue" and n_ok >= 3 and math.isfinite(mdf_p) and mdf_p < alpha
            out.append(
                SetFatigue(
                    s,
                    m,
                    len(mine),
                    _nanmean(mnf),
                    _nanmean(mdf),
                    _nanmean(rms),
                    mnf_slope,
                    mdf_slope,
                    mdf_pct,
                    rms_pct,
                    mdf_p,
                    quadrant,
                    bool(flag),
                )
            )
    return out


def _nanmean(v: Sequence[float]) -> float:
    a = np.asarray(v, dtype=np.float64)
    a = a[np.isfinite(a)]
    return float(a.mean()) if a.size else math.nan
