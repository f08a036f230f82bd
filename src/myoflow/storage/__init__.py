"""Recordings: HDF5 writer and reader, replay, recovery, importers and exporters.

The names below are the public API of recordings (docs/python-api.md); they are imported on
first use. The modules behind them are internal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from myoflow._lazy import lazy_exports

__all__ = [
    "ClockAnchor",
    "ColumnMap",
    "DeviceInfo",
    "ImportReport",
    "Recorder",
    "RecorderWriteError",
    "Recording",
    "RecordingError",
    "ReplayStats",
    "Replayer",
    "SessionMetadata",
    "StreamView",
    "check_recording",
    "describe_recording",
    "export_bids",
    "export_csv",
    "export_nwb",
    "format_description",
    "import_brainflow",
    "import_csv",
    "import_openbci",
    "import_opensignals",
    "import_uci",
    "import_xdf",
    "open_recording",
    "recover",
]

if TYPE_CHECKING:
    from myoflow.storage._import_types import ImportReport
    from myoflow.storage._import_xdf import import_xdf
    from myoflow.storage._recover import recover
    from myoflow.storage.bids import export_bids
    from myoflow.storage.exporters import export_csv
    from myoflow.storage.import_boards import import_brainflow, import_openbci
    from myoflow.storage.import_text import ColumnMap, import_csv, import_opensignals, import_uci
    from myoflow.storage.nwb import export_nwb
    from myoflow.storage.reader import Recording, RecordingError, StreamView, open_recording
    from myoflow.storage.replay import Replayer, ReplayStats
    from myoflow.storage.schema import ClockAnchor, DeviceInfo, SessionMetadata
    from myoflow.storage.summary import describe_recording, format_description
    from myoflow.storage.validate import check_recording
    from myoflow.storage.writer import Recorder, RecorderWriteError

__getattr__, __dir__ = lazy_exports(__name__, __file__)
