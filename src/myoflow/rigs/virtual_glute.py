"""The virtual glute-bridge rig used by the demo, `myoflow record --virtual` and the dashboard.

A synthetic session (:mod:`myoflow.synth`) served by virtual straps on the Bumble link: a DIY
4-channel EMG strap on glutes and hamstrings, and two Polar Verity Sense IMUs on pelvis and
thigh, streamed through the real bleak path (:func:`virtual_glute_ingest`), plus the MVC
references a calibration on the same synthetic muscles would give (:func:`synthetic_mvc`).

:class:`VirtualGlute` is the one recipe all three use: settings (:class:`DemoSettings`) ->
session config -> synthetic session -> MVC references, MVC-trial contractions and the ingest
opener :func:`~myoflow.session.run.run_session` takes.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from myoflow.rigs.names import EMG_CHANNELS, EMG_STREAM
from myoflow.synth.calibration import WornSignals
from myoflow.synth.chain import SessionChain, long_session
from myoflow.synth.config import MAX_REPS, SessionConfig
from myoflow.synth.exercises import SYNTH_MUSCLES, default_placements, exercise_facts, synth_names
from myoflow.synth.session import SyntheticSession

if TYPE_CHECKING:
    from myoflow.session.run import OpenIngest

#: Exercises the synthetic person can do: every shipped exercise (a registered exercise file
#: is done with the motion of its movement family, :mod:`myoflow.synth.exercises`).
VIRTUAL_EXERCISES = synth_names()
#: Approximate duration of one rep (concentric + top hold + eccentric + bottom rest), seconds;
#: an isometric hold adds its hold time.
_REP_S = 5.0
_LEAD_TAIL_S = 6.0


@dataclass(frozen=True)
class DemoSettings:
    """What the virtual rig synthesises and how it streams it (validated).

    ``seconds`` of session, ``exercise`` (any exercise the generator can synthesise: the
    shipped ones, or a registered file of their movement families), ``emg_rate`` Hz (whole Hz,
    200-2000), ``mains_hz`` hum and notches, ``seed``; ``realtime`` paces the virtual straps in
    real time (else virtual time); ``drop`` is the probability a notification is lost; ``keep``
    a path to keep the demo's recording.
    """

    seconds: float = 45.0
    exercise: str = "glute_bridge"
    emg_rate: float = 1000.0
    mains_hz: float = 50.0
    seed: int = 7
    realtime: bool = False
    drop: float = 0.0
    keep: str | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.seconds) and self.seconds >= 12.0):
            raise ValueError(
                f"--seconds must be at least 12 (one rep with rest around it), got {self.seconds}"
            )
        limit = _LEAD_TAIL_S + (MAX_REPS + 1) * _REP_S
        if self.seconds >= limit:
            raise ValueError(
                f"--seconds must be below {limit:g} with virtual straps (a synthetic session "
                f"holds at most {MAX_REPS} reps of {_REP_S:g} s), got {self.seconds:g}"
            )
        try:
            object.__setattr__(self, "exercise", exercise_facts(self.exercise).name)
        except ValueError as exc:
            raise ValueError(f"--exercise with virtual straps: {exc}") from None
        if not (200.0 <= self.emg_rate <= 2000.0 and float(self.emg_rate).is_integer()):
            raise ValueError(f"--rate must be a whole number of Hz between 200 and 2000, got {self.emg_rate}")
        if not 0.0 <= self.drop < 0.5:
            raise ValueError(f"--drop must be in [0, 0.5), got {self.drop}")

    def session_config(self) -> SessionConfig:
        """The synthetic session: as many reps (holds, strides) as fit, every 4th rep staying
        tense; a hold is shortened to fit a short session (at least 5 s)."""
        facts = exercise_facts(self.exercise)
        hold = None
        rep_s = _REP_S
        if facts.family == "isometric_hold":
            hold = max(5.0, min(facts.hold_s or 30.0, self.seconds - _LEAD_TAIL_S - _REP_S))
            rep_s += hold
        n_reps = max(1, int((self.seconds - _LEAD_TAIL_S) // rep_s))
        tense = tuple(i for i in range(n_reps) if i % 4 == 2)  # every 4th rep stays tense
        return SessionConfig(
            exercise=self.exercise,
            placements=rig_placements(self.exercise),
            n_reps=n_reps,
            emg_rate=self.emg_rate,
            imu_rate=100.0,
            seed=self.seed,
            tense_reps=tense,
            hum_hz=self.mains_hz,
            hold_s=hold,
        )


def rig_placements(exercise: str) -> tuple[str, ...]:
    """The exercise's default channels, padded to the DIY strap's four with other muscles the
    generator knows (one muscle per channel: a repeated name would be two channels of one
    muscle)."""
    chosen = list(default_placements(exercise_facts(exercise)))
    side = chosen[0].rpartition("_")[2]
    for muscle in SYNTH_MUSCLES:
        if len(chosen) >= EMG_CHANNELS:
            break
        if f"{muscle}_{side}" not in chosen:
            chosen.append(f"{muscle}_{side}")
    return tuple(chosen[:EMG_CHANNELS])


def session_seconds(recording_s: float | None) -> float:
    """Length (s) of a synthetic session that outlasts a recording of ``recording_s`` seconds
    (None: until stopped, a 60 s session)."""
    return max(12.0, (recording_s if recording_s is not None else 60.0) + 6.0)


class VirtualGlute:
    """One virtual glute-bridge world: the settings' synthetic session and what streams it.

    Parameters
    ----------
    settings
        What to synthesise and how to stream it.
    """

    def __init__(self, settings: DemoSettings) -> None:
        self.settings = settings
        self.config = settings.session_config()
        self.session = long_session(self.config)
        self._trial: Any = None

    def mvc(self) -> dict[str, float]:
        """MVC references (live envelope uV) per placement from the synthetic MVC trial."""
        return synthetic_mvc(self.config, self.settings.mains_hz)

    def contraction(self, muscle: str) -> tuple[np.ndarray, float]:
        """``(emg, fs)`` of ``muscle``'s contraction in the synthetic MVC trial, from 2 s before
        its plateau to 1 s after (what the dashboard's MVC wizard measures), uV and Hz."""
        from myoflow.synth.calibration import mvc_trial

        if self._trial is None:
            self._trial = mvc_trial(self.config)
        trial = self._trial
        if muscle not in trial.placements:
            raise ValueError(f"the synthetic MVC trial has no {muscle!r}; it has {trial.placements}")
        lo, hi = trial.plateaus[muscle]
        i0, i1 = (int(round(t * trial.fs)) for t in (lo - 2.0, hi + 1.0))
        col = trial.placements.index(muscle)
        return np.ascontiguousarray(trial.emg[max(0, i0) : i1, col]), float(trial.fs)

    def renamed_muscles(self, placements: Mapping[str, Mapping[str, str]] | None) -> dict[str, str]:
        """``{placement given: the synthetic muscle that channel carries}`` for the EMG channels
        ``placements`` renames (``{"diy/emg": {"ch1": "glute_max_l"}}``, as ``--placement``)."""
        renamed: dict[str, str] = {}
        for channel, placement in (placements or {}).get(EMG_STREAM, {}).items():
            k = int(channel[2:]) - 1 if channel.startswith("ch") and channel[2:].isdigit() else -1
            if not 0 <= k < EMG_CHANNELS:
                raise ValueError(
                    f"--placement: {EMG_STREAM} has channels ch1-ch{EMG_CHANNELS}, got {channel!r}"
                )
            renamed[placement] = self.session.placements[k % len(self.session.placements)]
        return renamed

    def after_mvc_trial(self, contraction_s: float, rest_s: float) -> WornSignals:
        """The signals of an MVC trial (``contraction_s`` each, ``rest_s`` before each) followed
        by the session: the synthetic person follows a guided calibration's cues."""
        from myoflow.synth.calibration import mvc_trial, trial_then_session

        trial = mvc_trial(self.config, contraction_s=contraction_s, rest_s=rest_s)
        return trial_then_session(trial, self.session)

    def opener(
        self,
        signals: SyntheticSession | SessionChain | WornSignals | None = None,
        *,
        placements: Mapping[str, Mapping[str, str]] | None = None,
        on_rig: Callable[[Any, list[Any]], None] | None = None,
    ) -> OpenIngest:
        """The ingest opener of the three virtual straps streaming ``signals`` (default: the
        session), in virtual time unless the settings say ``realtime``; see
        :func:`virtual_glute_ingest` for ``placements`` and ``on_rig``."""
        s = self.settings
        streamed = self.session if signals is None else signals
        return lambda sinks: virtual_glute_ingest(
            streamed,
            sinks,
            fast=not s.realtime,
            drop=s.drop,
            seed=s.seed,
            placements=placements,
            on_rig=on_rig,
        )


@contextlib.asynccontextmanager
async def virtual_glute_ingest(
    session: SyntheticSession | SessionChain | WornSignals,
    sinks: Sequence[Any],
    *,
    fast: bool = True,
    drop: float = 0.0,
    seed: int = 0,
    placements: Mapping[str, Mapping[str, str]] | None = None,
    on_rig: Callable[[Any, list[Any]], None] | None = None,
) -> AsyncIterator[Any]:
    """A started :class:`~myoflow.devices.ingest.Ingest` of the demo's three virtual straps,
    streaming ``session`` (or the signals of an MVC trial followed by a session).

    ``fast``: virtual time (the ingest's clock is the straps' :class:`VirtualClock`); ``drop``:
    probability each notification is lost; ``placements`` overrides channel placements by
    stream name (``{"diy/emg": {"ch1": "glute_max_l"}}``); ``on_rig(clock, straps)`` sees the
    clock and the virtual straps (their ledgers hold what was sent).
    """
    from myoflow.devices.ingest import ReconnectPolicy
    from myoflow.devices.virtual.radio import LinkConditions
    from myoflow.rigs.virtual_rig import virtual_rig

    conditions = LinkConditions(drop_prob=drop, seed=seed)
    async with virtual_rig(
        preset="glute", conditions=conditions, fast=fast, session=session, placements=placements
    ) as rig:
        if on_rig is not None:
            on_rig(rig.clock, rig.straps)
        async with rig.ingest(sinks, reconnect=ReconnectPolicy(initial_s=0.05, max_s=1.0)) as ingest:
            yield ingest


def synthetic_mvc(config: SessionConfig, mains_hz: float | None = 50.0) -> dict[str, float]:
    """MVC references (live envelope uV) per placement from the session's synthetic MVC trial."""
    from myoflow.dsp.pipeline import profile_for_rate
    from myoflow.session.live import calibrate_mvc
    from myoflow.synth.calibration import mvc_trial

    trial = mvc_trial(config)
    refs = calibrate_mvc(trial.emg, trial.fs, profile_for_rate(trial.fs, mains_hz=mains_hz))
    return {p: float(v) for p, v in zip(trial.placements, refs, strict=True)}
