"""Synthetic-session generator speed: a 60 s glute-bridge session, 4 EMG channels at 2 kHz plus
two IMUs, as the demo, the tests and the accuracy benchmark make them.

Reference in the same run: drawing the same number of Gaussian samples with numpy (the least
any generator of that much noise must spend). Goal: the session in under 1 s (it used to be a
unit test; speed goals live here). Run: ``make bench BENCH=synth``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os

import numpy as np

from myoflow.synth.config import SessionConfig
from myoflow.synth.session import generate_session

from _common import finish, machine, median_time, print_figures

GOAL_S = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cfg = SessionConfig(n_reps=11, emg_rate=2000, seed=1)
    generate_session(dataclasses.replace(cfg, n_reps=1))  # warm caches (filter designs, imports)
    t_session, session = median_time(lambda: generate_session(cfg), repeats=args.repeats)
    n = session.emg.size
    rng = np.random.default_rng(0)
    t_noise, _ = median_time(lambda: rng.standard_normal(n, dtype=np.float32), repeats=args.repeats)
    seconds = float(session.emg_times[-1])
    figures = {
        "session_s": seconds,
        "emg_samples": n,
        "generate_s_median": t_session,
        "numpy_noise_s_median": t_noise,
        "ratio_to_noise": t_session / t_noise,
        "x_real_time": seconds / t_session,
        "goal_s": GOAL_S,
        "goal_met": bool(t_session < GOAL_S),
        "load_1min": os.getloadavg()[0],
    }
    print_figures(figures)
    finish({**figures, **machine()})


if __name__ == "__main__":
    main()
