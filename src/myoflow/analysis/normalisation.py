"""Normalisation references: the one MVC look-up live and offline share, and how levels are labelled.

A reference is one number per EMG channel in envelope uV (the envelope during the strongest
contraction, averaged over 0.5 s: :func:`calibrate_mvc` live, ``mvc_reference`` of the
zero-phase envelope offline). References come as a mapping whose keys may be
``"<stream>/<channel>"``, a placement (any spelling: ``"gluteus_maximus_right"`` finds
``glute_max_r``) or a channel label, and whose values are a number or a list of numbers
(several trials or joint positions: their maximum).

:func:`lookup_mvc` is **the** rule for one channel, used by the live analysis, the LSL
envelope outlets, the replay summary, the dashboard and ``myoflow analyze``: keys are tried
in the order stream/channel, placement, channel label; a value must be finite and > 0.
:func:`resolve_mvc` applies it to every channel over several sources in precedence order
(e.g. ``--mvc`` values, then ``--mvc-from`` trial files, then the recording's metadata) and
says where each reference came from.

Methods (:data:`METHODS`) and the unit label the levels carry (:data:`UNITS`):

================  ==================================  ==========================================
method            reference                           levels labelled
================  ==================================  ==========================================
``mvc``           maximal voluntary contraction       ``% MVC``
``submaximal``    a sub-maximal reference             ``% reference contraction``
                  contraction (e.g. 50 % effort)
``session_peak``  each channel's largest 0.5 s mean   ``% session peak`` (task peak)
                  in the analysed recording
================  ==================================  ==========================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from myoflow.analysis.placement import canonical_placement
from myoflow.dsp.normalise import mvc_reference
from myoflow.dsp.pipeline import EmgPipeline, EmgProfile

__all__ = [
    "METHODS",
    "UNITS",
    "ChannelKey",
    "Reference",
    "calibrate_mvc",
    "channel_keys",
    "lookup_mvc",
    "references_for",
    "reference_value",
    "resolve_mvc",
]

#: Normalisation methods (module docstring); ``auto`` = ``mvc`` when every channel has a
#: reference, else ``session_peak``.
METHODS = ("auto", "mvc", "submaximal", "session_peak")
#: Method -> unit label of the levels.
UNITS = {"mvc": "% MVC", "submaximal": "% reference contraction", "session_peak": "% session peak"}


@dataclass(frozen=True)
class ChannelKey:
    """How one EMG channel may be named in a references mapping."""

    stream: str
    channel: str
    placement: str | None = None

    @property
    def label(self) -> str:
        """``stream/channel (placement)`` for messages."""
        return f"{self.stream}/{self.channel}" + (f" ({self.placement})" if self.placement else "")


@dataclass(frozen=True)
class Reference:
    """One channel's reference: ``value_uv`` (envelope uV) and ``source`` (where it came from,
    in words, e.g. ``"--mvc"`` or ``"trial file mvc.h5"``)."""

    value_uv: float
    source: str


def channel_keys(info: Any) -> list[ChannelKey]:
    """The :class:`ChannelKey` of each channel of an EMG ``StreamInfo`` (canonical placements)."""
    places = info.placements or (None,) * info.n_channels
    return [
        ChannelKey(info.name, ch, canonical_placement(p) if p else None)
        for ch, p in zip(info.channels, places, strict=True)
    ]


def reference_value(value: Any) -> float | None:
    """A positive finite reference from a number or a list of numbers (their maximum), else None."""
    if isinstance(value, (list, tuple)):
        good = [v for v in (reference_value(x) for x in value) if v is not None]
        return max(good) if good else None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    v = float(value)
    return v if np.isfinite(v) and v > 0 else None


def _canonical_keys(refs: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in refs:
        if isinstance(k, str) and k.strip() and "/" not in k:
            out.setdefault(canonical_placement(k), refs[k])
    return out


def lookup_mvc(
    refs: Mapping[str, Any] | None, stream: str, channel: str, placement: str | None = None
) -> float | None:
    """The reference of one channel in ``refs`` (module docstring order), or None."""
    if not refs:
        return None
    keys = [f"{stream}/{channel}"]
    if placement:
        keys.append(placement)
    keys.append(channel)
    for k in keys:
        if k in refs:
            return reference_value(refs[k])
    if placement:
        canon = _canonical_keys(refs)
        key = canonical_placement(placement)
        if key in canon:
            return reference_value(canon[key])
    return None


def resolve_mvc(
    sources: Sequence[tuple[str, Mapping[str, Any] | None]], channels: Sequence[ChannelKey]
) -> list[Reference | None]:
    """Each channel's reference from the first source (in the given order) that has one.

    Parameters
    ----------
    sources
        ``(description, references mapping)`` in precedence order, e.g.
        ``[("--mvc", {...}), ("trial file mvc.h5", {...}), ("recording metadata", {...})]``.
    channels
        The EMG channels, in order.

    Returns
    -------
    One :class:`Reference` or None (no source has one) per channel.
    """
    out: list[Reference | None] = []
    for key in channels:
        found = None
        for where, refs in sources:
            v = lookup_mvc(refs, key.stream, key.channel, key.placement)
            if v is not None:
                found = Reference(v, where)
                break
        out.append(found)
    return out


def references_for(mvc: Mapping[str, Any], keys: Sequence[ChannelKey]) -> np.ndarray:
    """``(ch,)`` references (:func:`lookup_mvc`) of the channels ``keys`` for a live analysis;
    ``ValueError`` naming every channel without one (a live session takes one unit)."""
    found = [lookup_mvc(mvc, k.stream, k.channel, k.placement) for k in keys]
    missing = [k.label for k, v in zip(keys, found, strict=True) if v is None]
    if missing:
        raise ValueError(
            f"mvc has no positive reference for EMG channel(s) {', '.join(missing)}: run the MVC "
            "calibration for them, or pass mvc=None for % of session peak"
        )
    return np.asarray(found, dtype=np.float64)


def calibrate_mvc(
    emg: np.ndarray,
    fs: float,
    profile: EmgProfile | None = None,
    window_s: float = 0.5,
    skip_s: float = 0.0,
) -> np.ndarray:
    """MVC reference per channel from a calibration contraction, in live-envelope uV.

    ``emg`` ``(n_samples, n_channels)`` (1-D: one channel) runs through the live
    :class:`~myoflow.dsp.pipeline.EmgPipeline` (``profile``; default for the rate); the
    reference is the largest ``window_s`` mean of its envelope after the first ``skip_s``
    seconds (filters settling). Returns ``(n_channels,)`` float64.
    """
    x = np.asarray(emg, dtype=np.float32)
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    envelope = EmgPipeline(fs, profile).process(x).envelope
    skip = min(envelope.shape[0], int(round(max(0.0, skip_s) * fs)))
    return mvc_reference(envelope[skip:], fs, window_s=window_s)
