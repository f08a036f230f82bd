"""Analyse a recording: reps and phases, activation per muscle, relaxation between reps,
hip-extension handover, eccentric hold and co-contraction (see docs/analysis-report.md).

The channels' placements (glute_max_r, biceps_femoris_r, ...) come from the recording; the
movement angle from pelvis/thigh IMUs, a hip or knee angle stream, or (none worn) the EMG.
Prints a short text report, or --json (the documented JSON report) or --csv (one row per rep);
--plot also writes a picture of envelopes, angle, phases, crossovers and relaxation windows,
--plot-reps one panel per rep (PNG, PDF or SVG by the file's extension; docs/reports.md).
Warnings (unknown placements, reps found without a movement angle, cycles instead of reps) go
to stderr. Levels are % MVC with references from --mvc, --mvc-from trial files or the
recording (see docs/metrics.md, Normalisation), else % session peak.

Exit code: 0 with results (metrics that lack channels are listed with the reason), 1 when the
file cannot be read, 2 when nothing can be analysed (no EMG stream, or no complete rep; the
report is still printed when there is one) or for invalid arguments.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from myoflow.commands._shared import about_file, add_analysis_options, analysis_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a myoflow HDF5 recording (.h5)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the JSON report")
    out.add_argument("--csv", action="store_true", help="print one CSV row per rep")
    parser.add_argument(
        "--plot", metavar="FILE", help="also write a plot of the session to this .png, .pdf or .svg file"
    )
    parser.add_argument(
        "--plot-reps", metavar="FILE", help="also write one panel per rep to this .png, .pdf or .svg file"
    )
    add_analysis_options(parser, exercise_help="exercise name (default: from the recording)")


def run(args: argparse.Namespace) -> int:
    from myoflow.reports._analyze import NothingToAnalyse, analyze
    from myoflow.reports.figures import check_format
    from myoflow.storage.schema import RecordingError

    where = "myoflow analyze"
    _small_pages()
    plots = [(p, kind) for p, kind in ((args.plot, "session"), (args.plot_reps, "reps")) if p]
    try:
        for p, _ in plots:
            check_format(p)
    except ValueError as exc:
        print(f"{where}: {exc}", file=sys.stderr)
        return 2
    try:
        options = analysis_options(args)
    except ValueError as exc:  # a malformed --mvc
        print(f"{where}: {exc}", file=sys.stderr)
        return 2
    try:
        report = analyze(args.file, **options, keep_signals=bool(plots))  # envelopes only to plot
    except NothingToAnalyse as exc:
        print(f"{where}: {exc}", file=sys.stderr)
        return 2
    except RecordingError as exc:
        print(f"{where}: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # e.g. --min-rep-frac out of range, EMG too slow to filter
        print(f"{where}: {about_file(args.file, exc)}", file=sys.stderr)
        return 2
    for warning in report.warnings:
        print(f"{where}: warning: {warning}", file=sys.stderr)
    if args.json:
        print(report.to_json())
    elif args.csv:
        sys.stdout.write(report.to_csv())
    else:
        print(format_report(report))
    for option, kind in plots:
        if kind == "session" or report.reps:
            from myoflow.reports.plot import plot_report, plot_reps

            try:
                (plot_report if kind == "session" else plot_reps)(report, None, option)
            except (OSError, ValueError) as exc:
                print(f"{where}: cannot write the plot {option}: {exc}", file=sys.stderr)
                return 1
            print(f"plot written to {option}", file=sys.stderr)
    if not report.reps:
        print(f"{where}: {args.file}: no complete rep found; nothing analysed", file=sys.stderr)
        return 2
    return 0


def _small_pages() -> None:
    """Have NumPy stop asking the kernel for huge pages (``madvise``) for its large arrays, in
    this process: the analysis makes many short-lived arrays of tens of MB, and where the kernel
    compacts memory to find huge pages at fault time (transparent huge pages with
    ``defrag=madvise``, as on the machine this was measured on) that cost ~2.2 s of system time
    in the analysis of a 1-hour 8-channel 2 kHz recording (3.35 -> 1.2 s; user time unchanged;
    docs/signal-core.md). Arrays and numbers are unchanged."""
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:  # numpy < 2
        try:
            from numpy.core.multiarray import _set_madvise_hugepage
        except ImportError:
            return
    _set_madvise_hugepage(False)


def format_report(report: Any) -> str:
    """A short human-readable report: session, what is missing, one line per rep and muscle."""
    d = report.to_dict()
    s, src = d["session"], d["source"]
    lines = [
        f"{src['file']}: {src['exercise'] or 'exercise not given'}, subject {src['subject_id'] or '-'}",
        f"movement: {d['movement']['description']}",
        f"{s['n_reps']} {s.get('rep_kind') or 'rep'}(s) in {s['n_sets']} set(s); levels in {s['level_unit']}",
    ]
    refs = s["normalisation"].get("references") or {}
    lines += [f"  reference {m}: {r['value_uv']:.1f} uV ({r['source']})" for m, r in refs.items()]
    if s.get("mains_hz") is not None:
        lines.append(f"  mains: {s['mains_hz']:g} Hz, {s['mains_source']}")
    lines += [f"  WARNING: {w}" for w in s["warnings"]]
    lines += [f"  note: {n}" for n in s["notes"]]
    lines += [f"  not available: {k}: {v}" for k, v in s["unavailable"].items()]
    for rep in d["reps"]:
        dur = rep["durations_s"]
        head = (
            f"{s['rep_kind']} {rep['index']} (set {rep['set_index']}): concentric {dur['concentric']:.2f} s"
        )
        if rep["rom_deg"] is not None:
            head += f", range {rep['rom_deg']:.0f} deg"
        if rep["partial"]:
            head += ", PARTIAL"
        h = rep["handover"]
        if h is not None:
            if h["crossover_ms"] is None:
                head += ", no crossover"
            else:
                head += f", crossover {h['crossover_ms']:+.0f} ms"
                if h["crossover_angle_deg"] is not None:
                    head += f" at {h['crossover_angle_deg']:.0f} deg"
            if h["stall"] is not None:
                head += f", stall {h['stall']['duration_s']:.2f} s"
        lines.append(head)
        for m, act in rep["muscles"].items():
            rel = rep["relaxation"][m]
            onset = "-" if act["onset_ms"] is None else f"{act['onset_ms']:+.0f} ms"
            lines.append(
                f"    {m:<22} peak {_num(act['peak_pct'])} mean {_num(act['mean_pct'])} onset {onset:>8}"
                f"  {'relaxed' if rel['relaxed'] else 'NOT relaxed'} (min {_num(rel['bottom_min_pct'])})"
            )
    return "\n".join(lines + _extras_lines(d))


def _extras_lines(d: dict[str, Any]) -> list[str]:
    """Fatigue and symmetry per set and muscle, tempo against the exercise, what the ensembles hold."""
    s = d["session"]
    lines: list[str] = []
    fat = s.get("fatigue")
    if fat:
        lo, hi = fat["band_hz"]
        lines.append(
            f"fatigue (Welch {fat['segment_s']:g} s Hann, {fat['window']} phase, {lo:g}-{hi:g} Hz; "
            "MDF down and RMS up over the set = fatigue):"
        )
        for st in d["sets"]:
            for m, f in (st.get("fatigue") or {}).items():
                p = "-" if f["mdf_p"] is None else f"{f['mdf_p']:.2f}"
                verdict = "FATIGUE" if f["fatigue"] else f"no fatigue flag (trend: {f['quadrant'] or '-'})"
                lines.append(
                    f"  set {st['index']} {m:<22} MDF {_num(f['mdf_hz'])} Hz, "
                    f"slope {_signed(f['mdf_slope_hz_per_rep'])} Hz/rep (p {p}), "
                    f"RMS {_signed(f['rms_slope_pct_per_rep'])} %/rep: "
                    f"{verdict}"
                )
    sym = s.get("symmetry")
    if sym:
        lines.append("symmetry (SI = 100 (L - R) / mean of L and R; 0 = symmetric, + = left larger):")
        for st in d["sets"]:
            for m, y in (st.get("symmetry") or {}).items():
                lines.append(
                    f"  set {st['index']} {m:<22} SI peak {_signed(y['si_peak_pct'])} % "
                    f"(rep SD {_num(y['si_peak_sd_pct'])}), mean {_signed(y['si_mean_pct'])} %, "
                    f"LSI {_num(y['lsi_peak_pct'])} %, onset L-R {_signed(y['onset_diff_ms'])} ms"
                )
    tempo = d["movement"].get("tempo") or []
    if tempo:
        parts = []
        for p in tempo:
            off = [f"{len(p[k])} {w}" for k, w in (("short_reps", "short"), ("long_reps", "long")) if p[k]]
            parts.append(
                f"{p['phase']} {p['median_s']:.1f} s (target {p['target_s']:g} s"
                + (f"; {', '.join(off)} of {len(p['seconds'])})" if off else ", on target)")
            )
        lines.append("tempo (median per phase): " + "; ".join(parts))
    ens = d.get("ensembles") or {}
    if ens:
        parts = ", ".join(f"{phase} {e['n_reps']} reps" for phase, e in ens.items())
        lines.append(f"ensemble curves (0-100 % of each phase, mean +- SD in the JSON): {parts}")
    return lines


def _signed(v: float | None) -> str:
    return "-" if v is None else f"{v:+.1f}"


def _num(v: float | None) -> str:
    return "   -" if v is None else f"{v:5.1f}"
