"""Live, incremental exercise analytics over Blocks from any mix of straps.

:class:`LiveAnalysis` is a sink (``on_block``, ``on_gap``, ``on_event``, ``on_status``, the names
of the ingest's and the replay's sinks) and the model that the console, the session and the
dashboard read: :meth:`LiveAnalysis.poll` hands out each finished rep's
:class:`~myoflow.analysis.rep_summary.RepResult` and the :class:`Cue` s it triggers, once;
:meth:`LiveAnalysis.snapshot` copies the recent state for a display (thread-safe).

What happens to the data:

1. every EMG stream runs through its own :class:`~myoflow.dsp.pipeline.EmgPipeline`; the
   envelope goes onto a common grid at ``grid_hz`` placed at ``host time - delay`` (the offline
   metrics expect a delay-free envelope); IMU streams become segment angles on the same grid
   (:mod:`myoflow.analysis.live_sources`, :mod:`myoflow.analysis.live_grid`);
2. % MVC with ``mvc`` references, else % of the session peak *so far* (labelled);
3. the hip angle (thigh - pelvis, or one segment's angle, flagged by ``angle_mode``) feeds the
   incremental rep segmentation (:mod:`myoflow.analysis.live_reps`);
4. once a rep's bottom window has passed, :func:`~myoflow.analysis.rep_summary.analyse_rep`
   runs on its window of the grid, the same per-rep code as offline, against a
   :class:`~myoflow.analysis.rep_summary.SessionContext` whose rest levels come from the first
   ``baseline_s`` of rest (after 0.5 s of filter settling);
5. cues (:func:`rep_cues`) follow from the result.

**Arrival order.** Live, each strap's packets come in bunches and the streams interleave as the
radio delivers them; a replay delivers them in time order. Both give the same reps, phases,
verdicts, cues and numbers (to float rounding of the chunked filters), because everything is a
function of the data, not of what had arrived when:

* each stage sees its own stream in order and is chunk-invariant; acc and gyro are paired by
  time (:class:`~myoflow.analysis.live_sources.TimePairer`);
* a grid cell is used only once every stream has completed it (the stream *frontiers*), and a
  rep only once its window's cells are complete;
* the rest window starts at the first grid cell holding EMG; a rep uses it when it ends by the
  rep's last cell, else the quietest second before the rep;
* without ``mvc``, a rep is scaled by the session peak *as of its last cell*
  (:class:`~myoflow.analysis.live_grid.PeakHistory`), not as far as the scan had got.

What still depends on timing: a stream whose frontier is more than 2.5 s of grid cells behind
the newest of its kind (EMG, or segment angles) stops holding the analysis back, and an EMG
stream that has delivered nothing yet counts as being at the first EMG cell, so it is dropped
from the frontier once the others are 2.5 s past it. 2.5 s covers the slowest strap's delivery:
a Polar Verity Sense sends its IMU in frames of about 71 samples, every 1-2 s (polar-ble-sdk
issue 317), and its reps then come up to that much later, equal to a replay's. A
strap that is silent (or whose packets arrive) more than 2.5 s late has cells read before its
data came, which a replay would have included; every segment must have delivered once before
reps are searched. Acc or gyro samples that wait more than 5 s of data for their partner stream
are dropped (``TimePairer``). The per-rep :class:`RepTiming` (latency, processing time) is a
measurement of timing by design.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from myoflow._checks import check_option, check_positive, check_range
from myoflow.analysis.activation import UNITS, ActivationParams, RestLevels, analysis_envelope, rest_levels
from myoflow.analysis.exercise_angle import uses_hip_angle
from myoflow.analysis.exercise_rules import exercise_antagonists, exercise_not_measured
from myoflow.analysis.live_cycles import LiveCycles
from myoflow.analysis.live_family import family_source
from myoflow.analysis.live_grid import GridBuffer, PeakHistory
from myoflow.analysis.live_reps import IncrementalReps, LiveRep
from myoflow.analysis.live_sources import EmgSource, SegmentSource, segment_sources
from myoflow.analysis.live_types import (
    CUES,
    ECCENTRIC_CUE_PCT,
    Cue,
    LiveSnapshot,
    RepTiming,
    rep_cues,
)
from myoflow.analysis.mains import detect_mains
from myoflow.analysis.normalisation import channel_keys, references_for
from myoflow.analysis.onset_emg import RAW_LEAD_S, RawEmg
from myoflow.analysis.rep_checks import cycle_period, cycle_results_doubts
from myoflow.analysis.rep_summary import RepData, RepResult, SessionContext, analyse_rep
from myoflow.analysis.reps import Rep, movement_angle
from myoflow.dsp.rest import quietest_baseline
from myoflow.exercises import DEFAULT_EXERCISE, Exercise, get_exercise
from myoflow.stream import Block, Event, Gap, StreamInfo

__all__ = [
    "CUES",
    "ECCENTRIC_CUE_PCT",
    "Cue",
    "LiveAnalysis",
    "LiveSnapshot",
    "RepTiming",
    "rep_cues",
]

_SETTLE_S = 0.5  # filter settling skipped before the rest baseline
_STALE_S = 2.5  # a stream this far behind the others no longer holds the analysis back (s);
# above the slowest strap's delivery interval (Verity Sense IMU frames: 1-2 s)
_PEAK_WINDOW_S = 0.5  # session peak: largest mean over this window, as an MVC reference


class LiveAnalysis:
    """Live analytics of one session (module docstring).

    Parameters
    ----------
    streams
        Every stream that will be fed. EMG streams are analysed (placement per channel, e.g.
        ``glute_max_r``); acc/gyro/quat/angle streams placed on ``pelvis`` or ``thigh`` give the
        angle; other streams (ECG, ...) are ignored.
    mvc
        MVC reference in envelope units (``myoflow.session.live.calibrate_mvc``), keyed by
        ``"<stream>/<channel>"``, channel label or placement; it must cover every EMG channel.
        None: % of the session peak so far.
    exercise
        A name, alias or ``.toml`` path of :mod:`myoflow.exercises`, or an
        :class:`~myoflow.exercises.Exercise` (its file decides which cues apply).
    mains_hz
        50 or 60 Hz notches, or None.
    grid_hz
        Rate (Hz) of the common analysis grid.
    history_s
        Seconds kept for :meth:`snapshot`.
    baseline_s
        Seconds of rest at the start (after 0.5 s of settling) that give the rest levels.
    """

    def __init__(
        self,
        streams: Sequence[StreamInfo],
        *,
        mvc: Mapping[str, float] | None = None,
        exercise: str | Exercise = DEFAULT_EXERCISE,
        mains_hz: float | None = 50.0,
        grid_hz: float = 100.0,
        history_s: float = 30.0,
        baseline_s: float = 2.0,
    ) -> None:
        self.exercise_def = get_exercise(exercise)
        self.exercise = self.exercise_def.name
        mains_hz = check_option(mains_hz, "mains_hz", (50, 60, None))
        self.grid_hz = check_range(grid_hz, "grid_hz", 20.0, 1000.0, "Hz")
        self.history_s = check_positive(history_s, "history_s", "s")
        self.baseline_s = check_positive(baseline_s, "baseline_s", "s")
        self.params = ActivationParams()
        self._lock = threading.RLock()
        cap = int(np.ceil(max(self.history_s, 60.0) * self.grid_hz)) + 1
        self._emg: dict[str, EmgSource] = {}
        labels: list[str] = []
        for info in streams:
            if info.kind == "emg":
                cols = slice(len(labels), len(labels) + info.n_channels)
                self._emg[info.name] = EmgSource(info, mains_hz, self.grid_hz, cols)
                places = [k.placement or f"{k.stream}/{k.channel}" for k in channel_keys(info)]
                labels.extend(places)
        self.muscles = tuple(dict.fromkeys(labels))
        self._mains_hz = mains_hz
        #: 50.0/60.0 once the baseline has been seen and the EMG spectrum shows mains, else None.
        self.detected_mains_hz: float | None = None
        self.warnings: list[str] = []
        # changepoint onsets read the raw EMG of the first EMG stream (as offline: other streams'
        # raw samples are not resampled onto it): muscle -> its first channel there
        first = next(iter(self._emg.values()), None)
        self._raw_cols: list[int | None] = [None] * len(self.muscles)
        if first is not None:
            for k, m in enumerate(labels[first.cols]):
                j = self.muscles.index(m)
                if self._raw_cols[j] is None:
                    self._raw_cols[j] = k
        weights = np.zeros((len(labels), len(self.muscles)))
        weights[np.arange(len(labels)), [self.muscles.index(m) for m in labels]] = 1.0
        self._weights = weights
        keys = [k for src in self._emg.values() for k in channel_keys(src.info)]
        self._mvc = None if mvc is None else references_for(mvc, keys)
        self.unit = UNITS["mvc"] if self._mvc is not None else UNITS["session_peak"]
        self._src = GridBuffer(self.grid_hz, len(labels), cap)
        self._family = (
            None
            if uses_hip_angle(self.exercise_def)
            else (family_source(streams, self.grid_hz, self.exercise_def))
        )
        self._segments: list[SegmentSource] = (
            segment_sources(streams, self.grid_hz)
            if uses_hip_angle(self.exercise_def)
            else [s for s in (self._family,) if s is not None]
        )
        self._seg_of = {name: s for s in self._segments for name in s.names}
        self._ang = GridBuffer(self.grid_hz, len(self._segments), cap)
        present = {s.segment for s in self._segments}
        self.angle_mode = "hip" if present == {"pelvis", "thigh"} else ("segment" if present else None)
        self.angle_label: str | None = None  # the offline wording (reps.movement_angle)
        if self._family is not None:
            self.angle_label = self._family.rules.label
        elif present:
            probe = {seg: np.zeros(1) for seg in present}
            self.angle_label = movement_angle(probe.get("pelvis"), probe.get("thigh")).description
        self._reps = None
        if self._family is not None:
            self._reps = self._family.rules.live(self.grid_hz)  # the exercise family's segmenter
        elif self.angle_mode:
            self._reps = IncrementalReps(self.grid_hz)
        self._peaks = PeakHistory(self._src, max(1, int(round(_PEAK_WINDOW_S * self.grid_hz))))
        self._baseline_raw: np.ndarray | None = None
        self._baseline_end: int | None = None  # grid cell after the baseline window
        self._mains_open = True  # the mains check (once, when the baseline is in) is to come
        self._levels: RestLevels | None = None
        self._display_levels: tuple[bytes, RestLevels] | None = None  # snapshot() cache
        self._pushed: int | None = None
        self._newest_t = -np.inf
        self._out: list[RepResult | Cue] = []
        self.results: list[RepResult] = []
        self._live_reps: list[Rep] = []
        #: ``"rep"``, or ``"cycle"`` once the reps are a cyclic movement (offline: the same rule)
        self.rep_kind = "rep"
        #: rep results given before the movement was recognised as cyclic
        self.superseded: list[RepResult] = []
        self._seen: list[Rep] = []  # every rep finished, for the cycle rule
        self._cycles: LiveCycles | None = None
        self._onset_doubt: str | None = None  # the cycle-onset warning in ``warnings``, if any
        self.cues: list[Cue] = []
        self.timings: list[RepTiming] = []

    @property
    def delay_ms(self) -> float:
        """Delay of the live envelope behind the muscle (the largest over the EMG streams), ms."""
        return max((s.pipe.delay_ms for s in self._emg.values()), default=0.0)

    @property
    def cycle_period_s(self) -> float | None:
        """The median cycle (s) when the reps so far are a cyclic movement such as gait (the
        offline rule, :func:`myoflow.analysis.rep_checks.cycle_period`), else None: then each
        result is a movement cycle, not an exercise rep (no rest between cycles)."""
        with self._lock:
            return cycle_period(
                self._live_reps if self._cycles is not None else self._seen or self._live_reps, self.grid_hz
            )

    @property
    def newest_cell(self) -> int | None:
        """Index of the newest EMG grid cell received (None before the first)."""
        return self._src.newest

    def muscle_window(self, i0: int, i1: int, ref_cell: int) -> tuple[np.ndarray, RestLevels | None]:
        """Grid cells ``[i0, i1)`` as ``(n, n_muscles)`` in :attr:`unit` (references as of grid
        cell ``ref_cell``, no level as 0) and the rest levels the last rep was judged with."""
        with self._lock:
            rows = np.nan_to_num(self._muscle_pct(self._src.read(i0, i1), self._refs(ref_cell)))
            return rows, self._levels

    @property
    def unavailable(self) -> dict[str, str]:
        """What this set of streams cannot give live, and why."""
        out = {}
        if not self._emg:
            out["activation"] = "activation needs at least one EMG stream"
        if self.angle_mode is None and not uses_hip_angle(self.exercise_def):
            seg = self.exercise_def.movement.segment
            out["reps"] = (
                f"live reps of {self.exercise_def.name} need a {seg} IMU (acc, acc+gyro or quat "
                f"stream placed on {seg}); EMG-only rep finding runs offline (myoflow analyze)"
            )
        elif self.angle_mode is None:
            out["reps"] = (
                "live reps need a pelvis or thigh IMU (acc, acc+gyro, quat or angle stream); "
                "EMG-only rep finding runs offline (myoflow analyze)"
            )
        return out

    # --- sink interface ------------------------------------------------------------------
    def on_block(self, block: Block) -> None:
        """Process one block of any stream (unknown kinds and streams are ignored)."""
        started = time.perf_counter()
        with self._lock:
            name = block.stream.name
            if len(block) == 0:
                return
            if name in self._emg:
                self._emg[name].block(block, self._src)
            elif name in self._seg_of:
                self._seg_of[name].block(block, self._ang)
            else:
                return
            self._newest_t = max(self._newest_t, float(block.times[-1]))
            self._advance(started)

    def on_gap(self, gap: Gap) -> None:
        """Restart the stream's filters; its grid cells in the gap stay NaN."""
        started = time.perf_counter()
        with self._lock:
            name = gap.stream.name
            if name in self._emg:
                self._emg[name].gap(gap, self._src)
            elif name in self._seg_of:
                self._seg_of[name].gap(gap, self._ang)
            self._advance(started)

    def on_event(self, event: Event) -> None:
        """Markers and other events do not change the analysis."""

    def on_status(self, status: Any) -> None:
        """Strap states do not change the analysis (a stream more than 2.5 s behind the others
        stops holding it back, module docstring)."""

    def poll(self) -> list[RepResult | Cue]:
        """Rep results and cues produced since the last call, in order."""
        with self._lock:
            out, self._out = self._out, []
            return out

    # --- processing ----------------------------------------------------------------------
    def _front(self, fronts: list[int | None], first: int | None) -> int | None:
        """First grid cell not complete in every stream that is not stale (module docstring):
        a stream more than ``_STALE_S`` of cells behind the newest stops holding the others back; a
        stream with no data yet counts as at cell ``first`` (None: nothing is complete)."""
        if not fronts or (None in fronts and first is None):
            return None
        at = [a for a in (first if f is None else f for f in fronts) if a is not None]  # None: see above
        newest = max(at)
        return min(f for f in at if f >= newest - int(_STALE_S * self.grid_hz))

    def _advance(self, started: float) -> None:
        emg_front = self._front([s.frontier for s in self._emg.values()], self._src.first)
        ang_front = self._front([s.frontier for s in self._segments], None)
        if emg_front is not None:
            self._emg_progress(emg_front)
        if self._reps is None or ang_front is None:
            return
        if self._pushed is None:
            self._pushed = self._ang.first if self._ang.first is not None else ang_front
        if ang_front > self._pushed:
            rows = self._movement(self._ang.read(self._pushed, ang_front))
            self._reps.push(self._pushed, rows)
            if self._cycles is not None:
                self._cycles.push(self._pushed, rows)
            self._pushed = ang_front
        if emg_front is None and self._emg:
            return
        frontier = ang_front if emg_front is None else min(emg_front, ang_front)
        for live_rep in self._reps.finished(frontier):
            if self._cycles is None and self._family is None:
                self._seen.append(live_rep.rep)
                if cycle_period(self._seen, self.grid_hz) is not None:
                    self._start_cycles()
            if self._cycles is None:
                self._analyse(live_rep, started)
        for live_cycle in self._cycles.finished(frontier) if self._cycles is not None else ():
            self._analyse(live_cycle, started)

    def _start_cycles(self) -> None:
        """The reps so far are a cyclic movement (the offline rule): from now on results are
        movement cycles (:class:`~myoflow.analysis.live_cycles.LiveCycles`), counted from the
        first; the rep results given so far move to :attr:`superseded`."""
        pushed = self._pushed
        assert pushed is not None  # set before any rep can finish
        first = max(pushed if self._ang.first is None else self._ang.first, pushed - self._ang.capacity + 1)
        self._cycles = LiveCycles(self.grid_hz, first, self._movement(self._ang.read(first, pushed)))
        self.rep_kind = "cycle"
        period = cycle_period(self._seen, self.grid_hz)
        self.warnings.append(
            f"cyclic movement (e.g. gait): cycles of {period:.2f} s (median) are analysed as cycles, "
            f"not reps (the offline rule); the {len(self.results)} result(s) so far were reps and are "
            "replaced by cycles, counted from the first"
        )
        self.superseded, self.results, self._live_reps = self.results, [], []

    def _emg_progress(self, front: int) -> None:
        # The rest window is anchored on the first grid cell holding EMG (a property of the data),
        # not on when processing first got here (which depends on how streams' blocks interleave).
        for _ in range(2):  # a second look when the mains check redid the grid
            first = self._src.first
            if first is None or self._baseline_raw is not None:
                break
            begin = first + int(round(_SETTLE_S * self.grid_hz))
            end = begin + int(round(self.baseline_s * self.grid_hz))
            if front < end:
                break
            if self._mains_open:
                self._mains_open = False
                if self._detect_mains((end - first) / self.grid_hz):
                    front = self._front([s.frontier for s in self._emg.values()], self._src.first) or front
                    continue
            self._baseline_raw, self._baseline_end = self._src.read(begin, end), end
        if self._mvc is None:
            self._peaks.advance(front)

    def _detect_mains(self, seconds: float) -> bool:
        """Mains from the spectrum of the first EMG stream's first ``seconds`` of raw samples,
        by the offline rule (:func:`myoflow.analysis.mains.detect_mains`). When it differs from
        the notches in use, every EMG stream is run again from its start through the notches
        the offline path uses for that frequency (:meth:`EmgSource.replayed`), so the grid holds
        what it would had the session started with them; a warning says so. True: switched."""
        src = next(iter(self._emg.values()))
        t0 = src.raw.first_s
        got = None if t0 is None else src.raw.read(t0 + RAW_LEAD_S, t0 + seconds, None)
        if got is not None:
            self.detected_mains_hz = detect_mains(got.samples, got.fs)
        found, used = self.detected_mains_hz, self._mains_hz
        switched = False
        if found is not None and found != used:
            if all(s.can_replay for s in self._emg.values()):
                self._switch_mains(found)
                switched = True
                self.warnings.append(
                    f"the EMG shows {found:g} Hz mains, not the "
                    f"{'no notch' if used is None else f'{used:g} Hz'} assumed: the live notches now "
                    f"filter {found:g} Hz (the data so far was run through them again)"
                )
            else:
                self.warnings.append(
                    f"the EMG shows {found:g} Hz mains but the live notches are at "
                    f"{'none' if used is None else f'{used:g} Hz'}: pass mains_hz={found:g}"
                )
        for s in self._emg.values():
            s.stop_keeping()
        return switched

    def _switch_mains(self, mains_hz: float) -> None:
        """Every EMG stream replayed through ``mains_hz`` notches into a new grid."""
        grid = GridBuffer(self.grid_hz, self._src.n_cols, self._src.capacity)
        self._emg = {name: s.replayed(mains_hz, grid) for name, s in self._emg.items()}
        self._src = grid
        self._peaks = PeakHistory(grid, self._peaks.window)
        self._mains_hz = mains_hz

    def _refs(self, cell: int | None = None) -> np.ndarray:
        """Per-source references: the MVC, else the session peak as of grid cell ``cell``
        (None: as far as scanned), NaN where there is none."""
        if self._mvc is not None:
            return self._mvc
        peak = self._peaks.latest if cell is None else self._peaks.at(cell)
        return np.where(peak > 0, peak, np.nan)

    def _muscle_pct(self, raw: np.ndarray, refs: np.ndarray) -> np.ndarray:
        """Source-grid rows ``(n, n_sources)`` -> ``(n, n_muscles)`` in :attr:`unit`, against
        per-source references ``refs`` (:meth:`_refs`)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            pct = raw * (100.0 / refs)
            ok = np.isfinite(pct)
            sums = np.where(ok, pct, 0.0) @ self._weights
            counts = ok.astype(np.float64) @ self._weights
            return np.where(counts > 0, sums / np.where(counts > 0, counts, 1.0), np.nan)

    def _movement(self, rows: np.ndarray) -> np.ndarray:
        """Angle-grid rows ``(n, n_segments)`` -> the movement angle (larger = more flexed)."""
        if self._family is not None:
            return rows[:, self._family.col].astype(np.float64)  # already the family angle
        cols = {s.segment: rows[:, s.col] for s in self._segments}
        return movement_angle(cols.get("pelvis"), cols.get("thigh")).angle_deg  # the offline rule

    def _snapshot_levels(self, upto: int, refs: np.ndarray) -> RestLevels:
        """:meth:`_rest_levels` for displays, computed once per set of references once the
        baseline is complete (it then depends on nothing else): frames stay cheap."""
        if self._baseline_end is None or self._baseline_end > upto:
            return self._rest_levels(upto, refs)
        key = refs.tobytes()
        if self._display_levels is None or self._display_levels[0] != key:
            self._display_levels = (key, self._rest_levels(upto, refs))
        return self._display_levels[1]

    def _rest_levels(self, upto: int, refs: np.ndarray, quiet_end: int | None = None) -> RestLevels:
        """Rest levels from the baseline if it ends by grid cell ``upto``, else from the quietest
        second of the EMG before cell ``quiet_end`` (default ``upto``)."""
        raw = self._baseline_raw
        if raw is None or self._baseline_end is None or self._baseline_end > upto:
            end = upto if quiet_end is None else quiet_end
            first = self._src.first if self._src.first is not None else end - 1
            raw = self._src.read(max(first, end - self._src.capacity), end)
        env = analysis_envelope(np.nan_to_num(self._muscle_pct(raw, refs)), self.grid_hz, self.params)
        seconds = env.shape[0] / self.grid_hz
        window = min(1.0, 0.5 * seconds)
        base = quietest_baseline(env, self.grid_hz, window_s=window, skip_s=min(0.25, 0.25 * seconds))
        return rest_levels(env, self.grid_hz, self.params, base)

    def _analyse(self, live_rep: LiveRep, started: float) -> None:
        rep, fs = live_rep.rep, self.grid_hz
        phases = rep.times(fs)
        # Everything below is a function of grid cells before rep.end + 1 (complete by now):
        # the session peak as of the rep's last cell, the baseline if it ended by then.
        refs = self._refs(rep.end)
        levels = self._rest_levels(rep.end + 1, refs, quiet_end=rep.start)
        self._levels = levels
        ctx = SessionContext(
            placements=self.muscles,
            unit=self.unit,
            mode=self.angle_mode or "emg",
            levels=levels,
            bottom_rest_s=live_rep.bottom_cap_s
            if self.rep_kind == "cycle"  # a cycle's end is the next start: cap as offline
            else max(live_rep.bottom_cap_s, phases["end"] - phases["bottom"]),
            params=self.params,
            antagonists=exercise_antagonists(self.exercise_def, self.muscles),
            not_measured=exercise_not_measured(self.exercise_def),
            onset_search_to="end" if self.rep_kind == "cycle" else "top",
        )
        i0 = int(np.floor((phases["start"] - ctx.pre_s) * fs))
        i1 = rep.end + 1
        env = self._muscle_pct(self._src.read(i0, i1), refs).astype(np.float32)
        angle = self._movement(self._ang.read(i0, i1))
        data = RepData(
            index=len(self.results) + 1,
            phases=phases,
            envelope=env,
            fs=fs,
            t0=i0 / fs,
            angle=angle,
            angle_fs=fs,
            angle_t0=i0 / fs,
            set_index=rep.set_index,
            partial=rep.partial,
            rom_deg=rep.rom,
            raw=self._raw(i0 / fs, i1 / fs),
        )
        result = analyse_rep(data, ctx)
        self._live_reps.append(rep)
        cues = rep_cues(result, live_rep.ending_s, self.exercise_def)
        self.results.append(result)
        if self.rep_kind == "cycle":
            self._doubt_cycle_onsets()
        self.cues.extend(cues)
        self._out.append(result)
        self._out.extend(cues)
        spent = (time.perf_counter() - started) * 1000.0
        self.timings.append(RepTiming(result.index, live_rep.ending_s, self._newest_t, spent))

    def _doubt_cycle_onsets(self) -> None:
        """The offline warning about cycles without an onset
        (:func:`~myoflow.analysis.rep_checks.cycle_results_doubts`), over the cycles so far: it
        replaces the previous one in :attr:`warnings` (its counts grow with the cycles)."""
        now = cycle_results_doubts(self.results, self.params.onset_search_s)
        if self._onset_doubt is not None:
            self.warnings.remove(self._onset_doubt)
        self._onset_doubt = now[0] if now else None
        self.warnings.extend(now)

    def _raw(self, begin_s: float, end_s: float) -> RawEmg | None:
        """The raw EMG of the muscles around a rep window (first EMG stream; NaN columns for
        muscles without a channel there), for changepoint onsets."""
        first = next(iter(self._emg.values()), None)
        mains = self.detected_mains_hz or self._mains_hz
        got = None if first is None else first.raw.read(begin_s, end_s, mains)
        if got is None:
            return None
        cols = np.full((got.samples.shape[0], len(self.muscles)), np.nan, dtype=np.float32)
        for j, k in enumerate(self._raw_cols):
            if k is not None:
                cols[:, j] = got.samples[:, k]
        return RawEmg(cols, got.fs, got.t0, got.mains_hz)

    # --- display -------------------------------------------------------------------------
    def snapshot(self) -> LiveSnapshot:
        """A consistent copy of the last ``history_s`` (safe to call from another thread)."""
        with self._lock:
            newest = max((g.newest for g in (self._src, self._ang) if g.newest is not None), default=None)
            n = int(round(self.history_s * self.grid_hz))
            k1 = 0 if newest is None else newest + 1
            k0 = k1 - n if newest is not None else 0
            times = np.arange(k0, k1) / self.grid_hz
            refs = self._refs()
            env = self._muscle_pct(self._src.read(k0, k1), refs).astype(np.float32)
            angle = self._movement(self._ang.read(k0, k1)) if self._segments else np.full(k1 - k0, np.nan)
            levels = self._snapshot_levels(k1, refs) if self._baseline_raw is not None else self._levels
            thr = np.zeros(0) if levels is None else levels.rest_threshold
            thresholds = dict(zip(self.muscles, map(float, thr), strict=False))
            return LiveSnapshot(
                times=times,
                envelope_pct=env,
                muscles=self.muscles,
                unit=self.unit,
                angle_deg=angle,
                angle_label=self.angle_label,
                angle_mode=self.angle_mode,
                phase=self._reps.phase() if self._reps else None,
                rep_count=len(self.results),
                rest_threshold_pct=thresholds,
                delay_ms=self.delay_ms,
                last_results=tuple(self.results[-5:]),
                cues=tuple(self.cues[-5:]),
                warnings=tuple(self.warnings),
            )
