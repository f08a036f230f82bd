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

__all__ = [
    "FEEDBACK_JUMP_PER_S",
    "FEEDBACK_WALK_PER_S",
    "BayesEnvelope",
    "feedback_envelope",
    "step_lag_ripple",
]

#: The feedback envelope's random walk: neighbour-level moves per second (alpha x rate) and
#: jumps anywhere per second (beta x rate). Chosen by ``benchmarks/bench_feedback_envelope.py``
#: (docs/dashboard.md): Sanger's slow walk (alpha 0.005 per sample) followed steps at once but
#: ramped contractions ~45-55 ms late; this one follows a 0.5 s ramp ~25 ms after the truth,
#: a step within ~2 ms, with no false alarm at rest, for more ripple.
FEEDBACK_WALK_PER_S = 50.0
FEEDBACK_JUMP_PER_S = 0.5


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
    block
        Samples per update: the likelihood of ``block`` samples at once (a sum of absolute
        values), the random walk's probabilities scaled by ``block``. 1 = every sample (the
        exact model); 4 at 2 kHz costs a quarter and adds at most 1.5 ms (each sample gets the
        estimate of the last complete block, so it stays causal).
    """

    def __init__(
        self,
        reference: float,
        n_levels: int = 60,
        alpha: float = 0.005,
        beta: float = 1e-5,
        block: int = 1,
        channels: int = 1,
    ) -> None:
        if not (np.isfinite(reference) and reference > 0):
            raise ValueError(f"reference must be a positive amplitude, got {reference!r}")
        self.block = int(block)
        if self.block < 1:
            raise ValueError(f"block must be >= 1 sample, got {block!r}")
        self.channels = int(channels)
        self.levels = np.geomspace(reference / 1000.0, 2.0 * reference, int(n_levels))
        self.alpha, self.beta = float(alpha), float(beta)
        if 2.0 * self.alpha * self.block + self.beta * self.block >= 1.0:
            raise ValueError(f"alpha {alpha} x block {block} is too large: a level must be able to stay")
        self._inv = 1.0 / self.levels[:, None]
        self._log_inv = np.log(self._inv)
        self.reset()

    def reset(self) -> None:
        """Forget the posterior (e.g. after a gap)."""
        self._post = np.full((self.levels.size, self.channels), 1.0 / self.levels.size)
        self._pending = np.empty((0, self.channels))
        self._estimate = self.levels @ self._post

    def process(self, e: np.ndarray) -> np.ndarray:
        """Estimates (same units as ``e``) for each sample of band-passed EMG ``e``: ``(n,)``
        for one channel, ``(n, channels)`` for several (one posterior each, updated together)."""
        e = np.abs(np.asarray(e, dtype=np.float64))
        flat = e.ndim == 1
        e = e.reshape(-1, self.channels)
        m = self.block
        buf = np.concatenate((self._pending, e)) if self._pending.size else e
        n_blocks = buf.shape[0] // m
        sums = buf[: n_blocks * m].reshape(n_blocks, m, self.channels).sum(axis=1)
        self._pending = buf[n_blocks * m :].copy()
        post, levels, inv, log_inv = self._post, self.levels, self._inv, self._log_inv
        a, b = self.alpha * m, self.beta * m
        keep = 1.0 - 2.0 * a - b
        spread = b / levels.size
        prior = np.empty_like(post)
        estimates = np.empty((n_blocks, self.channels))
        for k in range(n_blocks):
            prior[:] = keep * post + spread
            prior[1:] += a * post[:-1]
            prior[:-1] += a * post[1:]
            prior[0] += a * post[0]  # reflecting ends
            prior[-1] += a * post[-1]
            log_like = m * log_inv - sums[k] * inv
            post = prior * np.exp(log_like - log_like.max(axis=0))
            total = post.sum(axis=0)
            bad = ~(np.isfinite(total) & (total > 0))
            post = post / np.where(bad, 1.0, total)
            if bad.any():
                post[:, bad] = 1.0 / levels.size
            estimates[k] = levels @ post
        self._post = post
        # sample i (of buf) gets the estimate of the last block complete at it
        out_buf = np.empty(buf.shape)
        if n_blocks:
            held = np.concatenate((self._estimate[None, :], estimates[:-1]))
            out_buf[: n_blocks * m] = np.repeat(held, m, axis=0)
            out_buf[m - 1 : n_blocks * m : m] = estimates
            out_buf[n_blocks * m :] = estimates[-1]
            self._estimate = estimates[-1].copy()
        else:
            out_buf[:] = self._estimate
        out = out_buf[buf.shape[0] - e.shape[0] :]
        return out[:, 0] if flat else out


def feedback_envelope(fs: float, reference: float, channels: int = 1) -> BayesEnvelope:
    """The envelope the feedback (mat bar, tone) shows: a :class:`BayesEnvelope` with the
    :data:`FEEDBACK_WALK_PER_S` / :data:`FEEDBACK_JUMP_PER_S` walk, updated every ~2 ms.

    Parameters
    ----------
    fs
        Sample rate of the band-passed EMG (Hz).
    reference
        A typical high amplitude (uV; e.g. the MVC reference): centres the level grid.
    channels
        Channels estimated together (one posterior each).
    """
    block = max(1, int(round(fs / 500.0)))
    # below ~500 Hz an update covers more than 2 ms: the walk is capped at 0.1 per update
    alpha = min(FEEDBACK_WALK_PER_S / fs, 0.1 / block)
    return BayesEnvelope(
        reference,
        alpha=alpha,
        beta=min(FEEDBACK_JUMP_PER_S / fs, 0.01 / block),
        block=block,
        channels=channels,
    )


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
