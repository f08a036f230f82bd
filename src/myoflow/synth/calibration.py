"""MVC calibration recordings: each placement contracts maximally in turn, with known plateaus.

:func:`mvc_trial` synthesises the trial a session's % MVC normalisation is calibrated from,
using the same placements, MVC amplitudes, EMG rate and noise as its :class:`SessionConfig`;
:func:`trial_then_session` joins the two into what virtual straps worn through both stream.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from myoflow._checks import check_range
from myoflow.rows import Rows, parts_of, rows_of
from myoflow.synth.activation import REST_PCT
from myoflow.synth.artefacts import emg_artefacts
from myoflow.synth.config import SessionConfig
from myoflow.synth.emg import burst_activation, surface_emg
from myoflow.synth.session import SyntheticSession

if TYPE_CHECKING:
    from myoflow.synth.chain import SessionChain


@dataclass(frozen=True, eq=False)
class MvcTrial:
    """A calibration recording: each placement contracts maximally in turn.

    ``emg`` ``(n, ch)`` float32 uV at ``fs`` with ``times``; ``plateaus`` placement ->
    ``(start, end)`` s of its 100 % MVC plateau; ``activation_pct`` the noiseless activation.
    """

    emg: np.ndarray
    times: np.ndarray
    fs: float
    placements: tuple[str, ...]
    mvc_uv: dict[str, float]
    plateaus: dict[str, tuple[float, float]]
    activation_pct: np.ndarray


def mvc_trial(
    config: SessionConfig | None = None,
    contraction_s: float = 4.0,
    rest_s: float = 3.0,
    ramp_s: float = 0.5,
    coactivation_pct: float = 5.0,
) -> MvcTrial:
    """Maximum voluntary contractions, one placement after the other, with rest around each.

    Uses ``config``'s placements, MVC amplitudes, EMG rate, noise floor, hum, DC offset and
    seed (a stream separate from the session's). Each contraction ramps up over ``ramp_s``,
    holds 100 % MVC until ``contraction_s`` after its start, then ramps down; the other
    muscles co-contract at ``coactivation_pct`` meanwhile.
    """
    cfg = config or SessionConfig()
    check_range(contraction_s, "contraction_s", 1.0, 30.0, "s")
    check_range(rest_s, "rest_s", 0.5, 60.0, "s")
    check_range(ramp_s, "ramp_s", 0.05, contraction_s / 2, "s")
    check_range(coactivation_pct, "coactivation_pct", 0.0, 50.0, "% MVC")
    fs, n_ch = cfg.emg_rate, len(cfg.placements)
    onsets = rest_s + np.arange(n_ch) * (contraction_s + ramp_s + rest_s)
    n = int(round((onsets[-1] + contraction_s + ramp_s + rest_s) * fs))
    union = burst_activation(n, fs, onsets, np.full(n_ch, contraction_s), 1.0, ramp_s)
    act = np.empty((n, n_ch))
    for c in range(n_ch):
        own = burst_activation(n, fs, onsets[c : c + 1], [contraction_s], 1.0, ramp_s)
        act[:, c] = REST_PCT + (100.0 - REST_PCT) * own + coactivation_pct * (union - own)
    streams = np.random.SeedSequence([cfg.seed, 1]).spawn(2)
    rng_emg, rng_extra = (np.random.default_rng(s) for s in streams)
    mvc = cfg.mvc_values()
    times = np.arange(n) / fs
    emg = surface_emg(act * (mvc / 100.0), fs, rng_emg, cfg.noise_levels()[0])
    quiet = dataclasses.replace(cfg, artefact_uv=0.0)
    emg = np.ascontiguousarray(emg + emg_artefacts(quiet, [], times, rng_extra), dtype=np.float32)
    plateaus = {
        p: (float(o + ramp_s), float(o + contraction_s)) for p, o in zip(cfg.placements, onsets, strict=True)
    }
    mvc_map = dict(zip(cfg.placements, mvc.tolist(), strict=True))
    return MvcTrial(
        emg, times, fs, cfg.placements, mvc_map, plateaus, np.ascontiguousarray(act, dtype=np.float32)
    )


@dataclass(frozen=True, eq=False)
class WornSignals:
    """What straps worn through an MVC trial and then a session stream, and nothing else.

    ``emg`` ``(n, ch)`` float32 uV at ``config.emg_rate`` in ``placements`` order; ``imu``
    segment -> ``(acc (m, 3) g, gyro (m, 3) deg/s)`` at :attr:`imu_times` (s, from 0), all
    :class:`~myoflow.rows.Rows` read when asked (a long session's pieces are synthesised then);
    the session starts ``lead_s`` seconds in. The session's truth is on its own clock: add
    ``lead_s``.
    """

    config: SessionConfig
    placements: tuple[str, ...]
    emg: Rows
    imu: dict[str, tuple[Rows, Rows]]
    lead_s: float

    @property
    def imu_times(self) -> np.ndarray:
        """Time of every IMU sample, s (made when asked)."""
        m = next(iter(self.imu.values()))[0].shape[0] if self.imu else 0
        return np.arange(m) / self.config.imu_rate


def trial_then_session(trial: MvcTrial, session: SyntheticSession | SessionChain) -> WornSignals:
    """The signals of ``trial`` followed by those of ``session`` (same placements and rate).

    During the trial the IMUs lie still at the session's first pose (its first acc and gyro
    samples repeated). The trial is cut to a whole number of IMU samples, so both kinds of
    signal switch to the session together (to within one EMG sample). Nothing of the session
    is copied: its samples are read from it when asked.
    """
    if trial.placements != session.placements or trial.fs != session.config.emg_rate:
        raise ValueError(
            f"the MVC trial ({trial.placements} at {trial.fs} Hz) does not match the session "
            f"({session.placements} at {session.config.emg_rate} Hz)"
        )
    imu_rate = session.config.imu_rate
    m = int(trial.emg.shape[0] / trial.fs * imu_rate)
    lead_s = m / imu_rate
    n = int(round(lead_s * trial.fs))
    emg = Rows([(n, trial.emg[:n].copy()), *parts_of(session.emg)], session.emg.shape[1:], np.float32)

    def after_still(data: np.ndarray | Rows) -> Rows:
        first = np.asarray(rows_of(data, np.zeros(1, np.int64)))
        return Rows([(m, np.repeat(first, m, 0)), *parts_of(data)], data.shape[1:], data.dtype)

    imu = {seg: (after_still(acc), after_still(gyro)) for seg, (acc, gyro) in session.imu.items()}
    return WornSignals(session.config, session.placements, emg, imu, lead_s)
