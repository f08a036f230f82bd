"""One person's progress over a folder of recordings: ``track_progress(folder, subject)``.

The folder's session catalogue (:mod:`myoflow.storage.catalogue`) is brought up to date first
(:func:`~myoflow.reports.catalogue_index.update_catalogue`: only added or changed files are
analysed), then its rows become :class:`~myoflow.analysis.progress.SessionRecord` objects and
:func:`~myoflow.analysis.progress.build_progress` tracks each metric over the sessions.
:func:`plot_progress` draws the tracks (matplotlib: PNG, PDF or SVG).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from myoflow.analysis.progress import Progress, SessionRecord, Track, build_progress
from myoflow.reports.catalogue_index import open_catalogue, update_catalogue
from myoflow.storage.catalogue import Entry

__all__ = ["plot_progress", "track_progress"]


def track_progress(
    folder: str | os.PathLike[str],
    subject: str | None = None,
    *,
    metrics: Sequence[str] | None = None,
    mdc95: Mapping[str, float] | None = None,
    pattern: str = "**/*.h5",
    workers: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Progress:
    """Each tracked metric of ``subject`` over the recordings in ``folder``, changes judged
    against MDC95 (docs/progress.md).

    Parameters
    ----------
    folder
        A folder of myoflow recordings (searched with ``pattern``; ``**`` recurses).
    subject
        Whose sessions; None: the only subject in the folder (ValueError listing them when
        there are several).
    metrics
        Metric names to track (default: activation, relaxation, handover, balance sway;
        :func:`~myoflow.analysis.progress.build_progress`).
    mdc95
        Your own MDC95 per metric (full key or metric name), used instead of the reps' one.
    workers
        Processes that analyse new files (default: the usable cores; 0: this process).
    progress
        Called as ``progress(done, total, path)`` after each newly analysed file.

    Raises
    ------
    NotADirectoryError
        ``folder`` is not a folder.
    ValueError
        No recording of ``subject``, or several subjects and none named.
    """
    with open_catalogue(folder, pattern) as cat:
        update = update_catalogue(cat, workers=workers, progress=progress)
        subjects = cat.subjects()
        if subject is None:
            if len(subjects) > 1:
                raise ValueError(
                    f"{folder} holds recordings of {len(subjects)} subjects ({', '.join(subjects)}): name one"
                )
            subject = subjects[0] if subjects else None
        elif subject not in subjects:
            raise ValueError(
                f"no recording of subject {subject!r} in {folder}; subjects: {', '.join(subjects) or 'none'}"
            )
        entries = cat.entries(subject)
    failed = [(e.key.path, e.error) for e in entries if e.error is not None]
    result = build_progress([_record(e) for e in entries if e.error is None], subject, metrics, mdc95)
    result.skipped[:0] = [(p, str(err)) for p, err in failed]
    result.sessions += len(failed)
    if update.rebuilt:
        result.notes.append(f"catalogue rebuilt: {update.rebuilt}")
    result.notes.append(
        f"catalogue: {update.indexed} file(s) analysed ({update.failed} failed), {update.dropped} dropped, "
        f"{update.unchanged} unchanged, in {update.elapsed_s:.2f} s"
    )
    return result


def _record(e: Entry) -> SessionRecord:
    m = e.metrics
    return SessionRecord(
        path=e.key.path,
        start_utc=e.start_utc,
        subject=e.subject,
        exercise=e.exercise,
        summary=m.get("summary", {}),
        reps=m.get("reps", []),
        level_unit=m.get("level_unit"),
    )


def plot_progress(progress: Progress, path: str | os.PathLike[str], exercise: str | None = None) -> Path:
    """Draw the tracks of one exercise (default: the first) to ``path`` (PNG, PDF or SVG).

    One panel per metric, one line per muscle, x = session in date order; whiskers are +- the
    SEM of each session value (``sem / sqrt(reps)``); a filled marker is a change from the
    session before that is larger than its MDC95, a hollow one a change within noise.
    Needs matplotlib (``pip install 'myoflow[plot]'``).
    """
    from myoflow.reports.figures import CHANNEL_COLOURS, check_format, legend_outside, new_figure, save_figure

    check_format(path)
    exercises = list(dict.fromkeys(t.exercise for t in progress.tracks))
    if not exercises:
        raise ValueError("nothing to plot: no session with reps")
    exercise = exercise or exercises[0]
    if exercise not in exercises:
        raise ValueError(f"no exercise {exercise!r} in this progress; have: {', '.join(exercises)}")
    tracks = [t for t in progress.tracks if t.exercise == exercise]
    names = list(dict.fromkeys(t.name for t in tracks))
    muscles = list(dict.fromkeys(t.muscle for t in tracks if t.muscle))
    ncols = 2 if len(names) > 1 else 1
    nrows = -(-len(names) // ncols)
    fig = new_figure(5.0 * ncols, 2.4 * nrows + 0.8)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    handles: dict[str, Any] = {}
    n_sessions = max(len(t.points) for t in tracks)
    for ax, name in zip(axes.flat, names, strict=False):
        for t in (t for t in tracks if t.name == name):
            colour = CHANNEL_COLOURS[muscles.index(t.muscle) % len(CHANNEL_COLOURS)] if t.muscle else "black"
            handles.setdefault(t.muscle or "session", _draw_track(ax, t, colour))
        ax.set_title(name.replace("_", " "), fontsize="medium")
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    labels = [_date(p.start_utc, i) for i, p in enumerate(tracks[0].points)]
    step = max(1, n_sessions // 8)
    for k, ax in enumerate(axes.flat[: len(names)]):
        last_in_column = k + ncols >= len(names)
        ticks = labels[::step] if last_in_column else []
        ax.set_xticks(range(0, n_sessions, step), ticks, rotation=30, fontsize="small")
        ax.set_xlim(-0.5, n_sessions - 0.5)
    fig.suptitle(f"{progress.subject or 'all subjects'}: {exercise}, {n_sessions} sessions")
    legend_outside(fig, list(handles.values()), [k.replace("_", " ") for k in handles])
    return save_figure(fig, path)


def _draw_track(ax: Any, t: Track, colour: str) -> Any:
    import math

    xs = [i for i, p in enumerate(t.points) if p.value is not None]
    ys = [p.value for p in t.points if p.value is not None]
    sem = None if t.reliability is None else t.reliability.sem_mse
    errs = [0.0 if sem is None else sem / math.sqrt(max(t.points[i].n_reps, 1)) for i in xs]
    (line,) = ax.plot(xs, ys, color=colour, lw=1.2)
    ax.errorbar(xs, ys, yerr=errs, fmt="none", ecolor=colour, elinewidth=0.8, capsize=2)
    for i, y in zip(xs, ys, strict=True):
        beyond = t.points[i].verdict not in (None, "within noise")
        ax.plot(i, y, "o", ms=5, color=colour, mfc=colour if beyond else "white")
    return line


def _date(start_utc: str | None, i: int) -> str:
    return start_utc[:10] if start_utc else f"#{i + 1}"
