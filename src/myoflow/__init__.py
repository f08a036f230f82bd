"""myoflow: wearable EMG and IMU straps, from Bluetooth LE notifications to exercise analytics.

The public API is what this package and its faces export (``__all__`` of ``myoflow``,
``myoflow.storage``, ``myoflow.analysis``, ``myoflow.dsp``, ``myoflow.reports``,
``myoflow.synth``, ``myoflow.devices``, ``myoflow.lsl``; listed in docs/python-api.md). Every
other module path is internal and may change without notice.

Importing the package is cheap: the names are imported on first use, so ``import myoflow``
loads no numpy, h5py, Bluetooth or Qt; ``myoflow.open_recording`` loads the HDF5 reader.

Examples
--------
>>> import myoflow as mf
>>> report = mf.analyze("recordings/glute_bridge_virtual.h5")  # doctest: +SKIP
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from myoflow._lazy import lazy_exports

try:
    __version__ = version("myoflow")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "__version__",
    "BatchResult",
    "Block",
    "Event",
    "Gap",
    "MissingExtraError",
    "NothingToAnalyse",
    "Recording",
    "RecordingError",
    "Report",
    "StreamInfo",
    "analyze",
    "batch_analyze",
    "compare_reports",
    "export_csv",
    "open_recording",
    "read_table",
    "track_progress",
]

if TYPE_CHECKING:
    from myoflow._extras import MissingExtraError
    from myoflow.analysis.report import Report
    from myoflow.analysis.retest import compare_reports
    from myoflow.reports._analyze import NothingToAnalyse, analyze
    from myoflow.reports.batch import BatchResult, batch_analyze, read_table
    from myoflow.reports.progress import track_progress
    from myoflow.storage.exporters import export_csv
    from myoflow.storage.reader import Recording, RecordingError, open_recording
    from myoflow.stream import Block, Event, Gap, StreamInfo

__getattr__, __dir__ = lazy_exports(
    __name__,
    __file__,
    submodules=("analysis", "devices", "dsp", "lsl", "reports", "storage", "stream", "synth"),
)
