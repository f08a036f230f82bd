"""Offline analysis of a recording: ``analyze(path) -> Report``.

:func:`analyze` reads a myoflow recording (or an opened :class:`~myoflow.storage.reader.Recording`)
and runs the metric core (:func:`myoflow.analysis.session_metrics.analyse_arrays`) on it:

1. **EMG**: every ``emg`` stream; channels are named by their placement (``glute_max_r``), or
   by stream/label when a channel has none (role ``other``, noted). Each gap-free run of
   samples gets its own zero-phase envelope (:func:`myoflow.dsp.pipeline.envelope_offline`,
   the default profile for the rate); lost samples stay NaN. Streams after the first are
   interpolated onto the first one's sample grid.
2. **Session clock**: seconds from the first sample of the first EMG stream, counted in its
   nominal sample periods; every other stream's host times are mapped onto that clock.
3. **Movement angle**, first available of: pelvis and thigh IMUs (``acc`` + ``gyro`` through
   :class:`~myoflow.dsp.imu.SagittalTiltFilter`, or ``quat``) -> hip flexion; a hip ``angle``
   stream; one IMU segment -> its segment angle; a knee ``angle`` stream; none -> EMG-only
   fallback (flagged ``movement.source == "emg"``). A knee angle is oriented so that the
   position at the start of the recording (rest) is the high end (negated otherwise: say so in
   ``movement.sign``). ``angle_source`` forces a choice.
4. **Normalisation**: ``mvc`` if given, else the recording's ``mvc_references`` (by placement or
   channel label; a list of several positions uses the maximum); % session peak when any
   channel lacks one (noted).

Exceptions: :class:`NothingToAnalyse` (no EMG stream) and
:class:`~myoflow.storage.schema.RecordingError` (unreadable file).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from myoflow._checks import check_option
from myoflow.analysis.activation import ActivationParams
from myoflow.analysis.placement import channels_with_role, parse_placement
from myoflow.analysis.report import Report, Signals
from myoflow.analysis.reps import MovementAngle, movement_angle
from myoflow.analysis.session_metrics import SessionMetrics, analyse_arrays
from myoflow.dsp.imu import SagittalTiltFilter, align, sagittal_angle_from_quaternion
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.storage.reader import open_recording

__all__ = ["ANGLE_SOURCES", "NothingToAnalyse", "analyze"]

#: Values of ``angle_source``.
ANGLE_SOURCES = ("auto", "imu", "angle", "emg")
PELVIS = ("pelvis", "sacrum", "lumbar", "lower_back")
THIGH = ("thigh",)


class NothingToAnalyse(ValueError):
    """The recording holds nothing the analysis can use (no EMG stream)."""


def analyze(
    recording_or_path: Any,
    *,
    exercise: str | None = None,
    mvc: Mapping[str, float] | Sequence[float] | None = None,
    angle_source: str = "auto",
    angle_sign: int | None = None,
    mains_hz: float | None = 50.0,
    params: ActivationParams | None = None,
    cocontraction_pairs: Sequence[tuple[str, str]] | None = None,
    rep_options: Mapping[str, float] | None = None,
    keep_signals: bool = True,
) -> Report:
    """Analyse one recording: reps and phases, activation, relaxation, handover and more.

    Parameters
    ----------
    recording_or_path
        A path to a myoflow ``.h5`` recording, or an opened ``Recording``.
    exercise
        Exercise name for the report; default: the recording's metadata.
    mvc
        MVC references in envelope uV, by placement (mapping) or one per EMG channel; default:
        the recording's ``mvc_references``.
    angle_source
        ``"auto"`` (module docstring order), ``"imu"``, ``"angle"`` (an ``angle`` stream) or
        ``"emg"`` (EMG-only, ignore any IMU).
    angle_sign
        +1 or -1 to orient the movement angle by hand (larger must mean the rest position).
    mains_hz
        Mains frequency (50, 60 or None) for the EMG notch filters.
    params
        Activation and relaxation thresholds (:class:`~myoflow.analysis.activation.ActivationParams`).
    cocontraction_pairs
        ``(agonist, antagonist)`` placements; default: each glute/hamstring/abductor/adductor
        channel with its placed antagonist.
    rep_options
        Keyword arguments of :func:`~myoflow.analysis.reps.segment_reps` (``min_rep_frac``,
        ``min_range_deg``, ...) when reps come from an angle, e.g. ``{"min_rep_frac": 0.35}``
        for a recording whose rest position drifts between reps.
    keep_signals
        Keep the envelopes and angle in ``Report.signals`` (for plotting).

    Returns
    -------
    Report
        With ``metrics`` None only when no rep could be analysed (see ``notes``).
    """
    check_option(angle_source, "angle_source", ANGLE_SOURCES)
    if angle_sign not in (None, 1, -1):
        raise ValueError(f"angle_sign must be 1, -1 or None, got {angle_sign!r}")
    opts = {
        "exercise": exercise,
        "mvc": mvc,
        "angle_source": angle_source,
        "angle_sign": angle_sign,
        "mains_hz": mains_hz,
        "params": params,
        "pairs": cocontraction_pairs,
        "rep_options": dict(rep_options or {}),
        "keep": keep_signals,
    }
    if isinstance(recording_or_path, (str, os.PathLike)):
        with open_recording(recording_or_path) as rec:
            return _analyze(rec, opts)
    return _analyze(recording_or_path, opts)


def _analyze(rec: Any, opts: dict[str, Any]) -> Report:
    meta = rec.metadata
    exercise, mvc, params, pairs = opts["exercise"], opts["mvc"], opts["params"], opts["pairs"]
    notes: list[str] = []
    emg_views = [v for v in rec.streams.values() if v.info.kind == "emg" and v.n_samples > 1]
    if not emg_views:
        kinds = ", ".join(f"{n} ({v.info.kind})" for n, v in rec.streams.items()) or "no streams"
        raise NothingToAnalyse(f"{rec.path}: nothing to analyse: no EMG stream with data; found {kinds}")
    base = emg_views[0]
    fs = float(base.rate)
    env, names, channels, host = _emg(emg_views, fs, opts["mains_hz"], notes)
    clock = _Clock(host, fs)
    source = {
        "file": str(rec.path),
        "subject_id": meta.subject_id,
        "exercise": exercise if exercise is not None else meta.exercise,
        "emg_streams": [v.name for v in emg_views],
        "movement_streams": [],
        "start_utc": _utc(rec, float(host[0])),
        "t0_host_s": float(host[0]),
        "duration_s": env.shape[0] / fs,
    }
    movement, mv_streams = _movement(rec, clock, names, opts["angle_source"], opts["angle_sign"], notes)
    source["movement_streams"] = mv_streams
    refs = _mvc_array(mvc if mvc is not None else meta.mvc_references, names, channels, notes)
    angle = None if movement is None else movement[0]
    angle_fs = None if movement is None else movement[1]
    mv_info = {
        "source": "emg" if movement is None else movement[2],
        "description": "EMG only: reps are bursts of the prime movers' envelope (no movement angle)"
        if movement is None
        else angle.description,
        "angle_rate_hz": angle_fs,
        "sign": None if movement is None else movement[3],
    }
    if pairs is None:
        pairs = _default_pairs(names)
    metrics = _core(env, fs, names, refs, angle, angle_fs, params, None, list(pairs), opts["rep_options"])
    unavailable = dict(metrics.context.unavailable)
    if not pairs:
        unavailable["cocontraction"] = (
            "co-contraction needs an agonist/antagonist pair (e.g. a hamstring or glute channel and a "
            f"hip flexor such as 'rectus_femoris_r'); found: {', '.join(names)}"
        )
    if movement is None:
        unavailable.setdefault(
            "movement_phases",
            "movement phases need a pelvis/thigh IMU (acc+gyro) or a hip/knee angle stream; "
            "phases are activation phases of the EMG",
        )
    if not metrics.results:
        notes.append("no complete rep was found")
    signals = None
    if opts["keep"]:
        norm = env * (100.0 / metrics_reference(env, fs, refs)).astype(np.float32)
        signals = Signals(norm, fs, None if angle is None else angle.angle_deg, angle_fs)
    return Report(
        source=source,
        movement=mv_info,
        metrics=metrics,
        notes=notes,
        unavailable=unavailable,
        channels=channels,
        emg_rate_hz=fs,
        signals=signals,
    )


def _core(env, fs, names, refs, angle, angle_fs, params, baseline, pairs, rep_options) -> SessionMetrics:
    """:func:`~myoflow.analysis.session_metrics.analyse_arrays`, or its steps with
    ``rep_options`` passed to :func:`~myoflow.analysis.reps.segment_reps`."""
    if not rep_options or angle is None:
        return analyse_arrays(
            env, fs, names, refs, angle, angle_fs, params=params, baseline=baseline, cocontraction_pairs=pairs
        )
    from myoflow.analysis.activation import analysis_envelope, normalise
    from myoflow.analysis.rep_summary import analyse_reps
    from myoflow.analysis.reps import segment_reps
    from myoflow.analysis.session_metrics import build_context, set_summaries

    params = params or ActivationParams()
    norm = normalise(env, fs, refs)
    analysis = analysis_envelope(norm.envelope, fs, params)
    reps = segment_reps(angle.angle_deg, angle_fs, **rep_options)
    ctx = build_context(
        analysis, fs, names, norm.unit, reps, angle_fs, angle.source, params, baseline, None, pairs
    )
    results = analyse_reps(reps, angle_fs, norm.envelope, fs, ctx, angle.angle_deg, angle_fs)
    sets = set_summaries(results, analysis, fs, 0.0, ctx)
    return SessionMetrics(ctx, angle.description, list(reps), results, sets)


def metrics_reference(env: np.ndarray, fs: float, refs: np.ndarray | None) -> np.ndarray:
    """The per-channel reference the core normalised by (MVC, or the session peak)."""
    from myoflow.analysis.activation import normalise

    return normalise(env, fs, refs).reference


# ---------------------------------------------------------------------------- streams


class _Clock:
    """Host-clock seconds -> session seconds (sample periods of the base EMG stream)."""

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


def _grid(view) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]], np.ndarray]:
    """``(data (n_idx, ch) float64 NaN where lost, host times (n_idx,), gap-free runs as
    [begin, end) grid positions, grid position of each stored row)``."""
    n = view.n_samples
    idx = view.sample_indices(0, n)
    pos = idx - idx[0]
    rows_t = view.times(0, n)
    data = np.full((int(pos[-1]) + 1, view.info.n_channels), np.nan)
    data[pos] = view.physical(0, n)
    host = np.interp(np.arange(data.shape[0], dtype=np.float64), pos.astype(np.float64), rows_t)
    cuts = view.gap_table["row"]
    cuts = np.unique(np.concatenate(([0, n], cuts[(cuts > 0) & (cuts < n)]))).astype(np.int64)
    runs = [(int(pos[a]), int(pos[b - 1]) + 1) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a]
    return data, host, runs, pos


def _emg(views, fs, mains_hz, notes) -> tuple[np.ndarray, list[str], dict[str, dict[str, str]], np.ndarray]:
    names: list[str] = []
    channels: dict[str, dict[str, str]] = {}
    columns: list[np.ndarray] = []
    host0 = None
    for view in views:
        data, host, runs, _ = _grid(view)
        rate = float(view.rate)
        profile = profile_for_rate(rate, mains_hz)
        env = np.full(data.shape, np.nan, dtype=np.float32)
        min_len = int(2 * rate)  # a run shorter than 2 s gives no usable envelope
        for a, b in runs:
            if b - a >= min_len:
                env[a:b] = envelope_offline(data[a:b], rate, profile)
            else:
                notes.append(
                    f"{view.name}: {b - a} samples at {a / rate:.2f} s between gaps left out (< 2 s)"
                )
        if view.gaps:
            notes.append(f"{view.name}: {len(view.gaps)} gap(s); lost samples are left out of every metric")
        if host0 is None:
            host0, base_n = host, data.shape[0]
            columns.append(env)
        else:
            columns.append(align(host, env, host0, max_gap_s=1.5 / rate).astype(np.float32))
            notes.append(f"{view.name} ({rate:g} Hz) interpolated onto the sample times of {views[0].name}")
        places = view.info.placements or (None,) * view.info.n_channels
        for label, place in zip(view.info.channels, places, strict=True):
            name = place or f"{view.name}/{label}"
            if not place:
                notes.append(f"{view.name} channel {label!r} has no placement: named {name!r}, role 'other'")
            if name in channels:
                name = f"{name}@{view.name}"
            names.append(name)
            channels[name] = {"stream": view.name, "channel": label}
    env = np.ascontiguousarray(np.concatenate(columns, axis=1)[:base_n], dtype=np.float32)
    return env, names, channels, host0


def _segment_of(placement: str | None) -> tuple[str, str] | None:
    """``(segment, side)`` of an IMU placement such as ``thigh_r`` or ``pelvis``."""
    if not placement:
        return None
    p = parse_placement(placement)
    if p.muscle in PELVIS:
        return "pelvis", p.side
    if p.muscle in THIGH:
        return "thigh", p.side
    return p.muscle, p.side


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
            seg = _segment_of(place)
            if seg is not None:
                groups.setdefault(place, []).append(i)
        for place, idx in groups.items():
            need = 4 if view.info.kind == "quat" else 3
            if len(idx) == need:
                found.setdefault(place, {})[view.info.kind] = (view, _axes(view, idx) if need == 3 else idx)
    return found


def _segment_phi(parts: dict[str, Any], clock: _Clock) -> tuple[np.ndarray, np.ndarray, float, list] | None:
    """Sagittal angle of one segment on session times: ``(times, phi, rate, stream names)``."""
    if "acc" in parts and "gyro" in parts:
        (av, ai), (gv, gi) = parts["acc"], parts["gyro"]
        acc, host, runs, _ = _grid(av)
        acc = acc[:, ai]
        gdata, ghost, _, _ = _grid(gv)
        gyro = align(ghost, gdata[:, gi], host, max_gap_s=1.5 / gv.rate)
        ok = np.all(np.isfinite(acc), axis=1) & np.all(np.isfinite(gyro), axis=1)
        phi = np.full(acc.shape[0], np.nan)
        for a, b in runs:
            for p, q in _true_runs(ok[a:b]):
                phi[a + p : a + q] = SagittalTiltFilter(av.rate).process(
                    acc[a + p : a + q], gyro[a + p : a + q]
                )
        return clock(host), phi, float(av.rate), [av.name, gv.name]
    if "quat" in parts:
        qv, qi = parts["quat"]
        q, host, _, _ = _grid(qv)
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


def _movement(rec, clock, emg_names, angle_source, angle_sign, notes):
    """``((MovementAngle, rate, source, sign), streams)`` or ``(None, [])`` for EMG-only."""
    if angle_source == "emg":
        notes.append("angle_source='emg': reps found from the EMG (any IMU ignored)")
        return None, []
    sides = [parse_placement(n).side for n in emg_names if parse_placement(n).side]
    side = max(set(sides), key=sides.count) if sides else ""
    if angle_source in ("auto", "imu"):
        segs = _imu_segments(rec)
        phis: dict[str, tuple] = {}
        for kind in ("pelvis", "thigh"):
            keys = [k for k in segs if _segment_of(k)[0] == kind]
            keys.sort(key=lambda k: _segment_of(k)[1] != side)  # the EMG side first
            for k in keys:
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
            data, host, _, _ = _grid(v)
            a = _on_grid(clock(host), data[:, 0], float(v.rate))
            sign = angle_sign
            if sign is None:
                sign = 1 if joint == "hip" else _rest_high_sign(a, float(v.rate))
            desc = f"{joint} angle from stream {v.name!r}" + (
                ", negated (rest position high)" if sign < 0 else ""
            )
            mode = "hip" if joint == "hip" else "segment"
            if joint != "hip":
                notes.append(
                    f"movement angle is a {joint} angle: rom_deg and the crossover/stall "
                    f"angles are {joint} degrees"
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


# ---------------------------------------------------------------------------- MVC, pairs


def _mvc_array(refs, names, channels, notes) -> np.ndarray | None:
    """One MVC reference per channel (uV), or None (noted) when any channel has none."""
    if refs is None or (isinstance(refs, Mapping) and not refs):
        notes.append("no MVC references: levels are % session peak")
        return None
    if not isinstance(refs, Mapping):
        arr = np.asarray(refs, dtype=np.float64).reshape(-1)
        if arr.size != len(names):
            raise ValueError(f"mvc has {arr.size} value(s) but the recording has {len(names)} EMG channel(s)")
        return arr
    out, missing = [], []
    for name in names:
        label = channels[name]["channel"]
        value = refs.get(name, refs.get(label))
        if isinstance(value, (list, tuple)):  # several MVC positions: the maximum
            value = max((float(v) for v in value if v is not None), default=None)
        if value is None or not np.isfinite(float(value)) or float(value) <= 0:
            missing.append(name)
            out.append(np.nan)
        else:
            out.append(float(value))
    if missing:
        notes.append(f"no MVC reference for {', '.join(missing)}: all levels are % session peak")
        return None
    return np.asarray(out)


def _default_pairs(names: Sequence[str]) -> list[tuple[str, str]]:
    from myoflow.analysis.session_metrics import default_antagonists

    pairs = list(default_antagonists(names).items())
    if not pairs:  # e.g. knee work: hamstring against a knee extensor
        hams, ext = channels_with_role(names, "hamstring"), channels_with_role(names, "knee_ext")
        pairs = [(names[h], names[e]) for h in hams[:1] for e in ext[:1]]
    return pairs


def _utc(rec, host0: float) -> str | None:
    from datetime import UTC, datetime

    clock = getattr(rec, "clock", None)
    if clock is None:
        return None
    unix = host0 + clock.unix_s - clock.monotonic_s
    return datetime.fromtimestamp(unix, UTC).isoformat()
