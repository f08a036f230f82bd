"""Runs of True in a mask (relaxation gaps, stalls, tension runs)."""

from __future__ import annotations

import numpy as np

from myoflow.analysis.relaxation import longest_run, true_runs


def test_true_runs_against_the_edges_of_a_padded_mask() -> None:
    """Runs of True found from where the value changes equal the definition: +1/-1 steps of
    the mask padded with False at both ends."""
    rng = np.random.default_rng(9)
    for n in (0, 1, 2, 3, 17, 5000):
        for p in (0.0, 0.02, 0.5, 0.98, 1.0):
            m = rng.random(n) < p
            edges = np.diff(np.concatenate(([0], m.astype(np.int8), [0])))
            want = np.stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)], axis=1)
            got = true_runs(m)
            assert got.dtype == np.int64 and got.shape == want.shape and np.array_equal(got, want), (n, p)
            assert longest_run(m) == (int((want[:, 1] - want[:, 0]).max()) if want.size else 0)
