"""Reliability of a measurement from repeats: ICC(2,1), ICC(3,1), SEM and MDC95.

The input is a table ``(n_targets, k_repeats)``: each row one target (a subject, or for one
person a session), each column one repeated measurement of it (a session, a set, a trial). A
two-way ANOVA without replication splits the variance into targets (rows), repeats (columns)
and error; with ``N = n k``, row means ``r_i``, column means ``c_j`` and grand mean ``g``:

* ``MSR = k sum (r_i - g)^2 / (n - 1)`` (between targets)
* ``MSC = n sum (c_j - g)^2 / (k - 1)`` (between repeats: a systematic shift, e.g. learning)
* ``MSE = (SST - SSR - SSC) / ((n - 1)(k - 1))`` (residual error)

and (Shrout & Fleiss 1979, Psychol Bull 86(2):420-428, cases 2 and 3 for a single measurement;
McGraw & Wong 1996, Psychol Methods 1(1):30-46, "ICC(A,1)" and "ICC(C,1)"):

* ``ICC(2,1) = (MSR - MSE) / (MSR + (k - 1) MSE + k (MSC - MSE) / n)``: absolute agreement,
  two-way random effects; a systematic shift between repeats lowers it.
* ``ICC(3,1) = (MSR - MSE) / (MSR + (k - 1) MSE)``: consistency, two-way mixed effects; a
  systematic shift does not count.

95 % confidence intervals: ICC(3,1) from the F distribution of ``MSR / MSE`` with ``(n - 1,
(n - 1)(k - 1))`` degrees of freedom (Shrout & Fleiss 1979); ICC(2,1) from McGraw & Wong's
(1996) approximation with Satterthwaite's degrees of freedom.

The standard error of measurement and the minimal detectable change (Weir 2005, J Strength
Cond Res 19(1):231-240; Haley & Fragala-Pinkham 2006, Phys Ther 86(5):735-743):

* ``SEM = SD sqrt(1 - ICC(2,1))``, ``SD`` the standard deviation of all ``N`` values (ddof 1);
  a negative ICC counts as 0. ``SEM_mse = sqrt(MSE)`` is the ICC-free alternative Weir
  recommends; both are in the metric's unit.
* ``MDC95 = 1.96 sqrt(2) SEM``: the smallest difference between two single measurements that
  is larger than measurement error with 95 % confidence. A change smaller than MDC95 is
  "within noise".

Only rows whose values are all finite take part (listwise deletion, as in pingouin's
``nan_policy="omit"``); :attr:`Reliability.n_dropped` counts the others.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["MDC_Z", "Reliability", "ReliabilityError", "reliability_stats"]

#: ``1.96 * sqrt(2)``: MDC95 per unit of SEM.
MDC_Z = 1.96 * math.sqrt(2.0)


class ReliabilityError(ValueError):
    """A table the statistics cannot be computed from (too few targets or repeats, wrong shape)."""


@dataclass(frozen=True)
class Reliability:
    """ICC, SEM and MDC95 of one metric measured ``k`` times on ``n`` targets (module docstring).

    Attributes
    ----------
    n, k
        Targets (rows) and repeats (columns) used.
    n_dropped
        Rows left out because a value was missing or not finite.
    icc2_1, icc3_1
        ICC(2,1) (absolute agreement) and ICC(3,1) (consistency); NaN when every value is the same.
    icc2_1_ci, icc3_1_ci
        95 % confidence intervals ``(low, high)``.
    ms_rows, ms_cols, ms_error
        The ANOVA mean squares MSR, MSC, MSE (metric unit squared).
    sd
        Standard deviation of all values (ddof 1), metric unit.
    sem, sem_mse
        ``SD sqrt(1 - max(ICC(2,1), 0))`` and ``sqrt(MSE)``, metric unit.
    mdc95, mdc95_mse
        ``1.96 sqrt(2)`` times ``sem`` and ``sem_mse``, metric unit.
    """

    n: int
    k: int
    n_dropped: int
    icc2_1: float
    icc2_1_ci: tuple[float, float]
    icc3_1: float
    icc3_1_ci: tuple[float, float]
    ms_rows: float
    ms_cols: float
    ms_error: float
    sd: float
    sem: float
    sem_mse: float
    mdc95: float
    mdc95_mse: float

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain Python objects (NaN as None, so the dict is strict JSON)."""
        return {key: _jsonable(v) for key, v in asdict(self).items()}

    def detectable(self, change: float) -> bool:
        """Whether ``|change|`` (metric unit) is larger than MDC95."""
        return bool(math.isfinite(change) and math.isfinite(self.mdc95) and abs(change) > self.mdc95)

    def format(self) -> str:
        """One line: ICCs with their intervals, SEM and MDC95."""

        def ci(c: tuple[float, float]) -> str:
            return f"[{c[0]:.2f}, {c[1]:.2f}]"

        return (
            f"ICC(2,1) {self.icc2_1:.3f} {ci(self.icc2_1_ci)}, ICC(3,1) {self.icc3_1:.3f} "
            f"{ci(self.icc3_1_ci)}, SEM {self.sem:.4g}, MDC95 {self.mdc95:.4g} (n={self.n}, k={self.k})"
        )


def reliability_stats(table: ArrayLike, alpha: float = 0.05) -> Reliability:
    """ICC(2,1), ICC(3,1), SEM and MDC95 of a ``(n_targets, k_repeats)`` table.

    Parameters
    ----------
    table
        ``(n, k)`` values in the metric's unit: row ``i`` target ``i``, column ``j`` repeat
        ``j``. Rows with a missing (NaN) value are left out.
    alpha
        1 - confidence level of the ICC intervals (0.05: 95 %).

    Returns
    -------
    Reliability

    Raises
    ------
    ReliabilityError
        Not a 2-D table, or fewer than 2 complete rows or 2 columns.
    """
    x = np.asarray(table, dtype=np.float64)
    if x.ndim != 2:
        raise ReliabilityError(f"reliability needs a 2-D table (targets x repeats), got shape {x.shape}")
    if not 0.0 < alpha < 1.0:
        raise ReliabilityError(f"alpha must be between 0 and 1, got {alpha}")
    complete = np.all(np.isfinite(x), axis=1)
    x = x[complete]
    n, k = x.shape
    if k < 2:
        raise ReliabilityError(f"reliability needs at least 2 repeats (columns) per target, got {k}")
    if n < 2:
        raise ReliabilityError(
            f"reliability needs at least 2 targets (rows) with every repeat present, got {n}"
            f" ({int((~complete).sum())} left out for missing values)"
        )
    grand = x.mean()
    ss_total = float(((x - grand) ** 2).sum())
    ss_rows = float(k * ((x.mean(axis=1) - grand) ** 2).sum())
    ss_cols = float(n * ((x.mean(axis=0) - grand) ** 2).sum())
    df_rows, df_cols, df_err = n - 1, k - 1, (n - 1) * (k - 1)
    msr, msc = ss_rows / df_rows, ss_cols / df_cols
    mse = max(ss_total - ss_rows - ss_cols, 0.0) / df_err
    icc2 = _ratio(msr - mse, msr + (k - 1) * mse + k * (msc - mse) / n)
    icc3 = _ratio(msr - mse, msr + (k - 1) * mse)
    sd = math.sqrt(ss_total / (n * k - 1))
    sem = sd * math.sqrt(1.0 - max(icc2, 0.0)) if math.isfinite(icc2) else sd
    sem_mse = math.sqrt(mse)
    return Reliability(
        n=n,
        k=k,
        n_dropped=int((~complete).sum()),
        icc2_1=icc2,
        icc2_1_ci=_ci_icc2(msr, msc, mse, icc2, n, k, alpha),
        icc3_1=icc3,
        icc3_1_ci=_ci_icc3(msr, mse, n, k, alpha),
        ms_rows=msr,
        ms_cols=msc,
        ms_error=mse,
        sd=sd,
        sem=sem,
        sem_mse=sem_mse,
        mdc95=MDC_Z * sem,
        mdc95_mse=MDC_Z * sem_mse,
    )


def _ratio(num: float, den: float) -> float:
    if den == 0.0:
        return math.nan
    return num / den


def _ci_icc3(msr: float, mse: float, n: int, k: int, alpha: float) -> tuple[float, float]:
    """Shrout & Fleiss (1979) interval of ICC(3,1) from ``F = MSR / MSE``."""
    from scipy.stats import f

    if mse == 0.0:
        return (math.nan, math.nan)
    f_obs = msr / mse
    df1, df2 = n - 1, (n - 1) * (k - 1)
    f_low = f_obs / f.ppf(1 - alpha / 2, df1, df2)
    f_high = f_obs * f.ppf(1 - alpha / 2, df2, df1)
    return ((f_low - 1) / (f_low + k - 1), (f_high - 1) / (f_high + k - 1))


def _ci_icc2(
    msr: float, msc: float, mse: float, icc: float, n: int, k: int, alpha: float
) -> tuple[float, float]:
    """McGraw & Wong (1996) interval of ICC(A,1) with Satterthwaite's degrees of freedom."""
    from scipy.stats import f

    if not math.isfinite(icc) or mse == 0.0:
        return (math.nan, math.nan)
    a = k * icc / (n * (1 - icc)) if icc != 1.0 else math.inf
    b = 1 + k * icc * (n - 1) / (n * (1 - icc)) if icc != 1.0 else math.inf
    if not (math.isfinite(a) and math.isfinite(b)):
        return (math.nan, math.nan)
    v = (a * msc + b * mse) ** 2 / ((a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1)))
    with np.errstate(all="ignore"):  # tiny tables: F quantiles overflow, the interval is then NaN
        f_star_low = float(f.ppf(1 - alpha / 2, n - 1, v))
        f_star_high = float(f.ppf(1 - alpha / 2, v, n - 1))
        c = k * msc + (k * n - k - n) * mse
        low = np.float64(n) * (msr - f_star_low * mse) / (f_star_low * c + n * msr)
        high = np.float64(n) * (f_star_high * msr - mse) / (c + n * f_star_high * msr)
    return (float(low) if np.isfinite(low) else math.nan, float(high) if np.isfinite(high) else math.nan)


def _jsonable(v: Any) -> Any:
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, tuple):
        return [_jsonable(i) for i in v]
    return v
