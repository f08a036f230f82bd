"""Reports from recordings: read a recording, run the analysis, render the results.

This package sits above both :mod:`myoflow.analysis` (the metrics, which know no files) and
:mod:`myoflow.storage` (the recordings, which know no metrics); :mod:`myoflow.reports.plot` also
draws with Qt.
"""
