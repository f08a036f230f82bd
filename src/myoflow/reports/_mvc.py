"""Normalisation references of an offline analysis, and where each came from.

* :func:`mvc_from_trials`: MVC references measured in separate trial recordings (one or
  several files; per muscle the largest over the files), with the same zero-phase envelope
  the analysis uses;
* :func:`recording_mains`: the mains frequency of a recording's notch filters;
* :func:`normalisation`: the references of every EMG channel from, in this order, the
  caller's ``mvc`` values, the trial files and the recording's ``mvc_references``
  (:func:`myoflow.analysis.normalisation.resolve_mvc`), the method and unit label, and the
  per-muscle record stored in the report.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from myoflow.analysis.mains import MAX_S, resolve_mains, stored_mains
from myoflow.analysis.normalisation import METHODS, UNITS, ChannelKey, lookup_mvc, resolve_mvc
from myoflow.dsp.normalise import mvc_reference
from myoflow.dsp.pipeline import profile_for_rate

__all__ = ["mvc_from_trials", "normalisation", "recording_mains", "trial_paths"]


def recording_mains(rec: Any, view: Any, given: float | None | str) -> tuple[float | None, str]:
    """``(mains_hz, how)`` for ``rec`` (:func:`~myoflow.analysis.mains.resolve_mains`); the
    first EMG stream ``view`` is read (up to ``MAX_S`` s) only when the spectrum must decide."""
    settings = rec.metadata.filter_settings
    head = None
    if given == "auto" and stored_mains(settings) is None:
        n = min(view.n_samples, int(MAX_S * view.rate))
        head = view.physical(0, n)
        if n and len(view.gap_table):  # the rows on their sample grid, lost samples as NaN
            pos = view.sample_indices(0, n)
            pos = pos - pos[0]
            grid = np.full((int(pos[-1]) + 1, head.shape[1]), np.nan)
            grid[pos] = head
            head = grid
    return resolve_mains(given, settings, head, float(view.rate))


def trial_paths(mvc_from: Any) -> list[Path]:
    """The trial files of ``mvc_from`` (a path or a sequence of paths); [] for None."""
    if mvc_from is None:
        return []
    items = [mvc_from] if isinstance(mvc_from, (str, os.PathLike)) else list(mvc_from)
    for p in items:
        if not isinstance(p, (str, os.PathLike)):
            raise ValueError(f"mvc_from must be a path or a list of paths, got {p!r}")
    return [Path(p) for p in items]


def mvc_from_trials(
    paths: Sequence[str | os.PathLike[str]],
    mains_hz: float | None | str = "auto",
    rate_hz: float | None = None,
    warnings: list[str] | None = None,
) -> tuple[list[tuple[str, dict[str, float]]], list[str]]:
    """MVC references (envelope uV) per muscle from MVC trial recordings.

    Each file's EMG gets the analysis envelope (its own mains frequency: ``mains_hz``, or with
    ``"auto"`` the file's stored or detected one); a channel's reference is the largest 0.5 s
    mean of it (``dsp.normalise.mvc_reference``). Channels are keyed by canonical placement
    (else ``stream/label``). A muscle in several files takes the largest. A file whose EMG rate
    has another filter profile than ``rate_hz`` (the analysed session's, Hz; e.g. 200 Hz
    against 1 kHz) adds a sentence to ``warnings``: references depend on the profile
    (docs/metrics.md, Normalisation).

    Returns
    -------
    sources, notes
        ``[("trial file NAME", {muscle: uV})]`` with each muscle under the file that gave its
        maximum (the form :func:`~myoflow.analysis.normalisation.resolve_mvc` takes), and
        notes on what was left out. ``RecordingError`` for an unreadable file; ``ValueError``
        for a file with no EMG.
    """
    from myoflow.reports._inputs import emg_envelopes
    from myoflow.storage.reader import open_recording

    best: dict[str, tuple[float, str]] = {}
    notes: list[str] = []
    for path in paths:
        with open_recording(path) as rec:
            views = [v for v in rec.streams.values() if v.info.kind == "emg" and v.n_samples > 1]
            if not views:
                raise ValueError(f"{path}: an MVC trial file needs an EMG stream; it has none")
            base = views[0]
            if rate_hz is not None and warnings is not None:
                theirs, ours = profile_for_rate(float(base.rate)).name, profile_for_rate(float(rate_hz)).name
                if theirs != ours:
                    warnings.append(
                        f"MVC trial {Path(path).name} is at {float(base.rate):g} Hz ({theirs} filter "
                        f"profile), this recording at {float(rate_hz):g} Hz ({ours}): envelope references "
                        "depend on the filters, so its % MVC is not the same scale (record MVC trials at "
                        "the session's rate)"
                    )
            mains, _ = recording_mains(rec, base, mains_hz)
            file_notes: list[str] = []
            env, names, _, _ = emg_envelopes(views, mains, file_notes)
            for c, name in enumerate(names):
                try:
                    value = float(mvc_reference(env[:, c], float(base.rate))[0])
                except ValueError:
                    notes.append(f"MVC trial {Path(path).name}: {name} has no 0.5 s of data; left out")
                    continue
                if np.isfinite(value) and value > 0 and value > best.get(name, (0.0, ""))[0]:
                    best[name] = (value, Path(path).name)
    by_file: dict[str, dict[str, float]] = {}
    for name, (value, fname) in best.items():
        by_file.setdefault(f"trial file {fname}", {})[name] = value
    order = [f"trial file {Path(p).name}" for p in paths]
    return [(k, by_file[k]) for k in dict.fromkeys(order) if k in by_file], notes


def normalisation(
    method: str,
    mvc: Mapping[str, Any] | Sequence[float] | None,
    trials: list[tuple[str, dict[str, float]]],
    metadata_refs: Mapping[str, Any] | None,
    names: list[str],
    channels: Mapping[str, Mapping[str, str]],
    notes: list[str],
) -> tuple[np.ndarray | None, dict[str, Any]]:
    """``(references (ch,) uV or None for % session peak, the report's normalisation record)``.

    ``method`` is one of :data:`~myoflow.analysis.normalisation.METHODS`. ``mvc`` maps
    placement (any spelling), channel label or ``stream/label`` to uV, or is one value per
    channel in ``names`` order (``ValueError`` for a wrong length). The record: ``method``,
    ``unit``, ``references`` ``{muscle: {"value_uv", "source"}}`` and ``missing`` (channels
    with no reference).
    """
    if method not in METHODS:
        raise ValueError(f"normalisation must be one of {', '.join(METHODS)}, got {method!r}")
    given: Mapping[str, Any] | None
    if mvc is not None and not isinstance(mvc, Mapping):
        arr = np.asarray(mvc, dtype=np.float64).reshape(-1)
        if arr.size != len(names):
            raise ValueError(f"mvc has {arr.size} value(s) but the recording has {len(names)} EMG channel(s)")
        given = dict(zip(names, arr.tolist(), strict=True))
    else:
        given = mvc
    keys = [
        ChannelKey(channels[n]["stream"], channels[n]["channel"], n if "/" not in n else None) for n in names
    ]
    for name in _unmatched(given, keys):
        notes.append(
            f"MVC reference {name!r} (mvc/--mvc) names no EMG channel of this recording "
            f"({', '.join(names)}): not used"
        )
    for where, refs in trials:
        if unused := _unmatched(refs, keys):
            notes.append(
                f"MVC {where}: {', '.join(unused)} name(s) no EMG channel of this recording "
                f"({', '.join(names)}): not used"
            )
    sources = [("mvc argument", given), *trials, ("recording metadata", metadata_refs)]
    found = resolve_mvc(sources, keys)
    missing = [n for n, r in zip(names, found, strict=True) if r is None]
    record: dict[str, Any] = {"method": "session_peak", "unit": UNITS["session_peak"], "references": {}}
    record["missing"] = missing
    if method == "session_peak":
        notes.append("normalisation session_peak: levels are % of each channel's session peak")
        return None, record
    if not any(found):
        if method in ("mvc", "submaximal"):
            raise ValueError(
                f"normalisation {method!r} needs a reference for every EMG channel; none found for "
                f"{', '.join(names)} (give mvc/--mvc, mvc_from/--mvc-from or record them)"
            )
        notes.append("no MVC references: levels are % session peak")
        return None, record
    if missing:
        if method in ("mvc", "submaximal"):
            raise ValueError(
                f"normalisation {method!r} needs a reference for every EMG channel; none for "
                f"{', '.join(missing)}"
            )
        notes.append(f"no MVC reference for {', '.join(missing)}: all levels are % session peak")
        return None, record
    kind = "submaximal" if method == "submaximal" else "mvc"
    record.update(method=kind, unit=UNITS[kind])
    record["references"] = {
        n: {"value_uv": r.value_uv, "source": r.source} for n, r in zip(names, found, strict=True) if r
    }
    return np.asarray([r.value_uv for r in found if r is not None]), record


def _unmatched(given: Mapping[str, Any] | None, keys: Sequence[ChannelKey]) -> list[str]:
    """The keys of the caller's references that name none of the channels ``keys`` (a typo, or
    a muscle this recording lacks), by the same look-up the analysis uses."""
    if not given:
        return []
    return [
        k
        for k, v in given.items()
        if not any(lookup_mvc({k: v}, c.stream, c.channel, c.placement) for c in keys)
    ]
