"""Options several subcommands share, defined once: analysis tuning, Lab Streaming Layer,
positive numbers and channel placements."""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from myoflow.stream import StreamInfo


def positive(text: str) -> float:
    """An argparse ``type``: a positive finite number (``--seconds 0`` exits 2 with a message)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def check_virtual_options(args: argparse.Namespace) -> None:
    """``--virtual`` with ``--device``/``--profile`` is a ValueError naming them (they choose real
    straps; a virtual rig has its own profiles, and silently ignoring them records the wrong thing)."""
    if not getattr(args, "virtual", False):
        return
    chosen = {name: getattr(args, name, None) or [] for name in ("device", "profile")}
    given = [f"--{name} {', '.join(map(str, values))}" for name, values in chosen.items() if values]
    if given:
        raise ValueError(
            "--virtual streams the built-in virtual straps with their own profiles; "
            f"{' and '.join(given)} are for real straps: drop one or the other"
        )


def parse_placements(items: list[str]) -> dict[str, dict[str, str]]:
    """``["diy/emg:ch1=glute_max_l", ...]`` -> ``{"diy/emg": {"ch1": "glute_max_l"}}``."""
    out: dict[str, dict[str, str]] = {}
    for item in items:
        stream, sep, rest = item.rpartition(":")
        channel, eq, placement = rest.partition("=")
        if not (sep and eq and stream and channel and placement):
            raise ValueError(
                "--placement must look like STREAM:CHANNEL=PLACEMENT (e.g. diy/emg:ch1=glute_max_r), "
                f"got {item!r}"
            )
        out.setdefault(stream, {})[channel] = placement
    return out


def exercise_arg(value: str) -> str:
    """``--exercise`` value: a name, alias or ``.toml`` path of :mod:`myoflow.exercises` ->
    the exercise's name (a user file is validated and registered); a one-line usage error
    naming the file and field, or the known names, otherwise."""
    from myoflow.exercises import ExerciseError, get_exercise

    try:
        return get_exercise(value).name
    except ExerciseError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_exercise_option(parser: argparse.ArgumentParser, help: str, default: str | None = None) -> None:
    """``--exercise NAME_OR_TOML`` (:func:`exercise_arg`); ``myoflow exercises`` lists the names."""
    parser.add_argument("--exercise", metavar="NAME_OR_TOML", type=exercise_arg, default=default, help=help)


def add_analysis_options(parser: argparse.ArgumentParser, exercise_help: str) -> None:
    """The options that tune the analysis (``myoflow analyze``, ``myoflow batch``)."""
    add_exercise_option(parser, exercise_help)
    parser.add_argument(
        "--angle",
        choices=("auto", "imu", "angle", "emg"),
        default="auto",
        help="movement angle source (default auto: IMUs, then angle streams, then EMG only)",
    )
    parser.add_argument(
        "--min-rep-frac",
        type=float,
        metavar="F",
        help="a rep must extend the angle by this fraction of the range and return to half of it "
        "(default 0.12; raise it, e.g. 0.35, when the rest position drifts between reps)",
    )
    parser.add_argument(
        "--mains",
        choices=("auto", "50", "60"),
        default="auto",
        help="mains frequency in Hz (default auto: the recording's stored value, else detected "
        "from the EMG spectrum, else 50)",
    )
    parser.add_argument(
        "--mvc",
        metavar="MUSCLE=UV",
        action="append",
        default=[],
        help="MVC reference of a muscle in envelope uV, e.g. glute_max_r=263 (repeat, or "
        "comma-separate); comes before --mvc-from and the recording's references",
    )
    parser.add_argument(
        "--mvc-from",
        metavar="TRIAL.h5",
        nargs="+",
        action="extend",
        default=[],
        help="MVC trial recording(s): each muscle's reference is its largest 0.5 s envelope "
        "mean over these files",
    )
    from myoflow.analysis.onset_names import ONSET_METHOD_HELP

    described = "; ".join(f"{name}: {text}" for name, text in ONSET_METHOD_HELP.items())
    parser.add_argument(
        "--onset-method",
        choices=tuple(ONSET_METHOD_HELP),
        help=f"muscle onset method ({described}; the classic "
        "detectors take the analysis' rest window as their rest period; docs/metrics.md, Onset "
        "methods)".replace("%", "%%"),
    )
    parser.add_argument(
        "--normalise",
        choices=("auto", "mvc", "submaximal", "session-peak"),
        default="auto",
        help="auto (default): %% MVC when every muscle has a reference, else %% session peak; "
        "mvc or submaximal: references required (submaximal levels read '%% reference "
        "contraction'); session-peak: ignore references",
    )


def parse_mvc_values(items: list[str]) -> dict[str, float]:
    """``["glute_max_r=263", "bf_r=180,st_r=150"]`` -> ``{muscle: uV}``; ValueError naming a bad item,
    or a muscle given twice (in any two spellings: which value would count is not obvious)."""
    from myoflow.analysis.placement import parse_placement

    out: dict[str, float] = {}
    seen: dict[str, str] = {}
    for item in (part.strip() for text in items for part in text.split(",")):
        if not item:
            continue
        key, sep, value = item.rpartition("=")
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not sep or not key.strip() or not number > 0 or number == float("inf"):
            raise ValueError(
                f"--mvc {item!r}: expected MUSCLE=UV with a positive number of uV, e.g. glute_max_r=263"
            )
        key = key.strip()
        place = parse_placement(key)
        muscle = f"{place.muscle}_{place.side}" if place.kind == "muscle" else key
        if muscle in seen:
            raise ValueError(
                f"--mvc {item!r}: {muscle} was already given ({seen[muscle]}): give one value per muscle "
                "(several MVC trials: --mvc-from takes the largest per muscle)"
            )
        seen[muscle] = item
        out[key] = number
    return out


def analysis_options(args: argparse.Namespace) -> dict[str, Any]:
    """:func:`~myoflow.reports.analyze` keywords from :func:`add_analysis_options`;
    ValueError for a malformed ``--mvc``."""
    mvc = parse_mvc_values(args.mvc)
    params = None
    if getattr(args, "onset_method", None):
        from myoflow.analysis.activation import ActivationParams

        params = ActivationParams(onset_method=args.onset_method)
    return {
        "exercise": args.exercise,
        "angle_source": args.angle,
        "mains_hz": "auto" if args.mains == "auto" else float(args.mains),
        "mvc": mvc or None,
        "mvc_from": list(args.mvc_from) or None,
        "normalisation": args.normalise.replace("-", "_"),
        "rep_options": {} if args.min_rep_frac is None else {"min_rep_frac": args.min_rep_frac},
        "params": params,
    }


def about_file(path: str, exc: BaseException) -> str:
    """``exc``'s message, led by the file ``path`` unless it names the file already (an error
    raised deep in the analysis, such as a filter impossible at the file's rate, names no file)."""
    import os

    text = str(exc)
    return text if str(path) in text or os.path.basename(str(path)) in text else f"{path}: {text}"


def add_lsl_option(parser: argparse.ArgumentParser) -> None:
    """``--lsl`` (``myoflow stream``, ``record``, ``dashboard``)."""
    parser.add_argument(
        "--lsl",
        action="store_true",
        help="also publish the streams, EMG envelopes and markers over Lab Streaming Layer "
        "(opt-in: LSL announces them on the local network; see docs/lsl.md)",
    )


def lsl_sinks(args: argparse.Namespace, clock: Any = None) -> tuple[Any, ...]:
    """``(LslSink,)`` with ``--lsl``, else ``()``; on ``clock`` (default: the host clock).

    Raises ``ValueError`` for ``--fast`` on the host clock (LSL carries real time) and
    :class:`myoflow.lsl.LslError` when pylsl is missing.
    """
    if not args.lsl:
        return ()
    if clock is None and getattr(args, "fast", False):
        raise ValueError("--lsl publishes in real time; it cannot be combined with --fast (virtual time)")
    from myoflow.lsl import LslSink

    mains = getattr(args, "mains", None) or 50.0  # not given on the command line: 50 Hz
    return (LslSink(mains_hz=mains) if clock is None else LslSink(clock=clock, mains_hz=mains),)


def placement_warnings(path: str) -> list[str]:
    """One line per channel of the recording at ``path`` whose placement is not a known muscle
    (EMG) or body segment/joint (other kinds), with the closest known names."""
    from myoflow.storage.reader import open_recording

    with open_recording(path) as rec:
        return stream_placement_warnings(view.info for view in rec.streams.values())


def stream_placement_warnings(infos: Iterable[StreamInfo]) -> list[str]:
    """:func:`placement_warnings` for streams (``StreamInfo``), e.g. before a recording starts."""
    from myoflow.analysis.placement import placement_warning

    out = []
    for info in infos:
        for label, place in zip(info.channels, info.placements or (), strict=False):
            problem = placement_warning(place, info.kind) if place else None
            if problem is not None:
                out.append(f"stream {info.name!r} channel {label!r}: {problem}")
    return out
