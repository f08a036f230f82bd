"""Recording -> arrays for :func:`myoflow.reports.analyze` (its steps 1-4).

* :func:`emg_envelopes`: every EMG stream read as physical values on its own sample grid (lost
  samples NaN), one zero-phase envelope per gap-free run (runs split by gaps of at most
  :data:`BRIDGE_S` are one run), channels named by placement, all on the first stream's grid;
* :class:`SessionClock`: host-clock seconds -> session seconds of that grid;
* :func:`find_movement`: the movement angle from pelvis/thigh IMU streams or an ``angle``
  stream, on the session clock;
* :func:`start_utc`: UTC time of a host-clock time.

Every function that can fall back or drop data appends a sentence to ``notes``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from myoflow.analysis.placement import (
    angle_segments,
    canonical_placement,
    dominant_side,
    parse_placement,
    placement_warning,
    segment_of,
)
from myoflow.analysis.reps import MovementAngle, movement_angle
from myoflow.dsp.imu import SagittalTiltFilter, align, sagittal_angle_from_quaternion
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.storage.reader import READ_ROWS

__all__ = ["SessionClock", "acc_gyro_pair", "emg_envelopes", "find_movement", "start_utc"]


class SessionClock:
    """Host-clock seconds -> session seconds (sample periods of the base EMG stream).

    ``host`` ``(n,)`` are the host times (s) of the base stream's grid positions at ``fs`` Hz;
    times outside them are extrapolated at the nominal rate.
    """

    def __init__(self, host: np.ndarray, fs: float) -> None:
        self.host, self.fs = host, fs
        self.k = np.arange(host.size, dtype=np.float64)

    def __call__(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        k = np.interp(t, self.host, self.k)
        lo, hi = t < self.host[0], t > self.host[-1]
        k[lo] = (t[lo] - self.host[0]) * self.fs
        k[hi] = self.k[-1] + (t[hi] - self.host[-1]) * self.fs
        return k / self.fs


def _grid(view, dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """``(data (n_idx, ch) of dtype, NaN where lost, host times (n_idx,), gap-free runs as
    [begin, end) grid positions)``. The file is read
    :data:`~myoflow.storage.reader.READ_ROWS` rows at a time, straight into ``data``."""
    n = view.n_samples
    gap_rows = view.gap_table["row"]
    rows_t = view.times(0, n)
    pos = None  # grid position of each stored row, where samples were lost before it
    if len(gap_rows):
        pos = view.sample_indices(0, n)
        pos = pos - pos[0]
        if int(pos[-1]) + 1 == n:  # gaps of unknown size: every row at its own position
            pos = None
    size = n if pos is None else int(pos[-1]) + 1
    data = np.empty((size, view.info.n_channels), dtype=dtype)
    if pos is not None:
        data.fill(np.nan)
    for r0 in range(0, n, READ_ROWS):
        r1 = min(n, r0 + READ_ROWS)
        if pos is None and dtype is np.float32:
            view.physical_into(data[r0:r1], r0, r1)
        else:
            data[slice(r0, r1) if pos is None else pos[r0:r1]] = view.physical(r0, r1)
    cuts = np.unique(np.concatenate(([0, n], gap_rows[(gap_rows > 0) & (gap_rows < n)]))).astype(np.int64)
    pairs = [(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a]
    if pos is None:
        return data, rows_t, pairs
    host = np.interp(np.arange(size, dtype=np.float64), pos.astype(np.float64), rows_t)
    runs = [(int(pos[a]), int(pos[b - 1]) + 1) for a, b in pairs]
    return data, host, runs


#: Gaps up to this long (s; a few lost BLE packets) do not cut the envelope: the filters run
#: across them (:func:`bridged_runs`). Cutting there left out every run shorter than 2 s, i.e.
#: most of a recording with 1-2 % packet loss.
BRIDGE_S = 0.1


def bridged_runs(runs: list[tuple[int, int]], max_gap: int) -> list[tuple[int, int]]:
    """Gap-free ``[begin, end)`` runs joined where at most ``max_gap`` grid positions were lost
    between one and the next."""
    out: list[tuple[int, int]] = []
    for a, b in runs:
        if out and a - out[-1][1] <= max_gap:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _envelope_across_gaps(data: np.ndarray, rate: float, profile: Any) -> np.ndarray:
    """:func:`envelope_offline` of ``data`` ``(n, ch)`` whose lost rows (NaN) lie in short gaps:
    the filters see the raw signal joined by a straight line across each gap (slow, so the
    band-pass removes it); the envelope is NaN again on the lost rows."""
    lost = np.isnan(data[:, 0])
    if not lost.any():
        return envelope_offline(data, rate, profile)
    k = np.arange(data.shape[0])
    joined = data.copy()
    for c in range(data.shape[1]):
        joined[lost, c] = np.interp(k[lost], k[~lost], data[~lost, c])
    env = envelope_offline(joined, rate, profile)
    env[lost] = np.nan
    return env


def emg_envelopes(
    views: list[Any],
    mains_hz: float | None,
    notes: list[str],
    warnings: list[str] | None = None,
    raw: list[np.ndarray] | None = None,
) -> tuple[np.ndarray, list[str], dict[str, dict[str, str]], np.ndarray]:
    """Zero-phase envelopes of every EMG stream on the first stream's sample grid.

    Parameters
    ----------
    views
        The recording's EMG stream views (at least 2 samples each); the first sets the grid.
    mains_hz
        Mains frequency (50, 60 or None) of the notch filters.
    notes
        Gets a sentence for each gap, run too short to filter, resampled stream or unplaced
        channel.
    warnings
        Gets a sentence for each placement that is not a known muscle (with the closest names).
    raw
        When a list, gets the raw samples ``(n, ch)`` float32 (uV, NaN where lost) of each
        channel on the grid, for the ``changepoint`` onsets: the first stream's; NaN columns for
        streams at another rate or clock (raw EMG is not interpolated).

    Returns
    -------
    envelope, names, channels, host
        ``(n, ch)`` float32 envelope (uV, NaN where samples were lost); channel names (the
        canonical placement, else ``stream/label``); name -> ``{"stream", "channel"}``; ``(n,)`` host
        times (s) of the grid.
    """
    names: list[str] = []
    channels: dict[str, dict[str, str]] = {}
    columns: list[np.ndarray] = []
    host0 = None
    for view in views:
        data, host, runs = _grid(view, np.float32)  # float32: what the envelope filters take
        rate = float(view.rate)
        profile = profile_for_rate(rate, mains_hz)
        min_len = int(2 * rate)  # a run shorter than 2 s gives no usable envelope
        spans = bridged_runs(runs, int(BRIDGE_S * rate))
        whole = spans == [(0, data.shape[0])] and data.shape[0] >= min_len
        env = (
            np.asarray(_envelope_across_gaps(data, rate, profile), dtype=np.float32)
            if whole  # one run over the whole grid: no NaN frame to copy it into
            else np.full(data.shape, np.nan, dtype=np.float32)
        )
        for a, b in [] if whole else spans:
            if b - a >= min_len:
                env[a:b] = _envelope_across_gaps(data[a:b], rate, profile)
            else:
                notes.append(
                    f"{view.name}: {b - a} samples at {a / rate:.2f} s between gaps left out (< 2 s)"
                )
        if view.gaps:
            notes.append(f"{view.name}: {len(view.gaps)} gap(s); lost samples are left out of every metric")
        if len(spans) < len(runs):
            notes.append(
                f"{view.name}: {len(runs) - len(spans)} gap(s) of at most {BRIDGE_S * 1000:g} ms filtered "
                "across (the envelope runs on; it is NaN only where samples were lost)"
            )
        if host0 is None:
            host0, base_n = host, data.shape[0]
            columns.append(env)
            if raw is not None:
                raw.append(data)  # not modified below
        else:
            if raw is not None:
                raw.append(np.full((base_n, data.shape[1]), np.nan, dtype=np.float32))
            columns.append(align(host, env, host0, max_gap_s=1.5 / rate).astype(np.float32))
            notes.append(f"{view.name} ({rate:g} Hz) interpolated onto the sample times of {views[0].name}")
        places = view.info.placements or (None,) * view.info.n_channels
        for label, place in zip(view.info.channels, places, strict=True):
            name = canonical_placement(place) if place else f"{view.name}/{label}"
            if not place:
                notes.append(f"{view.name} channel {label!r} has no placement: named {name!r}, role 'other'")
            elif (problem := placement_warning(place)) is not None and warnings is not None:
                warnings.append(f"{view.name} channel {label!r}: {problem}")
            elif name != place:
                notes.append(f"{view.name} channel {label!r}: placement {place!r} read as {name!r}")
            if name in channels:
                first, name = channels[name]["channel"], f"{name}@{view.name}"
                if warnings is not None:
                    warnings.append(
                        f"{view.name} channel {label!r}: placement {place!r} is the muscle of channel "
                        f"{first!r} too: named {name!r}, role 'other' (metrics by role use the first)"
                    )
            names.append(name)
            channels[name] = {"stream": view.name, "channel": label}
    joined = columns[0] if len(columns) == 1 else np.concatenate(columns, axis=1)  # one stream: no copy
    env = np.ascontiguousarray(joined[:base_n], dtype=np.float32)
    return env, names, channels, host0


def _axes(view, idx: list[int]) -> list[int]:
    """Channel indices of one segment ordered x, y, z when the labels end with x/y/z."""
    ends = [view.info.channels[i].strip().lower()[-1:] for i in idx]
    if sorted(ends) == ["x", "y", "z"]:
        return [idx[ends.index(a)] for a in "xyz"]
    return idx


def _imu_segments(rec) -> dict[str, dict[str, Any]]:
    """Segment key (``thigh_r``) -> {kind: (view, channel indices)} for acc, gyro and quat."""
    found: dict[str, dict[str, Any]] = {}
    for view in rec.streams.values():
        if view.info.kind not in ("acc", "gyro", "quat") or view.n_samples < 2:
            continue
        groups: dict[str, list[int]] = {}
        for i, place in enumerate(view.info.placements or (None,) * view.info.n_channels):
            seg = segment_of(place)
            if seg is not None:
                groups.setdefault(place, []).append(i)
        for place, idx in groups.items():
            need = 4 if view.info.kind == "quat" else 3
            if len(idx) == need:
                found.setdefault(place, {})[view.info.kind] = (view, _axes(view, idx) if need == 3 else idx)
    return found


def acc_gyro_pair(
    parts: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[int, int]], np.ndarray]:
    """One segment's accelerometer ``(n, 3)`` and gyroscope interpolated at its sample times,
    the acc grid's host times ``(n,)``, its gap-free runs and where both are finite ``(n,)``."""
    (av, ai), (gv, gi) = parts["acc"], parts["gyro"]
    acc, host, runs = _grid(av)
    acc = acc[:, ai]
    gdata, ghost, _ = _grid(gv)
    gyro = align(ghost, gdata[:, gi], host, max_gap_s=1.5 / gv.rate)
    ok = np.all(np.isfinite(acc), axis=1) & np.all(np.isfinite(gyro), axis=1)
    return acc, gyro, host, runs, ok


def _segment_phi(
    parts: dict[str, Any], clock: SessionClock
) -> tuple[np.ndarray, np.ndarray, float, list] | None:
    """Sagittal angle of one segment on session times: ``(times, phi, rate, stream names)``."""
    if "acc" in parts and "gyro" in parts:
        (av, _), (gv, _) = parts["acc"], parts["gyro"]
        acc, gyro, host, runs, ok = acc_gyro_pair(parts)
        phi = np.full(acc.shape[0], np.nan)
        for a, b in runs:
            for p, q in _true_runs(ok[a:b]):
                phi[a + p : a + q] = SagittalTiltFilter(av.rate).process(
                    acc[a + p : a + q], gyro[a + p : a + q]
                )
        return clock(host), phi, float(av.rate), [av.name, gv.name]
    if "quat" in parts:
        qv, qi = parts["quat"]
        q, host, _ = _grid(qv)
        q = q[:, qi]
        ok = np.all(np.isfinite(q), axis=1) & (np.linalg.norm(np.nan_to_num(q), axis=1) > 0)
        phi = np.full(q.shape[0], np.nan)
        phi[ok] = sagittal_angle_from_quaternion(q[ok])
        return clock(host), phi, float(qv.rate), [qv.name]
    return None


def _on_grid(t: np.ndarray, x: np.ndarray, rate: float) -> np.ndarray:
    """Values at session times ``j / rate`` from 0 to the last finite time (NaN in gaps)."""
    good = np.isfinite(x)
    t, x = t[good], x[good]
    n = int(np.floor(t[-1] * rate + 1e-6)) + 1
    grid = np.arange(max(n, 1), dtype=np.float64) / rate
    return align(t, x, grid, max_gap_s=1.5 / rate)


def find_movement(
    rec: Any,
    clock: SessionClock,
    emg_names: list[str],
    angle_source: str,
    angle_sign: int | None,
    notes: list[str],
) -> tuple[tuple[MovementAngle, float, str, int] | None, list[str]]:
    """The movement angle on the session clock, by ``angle_source`` (``analyze``'s order).

    Returns ``((MovementAngle, rate in Hz, source, sign), names of the streams used)``, or
    ``(None, [])`` for EMG-only (the reason noted). IMUs on the EMG's side are preferred.
    """
    if angle_source == "emg":
        notes.append("angle_source='emg': reps found from the EMG (any IMU ignored)")
        return None, []
    side = dominant_side(emg_names)
    if angle_source in ("auto", "imu"):
        segs = _imu_segments(rec)
        places = list(segs)
        phis: dict[str, tuple] = {}
        for kind, order in angle_segments(places, side).items():  # the EMG side first
            for k in (places[i] for i in order):
                got = _segment_phi(segs[k], clock)
                if got is not None:
                    phis[kind] = got
                    break
        if phis:
            rate = min(p[2] for p in phis.values())
            on = {kind: _on_grid(p[0], p[1], rate) for kind, p in phis.items()}
            if len(on) == 2:
                n = min(v.size for v in on.values())
                mv = movement_angle(on["pelvis"][:n], on["thigh"][:n])
            else:
                mv = movement_angle(on.get("pelvis"), on.get("thigh"))
                missing = "thigh" if "pelvis" in on else "pelvis"
                notes.append(f"no {missing} IMU: the {mv.description} is used instead of the hip angle")
            mv = _signed(mv, angle_sign, notes)
            return (mv, rate, mv.source, angle_sign or 1), [n for p in phis.values() for n in p[3]]
        if angle_source == "imu":
            notes.append("angle_source='imu' but no pelvis/thigh acc+gyro or quat stream: EMG only")
            return None, []
    angles = [v for v in rec.streams.values() if v.info.kind == "angle" and v.n_samples > 1]
    joints = {}
    for v in angles:
        place = (v.info.placements or ("",))[0] or ""
        joint = parse_placement(place).muscle if place else v.info.channels[0].lower()
        joints.setdefault("hip" if "hip" in joint else "knee" if "knee" in joint else "other", v)
    for joint in ("hip", "knee", "other"):
        if joint in joints:
            v = joints[joint]
            data, host, _ = _grid(v)
            a = _on_grid(clock(host), data[:, 0], float(v.rate))
            sign = angle_sign
            if sign is None:
                sign = 1 if joint == "hip" else _rest_high_sign(a, float(v.rate))
            desc = f"{joint} angle from stream {v.name!r}" + (
                ", negated (rest position high)" if sign < 0 else ""
            )
            mode = "hip" if joint == "hip" else "segment"
            if joint != "hip":
                what = f"a {joint} angle" if joint != "other" else "from a joint not named by its placement"
                notes.append(
                    f"movement angle is {what}: rom_deg and the crossover/stall angles are in its degrees"
                )
            mv = MovementAngle(sign * a, mode, desc)
            return (mv, float(v.rate), joint, sign), [v.name]
    if angle_source == "angle":
        notes.append("angle_source='angle' but no angle stream: EMG only")
    else:
        notes.append("no IMU (pelvis/thigh acc+gyro or quat) and no angle stream: reps found from the EMG")
    return None, []


def _signed(mv: MovementAngle, sign: int | None, notes: list[str]) -> MovementAngle:
    if sign in (None, 1):
        return mv
    notes.append("movement angle negated by angle_sign=-1")
    return MovementAngle(-mv.angle_deg, mv.source, mv.description + ", negated")


def _rest_high_sign(a: np.ndarray, rate: float) -> int:
    """+1 when the first second sits nearer the top of the range than the bottom, else -1."""
    finite = a[np.isfinite(a)]
    if finite.size < 2:
        return 1
    lo, hi = np.percentile(finite, [2.0, 98.0])
    head = a[: max(1, int(rate))]
    start = float(np.nanmedian(head)) if np.isfinite(head).any() else float(finite[0])
    return 1 if hi - start <= start - lo else -1


def _true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def start_utc(rec: Any, host0: float) -> str | None:
    """ISO 8601 UTC time of host-clock time ``host0`` (s), or None without a clock anchor."""
    from datetime import UTC, datetime

    clock = getattr(rec, "clock", None)
    if clock is None:
        return None
    unix = host0 + clock.unix_s - clock.monotonic_s
    return datetime.fromtimestamp(unix, UTC).isoformat()
