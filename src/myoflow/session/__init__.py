"""The wiring of a recording session: straps -> ingest -> recorder and live sinks.

* :mod:`~myoflow.session.run`: :func:`run_session` (the ingest thread) and :class:`FanOut`.
* :mod:`~myoflow.session.recorder_sink`: the sink that records to HDF5.
* :mod:`~myoflow.session.live`: MVC calibration of the live envelope and a replay summary sink.
* :mod:`~myoflow.session.calibration`: the MVC calibration steps, without Qt.
* :mod:`~myoflow.session.guided_mvc`: timed console cues for ``myoflow record --calibrate-mvc``.
* :mod:`~myoflow.session.recording`: :func:`record_session` (recorder + guided calibration), the
  calibration's timing.
* :mod:`~myoflow.session.straps`: real straps' configs and their ingest opener.

The contracts the wiring fits together with are in :mod:`myoflow.stream` (``Sink``, ``Clock``).
"""
