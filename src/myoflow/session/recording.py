"""Record a session: straps -> recorder, with an optional guided MVC calibration first.

:func:`record_session` is what ``myoflow record`` runs once its arguments are parsed; the
timing of the guided calibration comes from :func:`mvc_timing`, which knows the defaults for
real and virtual straps (the virtual straps' synthetic person rests ``rest - 0.5`` s before
each contraction and ramps down over the 0.5 s after it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from myoflow.session.guided_mvc import GuidedMvc
from myoflow.session.mains_watch import watch_unless_given
from myoflow.session.recorder_sink import RecorderSink
from myoflow.session.run import OpenIngest, SessionResult, run_session
from myoflow.stream import Sink

if TYPE_CHECKING:
    from myoflow.devices.ingest import Ingest
    from myoflow.storage.schema import SessionMetadata

__all__ = ["MvcTiming", "mvc_timing", "record_session"]


@dataclass(frozen=True)
class MvcTiming:
    """Seconds of a guided MVC calibration: rest before the first cue, each contraction, and
    the rest between contractions."""

    lead_s: float
    contraction_s: float
    rest_s: float


def mvc_timing(
    *, virtual: bool, lead_s: float | None = None, contraction_s: float = 4.0, rest_s: float | None = None
) -> MvcTiming:
    """The calibration's timing, with the defaults for real straps (lead 5 s, rest 10 s) or the
    virtual straps (rest 3.5 s, lead ``rest - 0.5`` s, the only lead the synthetic person follows).

    Raises ``ValueError`` naming the option (``--mvc-rest``, ``--mvc-contraction``, ``--mvc-lead``)
    that is too short, or a virtual lead the synthetic person cannot follow.
    """
    rest = rest_s if rest_s is not None else 3.5 if virtual else 10.0
    lead = lead_s if lead_s is not None else rest - 0.5 if virtual else 5.0
    for name, value, low in (
        ("--mvc-rest", rest, 1.0),
        ("--mvc-contraction", contraction_s, 1.0),
        ("--mvc-lead", lead, 0.5),
    ):
        if not value >= low:
            raise ValueError(f"{name} must be at least {low:g} s, got {value}")
    if virtual and lead_s is not None and abs(lead - (rest - 0.5)) > 1e-9:
        raise ValueError(
            "--virtual: the synthetic person rests --mvc-rest - 0.5 s before the first contraction, "
            f"so --mvc-lead must be {rest - 0.5:g}"
        )
    return MvcTiming(lead, contraction_s, rest)


def record_session(
    open_ingest: OpenIngest,
    out: str | os.PathLike[str],
    meta: SessionMetadata,
    seconds: float | None,
    sinks: Sequence[Sink | object] = (),
    *,
    mvc: MvcTiming | None = None,
    n_emg: int = 0,
    mains_hz: float | None = 50.0,
    overwrite: bool = False,
    say: Callable[[str], None] = print,
    on_started: Callable[[Ingest], None] | None = None,
) -> SessionResult:
    """Record ``seconds`` of the straps ``open_ingest`` opens (None: until Ctrl-C) to ``out``.

    With ``mvc``, the recording starts with a guided MVC calibration of the ``n_emg`` EMG
    channels (cues to ``say``; its events and references go into the recording) and
    ``seconds`` counts from its end. ``sinks`` also receive everything the straps deliver.
    The file is finalised in every case (see :func:`~myoflow.session.run.run_session`). When
    ``meta.filter_settings`` holds no ``mains_hz``, the mains frequency detected in the first
    60 s of EMG (or all of a shorter session) is stored (:class:`~myoflow.session.mains_watch.MainsWatch`).
    """
    recorder = RecorderSink(out, meta, overwrite=overwrite)
    sinks = list(sinks)
    watch = watch_unless_given(recorder, meta.filter_settings)  # not given: detected, as at import
    if watch is not None:
        sinks.append(watch)
    if mvc is not None:
        guided = GuidedMvc(
            mvc.lead_s,
            mvc.contraction_s,
            mvc.rest_s,
            mains_hz=mains_hz,
            say=say,
            emit=recorder.on_event,
            on_references=lambda refs, t: recorder.update_metadata(time_s=t, mvc_references=refs),
        )
        sinks.append(guided)
        if seconds is not None:
            seconds += guided.duration_s(n_emg)
    return run_session(
        open_ingest,
        seconds,
        sinks,
        recorder=recorder,
        on_started=on_started,
        before_close=None if watch is None else watch.finish,
    )
