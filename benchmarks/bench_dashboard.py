"""Dashboard benchmark, offscreen: 8 EMG lanes x 10 s at 2 kHz + the hip angle.

A feeder thread plays the part of the ingest: every 10 ms it hands the live analysis (and the
raw tap) what a strap would have just sent: 20 samples x 8 EMG channels at 2 kHz, plus pelvis
and thigh ACC + GYRO at 100 Hz. The samples carry the times the ingest's
:class:`~myoflow.devices.timebase.Timebase` would give them: evenly spaced, the last sample of
block ``k`` at ``start + k * 10 ms``, whenever the block is delivered (a late or bunched
delivery on a loaded machine does not move or overlap them; stamping each block with its
delivery time instead made overlapping times and empty grid cells, so the lanes fell apart
into fragments under load). Each block's delivery time is noted as its receive time. The first
10 s are fed at once, so the lanes are full from the start (then the blocks that fell due
meanwhile: the lanes have no gap where the real-time feed starts).
The window shows the 8 envelope lanes (100 Hz analysis grid: 1,000 points each), the raw EMG
lane of one muscle (2 kHz: 20,000 points, as min/max columns at about the pixel width) and the angle.

1. **Frame cost** (``--seconds``, default 5): frames as fast as they go; each frame = copy-out
   (snapshot, poll, raw window) + model + ``setData`` + Qt painting what changed
   (``processEvents``). Reported: ms per frame (median, p95) and the fps that allows. Target
   <= 16 ms.
2. **Latency at the display rate** (``--seconds``, the window's own 60 Hz timer, as in the app):
   notification-to-pixel latency = the time the paint that first shows a sample finished
   (logged by the plots' ``paintEvent``), minus the time its notification was delivered
   (received), not counting the envelope's filter delay (the envelope is drawn delay-corrected, so a
   sample received at ``r`` appears at ``r - delay`` on the time axis, in the 100 Hz grid cell
   whose +-5 ms contains it; the filter delay is reported beside it), over every sample (each
   received with its notification), and for the newest sample of each notification alone (the
   worst case: its grid cell completes with the next notification). Also the main thread's
   CPU share. Target: median <= 20 ms (issue 15), main-thread CPU <= 30 %.
3. **Event-to-sound latency** (``--sound-cues``, default 50): cues posted at random moments
   through the real sound path (PortAudio -> ALSA pulse -> a PulseAudio null sink started by
   ``scripts/with_pulse.sh``, recorded back with parec; ``benchmarks/_sound.py``): posting to
   the first sample at the output as PortAudio reports it (median, p95), and the recorded
   onsets' spread around the posting times. The dashboard posts a cue in the frame that first
   shows its event, so data-to-sound = notification-to-frame + this.

4. **Mat view** (``--seconds``, same timer): frames per second and main-thread CPU (it draws
   the bar, the phase and the verdict; it repaints only when what it shows changed).

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_dashboard.py``; in a real
X server: ``QT_QPA_PLATFORM=xcb scripts/with_xvfb.sh .venv/bin/python benchmarks/bench_dashboard.py``
(painting then goes through the X server, which takes CPU of its own, not counted here).
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from _common import finish, machine  # noqa: E402

RIGHT = ("glute_max_r", "biceps_femoris_r", "semitendinosus_r", "glute_med_r")
MUSCLES = RIGHT + tuple(m[:-1] + "l" for m in RIGHT)
EMG_HZ, IMU_HZ, BLOCK_S = 2000.0, 100.0, 0.01


class BenchSource:
    """What the window reads from a live session, fed by :meth:`feed` in a thread."""

    kind = "live"
    label = "benchmark feeder"
    exercise = "glute_bridge"
    recording = None

    def __init__(self) -> None:
        from myoflow.analysis.live import LiveAnalysis
        from myoflow.dashboard.feed import RawTap
        from myoflow.stream import StreamInfo
        from myoflow.synth.config import SessionConfig
        from myoflow.synth.session import generate_session

        session = generate_session(SessionConfig(n_reps=8, emg_rate=EMG_HZ, imu_rate=IMU_HZ, seed=5))
        emg = session.emg
        self.emg = np.ascontiguousarray(np.concatenate((emg, 0.8 * emg[:, ::-1]), axis=1), dtype=np.float32)
        self.imu = {seg: session.imu[seg] for seg in ("pelvis", "thigh")}
        channels = tuple(f"ch{i + 1}" for i in range(8))
        self.emg_info = StreamInfo("diy/emg", "emg", EMG_HZ, channels, MUSCLES, "uV")
        self.imu_info = {
            (seg, kind): StreamInfo(f"{seg}/{kind}", kind, IMU_HZ, ("x", "y", "z"), (seg,) * 3, unit)
            for seg in ("pelvis", "thigh")
            for kind, unit in (("acc", "g"), ("gyro", "deg/s"))
        }
        streams = {self.emg_info.name: self.emg_info, **{i.name: i for i in self.imu_info.values()}}
        self.analysis = LiveAnalysis(list(streams.values()), history_s=10.0)
        self.raw = RawTap(streams, window_s=12.0)
        self.generation = 1
        self.error = None
        self.received: list[float] = []  # when each EMG block was delivered (host s)
        self.stamped: list[float] = []  # the time of its last sample (host s, evenly spaced)
        self._stop = threading.Event()
        self._t0 = 0.0
        self.feed_cpu_s = 0.0

    def _blocks(self, k: int, now: float) -> list:
        from myoflow.stream import Block

        n_emg, n_imu = int(EMG_HZ * BLOCK_S), 1
        i0 = (k * n_emg) % (self.emg.shape[0] - n_emg)
        emg_t = now - (np.arange(n_emg)[::-1]) / EMG_HZ
        out = [Block(self.emg_info, self.emg[i0 : i0 + n_emg], emg_t, k * n_emg)]
        j0 = (k * n_imu) % (self.imu["pelvis"][0].shape[0] - 1)
        for (seg, kind), info in self.imu_info.items():
            data = self.imu[seg][0 if kind == "acc" else 1][j0 : j0 + n_imu]
            out.append(Block(info, np.ascontiguousarray(data), np.array([now]), k * n_imu))
        return out

    def prefill(self, seconds: float) -> int:
        """Feed ``seconds`` of data ending now, at once, then the blocks that fell due while
        that ran (stamped when due), so the real-time feed continues without a gap; returns
        the next block's number."""
        n = int(round(seconds / BLOCK_S))
        now = time.monotonic()
        for k in range(n):
            self._deliver(k, now - (n - k) * BLOCK_S)
        due, k = now, n
        while due <= time.monotonic():
            self._deliver(k, due)
            due, k = due + BLOCK_S, k + 1
        return k

    def _deliver(self, k: int, now: float) -> None:
        for block in self._blocks(k, now):
            self.analysis.on_block(block)
            self.raw.on_block(block)

    def feed(self, k0: int) -> None:
        """Real time from block ``k0`` on, one block per stream every 10 ms, until stopped."""
        cpu0 = time.thread_time()
        start = time.monotonic()
        k = 0
        while not self._stop.is_set():
            due = start + k * BLOCK_S
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            for block in self._blocks(k0 + k, due):
                self.analysis.on_block(block)
                self.raw.on_block(block)
            self.received.append(time.monotonic())
            self.stamped.append(due)
            k += 1
        self.feed_cpu_s = time.thread_time() - cpu0

    def start_feeding(self, k0: int) -> threading.Thread:
        thread = threading.Thread(target=self.feed, args=(k0,), name="bench-feeder", daemon=True)
        thread.start()
        return thread

    def statuses(self) -> list:
        return []

    def status_lines(self) -> list:
        return []

    def stop(self) -> None:
        self._stop.set()

    def muscles(self) -> tuple[str, ...]:
        return self.analysis.muscles


def _run_loop(seconds: float) -> None:
    """Run Qt's event loop (the window's timer, painting) for ``seconds``."""
    from PySide6 import QtCore

    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def run(seconds: float, fps: float) -> dict:

    from myoflow.dashboard.app import qt_app, teardown
    from myoflow.dashboard.model import peak_downsample
    from myoflow.dashboard.window import DashboardWindow

    app = qt_app()
    source = BenchSource()
    window = DashboardWindow(source, fps=fps)
    window.timer.stop()  # this benchmark drives the frames itself
    window.resize(1500, 950)
    window.show()
    window._raw_muscle = MUSCLES[0]
    k0 = source.prefill(10.0)
    feeder = source.start_feeding(k0)
    for _ in range(10):  # warm up: build the lanes, first layouts
        window.refresh()
        app.processEvents()
    width = window.plots.lane_rects()[0].width()
    log = window.plots.paint_log

    # 1. frame cost, as fast as frames go: refresh, then Qt paints what changed
    costs, cpu_costs = [], []
    painted = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        n0, f0 = len(log), window.frames
        t0, c0 = time.perf_counter(), time.thread_time()
        window.refresh()
        app.processEvents()
        if window.frames > f0:  # a frame was drawn (the window skips when nothing new arrived)
            costs.append((time.perf_counter() - t0) * 1000.0)
            cpu_costs.append((time.thread_time() - c0) * 1000.0)
            painted += len(log) > n0 or log.maxlen == len(log)

    # 2. the app's own timer at the display rate; latency from the plots' paint log
    delay_s = source.analysis.delay_ms / 1000.0
    log.clear()
    n_before = len(source.received)
    cpu0, wall0 = time.thread_time(), time.monotonic()
    window.timer.setInterval(max(1, int(1000.0 / fps)))
    window.timer.start()
    _run_loop(seconds)  # (not app.quit(): in Qt 6 it closes the window, which stops the session)
    window.timer.stop()
    cpu_main = time.thread_time() - cpu0
    wall = time.monotonic() - wall0

    # 3. mat view (V) at the same rate: frames and main-thread CPU (it repaints on change)
    window.set_view("mat")
    f0, cpu0, wall0 = window.frames, time.thread_time(), time.monotonic()
    window.timer.start()
    _run_loop(seconds)
    window.timer.stop()
    mat_fps = (window.frames - f0) / (time.monotonic() - wall0)
    mat_cpu = 100.0 * (time.thread_time() - cpu0) / (time.monotonic() - wall0)
    source.stop()
    feeder.join()
    # a grid cell at t_k holds the samples of [t_k - dt/2, t_k + dt/2) (delay-corrected)
    half_cell = 0.5 / source.analysis.grid_hz
    paints = [(t, shown + half_cell + delay_s) for t, shown in log if shown is not None]
    teardown(window)

    done = np.array([p[0] for p in paints])
    shown = np.maximum.accumulate(np.array([p[1] for p in paints]))
    received = np.array(source.received[n_before:])
    stamped = np.array(source.stamped[n_before:])
    inside = (received > done[0]) & (stamped < shown[-1])
    received, stamped = received[inside], stamped[inside]
    # every sample of a notification is received at its receive time; sample i of 20 is stamped
    # (19 - i) / 2 kHz before the block's last one; the first paint whose data reach a sample's
    # time shows it
    n_emg = int(EMG_HZ * BLOCK_S)
    taken = stamped[:, None] - (np.arange(n_emg)[::-1] / EMG_HZ)[None, :]
    first = np.searchsorted(shown, taken - 1e-9)
    latency_ms = (done[first] - received[:, None]) * 1000.0
    last_ms = latency_ms[:, -1]  # the newest sample of each notification: the worst case

    raw = np.random.default_rng(0).normal(size=(20000, 8)).astype(np.float32)
    x = np.arange(20000) / EMG_HZ
    t0 = time.perf_counter()
    for _ in range(20):
        peak_downsample(x, raw, width // 2)
    ds_ms = (time.perf_counter() - t0) / 20 * 1000.0
    return {
        "lanes": len(MUSCLES),
        "emg_rate_hz": EMG_HZ,
        "window_s": 10.0,
        "lane_width_px": width,
        "frame_ms_median": float(np.median(costs)),
        "frame_ms_p95": float(np.percentile(costs, 95)),
        "frame_cpu_ms_median": float(np.median(cpu_costs)),
        "max_fps": 1000.0 / float(np.median(costs)),
        "frames_painted_pct": 100.0 * painted / max(1, len(costs)),
        "timer_fps": len(paints) / wall,
        "main_thread_cpu_pct": 100.0 * cpu_main / wall,
        "mat_timer_fps": mat_fps,
        "mat_main_thread_cpu_pct": mat_cpu,
        "platform": app.platformName(),
        "feeder_cpu_pct": 100.0 * source.feed_cpu_s / (wall + seconds),
        "latency_ms_median": float(np.median(latency_ms)),
        "latency_ms_p95": float(np.percentile(latency_ms, 95)),
        "latency_newest_sample_ms_median": float(np.median(last_ms)),
        "filter_delay_ms": delay_s * 1000.0,
        "samples_measured": int(latency_ms.size),
        "notifications_measured": int(last_ms.size),
        "raw_8x20000_downsample_ms": ds_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--fps", type=float, default=60.0, help="display rate for the latency run")
    parser.add_argument("--sound-cues", type=int, default=50, help="cues for the sound latency (0: skip)")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    figures = run(args.seconds, args.fps)
    figures["load_1min"] = max(load_before, os.getloadavg()[0])  # the machine is shared: say its load
    if args.sound_cues > 0:
        figures.update(sound_latency(args.sound_cues))
    print(
        f"8 lanes x 10 s at 2 kHz + angle, {figures['lane_width_px']} px wide: "
        f"{figures['frame_ms_median']:.1f} ms per frame (p95 {figures['frame_ms_p95']:.1f}), "
        f"up to {figures['max_fps']:.0f} fps (target >= 60); main-thread CPU per frame "
        f"{figures['frame_cpu_ms_median']:.1f} ms (the part of a frame's time the load does not add)"
    )
    print(
        f"at {args.fps:g} Hz: {figures['timer_fps']:.0f} fps, main thread CPU "
        f"{figures['main_thread_cpu_pct']:.0f} %, notification-to-pixel latency median "
        f"{figures['latency_ms_median']:.1f} ms (p95 {figures['latency_ms_p95']:.1f}) on top of the "
        f"{figures['filter_delay_ms']:.0f} ms filter delay (target median <= 20 ms); newest sample of "
        f"each notification: median {figures['latency_newest_sample_ms_median']:.1f} ms"
    )
    figures.update(whole_delay(figures))
    print(
        f"whole feedback delay, median (envelope onset lag + notification-to-pixel): mat bar / tone "
        f"(feedback envelope) {figures['whole_delay_feedback_step_ms']:.0f} ms on a step, "
        f"{figures['whole_delay_feedback_ramp_ms']:.0f} ms on a 0.5 s ramp; lanes (analysis envelope) "
        f"{figures['whole_delay_lanes_step_ms']:.0f} / {figures['whole_delay_lanes_ramp_ms']:.0f} ms "
        "(target <= 60 ms)"
    )
    print(
        f"mat view at {args.fps:g} Hz: {figures['mat_timer_fps']:.0f} frames/s, main thread CPU "
        f"{figures['mat_main_thread_cpu_pct']:.0f} % (Qt platform: {figures['platform']}; "
        f"load {figures['load_1min']:.1f})"
    )
    if "sound_post_to_dac_ms_median" in figures:
        print(
            f"event-to-sound (post -> output, PortAudio's figure): median "
            f"{figures['sound_post_to_dac_ms_median']:.1f} ms, "
            f"p95 {figures['sound_post_to_dac_ms_p95']:.1f} ms; "
            f"recorded onsets within {figures['sound_onset_jitter_ms_p95']:.1f} ms (p95) of the posting times"
        )
        dac = figures["sound_post_to_dac_ms_median"]
        figures["whole_delay_tone_ramp_ms"] = figures["whole_delay_feedback_ramp_ms"] + dac
        figures["whole_delay_cue_sound_step_ms"] = figures["whole_delay_lanes_step_ms"] + dac
        print(
            f"whole event-to-sound delay, median (onset lag + notification-to-frame + post -> output): "
            f"tone (feedback envelope) {figures['whole_delay_feedback_step_ms'] + dac:.0f} ms on a step, "
            f"{figures['whole_delay_tone_ramp_ms']:.0f} ms on a ramp; chime / spoken cues follow the "
            f"analysis (its envelope: {figures['whole_delay_cue_sound_step_ms']:.0f} ms after a step, "
            "plus the cue rule's own wait, e.g. 1 s tense at the bottom)"
        )
    else:
        print(f"event-to-sound: not measured ({figures.get('sound_note', '')})")
    finish({**figures, **machine()})


def whole_delay(figures: dict) -> dict:
    """Event-to-feedback delay, median: each envelope's onset lag on synthetic steps and ramps
    (``bench_feedback_envelope.py``: from the true amplitude crossing 20 % of the contraction
    to the envelope crossing it, band-pass included) plus the notification-to-pixel latency
    measured above. For the feedback level that latency is an upper bound: it is computed on
    every notification, so it does not wait for its 10 ms grid cell as the lanes do."""
    from bench_feedback_envelope import run_synthetic

    lags = run_synthetic(("lowpass6", "bayes_feedback"))
    to_pixel = figures["latency_ms_median"]
    return {
        "whole_delay_feedback_step_ms": lags["bayes_feedback"]["step_lag_ms_median"] + to_pixel,
        "whole_delay_feedback_ramp_ms": lags["bayes_feedback"]["ramp_lag_ms_median"] + to_pixel,
        "whole_delay_lanes_step_ms": lags["lowpass6"]["step_lag_ms_median"] + to_pixel,
        "whole_delay_lanes_ramp_ms": lags["lowpass6"]["ramp_lag_ms_median"] + to_pixel,
    }


def sound_latency(n: int) -> dict:
    """Run ``_sound.py`` under ``scripts/with_pulse.sh`` and summarise its figures."""
    import json
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    here = Path(__file__).resolve().parent
    if shutil.which("pulseaudio") is None or shutil.which("parec") is None:
        return {"sound_note": "pulseaudio/parec missing: scripts/ensure_system_libs.sh audio"}
    args = [
        "bash",
        str(here.parent / "scripts" / "with_pulse.sh"),
        sys.executable,
        str(here / "_sound.py"),
        str(n),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or not done.stdout.strip():
        return {"sound_note": f"the sound run failed: {done.stderr.strip()[-300:]}"}
    raw = json.loads(done.stdout.strip().splitlines()[-1])
    dac = np.array(raw["post_to_dac_ms"])
    jitter = np.abs(np.array(raw["onset_jitter_ms"])) if raw["onset_jitter_ms"] else np.array([np.nan])
    return {
        "sound_post_to_dac_ms_median": float(np.median(dac)),
        "sound_post_to_dac_ms_p95": float(np.percentile(dac, 95)),
        "sound_onset_jitter_ms_p95": float(np.nanpercentile(jitter, 95)),
        "sound_cues_heard": f"{raw['heard']}/{raw['posted']}",
        "sound_portaudio_latency_ms": float(raw["portaudio_latency_ms"]),
    }


if __name__ == "__main__":
    main()
