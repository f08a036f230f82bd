"""EMG processing profiles and the pipeline that applies them, live (chunk by chunk) or offline.

A profile says how raw EMG becomes an activation envelope at a given sample rate:

``standard`` (straps at >= 1 kHz)
    Butterworth band-pass 20-450 Hz (order 4), mains notches (Q 30) at the harmonics inside the
    band (none folded: such a strap's anti-aliasing filter removes what lies above Nyquist),
    full-wave rectification, 6 Hz Butterworth low-pass of order 2 (live: ~38 ms delay).
``low_rate`` (200 Hz straps: Myo, Ganglion)
    A 20-450 Hz band does not exist below 900 Hz. High-pass 20 Hz (order 4); notches only at mains
    harmonics below the sample rate, folded into 20 Hz..Nyquist (higher harmonics are removed by
    the strap's own anti-aliasing filter): at 200 Hz, 50 Hz mains gives one notch (50 Hz; 150 Hz
    folds onto it), 60 Hz mains gives 20, 60 and 80 Hz (180 and 120 Hz folded). Envelope: a
    70 ms moving RMS (35 ms delay; 14 samples at 200 Hz), which needs no low-pass at a rate this
    close to the EMG band. Total live delay 45-55 ms, inside the 60 ms biofeedback budget.

:func:`profile_for_rate` picks one of them from the rate, and says which; an explicit profile
whose band is impossible at the rate is an error, never silently clamped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from myoflow._checks import as_signal, check_option, check_rate
from myoflow.dsp.design import NotchDesign, bandpass, highpass, mains_notch
from myoflow.dsp.envelope import MovingMav, MovingRms, RectifiedEnvelope
from myoflow.dsp.filters import SosFilter, cascade
from myoflow.dsp.offline import envelope_zero_phase, zero_phase_fft

ENVELOPES = ("lowpass", "rms", "mav")
#: Butterworth order of the envelope low-pass (live and, with zero phase, offline).
LIVE_ENVELOPE_ORDER = 2
#: A notch's ``|H|^2`` has the -3 dB width of ``|H|`` when its Q is this much higher:
#: ``|f^2 - f0^2| = f f0 / Q`` at ``|H| = 2^-1/2`` and ``= f f0 / (Q' sqrt(sqrt(2) - 1))`` at
#: ``|H'|^2 = 2^-1/2``, so ``Q' = Q / sqrt(sqrt(2) - 1)``.
OFFLINE_NOTCH_Q = 1.0 / np.sqrt(np.sqrt(2.0) - 1.0)


@dataclass(frozen=True)
class EmgProfile:
    """How raw EMG becomes an envelope.

    Parameters
    ----------
    name
        Shown in outputs and stored in recordings.
    highpass_hz, lowpass_hz
        Band edges in Hz; ``lowpass_hz=None`` means high-pass only.
    order
        Butterworth order of the band filter.
    mains_hz
        50 or 60 to notch mains hum (and harmonics landing in the band), ``None`` for no notch.
    envelope
        ``"lowpass"`` (rectify + Butterworth low-pass), ``"rms"`` or ``"mav"`` (moving window).
    envelope_hz
        Low-pass cut-off for ``"lowpass"`` envelopes.
    window_s
        Window length for ``"rms"``/``"mav"`` envelopes, in seconds.
    notch_aliases
        ``False``: notch the mains harmonics inside the band (a strap sampling at >= 1 kHz
        filters out what lies above Nyquist). ``True``: also harmonics up to the sample rate,
        folded into the band (cheap 200 Hz straps let them alias in).
    notch_q
        Quality factor of each notch (centre / -3 dB width).
    """

    name: str
    highpass_hz: float = 20.0
    lowpass_hz: float | None = 450.0
    order: int = 4
    mains_hz: float | None = 50.0
    envelope: str = "lowpass"
    envelope_hz: float = 6.0
    window_s: float = 0.1
    notch_aliases: bool = False
    notch_q: float = 30.0

    def __post_init__(self) -> None:
        check_option(self.envelope, "envelope", ENVELOPES)
        if self.mains_hz is not None:
            check_option(self.mains_hz, "mains_hz", (50, 60, 50.0, 60.0, None))

    def with_mains(self, mains_hz: float | None) -> EmgProfile:
        """The same profile for a country with ``mains_hz`` (50 or 60) mains, or without notch."""
        return replace(self, mains_hz=mains_hz)

    def filters(self, fs: float, offline: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """``(band, notches)`` SOS arrays for ``fs`` (Hz); ``notches`` may have no sections.

        ``offline=True`` gives the notches to apply forward-backward (``|H|^2``) so that they
        match the live notches' ``|H|``: the same centres with ``Q`` x :data:`OFFLINE_NOTCH_Q`,
        which gives ``|H|^2`` the live notch's -3 dB width. Raises ``ValueError`` naming the
        rate and band if the band is impossible at ``fs``."""
        fs = check_rate(fs)
        if self.lowpass_hz is None:
            band = highpass(fs, self.highpass_hz, order=self.order)
        else:
            band = bandpass(fs, self.highpass_hz, self.lowpass_hz, order=self.order)
        if self.mains_hz is None:
            return band, np.zeros((0, 6))
        return band, self._notch(fs, self.notch_q * (OFFLINE_NOTCH_Q if offline else 1.0)).sos

    def band_sos(self, fs: float) -> np.ndarray:
        """Band filter and notches as one SOS cascade for ``fs`` (Hz), as run live."""
        band, notches = self.filters(fs)
        return cascade(band, notches) if len(notches) else band

    def _top(self, fs: float) -> float:
        return fs / 2 if self.lowpass_hz is None else self.lowpass_hz

    def notch_freqs(self, fs: float) -> tuple[float, ...]:
        """Notch centres (Hz) this profile uses at ``fs``."""
        if self.mains_hz is None:
            return ()
        return tuple(self._notch(check_rate(fs), self.notch_q).freqs_hz)

    def _notch(self, fs: float, q: float) -> NotchDesign:
        return mains_notch(
            fs,
            mains=50.0 if self.mains_hz is None else self.mains_hz,
            band=(self.highpass_hz, self._top(fs)),
            q=q,
            max_harmonic_hz=fs if self.notch_aliases else self._top(fs),
        )


STANDARD = EmgProfile("standard")
LOW_RATE = EmgProfile(
    "low_rate", highpass_hz=20.0, lowpass_hz=None, envelope="rms", window_s=0.07, notch_aliases=True
)
PROFILES: dict[str, EmgProfile] = {p.name: p for p in (STANDARD, LOW_RATE)}


def profile_for_rate(fs: float, mains_hz: float | None = 50.0) -> EmgProfile:
    """The default profile for a strap sampling at ``fs`` Hz: ``standard`` from 1 kHz up,
    ``low_rate`` below."""
    fs = check_rate(fs)
    base = STANDARD if fs >= 1000.0 else LOW_RATE
    return base.with_mains(mains_hz)


class PipelineOutput(NamedTuple):
    """One chunk's results, both ``(n_samples, n_channels)`` float32."""

    filtered: np.ndarray
    envelope: np.ndarray


class EmgPipeline:
    """Live EMG processing: band filter + notches -> rectify -> envelope, state kept per channel.

    Feeding a recording in chunks of any sizes gives the same output as one call on the
    whole recording (causal filters, state carried between calls).

    Parameters
    ----------
    fs
        Sample rate in Hz.
    profile
        An :class:`EmgProfile`; default :func:`profile_for_rate`.
    """

    def __init__(self, fs: float, profile: EmgProfile | None = None) -> None:
        self.fs = check_rate(fs)
        self.profile = profile or profile_for_rate(self.fs)
        sos = self.profile.band_sos(self.fs)
        self._band = SosFilter(sos, self.fs, passband=(self.profile.highpass_hz, self.profile._top(self.fs)))
        self._envelope: RectifiedEnvelope | MovingRms | MovingMav
        if self.profile.envelope == "lowpass":
            self._envelope = RectifiedEnvelope(
                self.fs, cutoff_hz=self.profile.envelope_hz, order=LIVE_ENVELOPE_ORDER
            )
        elif self.profile.envelope == "rms":
            self._envelope = MovingRms(self.fs, self.profile.window_s)
        else:
            self._envelope = MovingMav(self.fs, self.profile.window_s)

    @property
    def delay_ms(self) -> float:
        """Delay of the envelope behind the muscle's activity, in ms (band filter + envelope)."""
        return float(self._band.delay_ms + self._envelope.delay_ms)

    def process(self, chunk: np.ndarray) -> PipelineOutput:
        """Filter the next chunk ``(n_samples, n_channels)`` of raw EMG (any units)."""
        filtered = self._band.process(chunk)
        return PipelineOutput(filtered, self._envelope.process(filtered))

    def reset(self) -> None:
        """Forget all state (e.g. after a gap in the data)."""
        self._band.reset()
        self._envelope.reset()


def envelope_offline(x: np.ndarray, fs: float, profile: EmgProfile | None = None) -> np.ndarray:
    """Zero-phase envelope of a whole recording ``(n_samples, n_channels)`` for offline analysis.

    The live envelope without its delay: the same filter designs, their magnitude responses
    applied with zero phase (frequency domain), and for window envelopes a centred window.
    Returns float32 of the same shape.
    """
    fs = check_rate(fs)
    profile = profile or profile_for_rate(fs)
    x = as_signal(x)
    if profile.envelope == "lowpass":
        band, sections = profile.filters(fs, offline=True)
        return envelope_zero_phase(
            x,
            fs,
            band,
            cutoff_hz=profile.envelope_hz,
            order=LIVE_ENVELOPE_ORDER,
            passes=1,
            notch_sos=sections if len(sections) else None,
        )
    filtered = band_passed_offline(x, fs, profile)
    stage = MovingRms(fs, profile.window_s) if profile.envelope == "rms" else MovingMav(fs, profile.window_s)
    causal = stage.process(filtered)
    shift = int(round(stage.delay_ms * fs / 1000.0))  # centre the window: undo its delay
    if shift == 0:
        return causal
    return np.concatenate([causal[shift:], np.repeat(causal[-1:], shift, axis=0)])


def band_passed_offline(x: np.ndarray, fs: float, profile: EmgProfile) -> np.ndarray:
    """``x`` ``(n_samples, n_channels)`` at ``fs`` Hz through ``profile``'s band filter and
    notches for offline use: the live filters' magnitude with zero phase (the notches
    forward-backward: :meth:`EmgProfile.filters` with ``offline=True``), as the offline
    envelope and the classic onset detectors read it. Same shape; ``x`` must be finite (fill
    lost samples first)."""
    band, sections = profile.filters(fs, offline=True)
    return zero_phase_fft(x, fs, band, passes=1, notch_sos=sections if len(sections) else None)


__all__ = [
    "EmgProfile",
    "EmgPipeline",
    "PipelineOutput",
    "STANDARD",
    "LOW_RATE",
    "PROFILES",
    "profile_for_rate",
    "envelope_offline",
    "band_passed_offline",
]
