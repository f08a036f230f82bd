"""Sound biofeedback: the mixer's rendering, the spoken phrases, and the real sound path.

The real-path test plays a scripted rep through PortAudio into a PulseAudio null sink that
``scripts/with_pulse.sh`` starts (and stops) for it, records the sink back with parec and checks
which cues came out, their order and spacing, and the tone's pitch (``sound_scenario.py``).
The mixer tests render into a buffer (the same ``Mixer.render`` the audio callback calls).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from myoflow.feedback.mixer import Mixer
from myoflow.feedback.sounds import CHIME_HZ, WARNING_HZ, chime, tone_hz, warning

ROOT = Path(__file__).resolve().parents[2]


def _peak_hz(x: np.ndarray, fs: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.argmax(spectrum) * fs / x.size)


def test_cue_sounds_are_told_apart_by_their_spectrum() -> None:
    fs = 48000
    c, w = chime(fs), warning(fs)
    assert abs(_peak_hz(c[: int(0.15 * fs)], fs) - CHIME_HZ[0]) < 15
    assert abs(_peak_hz(w, fs) - WARNING_HZ) < 15
    assert np.max(np.abs(c)) <= 1.0 and np.max(np.abs(w)) <= 1.0
    assert abs(c[0]) < 1e-3 and abs(c[-1]) < 1e-2  # faded in and out: no click
    assert tone_hz(0.0) == 300.0 and tone_hz(100.0) == 600.0 and tone_hz(500.0) == 1200.0
    assert tone_hz(float("nan")) == 300.0


def test_mixer_renders_queued_sounds_sample_exact_with_volume_and_mute() -> None:
    mixer = Mixer(48000, volume=0.5)
    c = chime(48000)
    record = mixer.post("chime", c)
    blocks = [mixer.render(256, output_delay_s=0.01) for _ in range(c.size // 256 + 2)]
    out = np.concatenate(blocks)
    np.testing.assert_allclose(out[: c.size], 0.5 * c, atol=1e-6)
    assert not np.any(out[c.size :])
    assert record.start_sample == 0 and record.latency_s is not None and 0.0 <= record.latency_s < 1.0
    mixer.muted = True
    mixer.post("chime", c)
    assert not np.any(mixer.render(1024))


def test_the_tone_glides_on_and_off_without_clicks() -> None:
    mixer = Mixer(48000, volume=1.0)
    mixer.set_tone(tone_hz(60.0))
    on = np.concatenate([mixer.render(256) for _ in range(40)])
    mixer.set_tone(tone_hz(100.0))
    higher = np.concatenate([mixer.render(256) for _ in range(40)])
    mixer.set_tone(None)
    off = np.concatenate([mixer.render(256) for _ in range(4)])
    whole = np.concatenate([on, higher, off])
    assert np.max(np.abs(np.diff(whole))) < 2 * np.pi * 600.0 / 48000 * 0.36  # phase-continuous
    assert abs(_peak_hz(on[2048:], 48000) - tone_hz(60.0)) < 12
    assert abs(_peak_hz(higher[2048:], 48000) - 600.0) < 12
    assert not np.any(off[256:])


def test_spoken_phrases_render_offline_with_espeak(tmp_path: Path) -> None:
    from myoflow.feedback.voice import PHRASES, load_phrase, render_phrases

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is missing: apt-get install espeak-ng (scripts/ensure_system_libs.sh audio)")
    paths = render_phrases(tmp_path)
    assert set(paths) == set(PHRASES)
    again = render_phrases(tmp_path)  # cached: not rendered twice
    assert {k: p.stat().st_mtime_ns for k, p in again.items()} == {
        k: p.stat().st_mtime_ns for k, p in paths.items()
    }
    relax, longer = load_phrase(paths["relax"], 48000), load_phrase(paths["squeeze"], 48000)
    assert 0.2 < relax.size / 48000 < 1.5 and longer.size > relax.size
    assert 0.5 < float(np.max(np.abs(relax))) <= 0.9 + 1e-6


def test_cues_come_out_of_a_real_sound_server_in_order_and_on_time() -> None:
    for tool, package in (
        ("pulseaudio", "pulseaudio"),
        ("parec", "pulseaudio-utils"),
        ("espeak-ng", "espeak-ng"),
    ):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is missing: apt-get install {package} (scripts/ensure_system_libs.sh audio)")
    scenario = Path(__file__).with_name("sound_scenario.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE")}
    args = ["bash", str(ROOT / "scripts" / "with_pulse.sh"), sys.executable, str(scenario)]
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"the sound scenario timed out\n{out}\n{err}")
    assert proc.returncode == 0 and "SOUND OK" in out, out + err[-3000:]
