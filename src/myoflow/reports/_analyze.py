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
   ``movement.sign``). ``angle_source`` forces a choice. An exercise whose movement family is
   not the hip hinge (clamshell, side-lying abduction, hip hike, band walk, holds) reads its
   own segment's IMU instead, with its family's angle and segmenter settings
   (:mod:`myoflow.reports._exercise_movement`).
4. **Normalisation** (:mod:`myoflow.reports._mvc`): per channel the first reference found in
   ``mvc`` (uV, by placement in any spelling or channel label), the MVC trial files
   ``mvc_from`` (largest over the files), the recording's ``mvc_references`` (a list of
   several positions uses the maximum); % session peak when any channel lacks one (noted),
   unless ``normalisation`` asks otherwise. The report keeps each reference and its source.
5. **Mains**: ``mains_hz``, or with ``"auto"`` the recording's stored value, else the one
   detected from the spectrum, else 50 Hz (:func:`myoflow.analysis.mains.resolve_mains`).

Steps 1-4 (recording -> arrays) are in :mod:`myoflow.reports._inputs`; this module checks the
options and assembles the :class:`~myoflow.analysis.report.Report`.

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
from myoflow.analysis.exercise_angle import uses_hip_angle
from myoflow.analysis.exercise_rules import exercise_antagonists, exercise_not_measured
from myoflow.analysis.normalisation import METHODS
from myoflow.analysis.onset_emg import RawEmg
from myoflow.analysis.placement import channels_with_role
from myoflow.analysis.report import Report, Signals
from myoflow.analysis.session_metrics import analyse_arrays, default_antagonists
from myoflow.exercises import find_exercise, get_exercise
from myoflow.reports._exercise_movement import balance_sway, find_exercise_movement, movement_summary
from myoflow.reports._extras import session_extras
from myoflow.reports._inputs import SessionClock, emg_envelopes, find_movement, start_utc
from myoflow.reports._mvc import mvc_from_trials, normalisation, recording_mains, trial_paths
from myoflow.storage.reader import open_recording

__all__ = ["ANGLE_SOURCES", "NothingToAnalyse", "analyze"]

#: Values of ``angle_source``.
ANGLE_SOURCES = ("auto", "imu", "angle", "emg")


class NothingToAnalyse(ValueError):
    """The recording holds nothing the analysis can use (no EMG stream)."""


def analyze(
    recording_or_path: Any,
    *,
    exercise: str | None = None,
    mvc: Mapping[str, float] | Sequence[float] | None = None,
    mvc_from: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    normalisation: str = "auto",
    angle_source: str = "auto",
    angle_sign: int | None = None,
    mains_hz: float | str | None = "auto",
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
        Exercise name, alias or ``.toml`` path (:mod:`myoflow.exercises`); default: the
        recording's metadata (an unknown stored name is kept for the report, with no exercise
        rules). A family other than the hip hinge finds its reps from its segment's IMU
        (:mod:`myoflow.reports._exercise_movement`).
    mvc
        References in envelope uV, by placement (any spelling, e.g. ``{"glute_max_r": 263}``),
        channel label or ``stream/label`` (mapping), or one per EMG channel. They come first;
        channels they do not cover are looked up in ``mvc_from``, then in the recording's
        ``mvc_references``.
    mvc_from
        MVC trial recording(s): a path or a list; each muscle's reference is the largest 0.5 s
        mean of its analysis envelope over the files.
    normalisation
        ``"auto"`` (% MVC when every channel has a reference, else % session peak),
        ``"mvc"`` or ``"submaximal"`` (references required for every channel; submaximal
        references label the levels ``% reference contraction``) or ``"session_peak"``.
    angle_source
        ``"auto"`` (module docstring order), ``"imu"``, ``"angle"`` (an ``angle`` stream) or
        ``"emg"`` (EMG-only, ignore any IMU).
    angle_sign
        +1 or -1 to orient the movement angle by hand (larger must mean the rest position).
    mains_hz
        Mains frequency (50, 60 or None: no notch) of the EMG notch filters; ``"auto"``: the
        recording's stored value, else detected from the spectrum, else 50 (noted).
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
    check_option(normalisation, "normalisation", METHODS)
    check_option(mains_hz, "mains_hz", ("auto", 50, 60, None))
    if angle_sign not in (None, 1, -1):
        raise ValueError(f"angle_sign must be 1, -1 or None, got {angle_sign!r}")
    opts = {
        "exercise": exercise,
        "mvc": mvc,
        "mvc_from": trial_paths(mvc_from),
        "normalisation": normalisation,
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
    warnings: list[str] = []
    emg_views = [v for v in rec.streams.values() if v.info.kind == "emg" and v.n_samples > 1]
    if not emg_views:
        kinds = ", ".join(f"{n} ({v.info.kind})" for n, v in rec.streams.items()) or "no streams"
        raise NothingToAnalyse(f"{rec.path}: nothing to analyse: no EMG stream with data; found {kinds}")
    base = emg_views[0]
    fs = float(base.rate)
    mains_hz, mains_how = recording_mains(rec, base, opts["mains_hz"])
    if mains_how.startswith("assumed"):
        notes.append(f"mains frequency {mains_hz:g} Hz {mains_how}; pass mains_hz/--mains if it was 60 Hz")
    raw_cols: list[np.ndarray] = []
    env, names, channels, host = emg_envelopes(emg_views, mains_hz, notes, warnings, raw_cols)
    samples = np.concatenate(raw_cols, axis=1) if len(raw_cols) > 1 else raw_cols[0]
    raw = RawEmg(samples[: env.shape[0]], fs, 0.0, mains_hz)
    clock = SessionClock(host, fs)
    source = {
        "file": str(rec.path),
        "subject_id": meta.subject_id,
        "exercise": exercise if exercise is not None else meta.exercise,
        "emg_streams": [v.name for v in emg_views],
        "movement_streams": [],
        "start_utc": start_utc(rec, float(host[0])),
        "t0_host_s": float(host[0]),
        "duration_s": env.shape[0] / fs,
    }
    ex = get_exercise(exercise) if exercise is not None else find_exercise(meta.exercise)
    if ex is not None:
        source["exercise"] = ex.name
    rep_options = dict(opts["rep_options"])
    if ex is not None and not uses_hip_angle(ex) and opts["angle_source"] in ("auto", "imu"):
        movement, mv_streams, family_options = find_exercise_movement(rec, clock, names, ex, notes)
        rep_options = {**family_options, **rep_options}
    else:
        movement, mv_streams = find_movement(
            rec, clock, names, opts["angle_source"], opts["angle_sign"], notes
        )
    source["movement_streams"] = mv_streams
    trials, trial_notes = mvc_from_trials(opts["mvc_from"], opts["mains_hz"], fs, warnings)
    notes += trial_notes
    refs, norm_record = normalisation(
        opts["normalisation"], mvc, trials, meta.mvc_references, names, channels, notes
    )
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
    # the session peak is computed once (a pass over the whole envelope) and passed on as the
    # reference, with its own unit label: the same normalisation as analyse_arrays' own
    reference = metrics_reference(env, fs, refs)
    metrics = analyse_arrays(
        env,
        fs,
        names,
        reference,
        angle,
        angle_fs,
        params=params,
        antagonists=exercise_antagonists(ex, names),
        not_measured=exercise_not_measured(ex),
        cocontraction_pairs=list(pairs),
        rep_options=rep_options,
        unit=norm_record["unit"],
        raw=raw,
    )
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
    mv_info.update(
        movement_summary(ex, metrics.results, None if angle is None else angle.angle_deg, angle_fs)
    )
    balance_sway(rec, clock, ex, names, mv_info, notes)
    warnings += metrics.warnings
    if not metrics.results:
        drift = ": if the rest position drifts between reps, raise min_rep_frac (--min-rep-frac, e.g. 0.35)"
        notes.append("no complete rep was found" + ("" if angle is None else drift))
    fatigue, symmetry, ensembles = session_extras(
        emg_views, clock, names, metrics, env, fs, reference, mains_hz, raw_cols[0]
    )
    if fatigue is not None and fatigue.limit:
        notes.append(f"fatigue: {fatigue.limit}")
    if symmetry is not None and symmetry.note:
        notes.append(f"symmetry: {symmetry.note}")
    signals = None
    if opts["keep"]:
        norm = env * (100.0 / reference).astype(np.float32)
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
        normalisation=norm_record,
        mains={"mains_hz": mains_hz, "source": mains_how},
        warnings=warnings,
        fatigue=fatigue,
        symmetry=symmetry,
        ensembles=ensembles,
    )


def metrics_reference(env: np.ndarray, fs: float, refs: np.ndarray | None) -> np.ndarray:
    """The per-channel reference the core normalises by: ``refs`` (MVC), or without them each
    channel's session peak (:func:`myoflow.analysis.activation.normalise`)."""
    from myoflow.analysis.activation import PEAK_WINDOW_S
    from myoflow.dsp.normalise import mvc_reference

    if refs is not None:
        return np.asarray(refs, dtype=np.float64).reshape(-1)
    return mvc_reference(env, fs, window_s=PEAK_WINDOW_S)


def _default_pairs(names: Sequence[str]) -> list[tuple[str, str]]:
    pairs = list(default_antagonists(names).items())
    if not pairs:  # e.g. knee work: hamstring against a knee extensor
        hams, ext = channels_with_role(names, "hamstring"), channels_with_role(names, "knee_ext")
        pairs = [(names[h], names[e]) for h in hams[:1] for e in ext[:1]]
    return pairs
