"""The dashboard's view-model: what is drawn, computed without Qt.

:class:`DashboardModel` turns what the session hands out (a
:class:`~myoflow.analysis.live_types.LiveSnapshot`, the rep results and cues of
:meth:`~myoflow.analysis.live.LiveAnalysis.poll`, strap statuses and an optional raw EMG window)
into one :class:`Frame`: lane arrays already cut to about the pixel width (peak-preserving, so a
burst is never thinned away; the envelope lanes keep their grid cells up to 2 per pixel), the
phase spans behind the hip angle, one badge row per finished rep, the cue text and the status
lines. The Qt widgets only copy a Frame into curves and labels,
so everything that decides *what* the user sees is unit-tested here.

Time on every x axis is seconds relative to the newest grid cell (``-window_s .. 0``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from myoflow._checks import check_positive, check_range
from myoflow.analysis.live_types import CUES, Cue, LiveSnapshot
from myoflow.analysis.normalisation import lookup_mvc
from myoflow.analysis.placement import parse_placement
from myoflow.analysis.rep_summary import RepResult
from myoflow.analysis.symmetry import live_symmetry, side_pairs
from myoflow.dashboard.columns import PeakColumns
from myoflow.dashboard.cues import CUE_TEXT, CueRules, is_target, pending_rep
from myoflow.exercises import DEFAULT_EXERCISE, Exercise, get_exercise

__all__ = [
    "feedback_level",
    "LOSS_WARNING_PCT",
    "PHASES",
    "Badge",
    "DashboardModel",
    "Frame",
    "Lane",
    "PhaseSpan",
    "StatusLine",
    "live_relax_targets",
    "peak_downsample",
]

#: Phases shaded behind the hip angle, in the order of a rep.
PHASES = ("concentric", "top", "eccentric", "bottom")
#: A strap's packet loss over the last 5 s above this (%) is a warning.
LOSS_WARNING_PCT = 1.0
#: The window of a lane's live left/right symmetry index (s).
SYMMETRY_WINDOW_S = 1.0
#: The symmetry index is worked out again after this much new data (s); the lane titles that
#: show it change twice a second.
SYMMETRY_EVERY_S = 0.1
_BOUNDS = (("start", "top", "concentric"), ("top", "eccentric", "top"), ("eccentric", "bottom", "eccentric"))


def peak_downsample(x: np.ndarray, y: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of ``y`` in each of ``n_bins`` equal runs of samples (peaks survive).

    Parameters
    ----------
    x
        ``(n,)`` sample positions (s).
    y
        ``(n,)`` or ``(n, k)`` values; NaN (no data) is ignored, an all-NaN bin stays NaN.
    n_bins
        Bins; the output has ``2 * n_bins`` points (the input unchanged when ``n <= 2 * n_bins``).

    Returns
    -------
    x_out, y_out
        ``(m,)`` float64 and ``(m,)`` / ``(m, k)`` float32: per bin its first position with the
        minimum, then its last position with the maximum.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y)
    if x.ndim != 1 or y.shape[:1] != x.shape:
        raise ValueError(f"x must be (n,) and y (n,) or (n, k) with the same n; got {x.shape} and {y.shape}")
    n_bins = int(check_positive(n_bins, "n_bins", "bins"))
    n = x.size
    if n <= 2 * n_bins:
        return x, y.astype(np.float32, copy=False)
    starts = (np.arange(n_bins) * n) // n_bins
    ends = np.append(starts[1:], n) - 1
    lo = np.fmin.reduceat(y, starts, axis=0)
    hi = np.fmax.reduceat(y, starts, axis=0)
    x_out = np.column_stack((x[starts], x[ends])).ravel()
    y_out = np.stack((lo, hi), axis=1).reshape((2 * n_bins, *y.shape[1:]))
    return x_out, y_out.astype(np.float32, copy=False)


@dataclass(frozen=True)
class Lane:
    """One muscle's lane: envelope ``x`` (s, relative) / ``y`` (``unit``), its rest threshold
    (None before the rest baseline), the target ``band`` (None: not a muscle the exercise
    trains, see :func:`~myoflow.dashboard.cues.is_target`) and the newest value."""

    muscle: str
    x: np.ndarray
    y: np.ndarray
    threshold: float | None
    band: tuple[float, float] | None
    latest: float
    #: The lower-lag feedback level now (same unit; NaN: none), :mod:`myoflow.feedback.level`.
    feedback: float = float("nan")
    #: Left/right symmetry index (%) of this muscle over the last :data:`SYMMETRY_WINDOW_S`, the
    #: same on both lanes of a pair (:func:`~myoflow.analysis.symmetry.live_symmetry`; NaN: no
    #: other side placed, or no level yet).
    symmetry_pct: float = float("nan")


@dataclass(frozen=True)
class PhaseSpan:
    """``phase`` (one of :data:`PHASES`) from ``x0`` to ``x1`` (s, relative)."""

    x0: float
    x1: float
    phase: str


@dataclass(frozen=True)
class Badge:
    """The badge row of one finished rep (texts as shown; ``relaxed`` decides its colour)."""

    rep_index: int
    relaxed: bool | None
    relaxed_text: str
    handover_text: str
    hold_text: str
    partial: bool


@dataclass(frozen=True)
class StatusLine:
    """One strap (or the replay): its text and whether it needs attention."""

    name: str
    state: str
    text: str
    warning: bool


@dataclass(frozen=True)
class Frame:
    """Everything one paint shows (module docstring). ``newest_s``: host-clock time of the newest
    grid cell (x = 0); ``emg_newest_s``: of the newest envelope value drawn (it shows the muscle
    at that time, i.e. samples received up to ``delay_ms`` later). ``rep_count`` counts a rep
    when its eccentric phase ends (:mod:`~myoflow.dashboard.cues`); ``lockout_deg`` is the
    median angle the recent reps reached at the top (None before the first top)."""

    lanes: tuple[Lane, ...]
    unit: str
    raw: tuple[str, np.ndarray, np.ndarray] | None
    angle_x: np.ndarray
    angle_y: np.ndarray
    angle_label: str
    phase: str | None
    phase_spans: tuple[PhaseSpan, ...]
    rep_count: int
    badges: tuple[Badge, ...]
    cue_text: str
    cue_kinds: tuple[str, ...]
    statuses: tuple[StatusLine, ...]
    delay_ms: float
    newest_s: float | None
    emg_newest_s: float | None = None
    lockout_deg: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def live_relax_targets(ex: Exercise) -> tuple[str, ...]:
    """Muscle stems the live "relax" banner watches for ``ex``: its relax targets when it judges
    relaxation per rep, none when after the set (a band walk or a plank keeps tension on)."""
    return ex.relax_targets if ex.metrics.relaxation == "per_rep" else ()


class DashboardModel:
    """Turns session state into :class:`Frame` s (module docstring).

    Parameters
    ----------
    exercise
        A name, alias or ``.toml`` path of :mod:`myoflow.exercises` (or an
        :class:`~myoflow.exercises.Exercise`): its file gives the target band and target muscles.
    window_s
        Seconds of history on the lanes (s).
    width_px
        Plot width in pixels: lanes are cut to about this many points.
    target_band
        ``(low, high)`` in the session unit, over the exercise's ``targets.mvc_pct``.
    cue_hold_s
        A rep's cues stay up this long (s of data) unless the next rep replaces them.
    bottom_cue_s
        Live cue: "relax fully at the bottom" once a glute stayed above its rest threshold
        this long (s) in the bottom phase, before the rep's own result is out.
    max_badges
        Badge rows kept (the newest).
    """

    def __init__(
        self,
        exercise: str | Exercise = DEFAULT_EXERCISE,
        *,
        window_s: float = 10.0,
        width_px: int = 800,
        target_band: tuple[float, float] | None = None,
        cue_hold_s: float = 8.0,
        bottom_cue_s: float = 1.0,
        max_badges: int = 8,
    ) -> None:
        self.exercise = get_exercise(exercise).name
        self.window_s = check_range(window_s, "window_s", 1.0, 120.0, "s")
        self.width_px = int(check_range(width_px, "width_px", 50, 10000, "px"))
        band = get_exercise(self.exercise).target_band if target_band is None else tuple(target_band)
        if len(band) != 2 or not (np.isfinite(band).all() and band[0] < band[1]):
            raise ValueError(f"target_band must be (low, high) with low < high, got {target_band!r}")
        self.target_band = (float(band[0]), float(band[1]))
        self.cue_hold_s = check_positive(cue_hold_s, "cue_hold_s", "s")
        self.bottom_cue_s = check_positive(bottom_cue_s, "bottom_cue_s", "s")
        self.max_badges = int(check_positive(max_badges, "max_badges"))
        self.results: list[RepResult] = []
        self._badges: tuple[Badge, ...] = ()  # badge(r) of each of results (made once per rep)
        self.cues: list[Cue] = []
        self._live_phases: list[list[Any]] = []  # [t0, t1, phase] on the grid clock
        self.rules = CueRules(
            bottom_cue_s=self.bottom_cue_s,
            hold_s=self.cue_hold_s,
            relax_targets=live_relax_targets(get_exercise(self.exercise)),
        )
        self._tops: list[float] = []  # the most extended angle of each recent top phase (deg)
        self._lockout: float | None = None  # median of the last 5 tops (deg)
        self._sym: tuple[float, tuple[str, ...], dict[int, float]] | None = None  # (at, muscles, SI)
        self._raw: tuple[str, PeakColumns] | None = None  # the raw lane's muscle and columns
        self._top_now: float | None = None
        self._targets: dict[tuple[str, str], bool] = {}  # (muscle, exercise) -> trains it
        self._pairs: dict[tuple[str, ...], dict[int, int]] = {}  # muscles -> lane -> other side's

    def _is_target(self, muscle: str) -> bool:
        """:func:`~myoflow.dashboard.cues.is_target`, asked once per muscle and exercise (the
        registry look-up is too slow for every lane of every frame)."""
        key = (muscle, self.exercise)
        if key not in self._targets:
            self._targets[key] = is_target(muscle, self.exercise)
        return self._targets[key]

    def set_exercise(self, exercise: str | Exercise) -> None:
        """Change the exercise (and its target band)."""
        ex = get_exercise(exercise)
        self.exercise, self.target_band = ex.name, ex.target_band
        self.rules.relax_targets = live_relax_targets(ex)

    def reset(self) -> None:
        """Forget reps, cues and phases (a new analysis started)."""
        self.results.clear()
        self._badges = ()
        self.cues.clear()
        self._live_phases.clear()
        self.rules.reset()
        self._tops.clear()
        self._lockout = None
        self._sym = None
        self._top_now = None

    def frame(
        self,
        snap: LiveSnapshot,
        polled: Sequence[Any] = (),
        statuses: Sequence[Any] = (),
        raw: tuple[str, np.ndarray, np.ndarray] | None = None,
        extra_status: Sequence[StatusLine] = (),
        feedback: Mapping[str, float] | None = None,
    ) -> Frame:
        """The frame for ``snap`` plus what :meth:`LiveAnalysis.poll` returned since the last one.

        ``statuses``: :class:`~myoflow.devices.sinks.StrapStatus` of each strap; ``raw``:
        ``(muscle, times, values)`` of one lane's raw EMG (host-clock s, uV); ``extra_status``
        lines are appended as they are (the replay's position, errors), then one warning line
        per warning of the analysis (``snap.warnings``: mains, cyclic movement, cycles without
        an onset); ``feedback``: each
        muscle's feedback level now (the mat bar and the tone follow it, the lanes do not).
        """
        for item in polled:
            if isinstance(item, RepResult):
                self.results.append(item)
            elif isinstance(item, Cue):
                self.cues.append(item)
        del self.results[: -self.max_badges]
        if len(self._badges) != len(self.results) or (
            self.results and self._badges[-1].rep_index != self.results[-1].index
        ):
            self._badges = tuple(badge(r) for r in self.results)
        newest = float(snap.times[-1]) if snap.times.size else None
        keep = snap.times > newest - self.window_s if newest is not None else slice(0, 0)
        times = snap.times[keep]
        rel = times - newest if newest is not None else times
        bins = max(1, self.width_px // 2)
        # the envelope lanes (the analysis grid: 100 cells/s) keep every cell up to 2 per pixel:
        # 10 s on a wide lane is drawn as it is, with no per-frame pass to thin it
        x_env, y_env = peak_downsample(rel, snap.envelope_pct[keep], self.width_px)
        symmetry = self._symmetry_now(snap, newest)
        lanes = []
        for j, muscle in enumerate(snap.muscles):
            column = snap.envelope_pct[keep, j]
            finite = column[np.isfinite(column)]
            lanes.append(
                Lane(
                    muscle=muscle,
                    x=x_env,
                    y=np.ascontiguousarray(y_env[:, j]),
                    threshold=snap.rest_threshold_pct.get(muscle),
                    band=self.target_band if self._is_target(muscle) else None,
                    latest=float(finite[-1]) if finite.size else float("nan"),
                    feedback=float((feedback or {}).get(muscle, float("nan"))),
                    symmetry_pct=symmetry.get(j, float("nan")),
                )
            )
        x_ang, y_ang = peak_downsample(rel, snap.angle_deg[keep], bins)
        raw_out = None
        if raw is not None and newest is not None and raw[1].size:
            x_raw, y_raw = self._raw_points(raw, bins, newest)
            raw_out = (raw[0], x_raw - newest, y_raw)
        has_emg = np.flatnonzero(np.isfinite(snap.envelope_pct).any(axis=1))
        emg_newest = float(snap.times[has_emg[-1]]) if has_emg.size else None
        phase = snap.phase
        self._track_phase(phase, newest)
        self._track_top(phase, snap.angle_deg[keep])
        kinds: tuple[str, ...] = ()
        if newest is not None:
            latest = self.results[-1].index if self.results else None
            kinds = self.rules.kinds(snap, newest, phase, self.cues, latest, self._live_phases)
        ex = get_exercise(self.exercise)
        cue_text = "  ·  ".join(ex.cue_text(k, CUE_TEXT[k]) if k in CUES else CUE_TEXT[k] for k in kinds)
        done = self.results[-1].phases["end"] if self.results else -np.inf
        return Frame(
            lanes=tuple(lanes),
            unit=snap.unit,
            raw=raw_out,
            angle_x=x_ang,
            angle_y=y_ang,
            angle_label=snap.angle_label or "no IMU: no angle",
            phase=phase,
            phase_spans=self._spans(newest),
            rep_count=snap.rep_count + (1 if pending_rep(self._live_phases, done) else 0),
            badges=self._badges,
            cue_text=cue_text,
            cue_kinds=kinds,
            statuses=tuple(status_line(s) for s in statuses)
            + tuple(extra_status)
            + tuple(StatusLine("analysis", "warning", w, True) for w in snap.warnings),
            delay_ms=float(snap.delay_ms),
            newest_s=newest,
            emg_newest_s=emg_newest,
            lockout_deg=self._lockout,
        )

    # --- pieces ---------------------------------------------------------------------------
    def _raw_points(
        self, raw: tuple[str, np.ndarray, np.ndarray], bins: int, newest: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """The raw lane's min/max columns (``bins`` over the window) inside the window ending at
        ``newest``; only the samples newer than the last frame's are folded in (:mod:`.columns`)."""
        muscle, times, values = raw[0], np.asarray(raw[1]), np.asarray(raw[2])
        dt = self.window_s / bins
        if self._raw is None or self._raw[0] != muscle or self._raw[1].dt != dt:
            self._raw = (muscle, PeakColumns(dt, bins + 2))
        columns = self._raw[1]
        if not columns.add(times, values):  # not a continuation: start again from the window
            columns.clear()
            columns.add(times, values)
        return columns.points(newest - self.window_s)

    def _symmetry_now(self, snap: LiveSnapshot, newest: float | None) -> dict[int, float]:
        """:meth:`_symmetry`, reused until :data:`SYMMETRY_EVERY_S` of new data arrived."""
        if newest is None:
            return {}
        known = self._sym
        if known is None or known[1] != snap.muscles or not 0.0 <= newest - known[0] < SYMMETRY_EVERY_S:
            known = self._sym = (newest, tuple(snap.muscles), self._symmetry(snap, newest))
        return known[2]

    def _symmetry(self, snap: LiveSnapshot, newest: float | None) -> dict[int, float]:
        """Lane index -> SI (%) of its left/right pair over the last :data:`SYMMETRY_WINDOW_S`
        (left minus right, as in the offline report); lanes without a pair are absent."""
        muscles = tuple(snap.muscles)
        if muscles not in self._pairs:
            index = {m: j for j, m in enumerate(muscles)}
            pairs: dict[int, int] = {}
            for _, left, right in side_pairs(muscles):
                pairs[index[left]] = index[right]
            self._pairs[muscles] = pairs
        pairs = self._pairs[muscles]
        if not pairs or newest is None:
            return {}
        recent = snap.envelope_pct[snap.times > newest - SYMMETRY_WINDOW_S]
        out: dict[int, float] = {}
        for jl, jr in pairs.items():
            si = live_symmetry(recent[:, jl], recent[:, jr])
            out[jl] = out[jr] = si
        return out

    def _track_phase(self, phase: str | None, newest: float | None) -> None:
        if newest is None:
            return
        if phase is None:
            self._live_phases.clear()
            return
        last = self._live_phases[-1] if self._live_phases else None
        if last is not None and last[2] == phase and newest >= last[1]:
            last[1] = newest
        else:
            self._live_phases.append([newest if last is None else last[1], newest, phase])
        horizon = newest - self.window_s
        while self._live_phases and self._live_phases[0][1] < horizon:
            self._live_phases.pop(0)

    def _spans(self, newest: float | None) -> tuple[PhaseSpan, ...]:
        """Finished reps' exact phases, then the live phases after the last finished rep."""
        if newest is None:
            return ()
        horizon = newest - self.window_s
        spans: list[tuple[float, float, str]] = []
        for r in self.results:
            p = r.phases
            spans += [(p[a], p[b], name) for a, b, name in _BOUNDS]
            spans.append((p["bottom"], max(p["bottom"], p["end"]), "bottom"))
        done = self.results[-1].phases["end"] if self.results else -np.inf
        spans += [(max(t0, done), t1, ph) for t0, t1, ph in self._live_phases if t1 > done]
        return tuple(
            PhaseSpan(max(t0, horizon) - newest, min(t1, newest) - newest, ph)
            for t0, t1, ph in spans
            if t1 > horizon and t1 > t0 and ph in PHASES
        )

    def _track_top(self, phase: str | None, angle: np.ndarray) -> None:
        """Note the most extended angle (the smallest flexion) of each top phase."""
        finite = angle[-3:][np.isfinite(angle[-3:])]
        if phase == "top" and finite.size:
            low = float(finite.min())
            self._top_now = low if self._top_now is None else min(self._top_now, low)
        elif self._top_now is not None:
            self._tops = [*self._tops[-9:], self._top_now]
            self._lockout = float(np.median(self._tops[-5:]))
            self._top_now = None


def badge(result: RepResult) -> Badge:
    """The badge row of one rep: the glute's bottom relaxation, the handover, eccentric hold."""
    glutes = [m for m in result.muscles if parse_placement(m).role == "glute"]
    key = glutes[0] if glutes else next(iter(result.relaxation), None)
    relaxed: bool | None = None
    relaxed_text = "relaxed: n/a"
    if key is not None and key in result.relaxation:
        r = result.relaxation[key]
        relaxed = bool(r.relaxed)
        relaxed_text = f"relaxed {'yes' if relaxed else 'NO'} (min {r.bottom_min_pct:.0f}{_pct(result.unit)})"
    h = result.handover
    if h is None:
        handover_text = "handover n/a"
    elif h.crossover_s is None:
        handover_text = "handover none"
    else:
        angle = f" at {h.crossover_hip_deg:.0f} deg" if h.crossover_hip_deg is not None else ""
        when = f", {h.crossover_ms:+.0f} ms" if h.crossover_ms is not None else ""
        handover_text = f"handover{angle}{when}"
    holds = [v for m, v in result.eccentric_hold_pct.items() if m in glutes and np.isfinite(v)]
    hold_text = f"ecc. hold {holds[0]:.0f}%" if holds else "ecc. hold n/a"
    return Badge(result.index, relaxed, relaxed_text, handover_text, hold_text, bool(result.partial))


def status_line(status: Any) -> StatusLine:
    """One :class:`~myoflow.devices.sinks.StrapStatus` as shown: state, battery, loss, rate, and
    how late a stream's data arrive when that is more than 0.1 s (a Polar Verity Sense sends its
    IMU in frames of ~1.4 s, docs/device-quirks.md; its reps show that much later)."""
    state = {"streaming": "connected"}.get(status.state, status.state)
    parts = [state]
    if status.battery is not None:
        parts.append(f"battery {status.battery}%")
    worst = 0.0
    for s in status.streams.values():
        short = s.stream.rsplit("/", 1)[-1]
        late = float(getattr(s, "delivery_s", 0.0))
        delay = f", data {late:.1f} s late" if late > 0.1 else ""
        parts.append(f"{short} {s.effective_rate:.0f} Hz, loss {s.loss_percent_5s:.1f}%{delay}")
        worst = max(worst, float(s.loss_percent_5s))
    dropped = sum(getattr(status, "discards", {}).values())
    if dropped:
        parts.append(f"{dropped} discarded")
    if status.error:
        parts.append(status.error)
    warning = worst > LOSS_WARNING_PCT or status.state in ("reconnecting", "failed")
    return StatusLine(status.name, state, f"{status.name}: " + " · ".join(parts), warning)


def _pct(unit: str) -> str:
    return " % MVC" if "MVC" in unit else "%"


def feedback_level(lane: Lane) -> float:
    """What the mat bar and the tone show for ``lane``: its lower-lag feedback level when there
    is one, else the analysis envelope's newest value (NaN: neither)."""
    return lane.feedback if np.isfinite(lane.feedback) else lane.latest


def mvc_covers(mvc: Mapping[str, float] | None, placements: Sequence[str]) -> bool:
    """True when ``mvc`` has a positive reference for every placement."""
    if not mvc:
        return False
    return all(lookup_mvc(mvc, "", p, p) is not None for p in placements)
