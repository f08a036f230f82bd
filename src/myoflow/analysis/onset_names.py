"""The onset methods of the analysis: one registry the API, the CLI and the reports read.

This module imports nothing heavy, so the command line can build its ``--onset-method`` choices
and help from it without loading numpy or SciPy. What each method does, its reference and its
measured accuracy: docs/metrics.md, "Onset methods".
"""

from __future__ import annotations

#: The default onset method (the most accurate on independent truth: docs/metrics.md).
DEFAULT_ONSET_METHOD = "changepoint"

#: The classic detectors (:mod:`myoflow.dsp.onset_methods`), run on the band-passed raw EMG with
#: the analysis' rest window as their rest period (:mod:`myoflow.analysis.onset_classic`).
CLASSIC_ONSET_METHODS = ("hodges_bui", "tkeo", "double_threshold")

#: Every onset method -> a short description (the CLI's choices and help text), default first.
ONSET_METHOD_HELP: dict[str, str] = {
    "changepoint": "where the raw EMG's variance leaves rest, with an uncertainty (default)",
    "refined": "a fit of the analysis envelope back to where it left its baseline",
    "threshold": "the analysis envelope's threshold crossing",
    "hodges_bui": "Hodges & Bui 1996: rectified EMG low-passed at 50 Hz above rest mean + 3 SD",
    "tkeo": "Teager-Kaiser energy of the EMG, low-passed at 50 Hz, above rest mean + 8 SD",
    "double_threshold": "Bonato et al. 1998: >= 30 % of 25 ms above 3.84 rest variances",
}

#: Every onset method of the analysis, default first.
ONSET_METHODS: tuple[str, ...] = tuple(ONSET_METHOD_HELP)


def check_onset_method(name: object) -> str:
    """``name`` if it is an onset method, else a one-line ``ValueError`` listing the choices."""
    if name not in ONSET_METHODS:
        raise ValueError(f"unknown onset method {name!r}: choose one of {', '.join(ONSET_METHODS)}")
    return str(name)
