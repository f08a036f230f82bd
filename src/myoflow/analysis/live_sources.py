"""Per-stream live stages that feed the analysis grid: EMG envelopes and segment angles.

* :class:`EmgSource`: one EMG stream through an :class:`~myoflow.dsp.pipeline.EmgPipeline`
  (the profile for its rate, mains notches), its envelope (physical units) placed on the grid
  at ``host time - delay``, so that the grid shows the muscle's activity when it happened (the
  causal envelope lags by the pipeline's delay; the offline metrics expect a delay-free
  envelope, see ``docs/metrics.md``). After a gap the pipeline restarts and the first
  ``restart_blank_s`` of envelope (filter start-up) are left NaN.
* :class:`SegmentSource`: the sagittal angle ``phi`` of one body segment, from the best the
  straps on it deliver: an accelerometer + gyroscope pair of one strap at one rate
  (:class:`~myoflow.dsp.imu.SagittalTiltFilter`), a quaternion stream, an angle stream, or an
  accelerometer alone (its tilt, no fusion). Acc and gyro samples are paired by stream sample
  index; after a gap on either, pending samples are dropped and the filter restarts.

:func:`segment_sources` picks one source per segment (``pelvis``, ``thigh``) from the streams.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from myoflow.analysis.live_grid import GridBuffer, placer_for
from myoflow.dsp.imu import SagittalTiltFilter, sagittal_angle_from_acc, sagittal_angle_from_quaternion
from myoflow.dsp.pipeline import EmgPipeline, profile_for_rate
from myoflow.stream import Block, Gap, StreamInfo

#: Segments whose angles make the hip angle (docs/conventions.md).
SEGMENTS = ("pelvis", "thigh")
#: Preference of the angle sources of one segment (higher is better).
_METHOD_RANK = {"acc+gyro": 4, "quat": 3, "angle": 2, "acc": 1}


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
        self.delay_s = self.pipe.delay_ms / 1000.0
        self.placer = placer_for(info.rate, grid_hz)
        self.blank_s = restart_blank_s
        self._restarted = False
        self._blank_until: float | None = None

    @property
    def frontier(self) -> int | None:
        return self.placer.frontier

    def block(self, block: Block, grid: GridBuffer) -> None:
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
        self.pipe.reset()
        out = self.placer.flush()
        if out is not None:
            grid.write(out[0], out[1], self.cols)
        self.placer.skip_to(gap.t_end - self.delay_s)
        self._restarted = True


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
    """

    def __init__(
        self, segment: str, method: str, streams: dict[str, StreamInfo], grid_hz: float, col: int
    ) -> None:
        self.segment, self.method, self.streams, self.col = segment, method, streams, col
        rate = next(iter(streams.values())).rate
        self.placer = placer_for(rate, grid_hz)
        self._tilt = SagittalTiltFilter(rate) if method == "acc+gyro" else None
        self._pending: dict[str, tuple[int, np.ndarray, np.ndarray] | None] = {"acc": None, "gyro": None}
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
        if self.method == "acc+gyro":
            self._buffer(block)
            pair = self._pair()
            if pair is None:
                return
            times, acc, gyro = pair
            if self._tilt is None:
                return
            phi = self._tilt.process(acc, gyro)
        elif self.method == "quat":
            times, phi = block.times, self._continue(sagittal_angle_from_quaternion(block.data))
        elif self.method == "acc":
            times, phi = block.times, self._continue(sagittal_angle_from_acc(block.data))
        else:
            times, phi = block.times, block.data[:, 0].astype(np.float64)
        out = self.placer.place(times, phi[:, np.newaxis])
        if out is not None:
            grid.write(out[0], out[1], slice(self.col, self.col + 1))

    def gap(self, gap: Gap) -> None:
        if self._tilt is not None:
            self._tilt.reset()
        self._pending = {"acc": None, "gyro": None}
        self._last = None
        self.placer.flush()
        self.placer.skip_to(gap.t_end)

    def _continue(self, phi: np.ndarray) -> np.ndarray:
        """Shift a block's unwrapped angle by whole turns to continue the previous block."""
        if phi.size and self._last is not None:
            phi = phi + 360.0 * np.round((self._last - phi[0]) / 360.0)
        if phi.size:
            self._last = float(phi[-1])
        return phi

    def _buffer(self, block: Block) -> None:
        kind = block.stream.kind
        old = self._pending[kind]
        if old is not None and old[0] + len(old[1]) == block.start_index:
            self._pending[kind] = (
                old[0],
                np.concatenate((old[1], block.data)),
                np.concatenate((old[2], block.times)),
            )
        else:
            self._pending[kind] = (block.start_index, block.data, block.times)

    def _pair(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Acc and gyro samples with the same stream index: ``(times, acc, gyro)``."""
        a, g = self._pending["acc"], self._pending["gyro"]
        if a is None or g is None:
            return None
        lo = max(a[0], g[0])
        hi = min(a[0] + len(a[1]), g[0] + len(g[1]))
        if hi <= lo:
            if a[0] + len(a[1]) <= g[0]:
                self._pending["acc"] = None
            if g[0] + len(g[1]) <= a[0]:
                self._pending["gyro"] = None
            return None
        ia, ig = lo - a[0], lo - g[0]
        n = hi - lo
        out = (a[2][ia : ia + n], a[1][ia : ia + n], g[1][ig : ig + n])
        self._pending["acc"] = (hi, a[1][ia + n :], a[2][ia + n :]) if ia + n < len(a[1]) else None
        self._pending["gyro"] = (hi, g[1][ig + n :], g[2][ig + n :]) if ig + n < len(g[1]) else None
        return out


def _segment_of(info: StreamInfo) -> str | None:
    places = set(info.placements or ())
    return places.pop() if len(places) == 1 else None


def segment_sources(streams: Sequence[StreamInfo], grid_hz: float) -> list[SegmentSource]:
    """One :class:`SegmentSource` per segment in :data:`SEGMENTS` that some stream is placed on
    (by its placements, e.g. ``("pelvis",) * 3``), the best method available (module docstring)."""
    by_strap: dict[tuple[str, str], dict[str, StreamInfo]] = {}
    for info in streams:
        seg = _segment_of(info)
        if seg not in SEGMENTS or info.kind not in ("acc", "gyro", "quat", "angle"):
            continue
        if info.kind in ("acc", "gyro") and info.n_channels != 3:
            raise ValueError(
                f"stream {info.name!r}: {info.kind} needs 3 channels (x, y, z), got {info.n_channels}"
            )
        strap = info.name.rsplit("/", 1)[0]
        by_strap.setdefault((seg, strap), {}).setdefault(info.kind, info)
    best: dict[str, tuple[int, str, dict[str, StreamInfo]]] = {}
    for (seg, _strap), kinds in by_strap.items():
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
