"""ICC(2,1), ICC(3,1), SEM and MDC95 against a textbook example and against pingouin.

* Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges; the paper's mean squares and
  ICCs, and the same numbers worked out by hand below.
* pingouin.intraclass_corr (an independent implementation) on random tables of several shapes,
  with and without a systematic shift between repeats, and with a missing value.
* SEM and MDC95 on simulated repeats of known noise: the SEM estimates the noise and two
  noise-only measurements differ by more than MDC95 about 5 % of the time.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from myoflow.analysis.reliability import MDC_Z, ReliabilityError, reliability_stats

# Shrout & Fleiss (1979), Table 2: rows are targets, columns judges 1-4.
SHROUT_FLEISS = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], dtype=float
)


def test_shrout_fleiss_table_2() -> None:
    r = reliability_stats(SHROUT_FLEISS)
    # By hand: grand mean 5.5833; target means 6, 3, 6.5, 4, 7.5, 4.75; judge means 7.667,
    # 2.5, 4.333, 6.667. SS targets = 4 * 14.0521 = 56.208 (df 5), SS judges = 6 * 16.243 =
    # 97.458 (df 3), SS total = 168.958, SS error = 15.292 (df 15).
    assert r.ms_rows == pytest.approx(56.2083 / 5, abs=1e-3)  # paper: BMS = 11.24
    assert r.ms_cols == pytest.approx(97.4583 / 3, abs=1e-3)  # paper: JMS = 32.49
    assert r.ms_error == pytest.approx(15.2917 / 15, abs=1e-3)  # paper: EMS = 1.02
    bms, jms, ems, n, k = 11.2417, 32.4861, 1.0194, 6, 4
    assert r.icc2_1 == pytest.approx((bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n), abs=1e-3)
    assert r.icc3_1 == pytest.approx((bms - ems) / (bms + (k - 1) * ems), abs=1e-3)
    assert round(r.icc2_1, 2) == 0.29 and round(r.icc3_1, 2) == 0.71  # the paper's Table 4
    sd = math.sqrt(168.9583 / 23)
    assert r.sd == pytest.approx(sd, rel=1e-4)
    assert r.sem == pytest.approx(r.sd * math.sqrt(1 - r.icc2_1), rel=1e-12)
    assert r.mdc95 == pytest.approx(1.96 * math.sqrt(2) * r.sem, rel=1e-9)
    assert r.sem_mse == pytest.approx(math.sqrt(1.0194), abs=1e-3)
    assert (r.n, r.k, r.n_dropped) == (6, 4, 0)


def _pingouin(table: np.ndarray) -> dict[str, tuple[float, float, float]]:
    """pingouin's ICC(A,1) and ICC(C,1) with their 95 % intervals, by type."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pingouin's own deprecation noise is not under test
        import pandas as pd
        import pingouin as pg

        n, k = table.shape
        df = pd.DataFrame(
            {"target": np.repeat(np.arange(n), k), "rater": np.tile(np.arange(k), n), "v": table.ravel()}
        )
        res = pg.intraclass_corr(df, targets="target", raters="rater", ratings="v", nan_policy="omit")
    return {row.Type: (row.ICC, row.CI95[0], row.CI95[1]) for row in res.itertuples()}


@pytest.mark.parametrize(
    ("n", "k", "shift", "seed"), [(6, 4, 0.0, 0), (12, 2, 3.0, 1), (30, 3, 0.5, 2), (8, 5, 1.0, 3)]
)
def test_same_numbers_as_pingouin(n: int, k: int, shift: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = rng.normal(10.0, 2.0, (n, 1)) + rng.normal(0.0, 1.0, (n, k)) + shift * np.arange(k)
    ref = _pingouin(table)
    r = reliability_stats(table)
    assert r.icc2_1 == pytest.approx(ref["ICC(A,1)"][0], abs=1e-9)
    assert r.icc3_1 == pytest.approx(ref["ICC(C,1)"][0], abs=1e-9)
    # pingouin rounds its intervals to 2 decimals
    assert r.icc2_1_ci == pytest.approx(ref["ICC(A,1)"][1:], abs=0.0051)
    assert r.icc3_1_ci == pytest.approx(ref["ICC(C,1)"][1:], abs=0.0051)
    assert r.icc2_1_ci[0] < r.icc2_1 < r.icc2_1_ci[1]
    assert r.icc3_1_ci[0] < r.icc3_1 < r.icc3_1_ci[1]


def test_rows_with_missing_values_are_left_out_as_in_pingouin() -> None:
    rng = np.random.default_rng(4)
    table = rng.normal(5.0, 1.0, (10, 1)) + rng.normal(0.0, 0.5, (10, 3))
    table[3, 1] = np.nan
    r = reliability_stats(table)
    assert (r.n, r.n_dropped) == (9, 1)
    assert r.icc2_1 == pytest.approx(_pingouin(table)["ICC(A,1)"][0], abs=1e-9)
    assert r.icc2_1 == reliability_stats(np.delete(table, 3, axis=0)).icc2_1


def test_sem_of_two_repeats_is_the_sd_of_differences_over_root_2() -> None:
    rng = np.random.default_rng(5)
    table = rng.normal(50.0, 10.0, (40, 1)) + rng.normal(0.0, 3.0, (40, 2))
    r = reliability_stats(table)
    # with k = 2, MSE = var(b - a) / 2 (a known identity; Weir 2005)
    assert r.sem_mse == pytest.approx(np.std(table[:, 1] - table[:, 0], ddof=1) / math.sqrt(2), rel=1e-9)
    assert r.mdc95_mse == pytest.approx(MDC_Z * r.sem_mse)


def test_sem_and_mdc_on_repeats_of_known_noise() -> None:
    """SEM estimates the noise; two noise-only measurements differ by more than MDC95 ~5 % of the time."""
    rng = np.random.default_rng(6)
    sigma = 2.0
    truth = rng.normal(40.0, 8.0, (200, 1))
    r = reliability_stats(truth + rng.normal(0.0, sigma, (200, 3)))
    assert r.sem_mse == pytest.approx(sigma, rel=0.08)
    assert r.sem == pytest.approx(sigma, rel=0.1)
    diffs = rng.normal(0.0, sigma, 20000) - rng.normal(0.0, sigma, 20000)
    exceed = np.mean(np.abs(diffs) > r.mdc95_mse)
    assert 0.03 < exceed < 0.08
    assert not r.detectable(0.5 * r.mdc95) and r.detectable(1.5 * r.mdc95) and r.detectable(-1.5 * r.mdc95)
    assert not r.detectable(float("nan"))


def test_scale_invariant() -> None:
    rng = np.random.default_rng(7)
    table = rng.normal(1.0, 0.2, (10, 1)) + rng.normal(0.0, 0.1, (10, 3))
    a, b = reliability_stats(table), reliability_stats(1000.0 * table)
    assert b.icc2_1 == pytest.approx(a.icc2_1) and b.icc3_1 == pytest.approx(a.icc3_1)
    assert b.sem == pytest.approx(1000.0 * a.sem) and b.mdc95 == pytest.approx(1000.0 * a.mdc95)


def test_identical_values_have_no_icc_and_zero_error() -> None:
    r = reliability_stats(np.full((4, 3), 2.5))
    assert math.isnan(r.icc2_1) and math.isnan(r.icc3_1)
    assert r.sem == 0.0 and r.mdc95 == 0.0 and r.sem_mse == 0.0
    doc = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert doc["icc2_1"] is None and doc["icc2_1_ci"] == [None, None]


def test_perfect_agreement() -> None:
    table = np.array([[1.0, 1.0], [2.0, 2.0], [4.0, 4.0]])
    r = reliability_stats(table)
    assert r.icc2_1 == 1.0 and r.icc3_1 == 1.0 and r.sem == 0.0


@pytest.mark.parametrize(
    ("table", "match"),
    [
        (np.ones(5), "2-D table"),
        (np.ones((1, 4)), "at least 2 targets"),
        (np.ones((5, 1)), "at least 2 repeats"),
        (np.array([[1.0, np.nan], [2.0, 2.1], [np.nan, 3.0]]), r"at least 2 targets .*got 1 \(2 left out"),
    ],
)
def test_too_few_rows_or_columns_is_a_clear_error(table: np.ndarray, match: str) -> None:
    with pytest.raises(ReliabilityError, match=match):
        reliability_stats(table)
