"""A lower-lag feedback envelope: Bayesian estimation of EMG amplitude (after Sanger 2007).

The live envelope (rectify, 2nd-order 6 Hz low-pass) lags the muscle by ~38 ms on top of the
band-pass: fine for analysis, slow for feedback. A Bayesian filter tracks the *drive* ``x``
behind the EMG directly: the band-passed EMG sample ``e`` is modelled as Laplace-distributed
with mean absolute value ``x`` (``p(e | x) = exp(-|e| / x) / (2 x)``), and ``x`` itself as a
slow random walk that now and then jumps anywhere (probabilities ``alpha`` per sample for a
step to a neighbouring level, ``beta`` for a jump). Each sample updates a posterior over
``n_levels`` log-spaced levels between ``reference / 1000`` and ``2 * reference``; the estimate
is the posterior mean. A sudden contraction moves the posterior within a few tens of samples,
while steady activity is smoothed as much as the random walk allows.

:class:`BayesEnvelope` is causal and carries its state, so feeding a signal in chunks of any
sizes gives the same output as one call. Units follow the input (uV in, uV out), so the result
is comparable with the low-pass envelope and with MVC references.

Reference: T. D. Sanger, "Bayesian filtering of myoelectric signals", J. Neurophysiol. 97:
1839-1845, 2007 (the model; this code and its parameters are our own).
"""

from __future__ import annotations

import numpy as np

__all__ = ["BayesEnvelope", "step_lag_ripple"]


class BayesEnvelope:
    """Streaming Bayesian amplitude estimate of one channel (module docstring).

    Parameters
    ----------
    reference
        A typical high amplitude of the input (e.g. the MVC reference, uV): sets the level grid.
    n_levels
        Levels of the posterior grid.
    alpha
        Probability per sample of moving to a neighbouring level (diffusion; speed of tracking).
    beta
        Probability per sample of jumping to any level (lets a sudden contraction show at once).
    """

    def __init__(
        self, reference: float, n_levels: int = 60, alpha: float = 0.005, beta: float = 1e-5
    ) -> None:
        if not (np.isfinite(reference) and reference > 0):
            raise ValueError(f"reference must be a positive amplitude, got {reference!r}")
        self.levels = np.geomspace(reference / 1000.0, 2.0 * reference, int(n_levels))
        self.alpha, self.beta = float(alpha), float(beta)
        self._inv = 1.0 / self.levels
        self._post = np.full(self.levels.size, 1.0 / self.levels.size)

    def reset(self) -> None:
        """Forget the posterior (e.g. after a gap)."""
        self._post.fill(1.0 / self.levels.size)

    def process(self, e: np.ndarray) -> np.ndarray:
        """Estimates (same units as ``e``) for each sample of band-passed EMG ``e`` ``(n,)``."""
        e = np.abs(np.asarray(e, dtype=np.float64).ravel())
        out = np.empty(e.size)
        post, inv, levels = self._post, self._inv, self.levels
        a, b = self.alpha, self.beta
        keep = 1.0 - 2.0 * a - b
        spread = b / levels.size
        prior = np.empty_like(post)
        for k, value in enumerate(e):
            prior[:] = keep * post + spread
            prior[1:] += a * post[:-1]
            prior[:-1] += a * post[1:]
            prior[0] += a * post[0]  # reflecting ends
            prior[-1] += a * post[-1]
            like = inv * np.exp(-value * inv)
            post = prior * like
            total = post.sum()
            post = (
                post / total if total > 0 and np.isfinite(total) else np.full(levels.size, 1.0 / levels.size)
            )
            out[k] = float(post @ levels)
        self._post = post
        return out


def step_lag_ripple(
    env: np.ndarray, fs: float, up_s: float = 2.0, down_s: float = 4.0
) -> tuple[float, float, float]:
    """How an envelope ``env`` ``(n,)`` follows an amplitude step up at ``up_s`` and down at
    ``down_s`` (s): ms to cross half the step going up, going down, and the ripple (std / mean)
    over the steady high part (``up_s + 0.5`` s to ``down_s - 0.1`` s). The low level is taken
    over the 0.9 s before ``up_s - 0.1`` s."""
    lo = np.median(env[int((up_s - 1.0) * fs) : int((up_s - 0.1) * fs)])
    hi = np.median(env[int((down_s - 1.0) * fs) : int((down_s - 0.1) * fs)])
    half = lo + 0.5 * (hi - lo)
    up = np.flatnonzero(env[int(up_s * fs) :] >= half)[0] / fs * 1000.0
    down = np.flatnonzero(env[int(down_s * fs) :] <= half)[0] / fs * 1000.0
    steady = env[int((up_s + 0.5) * fs) : int((down_s - 0.1) * fs)]
    return float(up), float(down), float(steady.std() / steady.mean())
