"""Live movement angle of an exercise whose family reads one segment (not the hip hinge).

:class:`FamilySegmentSource` is a :class:`~myoflow.analysis.live_sources.SegmentSource` whose
grid column holds the exercise's family angle (:mod:`myoflow.analysis.movement`) instead of
the sagittal angle: the segment's orientation comes from
:class:`~myoflow.analysis.exercise_angle.SegmentOrientation` (acc + gyro paired by time and
fused with the 3-D tilt filter, a quaternion stream, or the accelerometer alone), restarted at
the same breaks, then :meth:`MovementRules.angle <myoflow.analysis.movement.MovementRules.angle>`
continued across blocks by whole turns. :func:`family_source` picks the strap on the
exercise's segment, on the side offline analysis prefers
(:func:`~myoflow.analysis.exercise_angle.preferred_imu_side`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from myoflow.analysis.exercise_angle import SegmentOrientation, exercise_rules, preferred_imu_side
from myoflow.analysis.live_grid import GridBuffer
from myoflow.analysis.live_sources import PairedRun, SegmentSource, TimePairer
from myoflow.analysis.movement import MovementRules
from myoflow.analysis.placement import segment_of
from myoflow.exercises import Exercise
from myoflow.stream import Block, Gap, StreamInfo

__all__ = ["FamilySegmentSource", "family_source"]

_RANK = {"acc+gyro": 3, "quat": 2, "acc": 1}


class FamilySegmentSource(SegmentSource):
    """One segment's family angle (deg) on the grid, column ``col`` (module docstring)."""

    def __init__(
        self,
        segment: str,
        method: str,
        streams: dict[str, StreamInfo],
        grid_hz: float,
        col: int,
        rules: MovementRules,
    ) -> None:
        super().__init__(segment, method, streams, grid_hz, col)
        rate = next(iter(streams.values())).rate
        self.rules = rules
        self._orient = SegmentOrientation(method, rate)
        self._pairer = TimePairer(rate) if method == "acc+gyro" else None
        self._fusion = None  # the sagittal filter of the base class is not used

    def block(self, block: Block, grid: GridBuffer) -> None:
        if self._pairer is not None:
            self._fuse_runs(self._pairer.block(block), grid)
            return
        self._place(block.times, self._angle(self._orient.chunk(block.data)), grid)

    def gap(self, gap: Gap, grid: GridBuffer) -> None:
        if self._pairer is not None:
            self._fuse_runs(self._pairer.gap(gap), grid)
            return
        self._last = None
        self._flush(grid)
        self.placer.skip_to(gap.t_end)

    def _fuse_runs(self, runs: list[PairedRun], grid: GridBuffer) -> None:
        for run in runs:
            if run.restart is not None:
                self._orient.reset()
                self._last = None
                self._flush(grid)
                self.placer.skip_to(run.restart)
            if run.times.size:
                self._place(run.times, self._angle(self._orient.chunk(run.acc, run.gyro)), grid)

    def _angle(self, orientation: np.ndarray) -> np.ndarray:
        if orientation.shape[0] == 0:
            return np.zeros(0)
        return self._continue(self.rules.angle(orientation))

    def describe(self) -> str:
        return f"{super().describe()} -> {self.rules.label}"


def _placement_of(info: StreamInfo) -> str | None:
    places = set(info.placements or ())
    return places.pop() if len(places) == 1 else None


def family_source(streams: Sequence[StreamInfo], grid_hz: float, ex: Exercise) -> FamilySegmentSource | None:
    """The :class:`FamilySegmentSource` for ``ex`` from the streams (column 0), or None when no
    strap on its segment sends acc + gyro (one rate), quaternions or acc."""
    emg_places = [p for i in streams if i.kind == "emg" for p in (i.placements or ())]
    side = preferred_imu_side(ex, emg_places)
    straps: dict[tuple[str, str], dict[str, StreamInfo]] = {}
    for info in streams:
        place = _placement_of(info) if info.kind in ("acc", "gyro", "quat") else None
        seg = segment_of(place)
        if seg is None or seg[0] != ex.movement.segment or place is None:
            continue
        straps.setdefault((place, info.name.rsplit("/", 1)[0]), {}).setdefault(info.kind, info)
    best: tuple[int, int, str, str, dict[str, StreamInfo]] | None = None
    for (place, _strap), kinds in straps.items():
        on_side = not side or (segment_of(place) or ("", ""))[1] in (side, "")
        options = []
        if "acc" in kinds and "gyro" in kinds and kinds["acc"].rate == kinds["gyro"].rate:
            options.append(("acc+gyro", {"acc": kinds["acc"], "gyro": kinds["gyro"]}))
        if "quat" in kinds and kinds["quat"].n_channels == 4:
            options.append(("quat", {"quat": kinds["quat"]}))
        if "acc" in kinds and kinds["acc"].n_channels == 3:
            options.append(("acc", {"acc": kinds["acc"]}))
        for method, used in options:
            key = (int(on_side), _RANK[method])
            if best is None or key > best[:2]:
                best = (key[0], key[1], method, place, used)
    if best is None:
        return None
    rules = exercise_rules(ex, best[3], emg_places)
    return FamilySegmentSource(ex.movement.segment, best[2], best[4], grid_hz, 0, rules)
