"""Per-stream live stages that feed the analysis grid: EMG envelopes and segment angles.

* :class:`EmgSource`: one EMG stream through an :class:`~myoflow.dsp.pipeline.EmgPipeline`
  (the profile for its rate, mains notches), its envelope (physical units) placed on the grid
  at ``host time - delay``, so that the grid shows the muscle's activity when it happened (the
  causal envelope lags by the pipeline's delay; the offline metrics expect a delay-free
  envelope, see ``docs/metrics.md``). After a gap the pipeline restarts and the first
  ``restart_blank_s`` of envelope (filter start-up) are left NaN. Until the mains frequency
  is decided it keeps what it was fed (:data:`REPLAY_MAX_S` at most), so that
  :meth:`EmgSource.replayed` can run the same data again through other notches.
* :class:`SegmentSource`: the sagittal angle ``phi`` of one body segment, from the best the
  straps on it deliver: an accelerometer + gyroscope pair of one strap at one rate
  (:class:`~myoflow.dsp.imu.SagittalTiltFilter`), a quaternion stream, an angle stream, or an
  accelerometer alone (its tilt, no fusion).
* :class:`TimePairer`: how the acc + gyro pair is fused, **by time, not by sample index** (the
  two streams of a strap may start at different times, e.g. the Polar Verity's two
  measurements, so index 0 of one is not index 0 of the other). The accelerometer samples are
  the timeline; the gyro is interpolated linearly at each acc sample time from the two gyro
  samples that bracket it (or taken as is at an equal time). An acc sample is decided once
  the gyro stream has delivered a sample at or after its time, or announced a gap that covers
  it: which samples are fused, and in which order, then depends on the data only, never on
  how the blocks of the two streams interleave on arrival. Nothing is interpolated across a
  loss: an acc sample whose bracketing gyro samples straddle a gyro gap, or that lies before
  the gyro's first sample, is dropped; after any discontinuity of the fused sequence (an acc
  gap, a dropped sample, a time step over 1.5 sample periods) the tilt filter restarts and the
  grid placer is flushed, so the cells in between stay NaN. Buffered samples of one stream
  are never discarded because of what the other stream delivers. The one timing dependence
  left: samples of one stream that wait more than ``max_wait_s`` (default 5 s of that
  stream's data) for the other stream are dropped (a gyro that never starts or went silent
  without a gap), so a stream that arrives that far behind its partner loses samples live
  that a time-ordered replay would fuse.

:func:`segment_sources` picks one source per segment (``pelvis``, ``thigh``) from the streams.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from myoflow._checks import check_positive, check_rate
from myoflow.analysis.live_grid import BinPlacer, GridBuffer, InterpPlacer, placer_for
from myoflow.analysis.onset_emg import RawHistory
from myoflow.analysis.placement import ANGLE_SEGMENTS, angle_segments, dominant_side
from myoflow.dsp.imu import SagittalTiltFilter, sagittal_angle_from_acc, sagittal_angle_from_quaternion
from myoflow.dsp.pipeline import EmgPipeline, profile_for_rate
from myoflow.stream import Block, Gap, StreamInfo

#: Segments whose angles make the hip angle (docs/conventions.md).
SEGMENTS = ANGLE_SEGMENTS
#: Preference of the angle sources of one segment (higher is better).
_METHOD_RANK = {"acc+gyro": 4, "quat": 3, "angle": 2, "acc": 1}
#: Longest wait (s of data) of one stream's samples for the other stream (:class:`TimePairer`).
MAX_WAIT_S = 5.0
#: A time step longer than this many sample periods breaks the fused sequence.
_BREAK_PERIODS = 1.5
#: Seconds of an EMG stream's samples kept for a replay through other mains notches.
REPLAY_MAX_S = 30.0


class EmgSource:
    """One EMG stream's envelope on the grid, columns ``cols`` of the source grid."""

    def __init__(
        self,
        info: StreamInfo,
        mains_hz: float | None,
        grid_hz: float,
        cols: slice,
        restart_blank_s: float = 0.2,
    ) -> None:
        try:
            self.pipe = EmgPipeline(info.rate, profile_for_rate(info.rate, mains_hz))
        except ValueError as exc:
            raise ValueError(f"EMG stream {info.name!r} cannot be processed live: {exc}") from None
        self.info = info
        self.cols = cols
        self.mains_hz = mains_hz
        self.grid_hz = grid_hz
        self.raw = RawHistory(info.rate, info.n_channels)  # for changepoint onsets
        self.delay_s = self.pipe.delay_ms / 1000.0
        self.placer = placer_for(info.rate, grid_hz)
        self.blank_s = restart_blank_s
        self._restarted = False
        self._blank_until: float | None = None
        #: what was fed, in order, while a replay may still be asked for (None: no more)
        self._fed: list[Block | Gap] | None = []
        self._fed_samples = 0

    @property
    def frontier(self) -> int | None:
        return self.placer.frontier

    @property
    def can_replay(self) -> bool:
        """Whether everything fed so far is kept for :meth:`replayed`."""
        return self._fed is not None

    def stop_keeping(self) -> None:
        """Forget what was fed and keep nothing more (the mains frequency is decided)."""
        self._fed = None

    def replayed(self, mains_hz: float | None, grid: GridBuffer) -> EmgSource:
        """A new source with ``mains_hz`` notches, fed everything this one was fed, in the same
        order, writing to ``grid``: what it would hold had it started with those notches."""
        if self._fed is None:
            raise RuntimeError(f"EMG stream {self.info.name!r}: what was fed is no longer kept")
        new = EmgSource(self.info, mains_hz, self.grid_hz, self.cols, self.blank_s)
        for item in self._fed:
            if isinstance(item, Gap):
                new.gap(item, grid)
            else:
                new.block(item, grid)
        return new

    def _keep(self, item: Block | Gap) -> None:
        if self._fed is None:
            return
        if isinstance(item, Block):
            self._fed_samples += len(item)
            if self._fed_samples > REPLAY_MAX_S * self.info.rate:
                self._fed = None
                return
            item = Block(item.stream, np.array(item.data), np.array(item.times), item.start_index)
        self._fed.append(item)

    def block(self, block: Block, grid: GridBuffer) -> None:
        self._keep(block)
        self.raw.write(block.times, block.data)
        env = self.pipe.process(block.data).envelope.astype(np.float64)
        t = block.times - self.delay_s
        if self._restarted:
            self._blank_until, self._restarted = float(t[0]) + self.blank_s, False
        if self._blank_until is not None:
            env[t < self._blank_until] = np.nan
            if t[-1] >= self._blank_until:
                self._blank_until = None
        out = self.placer.place(t, env)
        if out is not None:
            grid.write(out[0], out[1], self.cols)

    def gap(self, gap: Gap, grid: GridBuffer) -> None:
        self._keep(gap)
        self.pipe.reset()
        out = self.placer.flush()
        if out is not None:
            grid.write(out[0], out[1], self.cols)
        self.placer.skip_to(gap.t_end - self.delay_s)
        self._restarted = True


class PairedRun(NamedTuple):
    """Acc samples fused with the gyro interpolated at their times (:class:`TimePairer`).

    ``restart``: None when the run continues the previous one; else a discontinuity comes first
    (the tilt filter restarts, the placer is flushed) and this host time (s) bounds the grid
    cells that get nothing more: the run's first sample time, or for a run with no samples
    (samples dropped at the end of what was decided) the last dropped sample's time.
    ``times`` ``(n,)`` float64 s; ``acc`` ``(n, 3)`` g; ``gyro`` ``(n, 3)`` deg/s.
    """

    restart: float | None
    times: np.ndarray
    acc: np.ndarray
    gyro: np.ndarray


class _Queue:
    """Buffered samples of one stream in time order, with a flag for a gap before each."""

    def __init__(self) -> None:
        self.t = np.empty(0)
        self.x = np.empty((0, 3))
        self.brk = np.empty(0, dtype=bool)

    def append(self, block: Block, brk: bool) -> None:
        flags = np.zeros(len(block), dtype=bool)
        flags[0] = brk
        self.t = np.concatenate((self.t, block.times))
        self.x = np.concatenate((self.x, block.data), dtype=np.float64)
        self.brk = np.concatenate((self.brk, flags))

    def drop(self, n: int) -> None:
        self.t, self.x, self.brk = self.t[n:], self.x[n:], self.brk[n:]


class TimePairer:
    """Pair one strap's acc and gyro samples by time (module docstring).

    Parameters
    ----------
    rate
        Nominal acc sample rate in Hz (a time step over 1.5 periods is a discontinuity).
    max_wait_s
        Samples of one stream older than the newest of that stream by more than this (s) stop
        waiting for the other stream.

    :meth:`block` and :meth:`gap` take the two streams' items in any interleaving (each
    stream's own items in order) and return the :class:`PairedRun` s decided by them.
    """

    def __init__(self, rate: float, max_wait_s: float = MAX_WAIT_S) -> None:
        self.rate = check_rate(rate, "rate")
        self.max_wait_s = check_positive(max_wait_s, "max_wait_s", "s")
        self._acc, self._gyro = _Queue(), _Queue()
        self._next: dict[str, int | None] = {"acc": None, "gyro": None}  # next sample index
        self._brk = {"acc": False, "gyro": False}  # a gap before the stream's next sample
        self._gyro_gap_until: float | None = None  # the gyro's next sample time after a gap
        self._acc_newest = -np.inf  # acc samples still to come are later than this
        self._broken = True  # the next fused sample starts a new run
        self._last_kept: float | None = None

    def block(self, block: Block) -> list[PairedRun]:
        """Buffer a block of the acc or the gyro stream; the runs it decides."""
        kind = block.stream.kind
        if len(block) == 0:
            return []
        expected = self._next[kind]
        brk = self._brk[kind] or (expected is not None and block.start_index != expected)
        self._next[kind], self._brk[kind] = block.end_index, False
        if kind == "acc":
            self._acc.append(block, brk)
            self._acc_newest = float(block.times[-1])
        else:
            self._gyro.append(block, brk)
            self._gyro_gap_until = None
        return self._drain()

    def gap(self, gap: Gap) -> list[PairedRun]:
        """A gap of either stream (its ``t_end`` is the time of the stream's next sample)."""
        kind = gap.stream.kind
        self._brk[kind], self._next[kind] = True, None
        if kind == "gyro":
            self._gyro_gap_until = float(gap.t_end)
        return self._drain()

    def _drain(self) -> list[PairedRun]:
        ta, tg = self._acc.t, self._gyro.t
        m = int(np.searchsorted(ta, tg[-1], "right")) if tg.size else 0
        if self._gyro_gap_until is not None:  # no gyro sample before this time
            m = max(m, int(np.searchsorted(ta, self._gyro_gap_until, "left")))
        m = max(m, int(np.searchsorted(ta, self._acc_newest - self.max_wait_s, "left")))
        runs = self._decide(m) if m else []
        # keep the gyro samples that may still bracket an acc sample (and no more than
        # max_wait_s of them while the acc stream is silent)
        if tg.size:
            cut = float(self._acc.t[0]) if self._acc.t.size else self._acc_newest
            j = int(np.searchsorted(tg, max(cut, float(tg[-1]) - self.max_wait_s), "right")) - 1
            if j > 0:
                self._gyro.drop(j)
        return runs

    def _decide(self, m: int) -> list[PairedRun]:
        """Fuse or drop the first ``m`` buffered acc samples, in order."""
        t, acc, brk = self._acc.t[:m], self._acc.x[:m], self._acc.brk[:m]
        self._acc.drop(m)
        gt, gx, gb = self._gyro.t, self._gyro.x, self._gyro.brk
        keep = np.zeros(m, dtype=bool)
        gyro = np.zeros((m, 3))
        if gt.size:
            j = np.searchsorted(gt, t, "right") - 1  # last gyro sample at or before t
            lo, hi = np.maximum(j, 0), np.minimum(j + 1, gt.size - 1)
            keep = (j >= 0) & ((gt[lo] == t) | ((j + 1 < gt.size) & ~gb[hi]))
            span = gt[hi] - gt[lo]  # 0 past the last gyro sample: weight 0 there
            w = (t - gt[lo]) / np.where(span > 0, span, np.inf)  # exactly 0 at equal times
            gyro = gx[lo] + w[:, np.newaxis] * (gx[hi] - gx[lo])
        limit = _BREAK_PERIODS / self.rate
        if not self._broken and self._last_kept is not None and keep.all() and not brk.any():
            if not np.any(np.diff(t, prepend=self._last_kept) > limit):  # the usual case
                self._last_kept = float(t[-1])
                return [PairedRun(None, t, acc, gyro)]
        runs: list[PairedRun] = []
        flags = np.cumsum(brk | ~keep) + int(self._broken)  # discontinuities so far
        kept = np.flatnonzero(keep)
        if kept.size:
            tk = t[kept]
            restart = np.diff(flags[kept], prepend=0) > 0
            prev = np.concatenate(([tk[0] if self._last_kept is None else self._last_kept], tk[:-1]))
            restart |= tk - prev > limit
            edges = np.concatenate(([0], np.flatnonzero(restart[1:]) + 1, [kept.size]))
            for a, b in zip(edges[:-1], edges[1:], strict=True):
                idx = kept[a:b]
                runs.append(PairedRun(float(t[idx[0]]) if restart[a] else None, t[idx], acc[idx], gyro[idx]))
            self._last_kept = float(tk[-1])
            self._broken = bool(flags[-1] > flags[kept[-1]])
        else:
            self._broken = True
        if self._broken:  # dropped samples at the end: flush the placer up to them
            runs.append(PairedRun(float(t[-1]), np.empty(0), np.empty((0, 3)), np.empty((0, 3))))
        return runs


class SegmentSource:
    """One segment's sagittal angle (deg) on the grid, column ``col`` (module docstring).

    Parameters
    ----------
    segment
        ``"pelvis"`` or ``"thigh"``.
    method
        ``"acc+gyro"``, ``"quat"``, ``"angle"`` or ``"acc"``.
    streams
        Kind -> stream used (``acc`` and ``gyro`` for the pair, else the one stream).
    grid_hz
        Grid rate in Hz.
    col
        Column of the angle grid.
    """

    def __init__(
        self, segment: str, method: str, streams: dict[str, StreamInfo], grid_hz: float, col: int
    ) -> None:
        self.segment, self.method, self.streams, self.col = segment, method, streams, col
        rate = next(iter(streams.values())).rate
        self.placer: BinPlacer | InterpPlacer = placer_for(rate, grid_hz)
        self._fusion = (TimePairer(rate), SagittalTiltFilter(rate)) if method == "acc+gyro" else None
        self._last: float | None = None  # last angle (deg), for continuity across blocks

    @property
    def names(self) -> set[str]:
        return {s.name for s in self.streams.values()}

    @property
    def frontier(self) -> int | None:
        return self.placer.frontier

    def describe(self) -> str:
        kinds = "+".join(self.streams)
        strap = next(iter(self.streams.values())).name.rsplit("/", 1)[0]
        return f"{self.segment}: {kinds} of {strap!r}"

    def block(self, block: Block, grid: GridBuffer) -> None:
        if self._fusion is not None:
            self._fuse(self._fusion[0].block(block), grid)
            return
        if self.method == "quat":
            phi = self._continue(sagittal_angle_from_quaternion(block.data))
        elif self.method == "acc":
            phi = self._continue(sagittal_angle_from_acc(block.data))
        else:
            phi = block.data[:, 0].astype(np.float64)
        self._place(block.times, phi, grid)

    def gap(self, gap: Gap, grid: GridBuffer) -> None:
        if self._fusion is not None:
            self._fuse(self._fusion[0].gap(gap), grid)
            return
        self._last = None
        self._flush(grid)
        self.placer.skip_to(gap.t_end)

    def _fuse(self, runs: list[PairedRun], grid: GridBuffer) -> None:
        """Fuse the decided runs; restart the filter and flush the placer at each break."""
        if self._fusion is None:
            return
        tilt = self._fusion[1]
        for run in runs:
            if run.restart is not None:
                tilt.reset()
                self._flush(grid)
                self.placer.skip_to(run.restart)
            if run.times.size:
                self._place(run.times, tilt.process(run.acc, run.gyro), grid)

    def _place(self, times: np.ndarray, phi: np.ndarray, grid: GridBuffer) -> None:
        out = self.placer.place(times, phi[:, np.newaxis])
        if out is not None:
            grid.write(out[0], out[1], slice(self.col, self.col + 1))

    def _flush(self, grid: GridBuffer) -> None:
        out = self.placer.flush()
        if out is not None:
            grid.write(out[0], out[1], slice(self.col, self.col + 1))

    def _continue(self, phi: np.ndarray) -> np.ndarray:
        """Shift a block's unwrapped angle by whole turns to continue the previous block."""
        if phi.size and self._last is not None:
            phi = phi + 360.0 * np.round((self._last - phi[0]) / 360.0)
        if phi.size:
            self._last = float(phi[-1])
        return phi


def _placement_of(info: StreamInfo) -> str | None:
    places = set(info.placements or ())
    return places.pop() if len(places) == 1 else None


def segment_sources(streams: Sequence[StreamInfo], grid_hz: float) -> list[SegmentSource]:
    """One :class:`SegmentSource` per segment in :data:`SEGMENTS` that some stream is placed on
    (by its placements, e.g. ``("pelvis",) * 3``; the planner
    :func:`~myoflow.analysis.placement.angle_segments` that offline analysis uses too, so
    ``sacrum`` is the pelvis and the EMG's side comes first), then the best method available
    (module docstring)."""
    motion = [i for i in streams if i.kind in ("acc", "gyro", "quat", "angle")]
    emg_places = [p for i in streams if i.kind == "emg" for p in (i.placements or ())]
    plan = angle_segments([_placement_of(i) for i in motion], dominant_side(emg_places))
    side_rank = {i: k for idx in plan.values() for k, i in enumerate(idx)}
    by_strap: dict[tuple[str, str], dict[str, StreamInfo]] = {}
    order: dict[tuple[str, str], int] = {}
    for j, info in enumerate(motion):
        seg = next((s for s, idx in plan.items() if j in idx), None)
        if seg is None:
            continue
        if info.kind in ("acc", "gyro") and info.n_channels != 3:
            raise ValueError(
                f"stream {info.name!r}: {info.kind} needs 3 channels (x, y, z), got {info.n_channels}"
            )
        strap = info.name.rsplit("/", 1)[0]
        by_strap.setdefault((seg, strap), {}).setdefault(info.kind, info)
        order[(seg, strap)] = min(order.get((seg, strap), side_rank[j]), side_rank[j])
    best: dict[str, tuple[int, str, dict[str, StreamInfo]]] = {}
    for (seg, _strap), kinds in sorted(by_strap.items(), key=lambda kv: order[kv[0]]):
        options = []
        if "acc" in kinds and "gyro" in kinds and kinds["acc"].rate == kinds["gyro"].rate:
            options.append(("acc+gyro", {"acc": kinds["acc"], "gyro": kinds["gyro"]}))
        if "quat" in kinds and kinds["quat"].n_channels == 4:
            options.append(("quat", {"quat": kinds["quat"]}))
        if "angle" in kinds:
            options.append(("angle", {"angle": kinds["angle"]}))
        if "acc" in kinds:
            options.append(("acc", {"acc": kinds["acc"]}))
        for method, used in options:
            rank = _METHOD_RANK[method]
            if seg not in best or rank > best[seg][0]:
                best[seg] = (rank, method, used)
    return [
        SegmentSource(seg, best[seg][1], best[seg][2], grid_hz, col)
        for col, seg in enumerate(s for s in SEGMENTS if s in best)
    ]
