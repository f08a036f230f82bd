"""Exercise analytics on arrays: reps and phases, activation, relaxation, handover, retest.

The metric core knows no files: it takes envelopes, placements, MVC references and a movement
angle as numpy arrays (:func:`analyse_arrays`). The names below are its public API
(docs/python-api.md), imported on first use; the modules behind them are internal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from myoflow._lazy import lazy_exports

__all__ = [
    "ActivationParams",
    "BalanceTest",
    "BalanceTrial",
    "Ensemble",
    "FatigueParams",
    "Handover",
    "LiveAnalysis",
    "LiveSnapshot",
    "MetricChange",
    "MovementAngle",
    "NormalBand",
    "Placement",
    "Progress",
    "Relaxation",
    "Reliability",
    "ReliabilityError",
    "Rep",
    "RepResult",
    "Report",
    "Retest",
    "SessionFatigue",
    "SessionMetrics",
    "SessionRecord",
    "SessionSymmetry",
    "SetSummary",
    "Signals",
    "Track",
    "analyse_arrays",
    "analysis_envelope",
    "balance_symmetry",
    "balance_test",
    "balance_trial",
    "build_progress",
    "calibrate_mvc",
    "channels_with_role",
    "compare",
    "compare_reports",
    "compare_sets",
    "glute_share",
    "limb_symmetry_index",
    "live_symmetry",
    "movement_angle",
    "normal_band",
    "outside_band",
    "parse_placement",
    "reliability_stats",
    "rep_ensemble",
    "session_ensembles",
    "session_fatigue",
    "session_symmetry",
    "smooth_trace",
    "spectral_stats",
    "symmetry_index",
]

if TYPE_CHECKING:
    from myoflow.analysis.activation import ActivationParams, analysis_envelope
    from myoflow.analysis.balance import BalanceTest, BalanceTrial, balance_test, balance_trial
    from myoflow.analysis.ensemble import (
        Ensemble,
        NormalBand,
        normal_band,
        outside_band,
        rep_ensemble,
        session_ensembles,
    )
    from myoflow.analysis.fatigue import FatigueParams, SessionFatigue, session_fatigue, spectral_stats
    from myoflow.analysis.handover import Handover, glute_share
    from myoflow.analysis.live import LiveAnalysis, LiveSnapshot
    from myoflow.analysis.normalisation import calibrate_mvc
    from myoflow.analysis.placement import Placement, channels_with_role, parse_placement
    from myoflow.analysis.progress import Progress, SessionRecord, Track, build_progress
    from myoflow.analysis.relaxation import Relaxation
    from myoflow.analysis.reliability import Reliability, ReliabilityError, reliability_stats
    from myoflow.analysis.rep_summary import RepResult
    from myoflow.analysis.report import Report, Signals
    from myoflow.analysis.reps import MovementAngle, Rep, movement_angle, smooth_trace
    from myoflow.analysis.retest import MetricChange, Retest, compare, compare_reports, compare_sets
    from myoflow.analysis.session_metrics import SessionMetrics, SetSummary, analyse_arrays
    from myoflow.analysis.symmetry import (
        SessionSymmetry,
        balance_symmetry,
        limb_symmetry_index,
        live_symmetry,
        session_symmetry,
        symmetry_index,
    )

__getattr__, __dir__ = lazy_exports(__name__, __file__)
