"""Play the feedback sounds through PortAudio (python-sounddevice).

:class:`SoundPlayer` opens one mono output stream at 48 kHz with small blocks (256 samples,
5.3 ms) and low latency; its callback asks the :class:`~myoflow.feedback.mixer.Mixer` for each
block. :meth:`SoundPlayer.cue` plays a named cue: ``chime``, ``warning`` or a spoken phrase
(:data:`~myoflow.feedback.voice.PHRASES`, rendered once with espeak-ng). On Linux PortAudio
reaches PulseAudio or PipeWire through ALSA's ``pulse`` device, which is the default when a
sound server runs. :func:`sound_problem` says why sound cannot play (no PortAudio library, no
output device) without raising.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from myoflow.feedback.mixer import Mixer, Played
from myoflow.feedback.sounds import SAMPLE_RATE, chime, warning
from myoflow.feedback.voice import PHRASES, load_phrase, render_phrases, voice_problem

__all__ = ["SoundPlayer", "sound_problem"]


def sound_problem() -> str | None:
    """None when PortAudio loads and has an output device; else one line saying why not."""
    from myoflow._extras import MissingExtraError, require

    try:
        sd = require("sounddevice", "sound feedback")
    except MissingExtraError as exc:
        return f"no sound: {exc}"
    except OSError as exc:  # the PortAudio library itself is missing
        return f"no sound: {exc} (apt-get install libportaudio2; scripts/ensure_system_libs.sh audio)"
    try:
        sd.query_devices(kind="output")
    except Exception as exc:  # no default output device
        return f"no sound: no audio output device ({exc})"
    return None


class SoundPlayer:
    """The feedback sounds on the default output device (module docstring).

    Parameters
    ----------
    fs
        Output rate (Hz).
    blocksize
        Samples per callback (latency vs. CPU).
    device
        A sounddevice output device (None: the default).
    voice
        Render and load the spoken phrases (skipped, with :attr:`notes`, without espeak-ng).
    """

    def __init__(
        self, fs: int = SAMPLE_RATE, blocksize: int = 256, device: Any = None, voice: bool = True
    ) -> None:
        import sounddevice as sd

        self.mixer = Mixer(fs)
        self.notes: list[str] = []
        self.sounds: dict[str, np.ndarray] = {"chime": chime(fs), "warning": warning(fs)}
        if voice:
            problem = voice_problem()
            if problem is None:
                for name, path in render_phrases().items():
                    self.sounds[name] = load_phrase(path, fs)
            else:
                self.notes.append(problem)
        self.stream = sd.OutputStream(
            samplerate=fs,
            channels=1,
            dtype="float32",
            blocksize=blocksize,
            latency="low",
            device=device,
            callback=self._callback,
        )
        self.stream.start()

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, _status: Any) -> None:
        delay = max(0.0, float(time_info.outputBufferDacTime - time_info.currentTime))
        outdata[:, 0] = self.mixer.render(frames, delay)

    def cue(self, name: str) -> Played | None:
        """Play cue ``name`` (``chime``, ``warning`` or a :data:`PHRASES` key); None when that
        sound is unavailable (a phrase without espeak-ng)."""
        if name not in self.sounds:
            if name not in PHRASES and name not in ("chime", "warning"):
                raise ValueError(f"unknown cue {name!r}; known: chime, warning, {', '.join(PHRASES)}")
            return None
        return self.mixer.post(name, self.sounds[name])

    @property
    def latency_s(self) -> float:
        """The output latency PortAudio reports for the stream (s)."""
        return float(self.stream.latency)

    def close(self) -> None:
        """Stop and close the stream."""
        try:
            self.stream.stop()
        finally:
            self.stream.close()
