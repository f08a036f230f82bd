"""Left/right symmetry of the same muscle: per rep, per set, for the balance test and live.

Two channels are a **pair** when their canonical placements name the same muscle on the two
sides (``glute_max_l`` / ``glute_max_r``, :func:`side_pairs`). For a value measured on both
sides (``L``, ``R``) two indices are given:

* **symmetry index** ``SI = 100 * (L - R) / ((L + R) / 2)`` % (Robinson et al. 1987, J
  Manipulative Physiol Ther 10:172; their ``(X_R - X_L)`` sign is flipped here so that the
  balance test's existing ``asymmetry_pct`` and this module are one rule:
  :func:`myoflow.analysis.balance.asymmetry_pct`). 0 is symmetric, positive means the left
  value is larger, +-200 % means one side is zero.
* **limb symmetry index** ``LSI = 100 * min(L, R) / max(L, R)`` % (as in return-to-sport
  testing, with the weaker side over the stronger one since no side is known to be the
  involved one): 100 is symmetric.

Per rep the indices are of each side's ``peak_pct`` and ``mean_pct`` (the activation
metrics of the rep, :class:`~myoflow.analysis.activation.MuscleActivation`), and the onset
difference ``onset_diff_ms = onset_L - onset_R`` (negative: the left side fires first). Per set
the indices are of the set's mean ``L`` and mean ``R`` (not the mean of per-rep indices, which
a near-zero rep would dominate), with the SD of the per-rep ``SI`` beside them.

Amplitudes compare across sides only when both are normalised to a maximal (or the same
submaximal) contraction: in ``% session peak`` each side is scaled to its own maximum, so the
indices then say how the sides' reps *vary*, not which side works harder; the result says so
in ``note``. Onset differences need no normalisation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from myoflow.analysis.balance import METRICS as BALANCE_METRICS
from myoflow.analysis.balance import BalanceTest, asymmetry_pct
from myoflow.analysis.placement import parse_placement
from myoflow.analysis.rep_like import NumberedRep, set_fields

__all__ = [
    "RepSymmetry",
    "SessionSymmetry",
    "SetSymmetry",
    "balance_symmetry",
    "limb_symmetry_index",
    "live_symmetry",
    "session_symmetry",
    "side_pairs",
    "symmetry_index",
]

#: Unit in which amplitude symmetry is not a strength comparison.
SELF_NORMALISED = "% session peak"


def symmetry_index(left: float, right: float) -> float:
    """``SI = 100 (L - R) / ((L + R) / 2)`` % (module docstring); 0 when both are 0, NaN if
    either is NaN."""
    return asymmetry_pct(float(left), float(right))


def limb_symmetry_index(left: float, right: float) -> float:
    """``LSI = 100 min(L, R) / max(L, R)`` %; 100 when both are 0, NaN if either is NaN or negative."""
    lo, hi = min(left, right), max(left, right)
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo < 0:
        return math.nan
    return 100.0 if hi == 0 else 100.0 * lo / hi


def side_pairs(placements: Sequence[str]) -> list[tuple[str, str, str]]:
    """``(muscle, left placement, right placement)`` for each muscle placed on both sides, in
    the order of the left channels; a muscle placed twice on one side pairs its first channel."""
    left: dict[str, str] = {}
    right: dict[str, str] = {}
    for name in placements:
        p = parse_placement(name)
        if p.kind != "muscle":
            continue
        side = left if p.side == "l" else right if p.side == "r" else None
        if side is not None:
            side.setdefault(p.muscle, name)
    return [(m, left[m], right[m]) for m in left if m in right]


class _Activation(Protocol):
    @property
    def peak_pct(self) -> float:
        """Peak level."""

    @property
    def mean_pct(self) -> float:
        """Mean level."""

    @property
    def onset_ms(self) -> float | None:
        """Onset (ms from movement onset), None without one."""


class RepLike(NumberedRep, Protocol):
    """What :func:`session_symmetry` needs of a rep (e.g. a ``RepResult``): ``index``,
    ``set_index`` and ``muscles``."""

    @property
    def muscles(self) -> Mapping[str, _Activation]:
        """Placement -> activation of the rep."""


@dataclass(frozen=True)
class RepSymmetry:
    """One rep, one pair: ``si_peak_pct``/``lsi_peak_pct`` of ``peak_pct``,
    ``si_mean_pct``/``lsi_mean_pct`` of ``mean_pct``, ``onset_diff_ms`` (L - R, None unless both
    have an onset)."""

    rep: int
    set_index: int
    muscle: str
    left: str
    right: str
    si_peak_pct: float
    lsi_peak_pct: float
    si_mean_pct: float
    lsi_mean_pct: float
    onset_diff_ms: float | None


@dataclass(frozen=True)
class SetSymmetry:
    """One set, one pair: indices of the set's mean ``peak_pct`` / ``mean_pct`` per side,
    ``si_peak_sd_pct`` (SD of the per-rep SI of peaks), median ``onset_diff_ms``."""

    set_index: int
    muscle: str
    n_reps: int
    si_peak_pct: float
    lsi_peak_pct: float
    si_peak_sd_pct: float
    si_mean_pct: float
    lsi_mean_pct: float
    onset_diff_ms: float


@dataclass(frozen=True)
class SessionSymmetry:
    """Symmetry of a session: ``pairs`` found, ``reps`` and ``sets`` rows, ``unit`` of the
    levels and ``note`` (a sentence when the amplitudes are self-normalised, else None)."""

    pairs: list[tuple[str, str, str]]
    reps: list[RepSymmetry]
    sets: list[SetSymmetry]
    unit: str
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Session part of the report JSON: ``formula``, ``pairs``, ``unit``, ``note``, :meth:`summary`."""
        return {
            "formula": "SI = 100 (L - R) / ((L + R) / 2); LSI = 100 min(L, R) / max(L, R)",
            "pairs": {m: {"left": lname, "right": rname} for m, lname, rname in self.pairs},
            "unit": self.unit,
            "note": self.note,
            "summary": self.summary(),
        }

    def rep_dict(self, rep: int) -> dict[str, dict[str, Any]]:
        """One rep: muscle -> ``{"si_peak_pct", "lsi_peak_pct", "si_mean_pct", "lsi_mean_pct",
        "onset_diff_ms"}``."""
        keep = ("si_peak_pct", "lsi_peak_pct", "si_mean_pct", "lsi_mean_pct", "onset_diff_ms")
        return {r.muscle: {k: getattr(r, k) for k in keep} for r in self.reps if r.rep == rep}

    def set_dict(self, set_index: int) -> dict[str, dict[str, Any]]:
        """One set: muscle -> its :class:`SetSymmetry` fields (without ``set_index``/``muscle``)."""
        return set_fields(self.sets, set_index)

    def summary(self, set_index: int | None = None) -> dict[str, float]:
        """Flat ``<muscle>.si_peak_pct`` / ``.si_mean_pct`` / ``.lsi_peak_pct`` /
        ``.onset_diff_ms`` (mean over the sets, or one set)."""
        rows = [s for s in self.sets if set_index is None or s.set_index == set_index]
        out: dict[str, float] = {}
        for m, _, _ in self.pairs:
            mine = [s for s in rows if s.muscle == m]
            for key in ("si_peak_pct", "si_mean_pct", "lsi_peak_pct", "onset_diff_ms"):
                out[f"{m}.{key}"] = _nanmean([getattr(s, key) for s in mine])
        return out


def session_symmetry(reps: Sequence[RepLike], placements: Sequence[str], unit: str) -> SessionSymmetry:
    """Left/right indices per rep and per set for every pair in ``placements``.

    Parameters
    ----------
    reps
        Per-rep results (``RepResult``): ``index``, ``set_index`` and ``muscles`` (placement ->
        activation with ``peak_pct``, ``mean_pct``, ``onset_ms``).
    placements
        The session's channel placements.
    unit
        Level unit of the reps (``"% MVC"``, ``"% session peak"``, ...).

    Returns
    -------
    SessionSymmetry
        Empty ``reps``/``sets`` when no muscle is placed on both sides.
    """
    pairs = side_pairs(placements)
    rows: list[RepSymmetry] = []
    for r in reps:
        for m, lname, rname in pairs:
            a, b = r.muscles[lname], r.muscles[rname]
            diff = None if a.onset_ms is None or b.onset_ms is None else float(a.onset_ms - b.onset_ms)
            rows.append(
                RepSymmetry(
                    r.index,
                    r.set_index,
                    m,
                    lname,
                    rname,
                    symmetry_index(a.peak_pct, b.peak_pct),
                    limb_symmetry_index(a.peak_pct, b.peak_pct),
                    symmetry_index(a.mean_pct, b.mean_pct),
                    limb_symmetry_index(a.mean_pct, b.mean_pct),
                    diff,
                )
            )
    sets = []
    for s in sorted({r.set_index for r in reps}):
        mine_reps = [r for r in reps if r.set_index == s]
        for m, lname, rname in pairs:
            lp = _nanmean([r.muscles[lname].peak_pct for r in mine_reps])
            rp = _nanmean([r.muscles[rname].peak_pct for r in mine_reps])
            lm = _nanmean([r.muscles[lname].mean_pct for r in mine_reps])
            rm = _nanmean([r.muscles[rname].mean_pct for r in mine_reps])
            per_rep = [x for x in rows if x.set_index == s and x.muscle == m]
            si = np.array([x.si_peak_pct for x in per_rep], dtype=np.float64)
            si = si[np.isfinite(si)]
            diffs = [x.onset_diff_ms for x in per_rep if x.onset_diff_ms is not None]
            sets.append(
                SetSymmetry(
                    s,
                    m,
                    len(mine_reps),
                    symmetry_index(lp, rp),
                    limb_symmetry_index(lp, rp),
                    float(si.std(ddof=1)) if si.size > 1 else math.nan,
                    symmetry_index(lm, rm),
                    limb_symmetry_index(lm, rm),
                    float(np.median(diffs)) if diffs else math.nan,
                )
            )
    note = None
    if pairs and unit == SELF_NORMALISED:
        note = (
            "levels are % session peak (each side scaled to its own maximum): the amplitude "
            "symmetry indices compare how the sides vary, not which works harder; give MVC "
            "references for a strength comparison (onset differences are unaffected)"
        )
    return SessionSymmetry(pairs, rows, sets, unit, note)


def balance_symmetry(test: BalanceTest) -> dict[str, dict[str, float]]:
    """The balance test's left/right comparison: metric -> ``{"si_pct", "lsi_pct"}``.

    ``si_pct`` is the same number as ``test.asymmetry_pct`` (one formula); for sway metrics a
    larger value is worse, so ``si_pct > 0`` means the left stance sways more.
    """
    lm, rm = test.left.metrics(), test.right.metrics()
    return {
        k: {"si_pct": symmetry_index(lm[k], rm[k]), "lsi_pct": limb_symmetry_index(lm[k], rm[k])}
        for k in BALANCE_METRICS
    }


def live_symmetry(left: np.ndarray, right: np.ndarray) -> float:
    """SI (%) of the mean of two envelope windows, e.g. the last second of a live display.

    ``left``, ``right``: ``(n,)`` envelopes of the two sides in the same unit (NaN samples are
    left out). Returns NaN when either window has no finite sample.
    """
    lv, rv = np.asarray(left, dtype=np.float64), np.asarray(right, dtype=np.float64)
    lv, rv = lv[np.isfinite(lv)], rv[np.isfinite(rv)]
    if not lv.size or not rv.size:
        return math.nan
    return symmetry_index(float(lv.mean()), float(rv.mean()))


def _nanmean(values: Sequence[float | None]) -> float:
    a = np.array([math.nan if v is None else v for v in values], dtype=np.float64)
    a = a[np.isfinite(a)]
    return float(a.mean()) if a.size else math.nan
