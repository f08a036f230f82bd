"""A scripted rep played in real time through the real sound path into a PulseAudio null sink.

Run by ``test_sound.py`` as ``scripts/with_pulse.sh python tests/dashboard/sound_scenario.py``:
the scripted session of ``test_cues.py`` (a rep whose glute stays tense at the bottom, then
relaxes; its result says "not relaxed"; then the next push) goes frame by frame, at 20 Hz of
wall time, through the view-model and :class:`~myoflow.dashboard.sound.FrameSounds` into a
:class:`~myoflow.feedback.player.SoundPlayer` (PortAudio -> ALSA pulse plugin -> PulseAudio),
while ``parec`` records the null sink's monitor. The recording is then read back: which sounds
came out (each burst matched against every cue's samples), in which order, with what spacing,
and the tone's pitch. Prints one JSON line with the findings and ``SOUND OK``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "scripts"))
from null_sink_recorder import NullSinkRecorder  # noqa: E402

FS = 48000


def bursts(x: np.ndarray, fs: int = FS, gap_s: float = 0.12) -> list[tuple[int, int]]:
    """(start, end) sample of each sound burst: 5 ms RMS above 0.01, split at silences."""
    hop = fs // 200
    rms = np.sqrt(np.mean(x[: x.size // hop * hop].reshape(-1, hop) ** 2, axis=1))
    loud = np.flatnonzero(rms > 0.01)
    out: list[list[int]] = []
    for k in loud:
        if out and k - out[-1][1] <= gap_s * fs / hop:
            out[-1][1] = k
        else:
            out.append([k, k])
    result = []
    for a, b in out:  # refine the start to the first loud sample
        seg = np.flatnonzero(np.abs(x[a * hop : (b + 1) * hop]) > 0.01)
        result.append((a * hop + int(seg[0]), (b + 1) * hop))
    return result


def identify(x: np.ndarray, a: int, b: int, sounds: dict[str, np.ndarray]) -> tuple[str, float]:
    """The cue whose samples match the start of the burst ``x[a:b]`` best: the normalised
    correlation of the cue's first 125 ms with the recording, at its best lag from 10 ms before
    ``a`` to 125 ms after it.

    ``a`` is the first sample above the loudness threshold, which lies a few samples after the
    cue's true start (a soft first sample): compared from ``a`` on only, a clean "relax" matched
    its own samples at 0.74-0.82 and "glutes" at 0.39, and an underrun stutter at its start once
    ranked "glutes" first. From 10 ms before, a clean cue matches at 0.94-1.0 and the runner-up
    at <= 0.44."""
    pre = FS // 100
    best, score = "?", 0.0
    for name, ref in sounds.items():
        n = min(ref.size, b - a, FS // 4)
        r = ref[: n // 2].astype(np.float64)
        seg = x[max(0, a - pre) : a + n].astype(np.float64)
        lag = np.correlate(seg, r, mode="valid")
        energy = np.concatenate([[0.0], np.cumsum(seg**2)])  # of each lag's window, to normalise
        window = np.sqrt(np.maximum(energy[r.size : r.size + lag.size] - energy[: lag.size], 0.0))
        c = float(np.max(np.abs(lag) / (np.linalg.norm(r) * window + 1e-12)))
        if c > score:
            best, score = name, c
    return best, score


def main() -> None:
    from conftest import _result
    from test_cues import Script

    from myoflow.analysis.live_types import Cue
    from myoflow.dashboard.model import DashboardModel
    from myoflow.dashboard.sound import FrameSounds
    from myoflow.feedback.player import SoundPlayer, sound_problem

    problem = sound_problem()
    assert problem is None, problem
    script = Script([(1.0, "concentric", 60.0), (1.0, "top", 60.0), (1.0, "eccentric", 40.0),
                     (2.5, "bottom", 20.0), (1.5, "bottom", 3.0), (1.2, "concentric", 60.0)])  # fmt: skip
    s0 = script.start_of(0)
    verdict = (s0 + 6.0, [_result(1, s0, relaxed=False), Cue(s0 + 6.0, "relax", "relax", 1)])
    rec = NullSinkRecorder(FS).start()  # parec records (it waits up to 30 s for it to start)
    player = SoundPlayer()
    sounds = FrameSounds(player, tone=True)
    model = DashboardModel(bottom_cue_s=1.0)
    time.sleep(0.3)
    t_end = script.start_of(5) + 1.0
    wall0 = time.monotonic()
    posted = []
    switches: list[tuple[float, float]] = []  # (script time, wall time) the tone went on or off
    pending = [verdict]
    for t in np.arange(script.lead_s, t_end, 0.05):
        delay = wall0 + (t - script.lead_s) - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        polled = [item for when, items in pending if when <= t + 1e-9 for item in items]
        pending = [p for p in pending if p[0] > t + 1e-9]
        before = len(player.mixer.log)
        sounds.on_frame(model.frame(script.snapshot(float(t)), polled=polled))
        posted += [(float(t), r) for r in list(player.mixer.log)[before:]]
        if (player.mixer.tone_hz is not None) != (len(switches) % 2 == 1):
            switches.append((float(t), time.monotonic()))
    player.mixer.set_tone(None)  # the session ends mid-push
    if len(switches) % 2 == 1:
        switches.append((float(t_end), time.monotonic()))
    time.sleep(0.8)
    player.close()
    x = rec.stop()
    refs = {k: v * player.mixer.volume for k, v in player.sounds.items()}
    found = []
    for a, b in bursts(x):
        name, score = identify(x, a, b, refs)
        found.append({"start_s": a / FS, "end_s": b / FS, "cue": name, "match": round(score, 3)})
    # A clean cue matches its reference at 0.94-1.0 and the pure tone any cue at 0.13-0.23; buffer
    # underruns on a loaded machine lowered a chime to 0.53, so the line between them is 0.35.
    cues = [f for f in found if f["match"] > 0.35]
    tone = [f for f in found if f["match"] <= 0.35]
    report = {
        "posted": [(round(t, 2), r.name) for t, r in posted],
        "found": found,
        "latency_ms": [round(1000 * r.latency_s, 1) for _, r in posted if r.latency_s is not None],
        "portaudio_latency_ms": round(1000 * player.latency_s, 1),
        "tone_switched": [round(t, 2) for t, _ in switches],
        "tone_on_s": [round(switches[k + 1][1] - switches[k][1], 3) for k in range(0, len(switches) - 1, 2)],
        "tone_heard_s": [round(f["end_s"] - f["start_s"], 3) for f in tone],
    }
    print(json.dumps(report), flush=True)
    # which cues, in order: "relax" spoken when the tense bottom passed 1 s, the chime when the
    # glute relaxed ("relaxed now"), the warning when the rep's result (not relaxed) arrived
    assert [r.name for _, r in posted] == ["relax", "chime", "warning"], report["posted"]
    assert [f["cue"] for f in cues] == ["relax", "chime", "warning"], found
    # timing: the recorded onsets are spaced as the events were posted (within 40 ms)
    gaps_posted = np.diff([r.posted for _, r in posted])
    gaps_heard = np.diff([f["start_s"] for f in cues])
    assert np.all(np.abs(gaps_heard - gaps_posted) < 0.04), (gaps_posted, gaps_heard)
    assert abs(posted[0][0] - script.start_of(3) - 1.0) <= 0.06  # relax: 1 s into a tense bottom
    # the tone: only in the two concentric phases, at the pitch of 60 % (300 Hz * 2**0.6)
    assert len(tone) == 2, found
    assert tone[0]["end_s"] < cues[0]["start_s"] and tone[1]["start_s"] > cues[-1]["start_s"], found
    a, b = int(tone[1]["start_s"] * FS), int(tone[1]["end_s"] * FS)
    spectrum = np.abs(np.fft.rfft(x[a:b] * np.hanning(b - a)))
    peak_hz = float(np.argmax(spectrum) * FS / (b - a))
    expected = 300.0 * 2**0.6
    assert abs(peak_hz - expected) < 10.0, (peak_hz, expected)
    # switched on with each concentric phase and off after the first one's 1 s (frame times)...
    assert len(switches) == 4, report["tone_switched"]
    (on1, _), (off1, _), (on2, _), _ = switches
    assert abs(on1 - script.start_of(0)) < 0.06 and abs(off1 - on1 - 1.0) < 0.06, report["tone_switched"]
    assert abs(on2 - script.start_of(5)) < 0.06, report["tone_switched"]
    # ...and heard for as long as it was on (within 40 ms), measured against the wall times it
    # was switched, as the cue spacing is: a loaded machine runs a frame late now and then, and
    # a fixed 1 s +- 0.15 s left the second tone (on 0.90 s: the session ends 1 s into the push)
    # 13 ms of margin when it went on late (heard 0.86-0.92 s at load 5-9)
    assert np.all(np.abs(np.subtract(report["tone_heard_s"], report["tone_on_s"])) < 0.04), report
    print("SOUND OK", flush=True)


if __name__ == "__main__":
    main()
