"""MVC calibration steps, one muscle at a time (no Qt, no Bluetooth).

For each muscle the person rests, then contracts as hard as they can for ``contraction_s``;
the reference is the peak of the 0.5 s moving average of the live envelope over that
contraction (:func:`myoflow.analysis.normalisation.calibrate_mvc`, the same envelope the
dashboard shows), in uV.
Two front ends drive it: the dashboard's wizard (:mod:`myoflow.dashboard.wizard`, a button and
a countdown per muscle) and ``myoflow record --calibrate-mvc`` (:mod:`myoflow.session.guided_mvc`,
timed cues on the console). Both hand the contraction's EMG to :meth:`MvcCalibration.measure`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from myoflow._checks import check_positive, check_rate

__all__ = ["MIN_PEAK_OVER_REST", "REST_CHECK_S", "MvcCalibration", "MvcStep"]

#: A contraction's reference must reach this multiple of the resting envelope before it.
MIN_PEAK_OVER_REST = 3.0
#: Seconds of rest before the cue that give the resting level (when at least 0.5 s more precede).
REST_CHECK_S = 1.0


@dataclass
class MvcStep:
    """One muscle's step: its reference (uV) once measured."""

    muscle: str
    reference_uv: float | None = None

    @property
    def done(self) -> bool:
        return self.reference_uv is not None


class MvcCalibration:
    """Steps through ``muscles``; :attr:`current` is the one to contract next.

    Parameters
    ----------
    muscles
        Placements to calibrate, in order.
    contraction_s
        Length of each maximal contraction (s).
    mains_hz
        Mains notches of the envelope (as in the live analysis).
    """

    def __init__(self, muscles: Sequence[str], contraction_s: float = 4.0, mains_hz: float | None = 50.0):
        if not muscles:
            raise ValueError("MVC calibration needs at least one muscle (EMG channel), got none")
        self.steps = [MvcStep(str(m)) for m in muscles]
        self.contraction_s = check_positive(contraction_s, "contraction_s", "s")
        self.mains_hz = mains_hz
        self.index = 0

    @property
    def current(self) -> MvcStep | None:
        """The step to do next (None when all are done)."""
        return self.steps[self.index] if self.index < len(self.steps) else None

    @property
    def done(self) -> bool:
        return self.current is None

    def instruction(self) -> str:
        """What the person is asked to do now."""
        step = self.current
        if step is None:
            return "calibration complete: " + ", ".join(
                f"{s.muscle} {s.reference_uv:.0f} uV" for s in self.steps
            )
        return (
            f"step {self.index + 1} of {len(self.steps)}: {step.muscle.replace('_', ' ')}. "
            f"Rest, then press Start and contract as hard as you can for {self.contraction_s:g} s."
        )

    def measure(self, emg: np.ndarray, fs: float, settle_s: float = 0.0) -> float:
        """The current muscle's reference (uV) from its contraction ``emg`` ``(n,)`` at ``fs`` Hz;
        moves on to the next muscle.

        ``settle_s``: seconds of rest at the start of ``emg`` (before the cue), which let the
        filters settle; the peak is searched after them, and at least 1 s must follow. With at
        least :data:`REST_CHECK_S` + 0.5 s of them, the last :data:`REST_CHECK_S` give the
        resting level, and a peak below :data:`MIN_PEAK_OVER_REST` times it is not a contraction
        (a loose electrode, the wrong muscle): ``ValueError``, and the step stays current.
        """
        from myoflow.analysis.normalisation import calibrate_mvc
        from myoflow.dsp.pipeline import EmgPipeline, profile_for_rate

        step = self.current
        if step is None:
            raise ValueError("measure: every muscle is calibrated already")
        fs = check_rate(fs)
        x = np.asarray(emg, dtype=np.float32).reshape(-1, 1)
        skip = min(x.shape[0], int(round(max(0.0, settle_s) * fs)))
        if x.shape[0] - skip < int(fs):
            raise ValueError(
                f"the contraction of {step.muscle} has {x.shape[0] - skip} samples at {fs:g} Hz; "
                "at least 1 s is needed"
            )
        profile = profile_for_rate(fs, mains_hz=self.mains_hz)
        envelope = EmgPipeline(fs, profile).process(x).envelope  # for the resting level
        value = float(calibrate_mvc(x, fs, profile, skip_s=skip / fs)[0])
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"no contraction found for {step.muscle} (reference {value}); try again")
        if skip >= (REST_CHECK_S + 0.5) * fs:
            rest = float(envelope[skip - int(REST_CHECK_S * fs) : skip].mean())
            if value < MIN_PEAK_OVER_REST * rest:
                raise ValueError(
                    f"no contraction found for {step.muscle}: its envelope peaked at {value:.1f} uV, "
                    f"{value / rest:.1f}x its resting {rest:.1f} uV (at least {MIN_PEAK_OVER_REST:g}x "
                    "expected); check the electrode and try again"
                )
        step.reference_uv = value
        self.index += 1
        return value

    def skip(self) -> None:
        """Move on to the next muscle without a reference for the current one."""
        if self.current is None:
            raise ValueError("skip: every muscle is calibrated already")
        self.index += 1

    def redo(self, muscle: str) -> None:
        """Measure ``muscle`` again (and the steps after it)."""
        names = [s.muscle for s in self.steps]
        if muscle not in names:
            raise ValueError(f"muscle {muscle!r} is not being calibrated; the muscles are {names}")
        self.index = names.index(muscle)
        for s in self.steps[self.index :]:
            s.reference_uv = None

    def references(self) -> dict[str, float]:
        """Placement -> reference (uV) of every measured muscle."""
        return {s.muscle: float(s.reference_uv) for s in self.steps if s.reference_uv is not None}
