"""Timebase tests on simulated BLE sessions built with the codecs' own ``encode`` functions.

The simulator: a device samples at its true rate (nominal x (1 + skew)), a packet is queued when
its last sample is taken and leaves at the next connection event (at most ``per_event`` packets
per event), arrives after a small host latency, and now and then an event is retransmitted
late (everything behind it waits). The truth is the host time at which each sample was taken.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from myoflow.devices import diy, ganglion, myo, polar_pmd
from myoflow.devices.clockfit import ClockFit, MonotonicMap
from myoflow.devices.timebase import DiyTimebase, GanglionTimebase, MyoTimebase, PolarTimebase
from myoflow.stream import Block, Gap, StreamInfo

SKEW = 250e-6
T0 = 1000.0


def arrivals(ready: np.ndarray, rng: np.random.Generator, ci: float, per_event: int = 6,
             long_p: float = 0.003) -> np.ndarray:
    """Host arrival times of packets queued at ``ready`` (sorted host s)."""
    phase = rng.uniform(0, ci)
    out = np.empty_like(ready)
    last_ev, used, prev, base = -np.inf, 0, -np.inf, 0.0
    for i, r in enumerate(ready):
        ev = phase + np.ceil((r - phase) / ci) * ci
        if ev <= last_ev:
            ev = last_ev if used < per_event else last_ev + ci
        if ev != last_ev:
            used, last_ev = 0, ev
            base = rng.uniform(0.2e-3, 1.0e-3)  # controller -> host latency
            if rng.random() < long_p:
                base += rng.uniform(0.03, 0.15)  # a retransmitted event
        used += 1
        prev = max(ev + base + used * 5e-5, prev)
        out[i] = prev
    return out


class Session:
    """Packets of one simulated session; ``true_t[k]`` is the host time of sample ``k``."""

    def __init__(self, kind: str, seconds: float, seed: int, ci: float = 0.01125,
                 drop: float = 0.0, n_per: int | None = None, gap_at: float | None = None,
                 gap_s: float = 0.0) -> None:
        rng = np.random.default_rng(seed)
        nominal = {"ganglion": 200.0, "diy": 500.0, "polar": 200.0, "myo": 200.0}[kind]
        n_per = n_per or {"ganglion": 2, "diy": 5, "polar": 36, "myo": 2}[kind]
        fs = nominal * (1 + SKEW)
        n_pk = int(seconds * fs / n_per)
        first = np.arange(n_pk) * n_per
        self.true_t = T0 + np.arange(n_pk * n_per) / fs
        ready = self.true_t[first + n_per - 1]
        keep = rng.random(n_pk) >= drop
        self.restart_before = None
        if gap_at is not None:  # a disconnect: packets in [gap_at, gap_at + gap_s) are not sent
            t_rel = ready - T0
            keep &= ~((t_rel >= gap_at) & (t_rel < gap_at + gap_s))
            self.restart_before = int(np.argmax(t_rel >= gap_at + gap_s))
        ready_kept = ready[keep]
        arr = arrivals(ready_kept, rng, ci)
        self.values = rng.integers(-100, 100, size=(n_pk, n_per, {"ganglion": 4, "diy": 2, "polar": 3, "myo": 8}[kind]))
        self.keep, self.n_per, self.nominal, self.rate = keep, n_per, nominal, fs
        self.packets: list[tuple[int, object, float]] = []
        j_arr = 0
        for j in np.flatnonzero(keep):
            v = self.values[j]
            if kind == "ganglion":
                pid = (j if self.restart_before is None or j < self.restart_before else j - self.restart_before) % 100
                raw = ganglion.decode(ganglion.encode(v << 8, int(pid)))
            elif kind == "diy":
                restart = self.restart_before is not None and j == self.restart_before
                blk = j - self.restart_before if self.restart_before is not None and j >= self.restart_before else j
                t_us = (2**32 - 3_000_000) + round(first[j] * 1e6 / nominal)  # wraps after 3 s
                raw = diy.decode(diy.encode(v, block=int(blk), t_first_us=t_us, fs_hz=int(nominal),
                                            uv_per_count=0.5, restart=restart or j == 0))
            elif kind == "polar":
                t_ns = 700_000_000 * 10**9 + round((first[j] + n_per - 1) * 1e9 / nominal)
                raw = polar_pmd.decode(polar_pmd.encode_raw(polar_pmd.Measurement.ACC, v, t_ns, 1))
            else:
                raw = myo.decode(myo.encode_emg(v))
            self.packets.append((int(j), raw, float(arr[j_arr])))
            j_arr += 1


def stream_for(kind: str) -> StreamInfo:
    ch = {"ganglion": 4, "diy": 2, "polar": 3, "myo": 8}[kind]
    rate = {"ganglion": 200.0, "diy": 500.0, "polar": 200.0, "myo": 200.0}[kind]
    return StreamInfo(f"{kind}/x", "acc" if kind == "polar" else "emg", rate,
                      tuple(f"c{i}" for i in range(ch)))


TIMEBASES = {"ganglion": GanglionTimebase, "diy": DiyTimebase, "polar": PolarTimebase, "myo": MyoTimebase}


def run(kind: str, s: Session, **kwargs) -> tuple[object, list[Block | Gap], float]:
    tb = TIMEBASES[kind](stream_for(kind), **kwargs)
    out: list[Block | Gap] = []
    t = time.perf_counter()
    for j, p, h in s.packets:
        if s.restart_before is not None and j == s.restart_before:
            tb.restart(h - 0.05)
        out += tb.push(p, h)
    per_packet = (time.perf_counter() - t) / len(s.packets)
    return tb, out, per_packet


def blocks(out: list[Block | Gap]) -> list[Block]:
    return [b for b in out if isinstance(b, Block)]


def timing(out: list[Block | Gap], s: Session) -> tuple[np.ndarray, np.ndarray]:
    idx = np.concatenate([np.arange(b.start_index, b.end_index) for b in blocks(out)])
    times = np.concatenate([b.times for b in blocks(out)])
    return idx, times


# ---------------------------------------------------------------------------- time accuracy
@pytest.mark.parametrize("kind", ["ganglion", "diy", "polar"])
@pytest.mark.parametrize("ci", [0.0075, 0.01125])
def test_sample_times_within_2ms_of_truth_at_250ppm(kind, ci):
    s = Session(kind, 45, seed=3, ci=ci, n_per=20 if kind == "polar" else None)
    tb, out, _ = run(kind, s)
    idx, times = timing(out, s)
    err = times - s.true_t[idx]
    settled = s.true_t[idx] > T0 + 12.0
    assert np.abs(err[settled]).max() < 2e-3
    assert np.all(np.diff(times) > 0)
    assert abs(tb.effective_rate / s.rate - 1) < 1e-4


def test_myo_sample_times_within_looser_bound():
    s = Session("myo", 45, seed=4, ci=0.0075)
    tb, out, _ = run("myo", s)
    idx, times = timing(out, s)
    err = times - s.true_t[idx]
    settled = s.true_t[idx] > T0 + 12.0
    assert np.abs(err[settled]).max() < 5e-3
    assert abs(tb.effective_rate / s.rate - 1) < 1e-4
