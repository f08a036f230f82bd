"""Long synthetic sessions in bounded memory: pieces generated when they are read.

:func:`long_session` gives what :func:`~myoflow.synth.session.generate_session` gives for a
session of at most :data:`PIECE_REPS` reps (the same object, sample for sample). A longer one is
a :class:`SessionChain`: consecutive pieces of at most :data:`PIECE_REPS` reps (whole sets when
the config has sets), each a :class:`~myoflow.synth.session.SyntheticSession` of its own that
starts and ends at rest. Piece 0 has the config's seed, piece ``p`` a seed derived from
``(seed, p)``; every piece is padded at its end to a whole number of seconds, so the EMG and IMU
sample grids of all pieces line up. Only the rep plans are computed up front (to place the
pieces); a piece's signals are synthesised when a reader asks for one of its rows
(:class:`~myoflow.rows.Rows`), at most :data:`CACHED` pieces are kept, and the next piece is synthesised in a
background thread while the current one is read. Memory therefore does not grow with the
session's length: an hour at 1 kHz holds about 3 pieces of 5 minutes instead of the hour.

What changes at a piece boundary: the rest between the last rep of a piece and the first of
the next is the tail plus the lead-in (6 s by default) instead of the bottom rest, and the IMU's
gyro bias, wobble and (non-hinge families) heading drift are drawn afresh.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import math
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from myoflow.rows import Rows
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import RepTruth, SyntheticSession, generate_session, session_duration

__all__ = ["CACHED", "PIECE_REPS", "SessionChain", "long_session"]

#: Most reps in one piece of a long session (about 5 minutes of glute bridges).
PIECE_REPS = 60
#: Pieces a :class:`SessionChain` keeps synthesised (the one read, the one before, the next;
#: cyclically, as the straps read the session round and round).
CACHED = 3

def long_session(config: SessionConfig, piece_reps: int | None = None) -> SyntheticSession | SessionChain:
    """The session of ``config``: generated at once when it has at most ``piece_reps`` reps
    (None: :data:`PIECE_REPS`), else a :class:`SessionChain` that synthesises its pieces when
    they are read."""
    per = PIECE_REPS if piece_reps is None else int(piece_reps)
    if config.n_reps <= per:
        return generate_session(config)
    return SessionChain(config, per)


class SessionChain:
    """A session of many reps synthesised piece by piece (module docstring).

    Reads like a :class:`~myoflow.synth.session.SyntheticSession` for the virtual straps:
    ``config``, ``placements``, ``emg`` ``(n, ch)`` uV and ``imu`` segment -> ``(acc, gyro)``
    ``(m, 3)`` g and deg/s and ``segment_angles`` segment -> ``(m,)`` deg are :class:`~myoflow.rows.Rows`;
    :attr:`truth` holds every rep's truth on the whole session's clock.

    Parameters
    ----------
    config
        The whole session (``n_reps`` reps).
    piece_reps
        Most reps per piece (rounded down to whole sets).
    """

    def __init__(self, config: SessionConfig, piece_reps: int = PIECE_REPS) -> None:
        _large_blocks_to_the_system()
        self.config = config
        self.placements = config.placements
        per = int(piece_reps)
        if config.reps_per_set:
            per = max(config.reps_per_set, per // config.reps_per_set * config.reps_per_set)
        self.configs: list[SessionConfig] = []
        self.starts_s: list[float] = []
        self.first_rep: list[int] = []
        t = 0.0
        for p, rep0 in enumerate(range(0, config.n_reps, per)):
            cfg = _piece_config(config, p, rep0, min(per, config.n_reps - rep0))
            self.configs.append(cfg)
            self.starts_s.append(t)
            self.first_rep.append(rep0)
            t += _seconds_of(cfg)
        self.duration_s = t
        emg_rate, imu_rate = config.emg_rate, config.imu_rate
        lengths = np.diff([*self.starts_s, t])
        n_emg = [int(round(d * emg_rate)) for d in lengths]
        n_imu = [int(round(d * imu_rate)) for d in lengths]
        n_ch = len(config.placements)
        self.emg = Rows([(n, self._field(p, "emg")) for p, n in enumerate(n_emg)], (n_ch,), np.float32)
        self.imu = {
            seg: tuple(
                Rows([(m, self._field(p, kind, seg)) for p, m in enumerate(n_imu)], (3,), np.float32)
                for kind in ("acc", "gyro")
            )
            for seg in config.imu_segments
        }
        self.segment_angles = {
            seg: Rows([(m, self._field(p, "angle", seg)) for p, m in enumerate(n_imu)], (), np.float64)
            for seg in ("pelvis", "thigh")
        }
        self._lengths = list(zip(n_emg, n_imu, strict=True))
        self._lock = threading.Lock()
        self._cache: dict[int, Future[SyntheticSession]] = {}
        self._truth: list[RepTruth] | None = None

    @property
    def n_pieces(self) -> int:
        """Pieces of the session."""
        return len(self.configs)

    @property
    def emg_times(self) -> np.ndarray:
        """Time of every EMG sample, s (made when asked: ``n`` float64)."""
        return np.arange(self.emg.shape[0]) / self.config.emg_rate

    @property
    def imu_times(self) -> np.ndarray:
        """Time of every IMU sample, s (made when asked)."""
        return np.arange(self._imu_rows()) / self.config.imu_rate

    def _imu_rows(self) -> int:
        return sum(m for _, m in self._lengths)

    def piece(self, p: int) -> SyntheticSession:
        """Piece ``p`` (its own clock: add ``starts_s[p]``), synthesised or from the cache; the
        next piece (cyclically) starts synthesising in the background, and pieces other than
        ``p`` and its two neighbours are dropped."""
        if not 0 <= p < self.n_pieces:
            raise IndexError(f"piece {p} outside 0..{self.n_pieces - 1}")
        n = self.n_pieces
        with self._lock:
            # the neighbours are cyclic: the straps read the session round and round
            keep = {(p - 1) % n, p, (p + 1) % n}
            for q in [q for q in self._cache if q not in keep]:
                self._cache.pop(q).cancel()  # a piece not started yet is not made
            for q in (p, (p + 1) % n):
                if q not in self._cache:
                    self._cache[q] = _executor().submit(self._generate, q)
            future = self._cache[p]
        return future.result()

    @property
    def truth(self) -> list[RepTruth]:
        """Every rep's truth on the session's clock (the first read synthesises each piece once,
        one at a time)."""
        if self._truth is None:
            truth: list[RepTruth] = []
            for p in range(self.n_pieces):
                piece = self._cached(p) or generate_session(self.configs[p])
                truth.extend(
                    _shifted(r, self.starts_s[p], self.first_rep[p], self._first_set(p)) for r in piece.truth
                )
            self._truth = truth
        return self._truth

    def _first_set(self, p: int) -> int:
        rps = self.config.reps_per_set
        return self.first_rep[p] // rps if rps else 0

    def _cached(self, p: int) -> SyntheticSession | None:
        with self._lock:
            future = self._cache.get(p)
        return future.result() if future is not None else None

    def _generate(self, p: int) -> SyntheticSession:
        session = generate_session(self.configs[p])
        n, m = self._lengths[p]
        if session.emg.shape[0] != n or session.imu_times.shape[0] != m:
            raise RuntimeError(
                f"piece {p} of the synthetic session has {session.emg.shape[0]} EMG and "
                f"{session.imu_times.shape[0]} IMU samples, planned {n} and {m}"
            )
        return session

    def _field(self, p: int, kind: str, segment: str = "") -> Callable[[], np.ndarray]:
        def get() -> np.ndarray:
            s = self.piece(p)
            if kind == "emg":
                return s.emg
            if kind == "angle":
                return s.segment_angles[segment]
            return s.imu[segment][0 if kind == "acc" else 1]

        return get


def _piece_config(config: SessionConfig, p: int, rep0: int, n: int) -> SessionConfig:
    """Piece ``p``: reps ``rep0 .. rep0 + n - 1`` of ``config``, its own seed, its tail padded
    so the piece lasts a whole number of seconds."""
    reps = range(rep0, rep0 + n)

    def within(ks: Sequence[int] | None) -> tuple[int, ...] | None:
        return None if ks is None else tuple(k - rep0 for k in ks if k in reps)

    cross = config.crossover_deg
    seed = config.seed
    if p > 0:
        seed = int(np.random.SeedSequence([config.seed, p]).generate_state(1, np.uint64)[0] >> 1)
    lead = config.lead_in_s
    if p > 0 and config.reps_per_set:  # the rest between two sets spans the boundary
        lead = min(60.0, max(1.5, config.set_pause_s - config.tail_s))
    piece = dataclasses.replace(
        config,
        n_reps=n,
        seed=seed,
        lead_in_s=lead,
        tense_reps=within(config.tense_reps),
        stall_reps=within(config.stall_reps),
        partial_reps=within(config.partial_reps),
        burst_reps=within(config.burst_reps),
        crossover_deg=tuple(cross[rep0 : rep0 + n]) if isinstance(cross, tuple) else cross,
    )
    planned = session_duration(piece)
    t_end = planned - piece.tail_s
    tail = math.ceil(planned - 1e-9) - t_end
    if tail > 60.0:
        tail -= 1.0
    return dataclasses.replace(piece, tail_s=tail)


def _seconds_of(cfg: SessionConfig) -> float:
    """Length of a piece, s: the whole number its tail was padded to."""
    return float(round(session_duration(cfg)))


def _shifted(truth: RepTruth, dt: float, rep0: int, set0: int) -> RepTruth:
    """``truth`` of a piece's rep on the session's clock (times + ``dt``, indices offset)."""

    def later(t: float | None) -> float | None:
        return None if t is None else t + dt

    muscles = {
        m: dataclasses.replace(v, onset_s=later(v.onset_s), offset_s=later(v.offset_s))
        for m, v in truth.muscles.items()
    }
    return dataclasses.replace(
        truth,
        index=truth.index + rep0,
        set_index=truth.set_index + set0,
        onset_s=truth.onset_s + dt,
        top_s=truth.top_s + dt,
        eccentric_start_s=truth.eccentric_start_s + dt,
        bottom_s=truth.bottom_s + dt,
        end_s=truth.end_s + dt,
        muscles=muscles,
        crossover_s=later(truth.crossover_s),
        stall_start_s=later(truth.stall_start_s),
        stall_end_s=later(truth.stall_end_s),
        antagonist_burst_s=later(truth.antagonist_burst_s),
    )


def _large_blocks_to_the_system() -> None:
    """Have glibc's malloc give every block of 4 MiB or more back to the system when freed.

    Synthesising a piece takes ~100 MB of temporary arrays of 1-30 MB. By default glibc raises
    its mmap threshold to the size of the largest block freed (up to 32 MiB), after which such
    arrays come from the heap arenas, whose freed memory fragments and mostly stays resident:
    the process grew by 10-30 MB at some piece boundaries and fell back at others (RSS after
    each of 12 pieces of an hour: 122-202 MB; with a fixed threshold: 130-140 MB). Process-wide
    and once; nothing happens on another C library.
    """
    global _MALLOPT_SET
    if _MALLOPT_SET:
        return
    _MALLOPT_SET = True
    name = ctypes.util.find_library("c")
    mallopt = getattr(ctypes.CDLL(name), "mallopt", None) if name else None
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, 4 * 1024 * 1024)


_M_MMAP_THRESHOLD = -3  # glibc's malloc.h
_MALLOPT_SET = False
_EXECUTOR: ThreadPoolExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    """One background thread that synthesises pieces ahead of their readers."""
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        if _EXECUTOR is None:
            _EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="myoflow-synth")
        return _EXECUTOR
