"""Filter design checked against the sample rate: Butterworth band-, high- and low-pass, mains notches.

Every design returns second-order sections (SOS), float64, shape ``(n_sections, 6)``, each row
``[b0, b1, b2, 1, a1, a2]`` as :func:`scipy.signal.sosfilt` expects. A request the rate cannot
honour (a 20-450 Hz band at 200 Hz) is a ``ValueError`` that names the rate and the band; nothing
is clamped silently.

Low-rate profile
----------------
Straps that sample at 200 Hz (Myo, OpenBCI Ganglion) cannot carry the usual 20-450 Hz surface-EMG
band: their Nyquist frequency is 100 Hz. :func:`default_band` gives the band to use at any rate:
20-450 Hz from 1 kHz up, and 20 Hz to 45 % of the rate below (20-90 Hz at 200 Hz, 20-112.5 Hz at
250 Hz), keeping the upper edge a tenth of the Nyquist frequency away from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import signal

from myoflow._checks import check_option, check_positive, check_rate

#: Surface-EMG band used when the rate allows it (Hz).
EMG_BAND_HZ = (20.0, 450.0)
#: Notch centres closer than this to 0 Hz or to the Nyquist frequency are dropped (Hz).
NOTCH_EDGE_MARGIN_HZ = 2.0

_LOW_RATE_HINT = (
    "Straps sampling at 200 Hz (Myo, Ganglion) use the low-rate profile: "
    "myoflow.dsp.design.default_band(fs) gives 20-90 Hz at 200 Hz."
)


@dataclass(frozen=True)
class NotchDesign:
    """Mains notches for one rate and band.

    Attributes
    ----------
    sos
        Shape ``(n_notches, 6)``, float64; ``(0, 6)`` when no harmonic falls in the band.
    freqs_hz
        The notch centres actually used, ascending, in Hz (after folding, band selection and
        de-duplication); one per row of ``sos``.
    fs
        Sample rate in Hz the notches were designed for.
    mains
        Mains frequency in Hz (50 or 60).
    q
        Quality factor of every notch (centre / -3 dB width).
    """

    sos: np.ndarray
    freqs_hz: tuple[float, ...]
    fs: float
    mains: float
    q: float


def default_band(fs: float) -> tuple[float, float]:
    """The surface-EMG band (Hz) to use at sample rate ``fs`` (Hz); see the module's low-rate profile.

    Raises ``ValueError`` when even the low-rate band cannot fit (``fs`` below ~45 Hz).
    """
    fs = check_rate(fs)
    low, high = EMG_BAND_HZ[0], min(EMG_BAND_HZ[1], 0.45 * fs)
    if high <= low:
        raise ValueError(
            f"no EMG band fits at fs={fs:g} Hz: the band starts at {low:g} Hz but the "
            f"Nyquist frequency is {fs / 2:g} Hz"
        )
    return low, high


def bandpass(fs: float, low: float = 20.0, high: float = 450.0, order: int = 4) -> np.ndarray:
    """Butterworth band-pass ``low``-``high`` Hz at sample rate ``fs`` Hz.

    ``order`` is the order of the low-pass prototype, so the filter has ``order`` sections and
    ``-3 dB`` at both edges (per pass; ``-6 dB`` when run forward-backward).

    Returns
    -------
    SOS array, shape ``(order, 6)``, float64.
    """
    fs = check_rate(fs)
    low = check_positive(low, "low", "Hz")
    high = check_positive(high, "high", "Hz")
    order = _check_order(order)
    if low >= high:
        raise ValueError(
            f"band-pass {low:g}-{high:g} Hz at fs={fs:g} Hz: the lower edge must be below the upper edge"
        )
    _check_below_nyquist(high, fs, f"band-pass {low:g}-{high:g} Hz", "the upper edge")
    return _sos(signal.butter(order, [low, high], btype="bandpass", fs=fs, output="sos"))


def highpass(fs: float, cutoff: float, order: int = 4) -> np.ndarray:
    """Butterworth high-pass with ``-3 dB`` at ``cutoff`` Hz; SOS ``(ceil(order/2), 6)`` float64."""
    fs = check_rate(fs)
    cutoff = check_positive(cutoff, "cutoff", "Hz")
    order = _check_order(order)
    _check_below_nyquist(cutoff, fs, f"high-pass at {cutoff:g} Hz", "the cut-off")
    return _sos(signal.butter(order, cutoff, btype="highpass", fs=fs, output="sos"))


def lowpass(fs: float, cutoff: float, order: int = 2) -> np.ndarray:
    """Butterworth low-pass with ``-3 dB`` at ``cutoff`` Hz; SOS ``(ceil(order/2), 6)`` float64."""
    fs = check_rate(fs)
    cutoff = check_positive(cutoff, "cutoff", "Hz")
    order = _check_order(order)
    _check_below_nyquist(cutoff, fs, f"low-pass at {cutoff:g} Hz", "the cut-off")
    return _sos(signal.butter(order, cutoff, btype="lowpass", fs=fs, output="sos"))


def mains_notch(
    fs: float,
    mains: float = 50.0,
    band: tuple[float, float] | None = None,
    q: float = 30.0,
    max_harmonic_hz: float = 1000.0,
) -> NotchDesign:
    """IIR notches at the mains frequency and its harmonics, as the sampled signal sees them.

    Rule: for every harmonic ``k * mains <= max_harmonic_hz`` (k = 1, 2, ...), fold the frequency
    into ``[0, fs/2]`` (it aliases when the rate is low: at ``fs=200`` Hz with 60 Hz mains,
    120 Hz appears at 80 Hz and 180 Hz at 20 Hz); keep it when it lies inside ``band`` (edges
    included) and more than :data:`NOTCH_EDGE_MARGIN_HZ` away from 0 Hz and from the Nyquist
    frequency (a notch there makes no sense); drop duplicates. Each kept centre gets a
    second-order notch of quality ``q`` (-3 dB width ``centre / q``).

    Parameters
    ----------
    fs
        Sample rate in Hz.
    mains
        Mains frequency in Hz: 50 or 60.
    band
        ``(low, high)`` in Hz, the analysis band; ``None`` means ``(0, fs/2)``.
    q
        Quality factor of each notch.
    max_harmonic_hz
        Highest harmonic (before folding) considered, in Hz.
    """
    fs = check_rate(fs)
    check_option(mains, "mains", (50.0, 60.0))
    mains = float(mains)
    q = check_positive(q, "q")
    max_harmonic_hz = check_positive(max_harmonic_hz, "max_harmonic_hz", "Hz")
    nyq = fs / 2
    lo, hi = (0.0, nyq) if band is None else _check_band(band, fs)
    centres: set[float] = set()
    for k in range(1, int(math.floor(max_harmonic_hz / mains + 1e-9)) + 1):
        f = math.fmod(k * mains, fs)
        if f > nyq:
            f = fs - f
        f = round(f, 6)
        if lo <= f <= hi and NOTCH_EDGE_MARGIN_HZ < f < nyq - NOTCH_EDGE_MARGIN_HZ:
            centres.add(f)
    freqs = tuple(sorted(centres))
    rows = [np.concatenate(signal.iirnotch(f, q, fs=fs)) for f in freqs]
    sos = np.array(rows, dtype=np.float64).reshape(len(rows), 6)
    return NotchDesign(sos=sos, freqs_hz=freqs, fs=fs, mains=mains, q=q)


def group_delay_ms(sos: np.ndarray, fs: float, f_lo: float, f_hi: float) -> float:
    """Group delay of ``sos`` averaged over ``[f_lo, f_hi]`` Hz, in milliseconds.

    The per-section group delays are summed on a 4096-point grid; points where a zero sits on
    the unit circle (a notch centre, 0 Hz of a high-pass) are skipped. ``f_lo == f_hi`` gives
    the delay at that one frequency.
    """
    sos = as_sos(sos)
    fs = check_rate(fs)
    f_lo, f_hi = float(f_lo), float(f_hi)
    if not (0.0 <= f_lo <= f_hi <= fs / 2):
        raise ValueError(
            f"group delay band {f_lo:g}-{f_hi:g} Hz must satisfy 0 <= f_lo <= f_hi <= "
            f"fs/2 = {fs / 2:g} Hz (fs={fs:g} Hz)"
        )
    freqs = np.linspace(f_lo, f_hi, 4096 if f_hi > f_lo else 1)
    _, tau = _response(sos, fs, freqs)
    if not np.any(np.isfinite(tau)):
        raise ValueError(f"group delay undefined over {f_lo:g}-{f_hi:g} Hz at fs={fs:g} Hz")
    return float(np.nanmean(tau) / fs * 1000.0)


def passband(sos: np.ndarray, fs: float) -> tuple[float, float]:
    """Lowest and highest frequency (Hz) where the gain is within 3 dB of its maximum."""
    sos = as_sos(sos)
    fs = check_rate(fs)
    freqs = np.linspace(0.0, fs / 2, 8193)
    h, _ = _response(sos, fs, freqs)
    mag = np.abs(h)
    inside = np.flatnonzero(mag >= mag.max() / math.sqrt(2.0))
    return float(freqs[inside[0]]), float(freqs[inside[-1]])


def as_sos(sos: np.ndarray) -> np.ndarray:
    """Return ``sos`` as a C-contiguous float64 ``(n_sections, 6)`` array with ``a0 == 1``.

    Raises ``ValueError`` for another shape, a section whose ``a0`` (column 3) is not 1, or an
    unstable section (a pole on or outside the unit circle).
    """
    arr = np.ascontiguousarray(sos, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 6:
        raise ValueError(f"sos must have shape (n_sections, 6), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("sos holds non-finite coefficients")
    if not np.allclose(arr[:, 3], 1.0):
        raise ValueError(f"every section's a0 (column 3) must be 1, got {arr[:, 3].tolist()}")
    a1, a2 = arr[:, 4], arr[:, 5]
    # A real second-order section 1 + a1 z^-1 + a2 z^-2 is stable iff |a2| < 1 and |a1| < 1 + a2.
    unstable = np.flatnonzero(~((np.abs(a2) < 1.0) & (np.abs(a1) < 1.0 + a2)))
    if unstable.size:
        raise ValueError(f"sos section(s) {unstable.tolist()} are unstable (poles outside the unit circle)")
    return arr


def _response(sos: np.ndarray, fs: float, freqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Complex response and group delay (samples; NaN where undefined) at ``freqs`` Hz."""
    w = 2.0 * np.pi * np.asarray(freqs, dtype=np.float64) / fs
    zk = np.exp(-1j * np.outer(w, np.arange(3)))  # (n_freq, 3): z^-k
    k = np.arange(3)
    b, a = sos[:, :3].T, sos[:, 3:].T  # (3, n_sections)
    pb, pa = zk @ b, zk @ a
    qb, qa = zk @ (k[:, None] * b), zk @ (k[:, None] * a)
    h = np.prod(pb / pa, axis=1)
    tiny = 1e-9 * np.sum(np.abs(b), axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau_b = np.where(np.abs(pb) > tiny, (qb / pb).real, np.nan)
    tau = np.sum(tau_b - (qa / pa).real, axis=1)
    return h, tau


def _check_order(order: int) -> int:
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"filter order must be an integer >= 1, got {order!r}")
    return int(order)


def _check_band(band: tuple[float, float], fs: float) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in band)
    except (TypeError, ValueError):
        raise ValueError(f"band must be a pair (low, high) in Hz, got {band!r}") from None
    if not (0.0 <= lo < hi) or not math.isfinite(hi):
        raise ValueError(f"band {band!r} at fs={fs:g} Hz must satisfy 0 <= low < high (Hz)")
    return lo, hi


def _check_below_nyquist(freq: float, fs: float, what: str, edge: str) -> None:
    nyq = fs / 2
    if freq >= nyq:
        raise ValueError(
            f"{what} is impossible at fs={fs:g} Hz: {edge} must be below the Nyquist frequency "
            f"({nyq:g} Hz). {_LOW_RATE_HINT}"
        )


def _sos(sos: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(sos, dtype=np.float64)
