"""The live biofeedback dashboard (pyqtgraph): presentation only.

:mod:`~myoflow.dashboard.model` decides what is drawn without Qt;
:mod:`~myoflow.dashboard.live_source` and :mod:`~myoflow.dashboard.replay_source` run the session
(or a replay) in background threads; :mod:`~myoflow.dashboard.app` runs the window
(:func:`~myoflow.dashboard.app.run_dashboard`). Importing this package loads no Qt.
"""
