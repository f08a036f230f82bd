"""Fixtures of the report tests: a Report of a synthetic session made without a file."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from myoflow.analysis.report import Report, Signals
from myoflow.analysis.reps import movement_angle
from myoflow.analysis.session_metrics import analyse_arrays
from myoflow.dsp.imu import SagittalTiltFilter
from myoflow.dsp.normalise import mvc_reference
from myoflow.dsp.pipeline import envelope_offline, profile_for_rate
from myoflow.synth.calibration import mvc_trial
from myoflow.synth.config import SessionConfig
from myoflow.synth.session import SyntheticSession, generate_session


def synthetic_report(cfg: SessionConfig, name: str = "synthetic.h5") -> tuple[SyntheticSession, Report]:
    """Generate ``cfg``, run the metric core in % MVC and wrap it as a Report with its signals."""
    session = generate_session(cfg)
    fs = cfg.emg_rate
    profile = profile_for_rate(fs, cfg.hum_hz)
    env = envelope_offline(session.emg, fs, profile)
    mvc = mvc_reference(envelope_offline(mvc_trial(cfg).emg, fs, profile), fs)
    phi = {
        seg: SagittalTiltFilter(cfg.imu_rate).process(acc, gyro) for seg, (acc, gyro) in session.imu.items()
    }
    movement = movement_angle(phi["pelvis"], phi["thigh"])
    metrics = analyse_arrays(env, fs, session.placements, mvc, movement, cfg.imu_rate)
    norm = (env * (100.0 / np.asarray(mvc, np.float32))).astype(np.float32)
    report = Report(
        source={
            "file": name,
            "subject_id": "S01",
            "exercise": "glute_bridge",
            "start_utc": None,
            "duration_s": env.shape[0] / fs,
        },
        movement={"source": "hip", "description": movement.description, "angle_rate_hz": cfg.imu_rate},
        metrics=metrics,
        emg_rate_hz=fs,
        signals=Signals(norm, fs, movement.angle_deg, cfg.imu_rate),
    )
    return session, report


@pytest.fixture(scope="session")
def make_report():
    """``make_report(cfg, name)`` -> ``(session, report)``: see :func:`synthetic_report`."""
    return synthetic_report


@pytest.fixture(scope="session")
def poppler():
    """``poppler(tool, *args)`` -> the tool's standard output (text): pdfinfo, pdftotext or
    pdftoppm from poppler-utils, a PDF reader myoflow did not write. Skips when it is missing."""

    def run(tool: str, *args: str) -> str:
        path = shutil.which(tool)
        if path is None:
            pytest.skip(f"{tool} is missing: apt-get install poppler-utils (scripts/ensure_system_libs.sh)")
        return subprocess.run([path, *args], capture_output=True, text=True, check=True).stdout

    return run
