"""The dashboard's console view: the same session, its reps, verdicts and cues as text lines.

Used when Qt cannot open a window (see :mod:`myoflow.dashboard.platform`): the session a
:class:`~myoflow.dashboard.live_source.LiveSource` or
:class:`~myoflow.dashboard.replay_source.ReplaySource` runs is the same; instead of frames, each
finished rep prints one line (the badge's texts), each cue its text, and a status line every
few seconds. No Qt is imported.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, TextIO

from myoflow.analysis.live_types import Cue
from myoflow.analysis.rep_summary import RepResult
from myoflow.dashboard.model import badge, status_line

if TYPE_CHECKING:
    from myoflow.dashboard.source import DashboardSource

__all__ = ["run_console"]


def run_console(
    source: DashboardSource,
    out: TextIO,
    *,
    seconds: float | None = None,
    record: Any = None,
    subject_id: str = "",
    status_every_s: float = 5.0,
    poll_s: float = 0.1,
) -> int:
    """Run ``source`` (started here) and print what the dashboard would show, until the session
    ends, ``seconds`` (wall) pass, or Ctrl-C. Returns 0, or 1 when the session stopped with an
    error."""
    source.start(record=record, subject_id=subject_id)
    started = time.monotonic()
    next_status = started + status_every_s
    generation = -1
    try:
        while True:
            analysis = source.analysis
            if analysis is not None:
                if source.generation != generation:
                    generation = source.generation
                    snap = analysis.snapshot()
                    print(
                        f"analysing {', '.join(snap.muscles) or 'no EMG'} in {snap.unit}; "
                        f"envelope delay {snap.delay_ms:.0f} ms",
                        file=out,
                        flush=True,
                    )
                for item in analysis.poll():
                    _print_item(item, out)
            now = time.monotonic()
            if now >= next_status:
                next_status = now + status_every_s
                lines = [status_line(s).text for s in source.statuses()]
                lines += [line.text for line in source.status_lines()]
                if lines:
                    print("status: " + " | ".join(lines), file=out, flush=True)
            if (
                source.finished
                or getattr(source, "ended", False)
                or (seconds is not None and now - started >= seconds)
            ):
                break
            time.sleep(poll_s)
    except KeyboardInterrupt:
        pass
    finally:
        source.stop()
    if source.analysis is not None:
        for item in source.analysis.poll():
            _print_item(item, out)
    for path in getattr(source, "saved", []):
        print(f"recorded to {path} (finalised)", file=out, flush=True)
    if source.error is not None:
        print(f"the session stopped: {source.error}", file=out, flush=True)
        return 1
    return 0


def _print_item(item: Any, out: TextIO) -> None:
    if isinstance(item, RepResult):
        b = badge(item)
        partial = " (partial)" if b.partial else ""
        print(
            f"rep {b.rep_index}{partial}: {b.relaxed_text} · {b.handover_text} · {b.hold_text}",
            file=out,
            flush=True,
        )
    elif isinstance(item, Cue):
        print(f"cue after rep {item.rep_index}: {item.text}", file=out, flush=True)
