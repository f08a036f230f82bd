"""Record what was played into the null sink of ``scripts/with_pulse.sh`` (parec on its monitor).

Used by ``benchmarks/_sound.py`` (event-to-sound latency) and ``tests/dashboard/sound_scenario.py``
(which cues came out): both run under ``scripts/with_pulse.sh`` and add this folder to
``sys.path``::

    with NullSinkRecorder() as rec:   # parec is recording once this returns (or .start())
        ...play...
    samples = rec.samples             # (n,) float32 in [-1, 1), mono, at rec.rate Hz
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from types import TracebackType

import numpy as np

__all__ = ["NullSinkRecorder"]


class NullSinkRecorder:
    """parec recording the monitor of ``$MYOFLOW_NULL_SINK`` as raw mono s16 (module docstring).

    Parameters
    ----------
    rate
        Sample rate recorded (Hz); the null sink runs at 48 kHz.
    start_timeout_s
        How long to wait for the first recorded bytes (parec is slow to start under load).
    """

    def __init__(self, rate: int = 48000, start_timeout_s: float = 30.0) -> None:
        sink = os.environ.get("MYOFLOW_NULL_SINK")
        if not sink:
            raise RuntimeError("MYOFLOW_NULL_SINK is not set: run under scripts/with_pulse.sh")
        self.rate = int(rate)
        self.start_timeout_s = float(start_timeout_s)
        self._args = [
            "parec", "-d", sink + ".monitor", "--raw", "--format=s16le",
            f"--rate={self.rate}", "--channels=1", "--latency-msec=20",
        ]  # fmt: skip
        self._chunks: list[bytes] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self.samples = np.empty(0, dtype=np.float32)

    def __enter__(self) -> NullSinkRecorder:
        return self.start()

    def start(self) -> NullSinkRecorder:
        """Start parec and return once it has recorded something (``RuntimeError`` if not in
        ``start_timeout_s``)."""
        self._proc = subprocess.Popen(self._args, stdout=subprocess.PIPE)
        out = self._proc.stdout
        assert out is not None
        self._reader = threading.Thread(target=lambda: self._chunks.extend(iter(lambda: out.read(4800), b"")))
        self._reader.start()
        deadline = time.monotonic() + self.start_timeout_s
        while not self._chunks:
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"parec recorded nothing in {self.start_timeout_s:g} s")
            time.sleep(0.02)
        return self

    def stop(self) -> np.ndarray:
        """Stop recording; the samples so far as float32 (also kept in :attr:`samples`)."""
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(10.0)
            self._proc = None
        if self._reader is not None:
            self._reader.join(10.0)
            self._reader = None
        raw = b"".join(self._chunks)
        self.samples = np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2").astype(np.float32) / 32768.0
        return self.samples

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
