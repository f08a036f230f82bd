"""Synthetic sessions with known ground truth, for tests, benchmarks and the demo.

The generator builds its signals in the frequency domain and from closed-form movement
profiles; it shares no code with the detectors it is used to check (``myoflow.dsp``,
``myoflow.analysis``). The names below are the public API (docs/python-api.md), imported on
first use; the modules behind them are internal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from myoflow._lazy import lazy_exports

__all__ = [
    "MvcTrial",
    "SessionConfig",
    "SyntheticSession",
    "generate_session",
    "glute_bridge_session",
    "mvc_trial",
    "rdl_session",
]

if TYPE_CHECKING:
    from myoflow.synth.calibration import MvcTrial, mvc_trial
    from myoflow.synth.config import SessionConfig
    from myoflow.synth.session import SyntheticSession, generate_session, glute_bridge_session, rdl_session

__getattr__, __dir__ = lazy_exports(__name__, __file__)
