"""An animated capture of mat mode over a set of glute bridges, with the sound cues written in.

    .venv/bin/python scripts/capture_gif.py [OUT.gif] [--seconds 24] [--fps 4]

Runs the dashboard offscreen on the virtual straps in real time, in mat mode at 1366x768, with
the sound cues rendered through the same path as live (:class:`~myoflow.dashboard.sound.
FrameSounds` -> :class:`~myoflow.feedback.mixer.Mixer`) into a buffer instead of a speaker, and
grabs the window ``--fps`` times a second. Each frame gets a caption strip naming the sounds of
the last second ("chime", "warning", "relax" ... and the tone's pitch while it plays). Writes a
GIF (Pillow) at half size; default ``docs/img/mat-set.gif``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


class BufferPlayer:
    """The sound path without a device: cues are rendered by the mixer into a buffer."""

    def __init__(self) -> None:
        from myoflow.feedback.mixer import Mixer
        from myoflow.feedback.sounds import chime, warning
        from myoflow.feedback.voice import PHRASES, load_phrase, render_phrases, voice_problem

        self.mixer = Mixer()
        self.sounds = {"chime": chime(), "warning": warning()}
        if voice_problem() is None:
            self.sounds.update({k: load_phrase(p, self.mixer.fs) for k, p in render_phrases().items()})
        self.phrases = PHRASES

    def cue(self, name: str) -> object | None:
        return self.mixer.post(name, self.sounds[name]) if name in self.sounds else None

    def close(self) -> None:
        """Nothing to close."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="docs/img/mat-set.gif")
    parser.add_argument("--seconds", type=float, default=24.0)
    parser.add_argument("--fps", type=float, default=4.0)
    args = parser.parse_args()
    from PIL import Image, ImageDraw, ImageFont
    from PySide6 import QtGui, QtTest

    from myoflow.dashboard.app import qt_app, teardown
    from myoflow.dashboard.sound import FrameSounds
    from myoflow.dashboard.virtual_source import virtual_source
    from myoflow.dashboard.window import DashboardWindow

    qt_app()
    source = virtual_source(args.seconds + 2.0, fast=False, seed=7)
    window = DashboardWindow(source, fps=30.0, view="mat")
    player = BufferPlayer()
    window.sounds = FrameSounds(player, tone=True)
    window.resize(1366, 768)
    source.start()
    window.show()
    frames: list[Image.Image] = []
    heard: list[tuple[float, str]] = []
    seen = 0
    start = time.monotonic()
    font = ImageFont.load_default(size=28)
    try:
        while time.monotonic() - start < args.seconds:
            QtTest.QTest.qWait(int(1000 / args.fps))
            log = list(player.mixer.log)
            heard += [(r.posted, player.phrases.get(r.name, r.name)) for r in log[seen:]]
            seen = len(log)
            now = time.monotonic()
            recent = [name for t, name in heard if now - t < 1.0]
            tone = player.mixer.tone_hz
            if tone is not None:
                recent.append(f"tone {tone:.0f} Hz")
            image = window.grab().toImage().convertToFormat(QtGui.QImage.Format_RGB888)
            w, h = image.width(), image.height()
            buf = image.constBits().tobytes()[: image.bytesPerLine() * h]
            frame = Image.frombuffer("RGB", (w, h), buf, "raw", "RGB", image.bytesPerLine(), 1).copy()
            strip = Image.new("RGB", (w, 48), (30, 30, 30))
            text = "sound: " + (", ".join(recent) or "-")
            ImageDraw.Draw(strip).text((16, 8), text, fill=(240, 228, 66), font=font)
            both = Image.new("RGB", (w, h + 48))
            both.paste(frame, (0, 0))
            both.paste(strip, (0, h))
            frames.append(
                both.resize(((w) // 2, (h + 48) // 2)).convert("P", palette=Image.ADAPTIVE, colors=64)
            )
    finally:
        teardown(window)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(out, save_all=True, append_images=frames[1:], duration=int(1000 / args.fps), loop=0)
    print(f"{len(frames)} frames to {out}; sounds: {', '.join(n for _, n in heard) or 'none'}")
    return 0 if frames else 1


if __name__ == "__main__":
    sys.exit(main())
