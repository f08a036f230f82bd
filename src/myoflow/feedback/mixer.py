"""The one rendering path every feedback sound goes through: queued sounds plus the tone.

:class:`Mixer` is what the audio callback calls (:class:`~myoflow.feedback.player.SoundPlayer`)
and what a buffer render calls when no audio device can run: ``render(n)`` returns the next
``n`` output samples with every queued sound mixed in from its start, the tone (pitch and
on/off glide per block, phase-continuous, no clicks), the volume and mute applied. It notes
when each sound was posted and when its first sample was rendered (for the latency figures).
Thread-safe: the GUI thread posts, the audio thread renders.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from myoflow.feedback.sounds import SAMPLE_RATE

__all__ = ["Mixer", "Played"]


@dataclass
class Played:
    """One posted sound: ``name``, when it was posted (``time.monotonic()``), at which output
    sample it started and when that was rendered (monotonic; None until then) plus the
    output delay the audio library reported for that block (s)."""

    name: str
    posted: float
    start_sample: int | None = None
    rendered: float | None = None
    output_delay_s: float = 0.0

    @property
    def latency_s(self) -> float | None:
        """Posted -> its first sample at the output (render time + the library's output delay)."""
        if self.rendered is None:
            return None
        return self.rendered + self.output_delay_s - self.posted


class Mixer:
    """Mixes the feedback sounds into one mono float32 stream at ``fs`` (module docstring)."""

    def __init__(self, fs: int = SAMPLE_RATE, volume: float = 0.8) -> None:
        self.fs = int(fs)
        self.volume = float(volume)
        self.muted = False
        self.samples_out = 0
        self.log: deque[Played] = deque(maxlen=1000)
        self._lock = threading.Lock()
        self._active: list[tuple[np.ndarray, int, Played]] = []  # samples, position, record
        self._tone_hz: float | None = None
        self._tone_gain = 0.0
        self._phase = 0.0
        self._freq = 440.0

    def post(self, name: str, samples: np.ndarray) -> Played:
        """Queue ``samples`` (mono, at ``fs``) to start with the next rendered block."""
        record = Played(str(name), time.monotonic())
        with self._lock:
            self._active.append((np.asarray(samples, dtype=np.float32), 0, record))
            self.log.append(record)
        return record

    def set_tone(self, hz: float | None) -> None:
        """The continuous tone's pitch (Hz), or None to fade it out."""
        with self._lock:
            self._tone_hz = None if hz is None else float(hz)

    @property
    def tone_hz(self) -> float | None:
        """The tone's pitch now (Hz), None while it is off."""
        return self._tone_hz

    def set_volume(self, volume: float) -> None:
        """Output volume, 0-1."""
        self.volume = float(np.clip(volume, 0.0, 1.0))

    @property
    def busy(self) -> bool:
        """True while a queued sound is still playing (the tone does not count)."""
        with self._lock:
            return bool(self._active)

    def render(self, n: int, output_delay_s: float = 0.0) -> np.ndarray:
        """The next ``n`` samples (float32, -1..1). ``output_delay_s``: how long until they
        reach the speaker, as the audio library reports it (noted for the latency figures)."""
        now = time.monotonic()
        out = np.zeros(n, dtype=np.float64)
        with self._lock:
            keep = []
            for samples, pos, record in self._active:
                if pos == 0:
                    record.start_sample, record.rendered, record.output_delay_s = (
                        self.samples_out,
                        now,
                        output_delay_s,
                    )
                chunk = samples[pos : pos + n]
                out[: chunk.size] += chunk
                if pos + n < samples.size:
                    keep.append((samples, pos + n, record))
            self._active = keep
            target = 0.0 if self._tone_hz is None else 0.35
            if self._tone_hz is not None:
                self._freq = self._tone_hz
            if target > 0.0 or self._tone_gain > 0.0:
                gain = np.linspace(self._tone_gain, target, n, endpoint=False)
                phase = self._phase + 2 * np.pi * self._freq * np.arange(1, n + 1) / self.fs
                out += gain * np.sin(phase)
                self._phase = float(phase[-1] % (2 * np.pi))
                self._tone_gain = target
            self.samples_out += n
        level = 0.0 if self.muted else self.volume
        return np.clip(out * level, -1.0, 1.0).astype(np.float32)
