"""Short spoken cues, rendered offline with espeak-ng and kept as WAV files.

Nothing is synthesised while a set runs: :func:`render_phrases` calls ``espeak-ng -w`` once per
phrase (at set-up, ``python -m myoflow.feedback.voice``, or the first time a player needs them)
and caches the files in ``$XDG_CACHE_HOME/myoflow/voice`` (``~/.cache/...``); :func:`load_phrase`
reads one back at the output rate. Without espeak-ng the spoken cues are skipped (the tones
and chimes still play) and :func:`voice_problem` says which package to install.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np

__all__ = ["PHRASES", "load_phrase", "render_phrases", "voice_dir", "voice_problem"]

#: Cue name -> what is said.
PHRASES: dict[str, str] = {
    "relax": "relax",
    "squeeze": "squeeze as you lower",
    "glutes": "drive with the glutes",
    "set_done": "set done",
}
_VOICE = ("-v", "en", "-s", "175")


def voice_dir() -> Path:
    """Where rendered phrases are cached."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "myoflow" / "voice"


def voice_problem() -> str | None:
    """None when espeak-ng is there, else how to get it."""
    if shutil.which("espeak-ng") is None:
        return "spoken cues need espeak-ng (apt-get install espeak-ng; scripts/ensure_system_libs.sh audio)"
    return None


def _path(name: str, folder: Path) -> Path:
    key = hashlib.sha1(" ".join((*_VOICE, PHRASES[name])).encode()).hexdigest()[:10]
    return folder / f"{name}-{key}.wav"


def render_phrases(folder: Path | None = None, timeout: float = 30.0) -> dict[str, Path]:
    """Render every :data:`PHRASES` entry missing from ``folder`` (default :func:`voice_dir`)
    with espeak-ng; returns name -> WAV path. Raises ``RuntimeError`` without espeak-ng."""
    problem = voice_problem()
    if problem is not None:
        raise RuntimeError(problem)
    folder = voice_dir() if folder is None else Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, text in PHRASES.items():
        path = _path(name, folder)
        if not path.exists():
            tmp = path.with_suffix(".tmp.wav")
            subprocess.run(["espeak-ng", *_VOICE, "-w", str(tmp), text], check=True, timeout=timeout)
            tmp.replace(path)
        out[name] = path
    return out


def load_phrase(path: Path, fs: int) -> np.ndarray:
    """A rendered phrase as mono float32 at ``fs`` Hz (linear resampling; leading and trailing
    silence trimmed so the word starts at once)."""
    with wave.open(str(path)) as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit PCM, got {8 * w.getsampwidth()}-bit")
        rate, channels = w.getframerate(), w.getnchannels()
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    x = raw.reshape(-1, channels).mean(axis=1) / 32768.0
    loud = np.flatnonzero(np.abs(x) > 0.01)
    if loud.size:
        x = x[max(0, loud[0] - rate // 200) : loud[-1] + rate // 50]
    n_out = int(round(x.size * fs / rate))
    y = np.interp(np.arange(n_out) * rate / fs, np.arange(x.size), x)
    return (0.9 * y / max(1e-9, float(np.max(np.abs(y))))).astype(np.float32)


if __name__ == "__main__":  # pragma: no cover - set-up step
    for cue, wav in render_phrases().items():
        print(f"{cue}: {wav}")
