"""MVC calibration guided by timed cues while a session records (``myoflow record --calibrate-mvc``).

:class:`GuidedMvc` is a sink. From the first EMG sample it lets the person rest ``lead_s``, then
asks each EMG channel's muscle in turn to contract as hard as they can for ``contraction_s``,
with ``rest_s`` from the end of one contraction to the next cue::

    cue_i = t0 + lead_s + i * (contraction_s + rest_s)        (t0: the first EMG sample, s)

The schedule runs on the samples' own clock, so live straps, virtual straps in virtual time and
a replay all give the same result. Each contraction's EMG, with up to 2 s of the rest before
its cue for the filters to settle, goes to :class:`~myoflow.session.calibration.MvcCalibration`
(peak 0.5 s mean of the live envelope, uV). The contractions stay in the recording: a
``calibration`` event marks each one (label ``mvc_contraction``) and one more (label ``mvc``)
holds every reference at the end. A contraction that gives no reference is reported and
skipped; the rest of the procedure goes on.

The muscles are the EMG channels of the streams that delivered before the first cue, in order:
each channel's placement, or its label when it has none; a key that repeats is qualified as
``"<stream>:<label>"``. Runs on the thread that delivers the blocks (the ingest's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from myoflow._checks import check_positive
from myoflow.session.calibration import MvcCalibration
from myoflow.stream import Block, Event, StreamInfo

__all__ = ["GuidedMvc", "MvcChannel"]

#: Seconds of rest before a cue kept with the contraction, for the filters to settle.
SETTLE_S = 2.0
#: A contraction is measured with what has arrived once any EMG stream is this far past its end
#: (its own strap has stopped delivering).
STALL_S = 1.0


@dataclass
class MvcChannel:
    """One muscle to calibrate: the EMG channel that records it and the samples of its turn."""

    muscle: str
    stream: str
    column: int
    label: str
    rate: float
    cue: float = 0.0
    times: list[np.ndarray] = field(default_factory=list)
    values: list[np.ndarray] = field(default_factory=list)


class GuidedMvc:
    """The timed procedure of the module docstring; feed it every block (``on_block``, its only
    sink method: lost samples are simply missing from the contraction they fall in, and strap
    states do not change a schedule that runs on the samples' clock).

    Parameters
    ----------
    lead_s, contraction_s, rest_s
        Rest before the first cue, length of each contraction, rest between contractions (s).
    mains_hz
        Mains notches of the live envelope (50, 60 or None).
    say
        Where the cues go (a line each; ``print`` on the console).
    emit
        Receives the ``calibration`` events (e.g. the recorder's ``on_event``).
    on_references
        Called after every successful measurement with all references so far (placement ->
        uV) and the time (s) of the measurement (e.g. to update the recording's metadata).
    """

    def __init__(
        self,
        lead_s: float = 5.0,
        contraction_s: float = 4.0,
        rest_s: float = 10.0,
        mains_hz: float | None = 50.0,
        say: Callable[[str], None] = print,
        emit: Callable[[Event], None] | None = None,
        on_references: Callable[[dict[str, float], float], None] | None = None,
    ) -> None:
        self.lead_s = check_positive(lead_s, "lead_s", "s")
        self.contraction_s = check_positive(contraction_s, "contraction_s", "s")
        if self.contraction_s < 1.0:
            raise ValueError(f"contraction_s must be at least 1 s to measure an MVC, got {contraction_s}")
        self.rest_s = check_positive(rest_s, "rest_s", "s")
        self.mains_hz = mains_hz
        self._say, self._emit, self._on_references = say, emit, on_references
        self._streams: dict[str, StreamInfo] = {}
        self._frontier: dict[str, float] = {}
        self._t0: float | None = None
        self._channels: list[MvcChannel] | None = None
        self._early: list[Block] = []
        self._calibration: MvcCalibration | None = None
        self._said: set[tuple[int, str]] = set()
        self.failures: dict[str, str] = {}
        self.done = False

    def duration_s(self, n_muscles: int) -> float:
        """Seconds from the first EMG sample to the end of the rest after the last of
        ``n_muscles`` contractions (when the exercise may start)."""
        return self.lead_s + n_muscles * (self.contraction_s + self.rest_s)

    @property
    def references(self) -> dict[str, float]:
        """Placement -> MVC reference (uV) of every muscle measured so far."""
        return self._calibration.references() if self._calibration is not None else {}

    @property
    def muscles(self) -> tuple[str, ...]:
        """The muscles being calibrated, in order (empty before the first cue)."""
        return tuple(c.muscle for c in self._channels or ())

    # ------------------------------------------------------------------ sink interface
    def on_block(self, block: Block) -> None:
        """Take an EMG block (other kinds are ignored) and run the schedule up to its time."""
        info = block.stream
        if self.done or info.kind != "emg" or len(block) == 0:
            return
        if self._t0 is None:
            self._t0 = float(block.times[0])
            self._say(
                f"MVC calibration: rest for {self.lead_s:g} s, then contract each muscle as hard as you "
                f"can for {self.contraction_s:g} s when asked"
            )
        self._streams.setdefault(info.name, info)
        self._frontier[info.name] = max(self._frontier.get(info.name, -np.inf), float(block.times[-1]))
        if self._channels is None:
            self._early.append(block)  # the first contraction's settling window may lie in these
            if max(self._frontier.values()) < self._t0 + self.lead_s:
                return
            self._start()
            early, self._early = self._early, []
            for b in early:
                self._collect(b)
        else:
            self._collect(block)
        self._advance()

    # ------------------------------------------------------------------ the procedure
    def _start(self) -> None:
        channels: list[MvcChannel] = []
        for info in self._streams.values():
            for col, label in enumerate(info.channels):
                placed = info.placements[col] if info.placements else ""
                channels.append(MvcChannel(placed or label, info.name, col, label, float(info.rate)))
        keys = [c.muscle for c in channels]
        for c in channels:
            if keys.count(c.muscle) > 1:
                c.muscle = f"{c.stream}:{c.label}"
        for i, c in enumerate(channels):
            c.cue = self._t0 + self.lead_s + i * (self.contraction_s + self.rest_s)
        self._channels = channels
        self._calibration = MvcCalibration([c.muscle for c in channels], self.contraction_s, self.mains_hz)
        self._say(f"MVC calibration of {len(channels)} muscle(s): {', '.join(self.muscles)}")

    def _collect(self, block: Block) -> None:
        """Keep the block's samples that fall in the windows of this and the coming contractions."""
        times = block.times
        settle = min(SETTLE_S, self.rest_s, self.lead_s)
        for channel in self._channels[self._calibration.index :]:
            if channel.cue - settle > times[-1]:
                break
            if channel.stream != block.stream.name:
                continue
            keep = (times >= channel.cue - settle) & (times < channel.cue + self.contraction_s)
            if keep.any():
                channel.times.append(times[keep])
                channel.values.append(block.data[keep, channel.column])

    def _current(self) -> MvcChannel | None:
        cal = self._calibration
        return None if cal is None or cal.done else self._channels[cal.index]

    def _advance(self) -> None:
        newest = max(self._frontier.values())
        while (current := self._current()) is not None:
            index = self._calibration.index
            muscle = current.muscle.replace("_", " ")
            self._once(index, "next", True, f"next: {muscle} (channel {current.label} of {current.stream})")
            for k in range(3, 0, -1):
                self._once(index, f"count{k}", newest >= current.cue - k, f"  {k}")
            if newest >= current.cue:
                self._once(
                    index,
                    "go",
                    True,
                    f"CONTRACT {muscle} as hard as you can: {self.contraction_s:g} s",
                )
                if (index, "event") not in self._said:
                    self._said.add((index, "event"))
                    self._event(current.cue, "mvc_contraction", current.stream, current)
            end = current.cue + self.contraction_s
            arrived = self._frontier.get(current.stream, -np.inf) >= end
            if not (arrived or newest >= end + STALL_S):
                return
            self._measure(current)
        self._finish()

    def _once(self, index: int, what: str, due: bool, text: str) -> None:
        if due and (index, what) not in self._said:
            self._said.add((index, what))
            self._say(text)

    def _measure(self, channel: MvcChannel) -> None:
        times = np.concatenate(channel.times) if channel.times else np.empty(0)
        values = np.concatenate(channel.values) if channel.values else np.empty(0, np.float32)
        settle_s = float(np.count_nonzero(times < channel.cue)) / channel.rate
        when = channel.cue + self.contraction_s
        try:
            value = self._calibration.measure(values, channel.rate, settle_s=settle_s)
        except ValueError as exc:
            self.failures[channel.muscle] = str(exc)
            self._say(f"relax. {channel.muscle}: no reference ({exc}); skipped")
            self._calibration.skip()
            return
        finally:
            channel.times, channel.values = [], []
        self._say(f"relax. {channel.muscle}: {value:.0f} uV")
        if self._on_references is not None:
            self._on_references(self.references, when)

    def _finish(self) -> None:
        self.done = True
        refs = self.references
        summary = ", ".join(f"{k} {v:.0f} uV" for k, v in refs.items()) or "no reference"
        self._say(f"MVC calibration done: {summary}. Rest {self.rest_s:g} s, then start the exercise")
        data = {"method": "guided MVC (myoflow record --calibrate-mvc)", "mvc_references": refs}
        if self.failures:
            data["failed"] = dict(self.failures)
        last = self._channels[-1] if self._channels else None
        when = last.cue + self.contraction_s if last is not None else float(self._t0 or 0.0)
        if self._emit is not None:
            self._emit(Event(when, "calibration", "mvc", None, data))

    def _event(self, time: float, label: str, stream: str, channel: MvcChannel) -> None:
        if self._emit is not None:
            data = {"muscle": channel.muscle, "channel": channel.label, "contraction_s": self.contraction_s}
            self._emit(Event(time, "calibration", label, stream, data))
