"""Exercise library benchmark (issue 16): reps, relaxed verdicts, holds and steps for every exercise.

For each exercise the generator can synthesise (:func:`myoflow.synth.exercises.synth_names`, the
12 shipped ones), synthetic sessions with truth over a grid: EMG at 200 Hz / 1 kHz / 2 kHz x
noise ``clean`` / ``typical`` / ``noisy`` x without / with an antagonist burst at the end of
every other eccentric phase. Each session varies what the detector does not assume: tempo
jitter 30 % per phase, amplitude 80-100 % of the range per rep (and one 70 % partial rep in the
dynamic sets), tense
reps (2 of 8, 1 of 3 holds), off-plane wobble, heading drift, gyro bias, tremor in holds.

The analysis sees only what a user records: the EMG (zero-phase envelope,
:func:`myoflow.dsp.pipeline.envelope_offline`, % MVC from the session's synthetic MVC trial) and
accelerometer + gyroscope of the pelvis and thigh IMUs, fused as the analysis does
(:class:`myoflow.analysis.exercise_angle.SegmentOrientation`); the exercise's
:class:`myoflow.analysis.movement.MovementRules` on the analysis's side
(:func:`myoflow.analysis.exercise_angle.exercise_rules`) give the angle and the segmenter
settings, :func:`myoflow.analysis.session_metrics.analyse_arrays` (with the exercise's
antagonist pairs) the reps and their relaxation verdicts. Scored against truth:

* ``reps exact``: sessions whose rep (stride, hold) count equals the truth;
* ``live``: sessions where the live segmenter (``MovementRules.live``, fed in 37-sample chunks)
  finds the same count;
* ``relaxed``: per-rep per-muscle relaxed verdicts equal to the truth (sessions with the exact
  count), in %;
* ``burst``: in the sessions with antagonist bursts (every other rep), the prime mover's
  antagonist burst (:mod:`myoflow.analysis.antagonist_assist`, the exercise's antagonist
  pairs) found exactly in the reps that had one, on relaxed reps, in %; ``follow``: of the
  bursts found, the share the analysis says the target's relaxation followed (the generator
  lets the target go 10-100 ms after the burst onset);
* ``hold err``: largest ``|hold_s - truth|`` over all holds (isometric exercises);
* ``steps``: sessions with the stride count exact (band walk: one step of each leg per stride).

Run: ``make bench BENCH=exercises`` or ``.venv/bin/python benchmarks/bench_exercises.py [--quick]
[--exercise NAME ...]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from myoflow.analysis.exercise_angle import SegmentOrientation, exercise_rules, uses_hip_angle
from myoflow.analysis.exercise_rules import exercise_antagonists
from myoflow.analysis.movement_events import detect_holds, detect_steps, steps_per_side
from myoflow.analysis.reps import MovementAngle
from myoflow.analysis.session_metrics import analyse_arrays
from myoflow.dsp.normalise import mvc_reference
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.exercises import get_exercise
from myoflow.synth.calibration import mvc_trial
from myoflow.synth.config import SessionConfig
from myoflow.synth.exercises import default_placements, exercise_facts, synth_names
from myoflow.synth.session import SyntheticSession, generate_session

from _common import finish, machine

RATES = (200.0, 1000.0, 2000.0)
NOISE = ("clean", "typical", "noisy")


def session_config(name: str, fs: float, noise: str, burst: bool, seed: int) -> SessionConfig:
    """One benchmark session of ``name`` (module docstring)."""
    facts = exercise_facts(name)
    hold = facts.family == "isometric_hold"
    n = 3 if hold else 8
    placements = default_placements(facts)
    if burst and not any(p.rpartition("_")[0] in facts.antagonists for p in placements):
        placements += ("rectus_femoris_r",)  # the hinges' antagonist (hip flexor), for its burst
    return SessionConfig(
        exercise=name,
        placements=placements,
        n_reps=n,
        emg_rate=fs,
        imu_rate=100.0,
        noise_preset=noise,
        seed=seed,
        tempo_jitter=0.3,
        rom_jitter=0.2,
        tense_reps=(1,) if hold else (2, 5),
        partial_reps=() if hold else (6,),
        partial_fraction=0.7,
        hold_s=None,
        antagonist_burst_pct=25.0 if burst else 0.0,
        burst_reps=tuple(range(0, n, 2)) if burst else None,
    )


def score(session: SyntheticSession) -> dict[str, float]:
    """Reps, live reps, relaxed verdicts, hold errors and strides of one session."""
    cfg = session.config
    ex = get_exercise(cfg.exercise)
    rules = exercise_rules(ex, ex.movement.segment, session.placements)  # the analysis's side rule
    fs_imu = cfg.imu_rate
    ups = {
        seg: SegmentOrientation("acc+gyro", fs_imu).run(acc, gyro) for seg, (acc, gyro) in session.imu.items()
    }
    pelvis = ups.get("pelvis") if uses_hip_angle(ex) else None
    angle = rules.angle(ups[rules.segment], pelvis)
    movement = MovementAngle(angle, "hip" if pelvis is not None else "segment", rules.label)
    prof = profile_for_rate(cfg.emg_rate, cfg.hum_hz)
    env = envelope_offline(session.emg, cfg.emg_rate, prof)
    mvc = mvc_reference(envelope_offline(mvc_trial(cfg).emg, cfg.emg_rate, prof), cfg.emg_rate)
    antagonists = exercise_antagonists(ex, session.placements)
    metrics = analyse_arrays(
        env,
        cfg.emg_rate,
        session.placements,
        mvc,
        movement,
        fs_imu,
        antagonists=antagonists,
        rep_options=rules.segmenter,
    )
    out = {"exact": float(len(metrics.results) == len(session.truth))}
    live = rules.live(fs_imu)
    for k0 in range(0, angle.size, 37):
        live.push(k0, angle[k0 : k0 + 37])
    live.push(angle.size, np.full(int(3 * fs_imu), angle[-1]))  # the data ends at rest
    out["live"] = float(len(live.reps) == len(metrics.results))
    verdicts = []
    if out["exact"]:
        for res, truth in zip(metrics.results, session.truth, strict=True):
            verdicts += [res.relaxation[m].relaxed == truth.muscles[m].relaxed for m in session.placements]
    cues: list[bool] = []
    follows: list[bool] = []
    primes = [p for p in session.placements if p.rpartition("_")[0] in ex.muscles.prime_movers]
    if out["exact"] and cfg.antagonist_burst_pct > 0:
        for res, truth in zip(metrics.results, session.truth, strict=True):
            for p in primes:
                assist = res.antagonist_assist.get(p)
                if assist is not None and truth.muscles[p].relaxed:
                    cues.append(assist.burst == (truth.antagonist_burst_s is not None))
                    if assist.burst and truth.antagonist_burst_s is not None:
                        follows.append(bool(assist.relaxed_after))
    out["cues_ok"], out["cues"] = float(sum(cues)), float(len(cues))
    out["follow_ok"], out["follows"] = float(sum(follows)), float(len(follows))
    out["verdicts_ok"] = float(sum(verdicts))
    out["verdicts"] = float(len(verdicts))
    if rules.family == "isometric_hold":
        acc, gyro = session.imu[rules.segment]
        holds = detect_holds(ups[rules.segment], fs_imu, segment=rules.segment, side=rules.side, gyro=gyro)
        errs = [abs(h.hold_s - t.hold_s) for h, t in zip(holds, session.truth, strict=False) if t.hold_s]
        out["hold_err"] = max(errs) if len(holds) == len(session.truth) else float("inf")
        out["tremor_dps"] = float(np.mean([h.tremor_rms_dps for h in holds])) if holds else float("nan")
    if rules.family == "stepping":
        steps = steps_per_side(detect_steps(ups["thigh"], fs_imu, side=rules.side))
        out["steps_exact"] = float(steps == {"l": len(session.truth), "r": len(session.truth)})
    return out


def bench(names: list[str], quick: bool) -> dict[str, object]:
    figures: dict[str, object] = {}
    rates = (1000.0,) if quick else RATES
    noises = ("typical",) if quick else NOISE
    print(
        f"{'exercise':26s} {'family':18s} {'sessions':>8s} {'reps exact':>10s} {'live':>5s} "
        f"{'relaxed %':>9s} {'verdicts':>8s} {'burst %':>7s} {'follow %':>8s} {'hold err s':>10s} "
        f"{'steps':>6s} {'s/session':>9s}"
    )
    for name in names:
        family = exercise_facts(name).family
        rows = []
        t0 = time.perf_counter()
        seed = 1000 + 37 * synth_names().index(name)
        for fs in rates:
            for noise in noises:
                for burst in (False, True):
                    seed += 1
                    rows.append(score(generate_session(session_config(name, fs, noise, burst, seed))))
        per = (time.perf_counter() - t0) / len(rows)
        exact = sum(r["exact"] for r in rows)
        live = sum(r["live"] for r in rows)
        ok, total = sum(r["verdicts_ok"] for r in rows), sum(r["verdicts"] for r in rows)
        relaxed = 100.0 * ok / total if total else float("nan")
        c_ok, c_n = sum(r["cues_ok"] for r in rows), sum(r["cues"] for r in rows)
        cue_pct = 100.0 * c_ok / c_n if c_n else float("nan")
        f_ok, f_n = sum(r["follow_ok"] for r in rows), sum(r["follows"] for r in rows)
        follow_pct = 100.0 * f_ok / f_n if f_n else float("nan")
        hold = max((r["hold_err"] for r in rows if "hold_err" in r), default=float("nan"))
        steps = sum(r.get("steps_exact", 0.0) for r in rows) if family == "stepping" else float("nan")
        hold_txt = (
            f"{hold:10.3f}" if np.isfinite(hold) else (f"{'miss':>10s}" if hold == np.inf else f"{'-':>10s}")
        )
        steps_txt = f"{int(steps):>3d}/{len(rows):<2d}" if np.isfinite(steps) else f"{'-':>6s}"
        print(
            f"{name:26s} {family:18s} {len(rows):8d} {int(exact):>7d}/{len(rows):<2d} "
            f"{int(live):>2d}/{len(rows):<2d} {relaxed:9.1f} {int(total):8d} {cue_pct:7.1f} "
            f"{follow_pct:8.1f} {hold_txt} {steps_txt} {per:9.1f}"
        )
        figures |= {
            f"reps_exact[{name}]": exact / len(rows),
            f"live_same[{name}]": live / len(rows),
            f"relaxed_pct[{name}]": relaxed,
            f"antagonist_burst_pct[{name}]": cue_pct,
            f"relax_followed_pct[{name}]": follow_pct,
            f"hold_err_max_s[{name}]": hold,
            f"steps_exact[{name}]": steps / len(rows) if np.isfinite(steps) else float("nan"),
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 kHz, typical noise only")
    parser.add_argument("--exercise", action="append", help="only these exercises (repeatable)")
    args = parser.parse_args()
    names = args.exercise or list(synth_names())
    figures = bench(names, args.quick)
    figures["machine"] = machine()
    finish(figures)


if __name__ == "__main__":
    main()
