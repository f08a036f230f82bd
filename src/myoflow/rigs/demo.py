"""The demo: virtual straps on a synthetic glute-bridge session, streamed through the real BLE path.

The virtual world (:class:`~myoflow.rigs.virtual_glute.VirtualGlute`, also what
``myoflow record --virtual`` records):

* a **DIY EMG strap**, 4 channels (glute max, biceps femoris, semitendinosus, glute med) at the
  session's EMG rate, int16 at 0.5 uV per count (the shipped ``diy_emg_4ch_2khz`` profile at
  2 kHz; the same profile with its rate changed for other rates);
* a **Polar Verity Sense on the pelvis** and **another on the thigh** (ACC and GYRO at 52 Hz):
  the hip flexion angle is thigh minus pelvis.

(A Myo on the thigh would give the thigh IMU too, but its 8 EMG channels are raw counts with no
microvolt scale repeating the same four muscles, which would make % MVC normalisation ambiguous.)

Each strap is a Bumble GATT peripheral; the unmodified ingest reaches it through bleak, in
virtual time (fast) or real time. :func:`run_demo` calibrates MVC on the session's synthetic MVC
trial, records the session (:func:`myoflow.session.run_session`), analyses the recording and
compares every rep with the generator's truth.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from myoflow.analysis.placement import channels_with_role, parse_placement
from myoflow.exercises import get_exercise
from myoflow.rigs.virtual_glute import EMG_STREAM, DemoSettings, VirtualGlute
from myoflow.synth.session import SyntheticSession

__all__ = [
    "DemoReport",
    "DemoSettings",
    "judged_muscle",
    "matching_truth",
    "onset_errors_ms",
    "print_table",
    "run_demo",
]


@dataclass
class DemoReport:
    """What :func:`run_demo` found: ``reps`` (analysis results), the ``session`` with its truth,
    ``offset_s`` (session time of the report's time 0), the MVC references and run numbers."""

    seconds: float
    reps: list[Any]
    session: SyntheticSession
    offset_s: float
    mvc: dict[str, float]
    wall_s: float
    statuses: list[Any] = field(default_factory=list)
    live_reps: list[Any] = field(default_factory=list)


def run_demo(settings: DemoSettings, out: TextIO, sinks: Sequence[Any] = ()) -> DemoReport:
    """Calibrate, stream the virtual straps, record, analyse, compare with the truth; print to
    ``out`` as it goes. ``sinks`` also receive everything the straps deliver."""
    from myoflow.reports._analyze import analyze
    from myoflow.session.recorder_sink import RecorderSink
    from myoflow.session.run import run_session
    from myoflow.storage.reader import open_recording
    from myoflow.storage.schema import SessionMetadata

    rig = VirtualGlute(settings)
    config, session = rig.config, rig.session
    mvc = rig.mvc()
    print(
        f"myoflow demo: {config.exercise.replace('_', ' ')}, {config.n_reps} reps; virtual straps over "
        f"Bluetooth LE ({'real time' if settings.realtime else 'virtual time'}): DIY EMG "
        f"{config.emg_rate:g} Hz x 4 ({', '.join(session.placements)}), Polar Verity on pelvis "
        f"and thigh (ACC + GYRO 52 Hz)",
        file=out,
    )
    print(
        "MVC calibration (synthetic MVC trial): " + ", ".join(f"{k} {v:.0f} uV" for k, v in mvc.items()),
        file=out,
    )
    clock_origin: list[float] = [0.0]
    duration = session.emg.shape[0] / config.emg_rate
    with tempfile.TemporaryDirectory(prefix="myoflow-demo-") as tmp:
        path = Path(settings.keep) if settings.keep else Path(tmp) / "demo.h5"
        meta = SessionMetadata(
            subject_id="synthetic-demo",
            exercise=config.exercise,
            mvc_references=mvc,
            notes=f"myoflow demo, seed {settings.seed}",
            # the hum the session was synthesised with: a kept file analysed later (--keep) uses it
            filter_settings={"mains_hz": float(settings.mains_hz), "mains_source": "demo's synthetic hum"},
        )
        recorder = RecorderSink(path, meta, overwrite=True)

        opened = rig.opener(on_rig=lambda clock, _straps: clock_origin.__setitem__(0, clock.origin))

        live: list[Any] = []
        live_reps: list[Any] = []

        def analysis(streams: dict[str, Any]) -> list[Any]:
            from myoflow.analysis.live import LiveAnalysis

            live.append(
                LiveAnalysis(
                    list(streams.values()), mvc=mvc, exercise=config.exercise, mains_hz=settings.mains_hz
                )
            )
            print(f"live analysis: envelope delay {live[0].delay_ms:.0f} ms; {live[0].angle_label}", file=out)
            return live

        def tick(write: bool = True) -> None:
            if live:
                for item in live[0].poll():
                    _announce(item, live_reps, recorder if write else None, session, clock_origin[0], out)

        started = time.perf_counter()
        result = run_session(opened, duration, sinks, recorder=recorder, late_sinks=analysis, on_tick=tick)
        # results of the last blocks that came after the recorder finalised the file: shown and
        # kept in the report, not written as events (the file is closed)
        tick(write=False)
        wall = time.perf_counter() - started
        with open_recording(path) as rec:
            t_emg0 = float(rec.streams[EMG_STREAM].times(0, 1)[0])
        report = analyze(path, mains_hz=settings.mains_hz)
    print(
        f"streamed {duration:.1f} s in {wall:.1f} s; " + "; ".join(s.summary() for s in result.statuses),
        file=out,
    )
    offset = t_emg0 - clock_origin[0]
    print("\nrecording analysed offline (zero-phase envelopes; myoflow.reports.analyze):", file=out)
    print_table(report.reps, session, offset, out)
    glute = judged_muscle(session.placements, config.exercise)
    agree = sum(
        (t := matching_truth(r, session.truth, -clock_origin[0])) is not None
        and t.muscles[glute].relaxed == r.relaxation[glute].relaxed
        for r in live_reps
    )
    print(
        f"live reps: {len(live_reps)} (truth {len(session.truth)}); live relaxed verdicts agreeing with "
        f"truth: {agree}/{len(session.truth)}",
        file=out,
    )
    return DemoReport(duration, report.reps, session, offset, mvc, wall, result.statuses, live_reps)


def _announce(
    item: Any, reps: list[Any], recorder: Any, session: SyntheticSession, origin: float, out: TextIO
) -> None:
    """Print a live rep result (or cue) as it comes, and record it as an event (``recorder``
    None: the file is already finalised)."""
    from myoflow.analysis.report import rep_to_dict
    from myoflow.stream import Event

    if hasattr(item, "relaxation"):
        reps.append(item)
        glute = judged_muscle(session.placements, session.config.exercise)
        cells = ", ".join(f"{_short(m)} {mr.peak_pct:.0f}%" for m, mr in item.muscles.items())
        relaxed = "relaxed" if item.relaxation[glute].relaxed else "NOT relaxed"
        print(
            f"  rep {item.index} at {item.start_s - origin:5.1f} s: ROM {item.rom_deg:.0f} deg, "
            f"peaks {cells}; "
            f"{glute} {relaxed} at the bottom ({item.relaxation[glute].bottom_min_pct:.1f} % MVC)",
            file=out,
            flush=True,
        )
        if recorder is not None:
            recorder.on_event(Event(float(item.start_s), "rep", f"rep {item.index}", None, rep_to_dict(item)))
    else:
        print(f"  cue after rep {item.rep_index}: {item.text}", file=out, flush=True)
        if recorder is not None:
            recorder.on_event(
                Event(float(item.time), "cue", item.kind, None, {"text": item.text, "rep": item.rep_index})
            )


def print_table(reps: list[Any], session: SyntheticSession, offset_s: float, out: TextIO) -> None:
    """Per rep: timing, range of motion, peak % MVC / onset per muscle, relaxation vs truth."""
    muscles = session.placements
    glute = judged_muscle(muscles, session.config.exercise)
    print(
        f"\n{'rep':>3} {'start':>6} {'conc':>5} {'ROM':>5}  "
        + "  ".join(f"{_short(m):>11}" for m in muscles)
        + f"  {'bottom ' + _short(glute):>14} {'relaxed':>8} {'truth':>6}",
        file=out,
    )
    print(
        f"{'':>3} {'s':>6} {'s':>5} {'deg':>5}  "
        + "  ".join(f"{'peak%/onset':>11}" for _ in muscles)
        + f"  {'min % MVC':>14}",
        file=out,
    )
    truth = session.truth
    agree = 0
    for rep in reps:
        cells = []
        for m in muscles:
            mr = rep.muscles[m]
            onset = "-" if mr.onset_ms is None else f"{mr.onset_ms:+.0f}"
            cells.append(f"{mr.peak_pct:5.0f}/{onset:>5}")
        g = rep.relaxation[glute]
        true_rep = matching_truth(rep, truth, offset_s)
        true_relaxed = "?" if true_rep is None else ("yes" if true_rep.muscles[glute].relaxed else "no")
        agree += true_rep is not None and true_rep.muscles[glute].relaxed == g.relaxed
        print(
            f"{rep.index:>3} {rep.start_s + offset_s:6.1f} {rep.concentric_s:5.2f} {rep.rom_deg:5.0f}  "
            + "  ".join(f"{c:>11}" for c in cells)
            + f"  {g.bottom_min_pct:14.1f} {'yes' if g.relaxed else 'NO':>8} {true_relaxed:>6}",
            file=out,
        )
    print(
        f"\nreps found: {len(reps)} (truth {len(truth)}); relaxed verdicts agreeing with truth: "
        f"{agree}/{len(truth)}",
        file=out,
    )
    errors = onset_errors_ms(reps, truth, offset_s)
    if errors.size:
        print(
            f"muscle onsets vs truth (where the noiseless activation crosses rest + 2 % MVC): "
            f"median {np.median(errors):+.0f} ms, median |error| {np.median(np.abs(errors)):.0f} ms "
            f"over {errors.size} onsets (the changepoint onset marks where the EMG leaves rest, "
            f"before that crossing)",
            file=out,
        )
    print(
        "onset: ms from movement onset (negative = before the hip moved); times in session seconds", file=out
    )


def onset_errors_ms(reps: list[Any], truth: list, offset_s: float = 0.0) -> np.ndarray:
    """Detected minus true onset time (ms) for every muscle onset present in both."""
    errors = []
    for rep in reps:
        true_rep = matching_truth(rep, truth, offset_s)
        if true_rep is None:
            continue
        for name, mr in rep.muscles.items():
            true_onset = true_rep.muscles[name].onset_s
            if mr.onset_ms is not None and true_onset is not None:
                errors.append((rep.start_s + offset_s + mr.onset_ms / 1000.0 - true_onset) * 1000.0)
    return np.asarray(errors)


def matching_truth(rep: Any, truth: list, offset_s: float = 0.0) -> Any | None:
    """The true rep whose onset is within 1 s of ``rep``'s start (session time), else None."""
    start = rep.start_s + offset_s
    best = min(truth, key=lambda r: abs(r.onset_s - start), default=None)
    return best if best is not None and abs(best.onset_s - start) < 1.0 else None


def judged_muscle(placements: Sequence[str], exercise: str) -> str:
    """The channel whose relaxation at the bottom the demo reports and compares with the truth:
    the first placed relax target of ``exercise`` (its file's ``metrics.relax_targets``, by
    default its prime movers: ``glute_med`` for the clamshell); when none is placed, the first
    gluteus maximus channel, else the first channel."""
    targets = set(get_exercise(exercise).relax_targets)
    found = [i for i, p in enumerate(placements) if parse_placement(p).muscle in targets]
    found = found or channels_with_role(placements, "glute")
    return placements[found[0] if found else 0]


def _short(placement: str) -> str:
    """A column title: the side suffix dropped (only the suffix: "adductor_longus_r" was
    "adductorong"), at most 11 letters."""
    stem = placement[:-2] if placement.endswith(("_r", "_l")) else placement
    return stem.replace("biceps_femoris", "biceps_fem")[:11]
