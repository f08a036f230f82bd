"""Drawing one analysed session onto matplotlib axes (used by :mod:`myoflow.reports.plot` and the PDF).

Times are session seconds (sample 0 of the first EMG stream = 0, as in the report). Each
function draws on an ``Axes`` it is given and returns the legend entries it introduced, so one
legend outside the axes can name everything (:func:`~myoflow.reports.figures.legend_outside`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from myoflow.analysis.placement import channels_with_role
from myoflow.analysis.report import Report, Signals
from myoflow.reports.figures import (
    CHANNEL_COLOURS,
    PHASE_COLOURS,
    VERDICT_COLOURS,
    muscle_label,
    shade_phases,
)

__all__ = [
    "CalibrationSpan",
    "draw_angle",
    "draw_calibration",
    "draw_envelopes",
    "draw_glute_share",
    "draw_rep_panel",
    "envelope_top",
    "glute_share",
    "legend_entries",
    "rep_verdict",
]

#: Points drawn per curve and panel at most (min/max decimation keeps the peaks).
MAX_POINTS = 4000


@dataclass(frozen=True)
class CalibrationSpan:
    """One MVC calibration contraction in session seconds, and the muscle it calibrated."""

    start_s: float
    end_s: float
    muscle: str


def _window(n: int, fs: float, t0: float, t1: float) -> tuple[int, int]:
    a = int(np.clip(np.floor(t0 * fs), 0, n))
    b = int(np.clip(np.ceil(t1 * fs) + 1, a, n))
    return a, b


def _decimate(t: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Min/max pairs per bucket when ``y`` (``(n,)`` or ``(n, ch)``) is longer than ``max_points``."""
    n = t.size
    if n <= max_points:
        return t, y
    k = int(np.ceil(n / (max_points // 2)))
    m = (n // k) * k
    shape = (m // k, k) + y.shape[1:]
    yb = y[:m].reshape(shape)
    with warnings.catch_warnings():  # an all-NaN bucket (lost samples) stays NaN: a gap in the line
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanmin(yb, axis=1), np.nanmax(yb, axis=1)
    tb = t[:m].reshape(-1, k)[:, [0, -1]].reshape(-1)
    yy = np.stack([lo, hi], axis=1).reshape((-1,) + y.shape[1:])
    return tb, yy


def rep_verdict(rep: Any) -> list[str]:
    """The muscles that did NOT relax in ``rep``'s bottom window (empty: all relaxed)."""
    return [m for m, rel in rep.relaxation.items() if not rel.relaxed]


def envelope_top(signals: Signals, exclude: Sequence[CalibrationSpan] = ()) -> float:
    """Upper y limit of the session scale: 1.1 x the 99.5th percentile outside calibration."""
    env = signals.envelope
    keep = np.ones(env.shape[0], bool)
    for span in exclude:
        a, b = _window(env.shape[0], signals.emg_fs, span.start_s, span.end_s)
        keep[a:b] = False
    vals = env[keep]
    vals = vals[np.isfinite(vals)]
    top = float(np.percentile(vals, 99.5)) * 1.1 if vals.size else 1.0
    return top if top > 0 else 1.0


def draw_envelopes(
    ax: Any,
    report: Report,
    signals: Signals,
    t0: float,
    t1: float,
    top: float,
    numbered: Sequence[int] | None = None,
) -> None:
    """Envelopes in [t0, t1] s, each rep's relaxation window by verdict, crossovers dashed.

    Reps whose index is in ``numbered`` (default: those starting in [t0, t1)) get their number
    above the axes, red and bold when a muscle did not relax.
    """
    env, fs = signals.envelope, signals.emg_fs
    a, b = _window(env.shape[0], fs, t0, t1)
    t, y = _decimate(np.arange(a, b) / fs, env[a:b])
    for c, name in enumerate(report.placements):
        ax.plot(t, y[:, c], color=CHANNEL_COLOURS[c % len(CHANNEL_COLOURS)], lw=1.0, label=muscle_label(name))
    for r in report.reps:
        if r.phases["end"] < t0 or r.phases["start"] > t1:
            continue
        w0, w1 = next(iter(r.relaxation.values())).window_s
        ok = not rep_verdict(r)
        ax.axvspan(w0, w1, color=VERDICT_COLOURS[ok], lw=0, zorder=0)
        if r.handover is not None and r.handover.crossover_s is not None:
            ax.axvline(float(r.handover.crossover_s), color="k", lw=1.0, ls="--")
        if (t0 <= r.phases["start"] < t1) if numbered is None else (r.index in numbered):
            ax.text(
                r.phases["start"],
                1.0,
                str(r.index),
                transform=ax.get_xaxis_transform(),
                ha="left",
                va="bottom",
                fontsize="small",
                color="k" if ok else "#B00000",
                fontweight="normal" if ok else "bold",
            )
    ax.set_xlim(t0, t1)
    ax.set_ylim(0, top)
    unit = report.metrics.context.unit if report.metrics is not None else ""
    ax.set_ylabel(f"envelope\n({unit})", fontsize="small")


def draw_angle(ax: Any, report: Report, signals: Signals, t0: float, t1: float) -> None:
    """Movement angle (or the mean envelope without one) in [t0, t1] s with each rep's phases shaded."""
    if signals.angle is not None and signals.angle_fs:
        a, b = _window(signals.angle.size, signals.angle_fs, t0, t1)
        t, y = _decimate(np.arange(a, b) / signals.angle_fs, signals.angle[a:b])
        ax.plot(t, y, color="k", lw=1.0)
        ax.set_ylabel("angle\n(deg)", fontsize="small")
    else:
        env, fs = signals.envelope, signals.emg_fs
        a, b = _window(env.shape[0], fs, t0, t1)
        with np.errstate(invalid="ignore"):
            drive = np.nanmean(env[a:b], axis=1) if b > a else np.zeros(0)
        t, y = _decimate(np.arange(a, b) / fs, drive)
        ax.plot(t, y, color="k", lw=1.0)
        ax.set_ylabel("mean envelope", fontsize="small")
    for r in report.reps:
        if r.phases["end"] >= t0 and r.phases["start"] <= t1:
            shade_phases(ax, r.phases)
    ax.set_xlim(t0, t1)


def glute_share(report: Report, signals: Signals, a: int, b: int) -> np.ndarray | None:
    """``G / (G + H)`` over samples [a, b) of the envelopes; None without glute and hamstring channels."""
    names = report.placements
    glute, hams = channels_with_role(names, "glute"), channels_with_role(names, "hamstring")
    if not (glute and hams):
        return None
    env = signals.envelope[a:b]
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        g, h = np.nanmean(env[:, glute], axis=1), np.nanmean(env[:, hams], axis=1)
        return np.where(g + h > 0, g / (g + h), np.nan)


def draw_glute_share(ax: Any, report: Report, signals: Signals, t0: float, t1: float) -> bool:
    """Glute share with its 0.5 line and the crossovers; False (nothing drawn) without the channels."""
    env, fs = signals.envelope, signals.emg_fs
    a, b = _window(env.shape[0], fs, t0, t1)
    share = glute_share(report, signals, a, b)
    if share is None:
        return False
    t, y = _decimate(np.arange(a, b) / fs, share)
    ax.plot(t, y, color="#6A3D9A", lw=1.0)
    ax.axhline(0.5, color="0.5", lw=0.8, ls=":")
    for r in report.reps:
        if r.handover is not None and r.handover.crossover_s is not None:
            ax.axvline(float(r.handover.crossover_s), color="k", lw=0.8, ls="--")
    ax.set_ylim(0, 1)
    ax.set_xlim(t0, t1)
    ax.set_ylabel("glute\nshare", fontsize="small")
    return True


def draw_calibration(
    ax: Any, report: Report, signals: Signals, spans: Sequence[CalibrationSpan], pad_s: float = 1.0
) -> None:
    """The MVC calibration contractions on their own scale, each labelled with its muscle."""
    env, fs = signals.envelope, signals.emg_fs
    t0 = max(0.0, min(s.start_s for s in spans) - pad_s)
    t1 = max(s.end_s for s in spans) + pad_s
    a, b = _window(env.shape[0], fs, t0, t1)
    t, y = _decimate(np.arange(a, b) / fs, env[a:b])
    for c, _name in enumerate(report.placements):
        ax.plot(t, y[:, c], color=CHANNEL_COLOURS[c % len(CHANNEL_COLOURS)], lw=0.8)
    for s in spans:
        ax.axvspan(s.start_s, s.end_s, color="0.85", lw=0, zorder=0)
        ax.text(
            (s.start_s + s.end_s) / 2,
            1.0,
            muscle_label(s.muscle),
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize="x-small",
        )
    ax.set_xlim(t0, t1)
    finite = y[np.isfinite(y)]
    ax.set_ylim(0, float(finite.max()) * 1.1 if finite.size and finite.max() > 0 else 1.0)
    ax.set_ylabel("MVC\ncalibration", fontsize="small")


def draw_rep_panel(
    ax: Any, report: Report, signals: Signals, rep: Any, top: float, pre_s: float = 0.5
) -> None:
    """One rep: envelopes from ``pre_s`` before its start to its end, phases, relaxation window, crossover."""
    env, fs = signals.envelope, signals.emg_fs
    t0, t1 = rep.phases["start"] - pre_s, rep.phases["end"]
    a, b = _window(env.shape[0], fs, t0, t1)
    t = np.arange(a, b) / fs - rep.phases["start"]
    shade_phases(ax, {k: v - rep.phases["start"] for k, v in rep.phases.items()}, alpha_scale=0.8)
    for c, _name in enumerate(report.placements):
        ax.plot(t, env[a:b, c], color=CHANNEL_COLOURS[c % len(CHANNEL_COLOURS)], lw=0.9)
    w0, w1 = next(iter(rep.relaxation.values())).window_s
    tense = rep_verdict(rep)
    edge = VERDICT_COLOURS[not tense][:3]
    ax.axvspan(w0 - rep.phases["start"], w1 - rep.phases["start"], ymin=0, ymax=0.06, color=edge, lw=0)
    if rep.handover is not None and rep.handover.crossover_s is not None:
        ax.axvline(float(rep.handover.crossover_s) - rep.phases["start"], color="k", lw=0.8, ls="--")
    ax.set_ylim(0, top)
    verdict = "relaxed" if not tense else f"NOT relaxed: {len(tense)} of {len(rep.relaxation)}"
    ax.set_title(
        f"rep {rep.index}, set {rep.set_index + 1}: {verdict}",
        fontsize="x-small",
        color="k" if not tense else "#B00000",
        loc="left",
    )
    ax.tick_params(labelsize="x-small")


def legend_entries(report: Report, share: bool) -> tuple[list[Any], list[str]]:
    """Handles and labels naming every channel, verdict colour, phase and the crossover line."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = []
    labels: list[str] = []
    for c, name in enumerate(report.placements):
        handles.append(Line2D([], [], color=CHANNEL_COLOURS[c % len(CHANNEL_COLOURS)], lw=1.5))
        labels.append(muscle_label(name))
    handles += [Patch(color=VERDICT_COLOURS[True]), Patch(color=VERDICT_COLOURS[False])]
    labels += ["bottom window: relaxed", "bottom window: not relaxed"]
    for phase, colour in PHASE_COLOURS.items():
        handles.append(Patch(color=colour))
        labels.append(phase)
    if share:
        handles.append(Line2D([], [], color="k", lw=1.0, ls="--"))
        labels.append("crossover (glute share > 0.5)")
    return handles, labels
