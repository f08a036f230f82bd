"""The types every importer shares: :class:`SourceStream` (a stream as read from a file),
:class:`ImportReport` (what an import wrote) and the unit conversions (a leaf of
:mod:`myoflow.storage.importers`, which re-exports them)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from myoflow.stream import KIND_UNITS, StreamInfo

__all__ = ["MISSING_REASON", "UNIT_FACTORS", "ImportReport", "SourceStream", "unit_scale"]

#: Reason stored in the gaps table for rows the source file lacks.
MISSING_REASON = "missing in file"
_G = 9.80665
#: Units a file may give per kind -> factor to myoflow's unit for that kind.
UNIT_FACTORS: dict[str, dict[str, float]] = {
    "emg": {"uV": 1.0, "µV": 1.0, "mV": 1e3, "V": 1e6, "nV": 1e-3},
    "ecg": {"uV": 1.0, "µV": 1.0, "mV": 1e3, "V": 1e6, "nV": 1e-3},
    "acc": {"g": 1.0, "mg": 1e-3, "m/s^2": 1 / _G, "m/s2": 1 / _G, "m/s²": 1 / _G},
    "gyro": {"deg/s": 1.0, "dps": 1.0, "°/s": 1.0, "rad/s": 180 / math.pi},
    "quat": {"1": 1.0, "": 1.0},
    "angle": {"deg": 1.0, "°": 1.0, "rad": 180 / math.pi},
}


def unit_scale(kind: str, unit: str, what: str = "unit") -> tuple[float, str]:
    """Factor from ``unit`` to myoflow's unit for ``kind``, and the stream unit to declare.

    ``"counts"`` (raw ADC values with no known conversion) is accepted for every kind and kept
    as the stream's unit with factor 1. Anything else unknown is a ValueError naming ``what``.
    """
    if unit in ("", None):
        return 1.0, KIND_UNITS[kind]
    if unit == "counts":
        return 1.0, "counts"
    factors = UNIT_FACTORS[kind]
    for name, factor in factors.items():
        if unit.lower() == name.lower():
            return factor, KIND_UNITS[kind]
    allowed = ", ".join(repr(u) for u in factors if u) + ", 'counts'"
    raise ValueError(f"{what}: unit {unit!r} is not a unit for kind {kind!r}; allowed: {allowed}")


@dataclass
class SourceStream:
    """One stream as read from a source file, before it is written.

    Parameters
    ----------
    info
        Name, kind, nominal rate (Hz), channel labels, placements, unit.
    values
        ``(n_rows, n_channels)`` as the file holds them; float arrays use NaN for "no value"
        (infinities are "no value" too). Or a function returning a fresh iterator of such
        arrays, consecutive chunks of rows: the import then reads them twice (sizes and dtype,
        then the writing) and never holds more than one chunk (``times``, ``index`` and
        ``valid`` are then indexed by the row over all chunks).
    scale, offset
        Per-channel conversion ``physical = raw * scale + offset`` in ``info.unit``.
    raw_dtype
        Storage dtype; None chooses int16/int32 when every value is an integer in range, else
        float64.
    times
        ``(n_rows,)`` float64 seconds of each row; None: ``t0 + row / rate``.
    index
        ``(n_rows,)`` int64 sample index of each row from a device counter or timestamps
        (jumps become gaps); None: the row number.
    valid
        ``(n_rows,)`` bool, rows to keep (in addition to NaN checks); None: all.
    """

    info: StreamInfo
    values: np.ndarray | Callable[[], Iterable[np.ndarray]]
    scale: float | np.ndarray = 1.0
    offset: float | np.ndarray = 0.0
    raw_dtype: Any = None
    times: np.ndarray | None = None
    t0: float = 0.0
    index: np.ndarray | None = None
    valid: np.ndarray | None = None
    gap_reason: str = MISSING_REASON
    device: Any = None


@dataclass
class ImportReport:
    """What an import wrote and what it had to skip or repair.

    Attributes
    ----------
    source, out : Path
    format : str
        ``"csv"``, ``"uci"``, ``"opensignals"``, ``"openbci"``, ``"brainflow"`` or ``"xdf"``.
    streams : dict[str, int]
        Samples written per stream name.
    gaps : dict[str, int]
        Gaps written per stream name.
    n_events : int
    notes : list[str]
        One sentence per thing skipped, repaired or assumed.
    """

    source: Path
    out: Path
    format: str
    streams: dict[str, int] = field(default_factory=dict)
    gaps: dict[str, int] = field(default_factory=dict)
    n_events: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """A human-readable multi-line summary."""
        lines = [f"imported {self.source.name} ({self.format}) -> {self.out}"]
        for name, n in self.streams.items():
            lines.append(f"  stream {name}: {n} samples, {self.gaps.get(name, 0)} gap(s)")
        lines.append(f"  events: {self.n_events}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)
