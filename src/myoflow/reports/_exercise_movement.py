"""Recording -> an exercise's movement angle, for the families that are not the hip hinge.

:func:`find_exercise_movement` is :func:`myoflow.reports._inputs.find_movement`'s twin for an
exercise whose ``[movement]`` family reads one segment (abduction, axial rotation, pelvic hike,
stepping, isometric holds; :mod:`myoflow.analysis.exercise_angle`): it finds the IMU on that
segment (the preferred side first), turns its streams into the segment's orientation per
gap-free run, and that into the family's angle with the exercise's rules, on the session
clock. The live analysis reads the same angle with the same rules
(:mod:`myoflow.analysis.live_family`).

:func:`balance_sway` adds the single-leg balance test's sway over each hold from a pelvis IMU
(:func:`myoflow.analysis.balance.sway_angles` / :func:`~myoflow.analysis.balance.sway_metrics`)
and, when holds on both stance legs are present, the left/right asymmetry
(:func:`myoflow.analysis.balance.asymmetry_pct`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from myoflow.analysis.balance import SWAY_METRICS, BalanceParams, asymmetry_pct, sway_angles, sway_metrics
from myoflow.analysis.exercise_angle import SegmentOrientation, exercise_rules, preferred_imu_side
from myoflow.analysis.movement_events import tremor
from myoflow.analysis.placement import parse_placement, segment_of
from myoflow.analysis.reps import MovementAngle
from myoflow.analysis.tempo import session_tempo
from myoflow.exercises import Exercise
from myoflow.reports._inputs import SessionClock, _grid, _imu_segments, _on_grid, _true_runs, acc_gyro_pair

__all__ = ["BALANCE_EXERCISES", "balance_sway", "find_exercise_movement", "movement_summary", "sway_by_side"]

#: Exercises whose holds are a single-leg balance test (sway from a pelvis IMU).
BALANCE_EXERCISES = ("single_leg_balance",)


def _orientation_angle(
    parts: dict[str, Any], rules: Any
) -> tuple[np.ndarray, np.ndarray, float, list[str]] | None:
    """``(host times, angle deg NaN where no data, rate, stream names)`` of one segment."""
    if "acc" in parts and "gyro" in parts and parts["acc"][0].rate == parts["gyro"][0].rate:
        (av, _), (gv, _) = parts["acc"], parts["gyro"]
        acc, gyro, host, runs, ok = acc_gyro_pair(parts)
        orient = SegmentOrientation("acc+gyro", float(av.rate))
        data, names, rate = acc, [av.name, gv.name], float(av.rate)
    elif "quat" in parts:
        qv, qi = parts["quat"]
        data, host, runs = _grid(qv)
        data, gyro = data[:, qi], None
        ok = np.all(np.isfinite(data), axis=1) & (np.linalg.norm(np.nan_to_num(data), axis=1) > 0)
        orient = SegmentOrientation("quat", float(qv.rate))
        names, rate = [qv.name], float(qv.rate)
    elif "acc" in parts:
        av, ai = parts["acc"]
        data, host, runs = _grid(av)
        data, gyro = data[:, ai], None
        ok = np.all(np.isfinite(data), axis=1) & (np.linalg.norm(np.nan_to_num(data), axis=1) > 0)
        orient = SegmentOrientation("acc", float(av.rate))
        names, rate = [av.name], float(av.rate)
    else:
        return None
    angle = np.full(data.shape[0], np.nan)
    for a, b in runs:
        for p, q in _true_runs(ok[a:b]):
            i, j = a + p, a + q
            up = orient.run(data[i:j], None if gyro is None else gyro[i:j])
            angle[i:j] = rules.angle(up)
    return host, angle, rate, names


def find_exercise_movement(
    rec: Any, clock: SessionClock, emg_names: list[str], ex: Exercise, notes: list[str]
) -> tuple[tuple[MovementAngle, float, str, int] | None, list[str], dict[str, float]]:
    """The exercise's movement angle on the session clock.

    Returns ``((MovementAngle, rate Hz, source, sign), stream names, segmenter settings)``, or
    ``(None, [], {})`` with a sentence in ``notes`` when no IMU sits on the exercise's segment.
    """
    segment = ex.movement.segment
    segs = {p: parts for p, parts in _imu_segments(rec).items() if (segment_of(p) or ("", ""))[0] == segment}
    side = preferred_imu_side(ex, emg_names)
    order = sorted(segs, key=lambda p: bool(side) and (segment_of(p) or ("", ""))[1] not in (side, ""))
    for place in order:
        rules = exercise_rules(ex, place, emg_names)
        got = _orientation_angle(segs[place], rules)
        if got is None:
            continue
        host, angle, rate, names = got
        if not np.isfinite(angle).any():
            continue
        on = _on_grid(clock(host), angle, rate)
        desc = f"{rules.label} from the {place} IMU ({ex.name}: {ex.family}, side {rules.side})"
        return (MovementAngle(on, "segment", desc), rate, "imu", 1), names, dict(rules.segmenter)
    notes.append(
        f"{ex.name} finds its reps from a {segment} IMU ({ex.family}); no {segment} acc+gyro, quat "
        "or acc stream was found"
    )
    return None, [], {}


def movement_summary(
    ex: Exercise | None, results: list[Any], angle: np.ndarray | None, rate: float | None
) -> dict[str, Any]:
    """What the exercise's family adds to the report's ``movement`` block.

    ``family``; for ``isometric_hold`` the ``holds`` (per rep: ``hold_s`` = top reached to
    lowering begun, whether it reached the file's ``phases.hold_s``, and the tremor of the hold
    angle's rate in 4-12 Hz, :func:`myoflow.analysis.movement_events.tremor`); for ``stepping``
    the ``strides`` of the thigh read and ``steps_per_side`` (each stride is one step of
    each leg, as :func:`myoflow.analysis.movement_events.steps_per_side` counts one thigh);
    for dynamic exercises whose reps come from a movement angle, ``tempo``: each targeted phase
    against the file's ``[phases]`` seconds (:func:`myoflow.analysis.tempo.session_tempo`).
    """
    if ex is None:
        return {"family": None}
    out: dict[str, Any] = {"family": ex.family, "segment": ex.movement.segment}
    if ex.family == "stepping":
        out["strides"] = len(results)  # one thigh read: each stride is one step of each leg
        out["steps_per_side"] = {"l": len(results), "r": len(results)}
    if angle is not None and ex.family != "stepping":  # movement phases of discrete reps
        tempo = session_tempo(results, ex.phases)
        if tempo:
            out["tempo"] = [t.to_dict() for t in tempo]
    if ex.family == "isometric_hold":
        holds = []
        for r in results:
            a, b = r.phases["top"], r.phases["eccentric"]
            rms = frac = float("nan")
            if angle is not None and rate is not None:
                i0, i1 = int(round(a * rate)), int(round(b * rate))
                seg = np.asarray(angle[max(i0, 0) : max(i1, 0)], dtype=np.float64)
                if seg.size > 2 and np.isfinite(seg).all():
                    rms, frac = tremor(np.gradient(seg) * rate, rate)
            target = ex.phases.hold_s
            holds.append(
                {
                    "rep": r.index,
                    "start_s": a,
                    "end_s": b,
                    "hold_s": b - a,
                    "target_s": target,
                    "reached": None if target is None else bool(b - a >= target),
                    "tremor_rms_dps": rms,
                    "tremor_frac": frac,
                }
            )
        out["holds"] = holds
    return out


def balance_sway(
    rec: Any,
    clock: SessionClock,
    ex: Exercise | None,
    emg_names: list[str],
    mv: dict[str, Any],
    notes: list[str],
) -> None:
    """Add the balance test's sway to the ``movement`` block ``mv`` (in place).

    For an exercise of :data:`BALANCE_EXERCISES` with ``holds``: each hold gets ``stance``
    (``"left"``/``"right"``: the leg opposite a thigh IMU on one side, which is on the lifted
    leg; else the one side of the EMG channels, which the exercise puts on the stance leg; None
    when neither says) and the :data:`SWAY_METRICS` of the pelvis IMU's AP/ML tilt
    over the hold (:func:`~myoflow.analysis.balance.sway_angles` over each gap-free run of
    acc+gyro, :func:`~myoflow.analysis.balance.sway_metrics` over the hold; NaN when the hold
    has a gap). ``mv["balance"]`` gets ``pelvis`` (placement), ``params`` and
    :func:`sway_by_side` of the holds. No pelvis acc+gyro: a note, no sway keys.
    """
    if ex is None or ex.name not in BALANCE_EXERCISES or not mv.get("holds"):
        return
    segs = _imu_segments(rec)
    pelvis = [
        p
        for p, parts in segs.items()
        if (segment_of(p) or ("", ""))[0] == "pelvis" and "acc" in parts and "gyro" in parts
    ]
    if not pelvis:
        notes.append(f"{ex.name}: balance sway needs a pelvis IMU with acc+gyro; none was found")
        return
    place = pelvis[0]
    params = BalanceParams()
    acc, gyro, host, runs, ok = acc_gyro_pair(segs[place])
    rate = float(segs[place]["acc"][0].rate)
    ap, ml = np.full(acc.shape[0], np.nan), np.full(acc.shape[0], np.nan)
    for a, b in runs:
        for p, q in _true_runs(ok[a:b]):
            if q - p > 1:
                ap[a + p : a + q], ml[a + p : a + q] = sway_angles(
                    acc[a + p : a + q], gyro[a + p : a + q], rate, params.filter_gain
                )
    t = clock(host)
    thigh_sides = {(segment_of(p) or ("", ""))[1] for p in segs if (segment_of(p) or ("", ""))[0] == "thigh"}
    emg_sides = {parse_placement(n).side for n in emg_names} - {""}
    if len(thigh_sides - {""}) == 1:
        stance = {"l": "right", "r": "left"}[(thigh_sides - {""}).pop()]
    elif len(emg_sides) == 1:
        stance = {"l": "left", "r": "right"}[emg_sides.pop()]
    else:
        stance = None
    for h in mv["holds"]:
        inside = (t >= h["start_s"]) & (t < h["end_s"])
        x, y = ap[inside], ml[inside]
        if x.size and np.isfinite(x).all() and np.isfinite(y).all():
            m = sway_metrics(x, y, rate, params.lowpass_hz)
        else:
            m = dict.fromkeys(SWAY_METRICS, float("nan"))
        h["stance"] = stance
        h.update({k: m[k] for k in SWAY_METRICS})
    mv["balance"] = {
        "pelvis": place,
        "lowpass_hz": params.lowpass_hz,
        "filter_gain": params.filter_gain,
        **sway_by_side(mv["holds"]),
    }


def sway_by_side(holds: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean sway per stance leg and the left/right asymmetry of each metric.

    ``{"sides": {"left"|"right": {metric: mean over that leg's holds}}, "asymmetry_pct":
    {metric: 100 (L - R) / ((L + R) / 2)} or None}``; the asymmetry is
    :func:`~myoflow.analysis.balance.asymmetry_pct` (the balance test's and
    :func:`~myoflow.analysis.symmetry.balance_symmetry`'s one formula; positive: the left stance
    sways more), None unless holds on both legs have a value.
    """
    sides: dict[str, dict[str, float]] = {}
    for leg in ("left", "right"):
        mine = [h for h in holds if h.get("stance") == leg]
        if mine:
            sides[leg] = {k: _nanmean([h.get(k) for h in mine]) for k in SWAY_METRICS}
    asym = None
    if len(sides) == 2:
        asym = {k: asymmetry_pct(sides["left"][k], sides["right"][k]) for k in SWAY_METRICS}
    return {"sides": sides, "asymmetry_pct": asym}


def _nanmean(values: list[Any]) -> float:
    v = np.array([np.nan if x is None else x for x in values], dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")
