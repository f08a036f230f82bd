"""A session's analysis envelope computed a group of columns at a time, written in place."""

from __future__ import annotations

import numpy as np
import pytest

from myoflow.analysis._columns import fill_by_columns
from myoflow.analysis.activation import analysis_envelope


@pytest.mark.parametrize("fs", [200.0, 2000.0])
def test_written_in_place_by_groups_equals_one_call(fs: float) -> None:
    rng = np.random.default_rng(4)
    env = (np.abs(rng.standard_normal((20_001, 5))) * 30.0).astype(np.float32)
    env[5000:5040, 2] = np.nan  # a lost stretch stays NaN, its neighbours bridged
    whole = analysis_envelope(env, fs)
    for threads in (1, 2, 3):
        out = np.full(env.shape, -1.0, dtype=np.float32)
        got = fill_by_columns(lambda e, o: analysis_envelope(e, fs, out=o), env, out, threads)
        assert got is out
        assert np.array_equal(got, whole, equal_nan=True)


def test_out_of_the_wrong_shape_or_type_is_refused() -> None:
    env = np.ones((1000, 2), dtype=np.float32)
    with pytest.raises(ValueError, match=r"out must be a float32 array of shape \(1000, 2\)"):
        analysis_envelope(env, 2000.0, out=np.empty((1000, 2)))
    with pytest.raises(ValueError, match="out must be"):
        analysis_envelope(env, 2000.0, out=np.empty((999, 2), dtype=np.float32))
