"""Every per-rep metric from one finished rep's data: usable offline and incrementally.

:func:`analyse_rep` takes one rep's window of normalised envelope (and angle, when an IMU was
worn) plus the session's :class:`SessionContext`, and returns a :class:`RepResult`. Offline,
:func:`analyse_reps` cuts the same windows out of whole arrays (:func:`rep_datas`) and gives
what :func:`analyse_rep` gives on each (its ``changepoint`` onsets fitted for many reps in one
call per channel); live, the caller cuts the window from its buffers once the rep's bottom
window has passed (:func:`rep_window_s`) and gets the same result.

The window of a rep runs from ``pre_s`` before its movement onset to the end of its bottom
window: its next rep's start, or ``bottom + bottom_rest_s`` if sooner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from myoflow._checks import as_signal, check_option, check_rate
from myoflow._threads import map_threads
from myoflow.analysis._nan import mean_over_columns
from myoflow.analysis.activation import (
    ActivationParams,
    MuscleActivation,
    RepDetections,
    RestLevels,
    analysis_envelope,
    crossover_envelope,
    muscle_activation,
    rep_detections,
)
from myoflow.analysis.antagonist_assist import AntagonistAssist, antagonist_assist
from myoflow.analysis.cocontraction import cocontraction_in_window
from myoflow.analysis.eccentric import eccentric_hold
from myoflow.analysis.handover import Handover, find_crossover, find_stall
from myoflow.analysis.onset_classic import classic_activations, classic_bursts
from myoflow.analysis.onset_emg import GRID_HZ, RawEmg, changepoint_onset, changepoint_onsets
from myoflow.analysis.onset_names import CLASSIC_ONSET_METHODS
from myoflow.analysis.placement import channel_index, channels_with_role, handover_channels
from myoflow.analysis.relaxation import (
    AntagonistCue,
    Relaxation,
    antagonist_cue,
    longest_run,
    relaxation,
    true_runs,
)
from myoflow.analysis.reps import REP_SOURCES, Rep
from myoflow.dsp.onset_raw import RawRefineParams

#: Where a rep's onset search may end (:attr:`SessionContext.onset_search_to`).
ONSET_SEARCH_ENDS = ("top", "end")

__all__ = [
    "ONSET_SEARCH_ENDS",
    "RepData",
    "RepResult",
    "SessionContext",
    "analyse_rep",
    "analyse_reps",
    "longest_run",
    "onset_search_end_s",
    "rep_datas",
    "rep_window_s",
    "typical_bottom_rest_s",
]

PHASES = ("start", "top", "eccentric", "bottom", "end")


@dataclass(frozen=True)
class SessionContext:
    """What every rep of a session is measured against.

    Parameters
    ----------
    placements
        Muscle per channel.
    unit
        Unit of the normalised envelopes (``"% MVC"`` or ``"% session peak"``).
    mode
        How reps were found: ``"hip"``, ``"segment"`` (one IMU) or ``"emg"`` (no IMU).
    levels
        Rest statistics and thresholds per channel (:func:`~myoflow.analysis.activation.rest_levels`).
    bottom_rest_s
        Cap of the bottom window (:func:`typical_bottom_rest_s`).
    params
        Activation and relaxation parameters.
    antagonists
        Agonist placement -> antagonist placement, for the reciprocal-inhibition cue.
    cocontraction_pairs
        ``(agonist, antagonist)`` placements whose co-contraction index is reported.
    pre_s
        The rep window starts this long before movement onset (onset search plus settling).
    crossover_hold_s
        The glute share must stay >= 0.5 this long after the crossover (s).
    crossover_hz
        Zero-phase smoothing (Hz) of the envelopes the glute share is computed from.
    crossover_lead_s
        The crossover is searched from this long before movement onset (the EMG leads the
        movement by the electromechanical delay) to the top.
    not_measured
        Metric -> why the exercise does not measure it
        (:func:`~myoflow.analysis.exercise_rules.exercise_not_measured`); part of
        :attr:`unavailable`.
    onset_search_to
        Where a rep's onset search ends: ``"top"`` (exercise reps: the peak of the movement) or
        ``"end"`` (movement cycles such as gait: the end of the cycle's window, so a muscle that
        fires late in the cycle, e.g. hamstrings in terminal swing, has its onset found);
        :func:`onset_search_end_s`.
    """

    placements: tuple[str, ...]
    unit: str
    mode: str
    levels: RestLevels
    bottom_rest_s: float
    params: ActivationParams = field(default_factory=ActivationParams)
    antagonists: dict[str, str] = field(default_factory=dict)
    cocontraction_pairs: tuple[tuple[str, str], ...] = ()
    pre_s: float = 1.0
    crossover_hold_s: float = 0.1
    crossover_hz: float = 6.0
    crossover_lead_s: float = 0.15
    not_measured: dict[str, str] = field(default_factory=dict)
    onset_search_to: str = "top"

    def __post_init__(self) -> None:
        check_option(self.mode, "mode", REP_SOURCES)
        check_option(self.onset_search_to, "onset_search_to", ONSET_SEARCH_ENDS)
        names = tuple(self.placements)
        for agonist, antagonist in list(self.antagonists.items()) + list(self.cocontraction_pairs):
            channel_index(names, agonist, "an agonist/antagonist pair")
            channel_index(names, antagonist, "an agonist/antagonist pair")
        object.__setattr__(self, "placements", names)

    @property
    def unavailable(self) -> dict[str, str]:
        """Metric -> why it cannot be computed for this session (empty when all can)."""
        out = dict(self.not_measured)
        try:
            handover_channels(self.placements)
        except ValueError as err:
            out.setdefault("handover", str(err))
        if not channels_with_role(self.placements, "glute"):
            out.setdefault(
                "eccentric_hold", f"eccentric hold needs a glute channel; found: {', '.join(self.placements)}"
            )
        if self.mode == "emg":
            out["stall"] = "stall needs a hip or segment angle (no IMU worn: reps found from EMG)"
            out["crossover_hip_deg"] = "the crossover hip angle needs an IMU (reps found from EMG)"
        return out


@dataclass(frozen=True)
class RepData:
    """One finished rep's data.

    ``phases``: ``start``, ``top``, ``eccentric``, ``bottom``, ``end`` in s; ``envelope``
    ``(n, ch)`` normalised envelope (zero-phase offline, or delay-corrected live) with sample 0
    at ``t0`` (s) and rate ``fs``; ``angle`` ``(m,)`` deg at ``angle_fs`` from ``angle_t0``
    (None in EMG-only mode); ``raw`` the raw EMG around the rep for ``changepoint`` onsets
    (:class:`~myoflow.analysis.onset_emg.RawEmg`, same clock; None: threshold onsets).
    """

    index: int
    phases: dict[str, float]
    envelope: np.ndarray
    fs: float
    t0: float
    angle: np.ndarray | None = None
    angle_fs: float | None = None
    angle_t0: float = 0.0
    set_index: int = 0
    partial: bool = False
    rom_deg: float = float("nan")
    raw: RawEmg | None = None


@dataclass(frozen=True)
class RepResult:
    """Every metric of one rep. Levels in ``unit``; onset times in ms from movement onset."""

    index: int
    set_index: int
    mode: str
    unit: str
    partial: bool
    rom_deg: float
    phases: dict[str, float]
    muscles: dict[str, MuscleActivation]
    relaxation: dict[str, Relaxation]
    handover: Handover | None
    eccentric_hold_pct: dict[str, float]
    cocontraction_pct: dict[str, float]
    antagonist_assist: dict[str, AntagonistAssist] = field(default_factory=dict)

    @property
    def start_s(self) -> float:
        """Movement onset (s)."""
        return self.phases["start"]

    @property
    def concentric_s(self) -> float:
        """Duration of the concentric phase (s)."""
        return self.phases["top"] - self.phases["start"]


def typical_bottom_rest_s(reps: Sequence[Rep], fs: float, default_s: float = 2.0) -> float:
    """Median time (s) from reaching the bottom to the next rep's start, over the reps that
    have a next rep; ``default_s`` when none does."""
    rests = [(b.start - a.bottom) / fs for a, b in zip(reps[:-1], reps[1:], strict=True)]
    return float(np.median(rests)) if rests else default_s


def rep_window_s(phases: dict[str, float], ctx: SessionContext) -> tuple[float, float]:
    """``(begin, end)`` (s) of the data :func:`analyse_rep` needs for a rep."""
    end = min(phases["end"], phases["bottom"] + ctx.bottom_rest_s)
    return phases["start"] - ctx.pre_s, max(end, phases["bottom"])


def onset_search_end_s(phases: dict[str, float], ctx: SessionContext) -> float:
    """Where a rep's onset search ends (s, the clock of ``phases``): its top; for movement
    cycles (``ctx.onset_search_to == "end"``) the end of the cycle's window
    (:func:`rep_window_s`), so the onset is the first burst that starts in the cycle or within
    ``onset_search_s`` before it."""
    return rep_window_s(phases, ctx)[1] if ctx.onset_search_to == "end" else phases["top"]


def analyse_rep(data: RepData, ctx: SessionContext, bursts: Sequence[np.ndarray] | None = None) -> RepResult:
    """All per-rep metrics of one finished rep (see the modules of :mod:`myoflow.analysis`).

    ``bursts``: with a classic onset method (``hodges_bui``, ``tkeo``, ``double_threshold``),
    each muscle's bursts over the session (:func:`~myoflow.analysis.onset_classic.classic_bursts`),
    which :func:`analyse_reps` finds once."""
    fs = check_rate(data.fs)
    env_raw = as_signal(data.envelope, "envelope")
    if env_raw.shape[1] != len(ctx.placements):
        raise ValueError(
            f"envelope has {env_raw.shape[1]} channel(s) but the context has {len(ctx.placements)} placements"
        )
    ph, p = data.phases, ctx.params
    env = analysis_envelope(env_raw, fs, p)
    search_end = onset_search_end_s(ph, ctx)
    acts = muscle_activation(env, fs, data.t0, ph["start"], search_end, ph["bottom"], ctx.levels, p, data.raw)
    if p.onset_method in CLASSIC_ONSET_METHODS:
        if bursts is None:
            raise ValueError(
                f"onset method {p.onset_method!r} runs over the whole recording: use analyse_reps (or "
                "analyze) with the raw EMG, not one rep"
            )
        acts = classic_activations(acts, bursts, ph["start"], ph["start"] - p.onset_search_s, search_end)
    return _rep_result(data, ctx, env, acts)


def _rep_result(
    data: RepData, ctx: SessionContext, env: np.ndarray, acts: list[MuscleActivation]
) -> RepResult:
    """:func:`analyse_rep` from the rep's analysis envelope ``env`` and its activations."""
    ph, t0, p, fs = data.phases, data.t0, ctx.params, data.fs
    env_raw = as_signal(data.envelope, "envelope")
    bottom_window = (ph["bottom"], max(ph["bottom"], min(ph["end"], ph["bottom"] + ctx.bottom_rest_s)))
    relax = relaxation(env, fs, t0, bottom_window, ctx.levels.mean, ctx.levels.rest_threshold, p.min_gap_s)
    names = ctx.placements
    relax_map = dict(zip(names, relax, strict=True))
    for agonist, antagonist in ctx.antagonists.items():
        c, a = names.index(agonist), names.index(antagonist)
        r = relax_map[agonist]
        if not r.relaxed:
            continue
        relax_s = _relaxed_from(env[:, c], fs, t0, r.gaps_s[0][0], ctx.levels.rest_threshold[c])
        cue = antagonist_cue(env[:, a], fs, t0, relax_s, float(ctx.levels.onset_threshold[a]), antagonist)
        relax_map[agonist] = _with_cue(r, cue)
    assist = {
        agonist: antagonist_assist(
            env[:, names.index(agonist)],
            env[:, names.index(antagonist)],
            fs,
            t0,
            ph["bottom"],
            (
                float(ctx.levels.mean[names.index(agonist)]),
                float(ctx.levels.rest_threshold[names.index(agonist)]),
            ),
            (
                float(ctx.levels.mean[names.index(antagonist)]),
                float(ctx.levels.onset_threshold[names.index(antagonist)]),
            ),
            (agonist, antagonist),
            p.min_gap_s,
        )
        for agonist, antagonist in ctx.antagonists.items()
    }
    handover = None
    if "handover" not in ctx.unavailable:
        # only the handover channels are smoothed (each channel is filtered on its own)
        cols = sorted({c for group in handover_channels(names) for c in group})
        smooth = np.full(env_raw.shape, np.nan, dtype=np.float32)
        smooth[:, cols] = crossover_envelope(env_raw[:, cols], fs, ctx.crossover_hz)
        handover = _handover(data, smooth, acts, ctx)
    glutes = [] if "eccentric_hold" in ctx.not_measured else channels_with_role(names, "glute")
    hold = (
        eccentric_hold(env, fs, t0, ph["start"], ph["top"], ph["eccentric"], ph["bottom"]) if glutes else ()
    )
    cci = {
        f"{a}/{b}": cocontraction_in_window(
            env[:, names.index(a)], env[:, names.index(b)], fs, t0, ph["start"], ph["bottom"]
        )
        for a, b in ctx.cocontraction_pairs
    }
    return RepResult(
        index=data.index,
        set_index=data.set_index,
        mode=ctx.mode,
        unit=ctx.unit,
        partial=data.partial,
        rom_deg=data.rom_deg,
        phases=dict(ph),
        muscles=dict(zip(names, acts, strict=True)),
        relaxation=relax_map,
        handover=handover,
        eccentric_hold_pct={names[c]: float(hold[c]) for c in glutes},
        cocontraction_pct=cci,
        antagonist_assist=assist,
    )


def analyse_reps(
    reps: Sequence[Rep],
    rep_fs: float,
    envelope: np.ndarray,
    emg_fs: float,
    ctx: SessionContext,
    angle: np.ndarray | None = None,
    angle_fs: float | None = None,
    emg_t0: float = 0.0,
    angle_t0: float = 0.0,
    raw: RawEmg | None = None,
) -> list[RepResult]:
    """:func:`analyse_rep` for every rep of a whole session, from whole arrays.

    Parameters
    ----------
    reps, rep_fs
        Reps with indices at ``rep_fs`` Hz (the angle's rate, or the EMG's in EMG-only mode),
        on a clock starting at ``angle_t0`` (or ``emg_t0`` in EMG-only mode).
    envelope, emg_fs
        ``(n, ch)`` normalised envelope and its rate; sample 0 at ``emg_t0`` (s). For a causal
        (live) envelope pass ``emg_t0`` minus its delay.
    angle, angle_fs
        ``(m,)`` flexion angle (deg) and its rate; None in EMG-only mode.
    raw
        The raw EMG of the session (same clock as the envelope) for ``changepoint`` onsets:
        the onsets of each channel are fitted :data:`BATCH_REPS` reps at a time
        (:func:`~myoflow.analysis.onset_emg.changepoint_onsets`), with the numbers of one
        :func:`analyse_rep` per rep (:func:`_changepoint_batch`).
    """
    datas = rep_datas(reps, rep_fs, envelope, emg_fs, ctx, angle, angle_fs, emg_t0, angle_t0, raw)
    if ctx.params.onset_method in CLASSIC_ONSET_METHODS:
        if raw is None:
            raise ValueError(f"onset method {ctx.params.onset_method!r} needs the raw EMG (raw=...)")
        bursts = classic_bursts(raw, ctx.params.onset_method, ctx.levels.rest_s, emg_t0)
        return [analyse_rep(d, ctx, bursts) for d in datas]
    batches = [datas[b : b + BATCH_REPS] for b in range(0, len(datas), BATCH_REPS)]
    if len(batches) < 2:
        return [r for batch in batches for r in _analyse_batch(batch, ctx, raw)]
    # the batches are independent; most of their time is spent in scipy/numpy filters and
    # array arithmetic that release the GIL, so two threads use both cores of a small machine
    done = map_threads(lambda b: _analyse_batch(b, ctx, raw), batches, REP_THREADS)
    return [r for results in done for r in results]


def _analyse_batch(batch: Sequence[RepData], ctx: SessionContext, raw: RawEmg | None) -> list[RepResult]:
    """:func:`analyse_rep` of each rep of ``batch``; ``changepoint`` onsets fitted in one call
    per channel (:func:`_changepoint_batch`)."""
    if raw is None or ctx.params.onset_method != "changepoint":
        return [analyse_rep(data, ctx) for data in batch]
    p = ctx.params
    envs = [analysis_envelope(as_signal(d.envelope, "envelope"), d.fs, p) for d in batch]
    dets = [
        rep_detections(
            e,
            d.fs,
            d.t0,
            d.phases["start"],
            onset_search_end_s(d.phases, ctx),
            d.phases["bottom"],
            ctx.levels,
            p,
        )
        for d, e in zip(batch, envs, strict=True)
    ]
    onsets = _changepoint_batch(batch, dets, raw)
    return [
        _rep_result(d, ctx, e, det.activations(at, unc))
        for d, e, det, (at, unc) in zip(batch, envs, dets, onsets, strict=True)
    ]


def rep_datas(
    reps: Sequence[Rep],
    rep_fs: float,
    envelope: np.ndarray,
    emg_fs: float,
    ctx: SessionContext,
    angle: np.ndarray | None = None,
    angle_fs: float | None = None,
    emg_t0: float = 0.0,
    angle_t0: float = 0.0,
    raw: RawEmg | None = None,
) -> list[RepData]:
    """Each rep's :class:`RepData` cut out of whole arrays (:func:`rep_window_s`; arguments as
    :func:`analyse_reps`): views, no copies."""
    emg_fs, rep_fs = check_rate(emg_fs, "emg_fs"), check_rate(rep_fs, "rep_fs")
    env = as_signal(envelope, "envelope")
    if env.shape[1] != len(ctx.placements):
        raise ValueError(
            f"envelope has {env.shape[1]} channel(s) but the context has {len(ctx.placements)} placements"
        )
    clock = emg_t0 if angle is None else angle_t0
    datas = []
    for k, rep in enumerate(reps):
        phases = rep.times(rep_fs, clock)
        begin, end = rep_window_s(phases, ctx)
        i0 = int(np.clip(np.floor((begin - emg_t0) * emg_fs), 0, env.shape[0]))
        i1 = int(np.clip(np.ceil((end - emg_t0) * emg_fs) + 1, i0, env.shape[0]))
        ang = None
        if angle is not None and angle_fs is not None:
            j0 = int(np.clip(np.floor((begin - angle_t0) * angle_fs), 0, len(angle)))
            j1 = int(np.clip(np.ceil((end - angle_t0) * angle_fs) + 1, j0, len(angle)))
            ang = (np.asarray(angle, dtype=np.float64)[j0:j1], angle_t0 + j0 / angle_fs)
        datas.append(
            RepData(
                index=k + 1,
                phases=phases,
                envelope=env[i0:i1],
                fs=emg_fs,
                t0=emg_t0 + i0 / emg_fs,
                angle=None if ang is None else ang[0],
                angle_fs=angle_fs if ang is not None else None,
                angle_t0=0.0 if ang is None else ang[1],
                set_index=rep.set_index,
                partial=rep.partial,
                rom_deg=rep.rom,
                raw=None if raw is None else raw.window(begin, end),
            )
        )
    return datas


#: Reps whose changepoint onsets :func:`analyse_reps` fits in one call per channel (their
#: analysis envelopes are held meanwhile: ~0.5 MB per rep at 2 kHz and 8 channels).
BATCH_REPS = 64

#: Threads :func:`analyse_reps` runs its batches of reps on (the results are the same with one).
REP_THREADS = 2


def _changepoint_batch(
    batch: Sequence[RepData], dets: Sequence[RepDetections], raw: RawEmg
) -> list[tuple[list[float | None], list[float | None]]]:
    """Changepoint onsets (samples into each rep's envelope) and uncertainties (ms) of every
    detection of ``batch``: one :func:`~myoflow.analysis.onset_emg.changepoint_onsets` call per
    channel on the session's ``raw``, the same numbers as :func:`analyse_rep` on the rep's raw
    window (``RepData.raw``) where the fit reads only samples inside that window; a detection
    whose fit could reach past the window's ends (a rep cut short by the next one, or the
    session's start) is fitted on the rep's window itself, as :func:`analyse_rep` does."""
    fs, n = raw.fs, raw.samples.shape[0]
    fit = RawRefineParams()
    # the fit reads from lookback + settle before the detection to peak_window after it; the
    # detection moves up to one cell of the clock's grid (GRID_HZ) later
    before, after = fit.lookback_s + fit.settle_s, fit.peak_window_s + 1.0 / GRID_HZ
    out: list[tuple[list[float | None], list[float | None]]] = [
        ([None] * len(det.found), [None] * len(det.found)) for det in dets
    ]
    jobs: dict[int, list[tuple[int, float, float]]] = {}
    for j, (d, det) in enumerate(zip(batch, dets, strict=True)):
        win = d.raw
        assert win is not None
        r0 = int(round((win.t0 - raw.t0) * fs))
        r1 = r0 + win.samples.shape[0]
        has = np.isfinite(win.samples).any(axis=0)
        for c, found in enumerate(det.found):
            if found is None or not has[c]:
                continue
            t, e = det.detected_s(c), det.earliest_s(c)
            inside = (r0 == 0 or (t - before - raw.t0) * fs >= r0 + 1) and (
                r1 == n or (t + after - raw.t0) * fs <= r1 - 1
            )
            if inside:
                jobs.setdefault(c, []).append((j, t, e))
            else:
                one_s, one_unc = changepoint_onset(win, c, t, e)
                out[j][0][c], out[j][1][c] = (one_s - d.t0) * d.fs, one_unc

    for c, items in jobs.items():
        at_s, unc_ms = changepoint_onsets(
            raw, c, np.array([t for _, t, _ in items]), np.array([e for _, _, e in items])
        )
        for (j, _, _), a, u in zip(items, at_s.tolist(), unc_ms.tolist(), strict=True):
            d = batch[j]
            out[j][0][c], out[j][1][c] = (a - d.t0) * d.fs, (None if np.isnan(u) else u)
    return out


def _handover(data: RepData, env: np.ndarray, acts: list[MuscleActivation], ctx: SessionContext) -> Handover:
    glute, hams = handover_channels(ctx.placements)
    ph, fs, t0 = data.phases, data.fs, data.t0
    g, h = mean_over_columns(env[:, glute]), mean_over_columns(env[:, hams])
    thr = ctx.levels.onset_threshold
    active = (g > np.mean(thr[glute])) | (h > np.mean(thr[hams]))
    cross = find_crossover(
        g, h, fs, t0, ph["start"] - ctx.crossover_lead_s, ph["top"], active, ctx.crossover_hold_s
    )
    hip = pct = None
    stall = None
    if cross is not None:
        pct = 100.0 * (cross - ph["start"]) / max(ph["top"] - ph["start"], 1e-9)
    if data.angle is not None and data.angle_fs is not None:
        if cross is not None:
            times = data.angle_t0 + np.arange(data.angle.size) / data.angle_fs
            hip = float(np.interp(cross, times, data.angle))
        stall = find_stall(
            data.angle, data.angle_fs, data.angle_t0, ph["start"], ph["top"], g + h, fs, t0, cross
        )

    def earliest(group: list[int]) -> float | None:
        onsets = [o for o in (acts[c].onset_ms for c in group) if o is not None]
        return min(onsets) if onsets else None

    return Handover(
        hamstring_onset_ms=earliest(hams),
        glute_onset_ms=earliest(glute),
        crossover_s=cross,
        crossover_ms=None if cross is None else (cross - ph["start"]) * 1000.0,
        crossover_hip_deg=hip,
        crossover_pct=pct,
        stall=stall,
    )


def _relaxed_from(col: np.ndarray, fs: float, t0: float, gap_start_s: float, threshold: float) -> float:
    """Start (s) of the below-threshold run that holds the first gap: when the muscle let go."""
    runs = true_runs(col < threshold)
    i = int(round((gap_start_s - t0) * fs))
    hit = runs[(runs[:, 0] <= i) & (runs[:, 1] > i)]
    return t0 + (hit[0, 0] if hit.size else i) / fs


def _with_cue(r: Relaxation, cue: AntagonistCue) -> Relaxation:
    return replace(r, antagonist=cue)
