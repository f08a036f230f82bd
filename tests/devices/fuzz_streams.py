"""Clean notification streams for every shipped profile, and the mutations a fuzz run applies.

Used by ``tests/devices/test_fuzz.py`` (hypothesis, bounded) and ``benchmarks/bench_fuzz.py``
(>= 1 M mutated payloads per profile). A stream is what a strap sends, built with the codecs'
own encoders: ``(host arrival s, characteristic uuid, payload)`` in arrival order, with the
profile's rates, frame sizes and counters, device clocks that start at an arbitrary value and
arrival latencies of 1-6 ms. :func:`feed` runs a stream through a fresh
:class:`~myoflow.devices.decoding.StrapDecoder` and checks what a hostile stream must never do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from myoflow.devices.decoding import StrapDecoder
from myoflow.devices.profiles import DeviceProfile, load_profile
from myoflow.devices.protocols.diy import codec as diy
from myoflow.devices.protocols.ganglion import codec as ganglion
from myoflow.devices.protocols.myo import codec as myo
from myoflow.devices.protocols.polar_pmd import codec as pmd
from myoflow.stream import Block, Gap

Item = tuple[float, str, bytes]
PROFILES = (
    "diy_emg_2ch_1khz",
    "diy_emg_4ch_2khz",
    "ganglion_fw3",
    "myo_raw_emg",
    "polar_h10_acc_ecg",
    "polar_verity_acc_gyro",
)
T0 = 100.0  # host time of the first sample, s


def _arrivals(t_last_sample: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.maximum.accumulate(t_last_sample + rng.uniform(0.001, 0.006, t_last_sample.size))


def _chars(profile: DeviceProfile, packet_kind: str) -> tuple[str, ...]:
    for s in profile.streams:
        if s.packet_kind == packet_kind:
            return s.characteristics
    raise KeyError(packet_kind)


def _ganglion(profile: DeviceProfile, seconds: float, rng: np.random.Generator) -> list[Item]:
    n = int(seconds * ganglion.FS / 2)
    uuid = _chars(profile, "emg")[0]
    t = T0 + (np.arange(n) * 2 + 1) / ganglion.FS
    h = _arrivals(t, rng)
    accel = profile.settings["accelerometer"]
    values = rng.integers(-(1 << 22), 1 << 22, (n, 2, 4))
    out = []
    for k in range(n):
        pid = k % 100 if accel else 100 + k % 100
        out.append((float(h[k]), uuid, ganglion.encode(values[k], pid, int(rng.integers(-128, 128)))))
    return out


def _myo(profile: DeviceProfile, seconds: float, rng: np.random.Generator) -> list[Item]:
    emg_chars = _chars(profile, "emg")
    imu_char = _chars(profile, "imu")[0]
    n = int(seconds * myo.FS_EMG / 2)
    t = T0 + (np.arange(n) * 2 + 1) / myo.FS_EMG
    emg = [(float(h), emg_chars[k % len(emg_chars)], myo.encode_emg(rng.integers(-128, 128, (2, 8))))
           for k, h in enumerate(_arrivals(t, rng))]  # fmt: skip
    m = int(seconds * myo.FS_IMU)
    ti = T0 + np.arange(m) / myo.FS_IMU
    imu = [
        (float(h), imu_char, myo.encode_imu(rng.integers(-2000, 2000, (1, 10)))) for h in _arrivals(ti, rng)
    ]
    return sorted(emg + imu, key=lambda x: x[0])


def _polar(profile: DeviceProfile, seconds: float, rng: np.random.Generator) -> list[Item]:
    data = _chars(profile, profile.streams[0].packet_kind)[0]
    control = next(c.uuid for c in profile.characteristics if c.role == "control_point")
    epoch_ns = int(rng.integers(7 * 10**17, 8 * 10**17))  # ~2022-2025 in ns since 2000
    out: list[Item] = []
    for kind, table in profile.settings.items():
        m = pmd.Measurement[kind.upper()]
        fs = float(table["sample_rate"])
        compressed = m != pmd.Measurement.ECG
        per = 73 if m == pmd.Measurement.ECG else max(1, round(fs * 0.18))
        factor = 1.0
        if compressed and profile.name.startswith("polar_verity"):
            factor = float(table.get("range", 8)) / 32768.0
        answer = bytes([0xF0, 2, int(m), 0, 0]) + (
            pmd.encode_settings({pmd.Setting.FACTOR: factor}) if compressed else b""
        )
        out.append((T0 - 0.5, control, answer))
        n = int(seconds * fs / per)
        last = (np.arange(n) + 1) * per - 1  # sample index of each frame's last sample
        t = T0 + last / fs
        for k, h in enumerate(_arrivals(t, rng)):
            ts = epoch_ns + round(float(last[k]) * 1e9 / fs)
            if m == pmd.Measurement.ECG:
                frame = pmd.encode_raw(m, rng.integers(-3000, 3000, (per, 1)), ts, 0)
            else:
                v = np.cumsum(rng.integers(-50, 50, (per, 3)), axis=0)
                frame = pmd.encode_compressed(m, v, ts, 1 if profile.name.startswith("polar_h10") else 0)
            out.append((float(h), data, frame))
    return sorted(out, key=lambda x: x[0])


def _diy(profile: DeviceProfile, seconds: float, rng: np.random.Generator) -> list[Item]:
    st = profile.settings
    fs, ch, per = int(st["sample_rate"]), int(st["channels"]), int(st["samples_per_packet"])
    uuid = _chars(profile, "emg")[0]
    n = int(seconds * fs / per)
    t = T0 + ((np.arange(n) + 1) * per - 1) / fs
    t0_us = int(rng.integers(0, 1 << 32))
    block0 = int(rng.integers(0, 1 << 16))
    out = []
    for k, h in enumerate(_arrivals(t, rng)):
        payload = diy.encode(
            rng.integers(-2000, 2000, (per, ch)),
            block=block0 + k,
            t_first_us=(t0_us + round(k * per * 1e6 / fs)) % (1 << 32),
            fs_hz=fs,
            uv_per_count=4.028,
            restart=k == 0,
            mtu=profile.mtu,
        )
        out.append((float(h), uuid, payload))
    return out


_BUILDERS: dict[str, Callable[[DeviceProfile, float, np.random.Generator], list[Item]]] = {
    "diy": _diy,
    "ganglion": _ganglion,
    "myo": _myo,
    "polar_pmd": _polar,
}


def clean_stream(profile: DeviceProfile | str, seconds: float, seed: int) -> list[Item]:
    """What a strap running ``profile`` sends in ``seconds``, in arrival order."""
    prof = load_profile(profile) if isinstance(profile, str) else profile
    return _BUILDERS[prof.protocol](prof, seconds, np.random.default_rng(seed))


# ---------------------------------------------------------------------------------- mutations
MUTATIONS = ("bitflip", "bitflips", "byte", "truncate", "extend", "random", "zero", "ff")


def mutate(payload: bytes, how: str, rng: np.random.Generator) -> bytes:
    """One mutated copy of ``payload`` (``how`` is one of :data:`MUTATIONS`)."""
    b = bytearray(payload)
    if how in ("bitflip", "bitflips") and b:
        for _ in range(1 if how == "bitflip" else int(rng.integers(2, 9))):
            i = int(rng.integers(0, 8 * len(b)))
            b[i // 8] ^= 1 << (i % 8)
    elif how == "byte" and b:
        b[int(rng.integers(0, len(b)))] = int(rng.integers(0, 256))
    elif how == "truncate":
        b = b[: int(rng.integers(0, max(1, len(b))))]
    elif how == "extend":
        b += rng.integers(0, 256, int(rng.integers(1, 40)), dtype=np.uint8).tobytes()
    elif how == "random":
        b = bytearray(rng.integers(0, 256, int(rng.integers(0, 260)), dtype=np.uint8).tobytes())
    elif how == "zero" and b:
        i = int(rng.integers(0, len(b)))
        b[i : i + int(rng.integers(1, 9))] = bytes(min(len(b) - i, 8))
    elif how == "ff" and b:
        i = int(rng.integers(0, len(b)))
        n = min(len(b) - i, int(rng.integers(1, 9)))
        b[i : i + n] = b"\xff" * n
    return bytes(b)


# ---------------------------------------------------------------------------------- checking
@dataclass
class FeedResult:
    """What one fed stream gave: samples delivered, gaps, and every check that failed."""

    samples: dict[str, int] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)
    unknown_gaps: int = 0
    escapes: list[str] = field(default_factory=list)
    absurd: list[str] = field(default_factory=list)
    decoder: StrapDecoder | None = None


def feed(profile: DeviceProfile, items: Iterable[Item], *, slack_s: float = 1.0) -> FeedResult:
    """Run ``items`` through a fresh decoder; record escapes and gaps the host clock forbids.

    A gap is absurd when it declares more samples than the stream's rate allows in the host
    time since the stream's previous block (plus ``slack_s`` and two packets).
    """
    dec = StrapDecoder(profile, "fuzz")
    res = FeedResult(decoder=dec)
    last_h: dict[str, float] = {}
    for h, uuid, payload in items:
        try:
            out = dec.feed(h, uuid, payload)
        except Exception as exc:  # the check: nothing may escape
            res.escapes.append(f"{type(exc).__name__}: {exc}")
            continue
        for item in out:
            name = item.stream.name
            if isinstance(item, Gap):
                size = item.n_missing
                if size is None:
                    res.unknown_gaps += 1
                    continue
                res.lost[name] = res.lost.get(name, 0) + size
                allowed = (h - last_h.get(name, h) + slack_s) * item.stream.rate + 2 * 256
                if size > allowed:
                    res.absurd.append(f"{name}: gap of {size} samples after {h - last_h.get(name, h):.3f} s")
            elif isinstance(item, Block):
                res.samples[name] = res.samples.get(name, 0) + len(item)
                last_h[name] = h
    return res
