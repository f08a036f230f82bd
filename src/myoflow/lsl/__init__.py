"""Publish a session over Lab Streaming Layer (LSL): every stream, its envelope, and markers.

:class:`LslSink` is a sink of the ingest (``on_block``, ``on_gap``, ``on_status``) and of a
replay (``on_event``); ``on_results`` takes what :meth:`LiveAnalysis.poll
<myoflow.analysis.live.LiveAnalysis.poll>` hands out. It opens, per myoflow stream, an outlet
of the same name, and per EMG stream an ``<name>/envelope`` outlet, plus one marker outlet, so
that LabRecorder, OpenViBE, MNE-LSL or any LSL inlet can consume the session
(``docs/lsl.md``).

Nothing is announced unless an :class:`LslSink` is made (``--lsl`` on the command line):
importing this package does not even load ``pylsl``. LSL announces outlets to the local
network; :func:`configure` with ``machine_only=True`` keeps discovery on this machine.

Time stamps: myoflow's times are host monotonic seconds; LSL's are :func:`pylsl.local_clock`.
The offset between the two is measured once, when the sink is made (:class:`ClockMap`); on Linux
both are ``CLOCK_MONOTONIC`` and the offset is exactly 0, so LSL time stamps equal myoflow's
times bit for bit. Gaps: no sample is invented. The samples after a gap carry their own (later)
time stamps, so an inlet sees a jump of more than one sample period; the marker stream says how
many samples were lost, and every data outlet declares ``synchronization/can_drop_samples``
so XDF loaders do not stretch the time stamps across the hole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from myoflow._lazy import lazy_exports

__all__ = [
    "ENVELOPE_TYPE",
    "LSL_TYPES",
    "MARKER_FORMATS",
    "MARKER_TYPE",
    "SAME_CLOCK_TOLERANCE_S",
    "ClockMap",
    "LslError",
    "LslSink",
    "configure",
    "import_pylsl",
    "local_only_config",
]

if TYPE_CHECKING:
    from myoflow.lsl._setup import (
        SAME_CLOCK_TOLERANCE_S,
        ClockMap,
        LslError,
        configure,
        import_pylsl,
        local_only_config,
    )
    from myoflow.lsl._sink import ENVELOPE_TYPE, LSL_TYPES, MARKER_FORMATS, MARKER_TYPE, LslSink

__getattr__, __dir__ = lazy_exports(__name__, __file__)
