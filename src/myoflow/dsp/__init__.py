"""The signal core: vectorised numpy/scipy, no I/O, no Qt, no asyncio.

Every function and stage takes signals of shape ``(n_samples, n_channels)`` and an explicit
sample rate in Hz. Stateful stages (``process(chunk)``) give the same output for any chunking
as one call on the whole signal. The names below are the public API (docs/python-api.md),
imported on first use; the modules behind them are internal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from myoflow._lazy import lazy_exports

__all__ = [
    "EmgPipeline",
    "EmgProfile",
    "LOW_RATE",
    "OnsetEvent",
    "OnsetParams",
    "PercentMvc",
    "PipelineOutput",
    "STANDARD",
    "SagittalTiltFilter",
    "StreamingOnsetDetector",
    "TiltFilter3D",
    "align",
    "detect_onsets",
    "envelope_offline",
    "hip_flexion",
    "mvc_reference",
    "profile_for_rate",
]

if TYPE_CHECKING:
    from myoflow.dsp.imu import SagittalTiltFilter, align, hip_flexion
    from myoflow.dsp.imu3d import TiltFilter3D
    from myoflow.dsp.normalise import PercentMvc, mvc_reference
    from myoflow.dsp.onsets import OnsetEvent, OnsetParams, StreamingOnsetDetector, detect_onsets
    from myoflow.dsp.pipeline import (
        LOW_RATE,
        STANDARD,
        EmgPipeline,
        EmgProfile,
        PipelineOutput,
        envelope_offline,
        profile_for_rate,
    )

__getattr__, __dir__ = lazy_exports(__name__, __file__)
