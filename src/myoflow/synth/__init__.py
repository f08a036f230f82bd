"""Synthetic sessions with known ground truth, for tests, benchmarks and the demo.

The generator builds its signals in the frequency domain and from closed-form movement
profiles; it shares no code with the detectors it is used to check (``myoflow.dsp``,
``myoflow.analysis``).
"""
