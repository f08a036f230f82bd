"""Event-to-sound latency, for bench_dashboard.py: cues posted at random moments, played through
PortAudio into a PulseAudio null sink (``scripts/with_pulse.sh``), recorded back with parec.

Run as ``scripts/with_pulse.sh python benchmarks/_sound.py N``; prints one JSON line:

* ``post_to_dac_ms``: per cue, the time from posting it (``Mixer.post``, what the dashboard does
  in the frame that shows the event) to its first sample reaching the output, as PortAudio
  reports it (the render time of the block holding it + the block's output delay);
* ``onset_jitter_ms``: per cue, where its onset was actually recorded minus where the posting
  times predict it (aligned on the median), i.e. the spread the sound server adds.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from null_sink_recorder import NullSinkRecorder  # noqa: E402

FS = 48000


def main(n: int) -> None:
    from myoflow.feedback.player import SoundPlayer
    from myoflow.feedback.sounds import chime

    with NullSinkRecorder(FS) as rec:
        player = SoundPlayer(voice=False)
        click = chime(FS)[: FS // 20]  # 50 ms: cues far apart
        time.sleep(0.3)
        posted = []
        rng = random.Random(3)
        for _ in range(n):
            time.sleep(0.12 + rng.random() * 0.05)  # random phase against the audio blocks
            posted.append(player.mixer.post("chime", click))
        time.sleep(0.5)
        player.close()
    x = rec.samples.astype(np.float64)
    loud = np.abs(x) > 0.01
    onsets = (
        np.flatnonzero(loud[1:] & ~np.convolve(loud, np.ones(2400), "full")[: x.size - 1].astype(bool)) + 1
    )
    heard = onsets / FS
    post_t = np.array([p.posted for p in posted])
    dac = [1000.0 * p.latency_s for p in posted if p.latency_s is not None]
    jitter: list[float] = []
    if heard.size == post_t.size:
        d = heard - (post_t - post_t[0])
        jitter = list(1000.0 * (d - np.median(d)))
    print(json.dumps({"post_to_dac_ms": dac, "onset_jitter_ms": jitter, "heard": int(heard.size),
                      "posted": len(posted), "portaudio_latency_ms": 1000.0 * player.latency_s}))  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
