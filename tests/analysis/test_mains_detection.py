"""Mains detection on signals the detector was not tuned on: the independent burst generator
(:mod:`myoflow.synth.bursts`), whose EMG bursts bury a few uV of hum while its rests show it."""

from __future__ import annotations

import pytest

from myoflow.analysis.mains import detect_mains
from myoflow.synth.bursts import SHAPE_CLASSES, TrialConfig, generate_trial


@pytest.mark.parametrize("fs", [200.0, 1000.0, 2000.0])
def test_a_few_uv_of_hum_between_bursts_is_found_in_six_seconds(fs: float) -> None:
    for shape in SHAPE_CLASSES:
        for hz in (50.0, 60.0):
            cfg = TrialConfig(shape=shape, fs=fs, duration_s=6.0, snr=10.0, mains_hz=hz, mains_uv=5.0)
            assert detect_mains(generate_trial(cfg).emg, fs) == hz, (shape, hz)


@pytest.mark.parametrize("fs", [200.0, 1000.0, 2000.0])
def test_no_hum_gives_no_answer_even_with_ecg_and_motion(fs: float) -> None:
    for shape in SHAPE_CLASSES:
        for seed, extra in enumerate(({}, {"ecg_uv": 40.0}, {"artefact_uv": 80.0, "wander_uv": 30.0})):
            for seconds in (3.0, 6.0):
                cfg = TrialConfig(shape=shape, fs=fs, duration_s=seconds, seed=seed, **extra)
                assert detect_mains(generate_trial(cfg).emg, fs) is None, (shape, extra, seconds)
