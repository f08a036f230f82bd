"""A virtual Polar H10 / Verity Sense: the PMD control point state machine and data frames.

Behaviour (see ``PROTOCOLS.md`` and :mod:`myoflow.devices.protocols.polar_pmd.codec`):

* GATT: Heart Rate ``180d`` (advertised; its measurement is not simulated), battery, and the
  PMD service (not advertised, as on the real straps) with the control point (read: feature
  bits; write; notify/indicate) and data (notify).
* Both PMD CCCDs must be on before a command is taken (``PROTOCOLS.md``: "enable notifications
  on both before commands"); otherwise the write fails with ATT error 0xFD "CCCD improperly
  configured" (the real device's answer is unconfirmed).
* Every command is answered on the control point: ``F0 <op> <type> <status> 00 [params]``.
  Get settings (``01 <type>``) lists every option; start (``02 <type> <TLV>``) checks, in this
  order: measurement known (2) and supported (3), MTU at least ``min_mtu`` (10), not already
  streaming (6), a parsable TLV (4) with single values (5), sample rate (8), resolution (7),
  range (9), channels (11); success carries the FACTOR TLV for compressed streams.
  Stop (``03 <type>``) answers 6 when not streaming. Unknown ops answer 1, short writes 4.
* Streams run until stopped or the link drops. Frames: H10 ECG raw type 0 (int24 uV, 130 Hz),
  H10 ACC compressed type 1 (milli-g, factor 1.0), Verity ACC compressed type 1 in milli-g with
  **no FACTOR** in the start response (as a real Verity Sense answers, polar-ble-sdk issue 443),
  Verity GYRO compressed type 0 (factor = range / 32768 deg/s per count; unconfirmed on the
  real sensor). Each frame holds ``round(fs * FRAME_S)`` samples (73 ECG, 36 ACC at 200 Hz; 71
  on the Verity Sense, which therefore delivers its IMU in **batches every 1.37 s** at 52 Hz,
  as the real one does every 1-2 s, issue 317), fewer when the worst case would not fit the
  negotiated MTU; its timestamp is the device time of the last sample in ns since 2000-01-01,
  on a clock ``clock_ppm`` off.
* ``acc_ecg_drop_after_s``: an H10 streaming ACC and ECG together drops the link that many
  seconds after both started (reported once, bleakheart issue 12; off by default).

Signal content: ACC and GYRO from the session's ``segment`` IMU (default pelvis; still and
upright without one); ECG a fixed synthetic PQRST waveform at 70 beats/min.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from bumble import att

from myoflow._checks import check_option
from myoflow.devices.codec import DecodeError
from myoflow.devices.protocols.polar_pmd import codec as pmd
from myoflow.devices.protocols.polar_pmd.codec import Measurement, Op, Setting
from myoflow.devices.virtual.base import SessionSignal, StreamSource, VirtualStrap
from myoflow.devices.virtual.peripheral import CharacteristicSpec, ServiceSpec

__all__ = ["MODELS", "VirtualPolar", "synthetic_ecg"]

#: 2025-01-01T00:00:00Z in ns since 2000-01-01: the device clock at the clock's origin.
DEVICE_TIME_AT_ORIGIN_NS = 9132 * 86400 * 10**9
FRAME_S = {Measurement.ECG: 73 / 130, Measurement.ACC: 0.18, Measurement.GYRO: 0.18}
#: The Verity Sense sends about 71 samples per frame at 52 Hz (polar-ble-sdk issues 317, 443).
VERITY_FRAME_SAMPLES = 71
_NAMES = {Measurement.ECG: "ecg", Measurement.ACC: "acc", Measurement.GYRO: "gyro"}
_CCCD_IMPROPER = att.ErrorCode.CCCD_IMPROPERLY_CONFIGURED


@dataclass(frozen=True)
class MeasurementSpec:
    """What one measurement offers, and how its frames are built."""

    rates: tuple[int, ...]
    resolutions: tuple[int, ...]
    ranges: tuple[int, ...]  # g or deg/s; empty for ECG
    frame_type: int
    compressed: bool


MODELS: dict[str, dict[Measurement, MeasurementSpec]] = {
    "H10": {
        Measurement.ECG: MeasurementSpec((130,), (14,), (), 0, False),
        Measurement.ACC: MeasurementSpec((25, 50, 100, 200), (16,), (2, 4, 8), 1, True),
    },
    "Sense": {
        Measurement.ACC: MeasurementSpec((26, 52, 104, 208, 416), (16,), (2, 4, 8, 16), 1, True),
        Measurement.GYRO: MeasurementSpec((26, 52, 104, 208, 416), (16,), (250, 500, 1000, 2000), 0, True),
    },
}


def synthetic_ecg(t: np.ndarray, bpm: float = 70.0) -> np.ndarray:
    """A PQRST waveform in uV at times ``t`` (s), shape ``(n,)`` float64."""
    phase = np.mod(np.asarray(t, dtype=np.float64) * bpm / 60.0, 1.0)[:, None]
    # (amplitude uV, centre, width) of P, Q, R, S and T as fractions of a beat
    waves = np.array(
        [
            [150, 0.16, 0.025],
            [-120, 0.26, 0.008],
            [1200, 0.28, 0.009],
            [-250, 0.30, 0.010],
            [300, 0.55, 0.050],
        ]
    )
    return (waves[:, 0] * np.exp(-0.5 * ((phase - waves[:, 1]) / waves[:, 2]) ** 2)).sum(1)


def _tlv(key: Setting, values: tuple[int, ...], dtype: str) -> bytes:
    return bytes([key, len(values)]) + np.array(values, dtype).tobytes()


class VirtualPolar(VirtualStrap):
    """A simulated Polar H10 (``model="H10"``) or Verity Sense (``model="Sense"``).

    Parameters
    ----------
    session : SyntheticSession or WornSignals
        IMU content for ACC and GYRO.
    model : {"H10", "Sense"}
        Which strap.
    name : str, optional
        Advertised name (default ``"Polar <model> 1A2B3C4D"``).
    segment : str
        Session IMU segment the strap follows.
    min_mtu : int
        Smallest ATT MTU a start is accepted at (the simulator's choice).
    device_time_at_origin_ns : int
        Device time (ns since 2000-01-01) when the clock reads its origin.
    acc_ecg_drop_after_s : float, optional
        H10: drop the link this many clock seconds after ACC and ECG both stream (None: never).
    **kwargs
        ``clock``, ``conditions``, ``radio_id``, ``address``, ``max_mtu`` (default 232 for the
        H10, 512 for the Sense, whose 71-sample frames need about 230 bytes).
    """

    def __init__(
        self,
        session: Any,
        *,
        model: str = "H10",
        name: str | None = None,
        segment: str = "pelvis",
        min_mtu: int = 70,
        device_time_at_origin_ns: int = DEVICE_TIME_AT_ORIGIN_NS,
        acc_ecg_drop_after_s: float | None = None,
        **kwargs: Any,
    ) -> None:
        check_option(model, "model", MODELS)
        self.model, self.specs = model, MODELS[model]
        kwargs.setdefault("max_mtu", 232 if model == "H10" else 512)
        if acc_ecg_drop_after_s is not None and not acc_ecg_drop_after_s > 0:
            raise ValueError(
                f"acc_ecg_drop_after_s must be positive seconds or None, got {acc_ecg_drop_after_s!r}"
            )
        self.acc_ecg_drop_after_s = acc_ecg_drop_after_s
        self._overload: Any = None
        features = sum(1 << int(m) for m in self.specs)
        services = [
            ServiceSpec("180d", (CharacteristicSpec("2a37", ("notify",)),)),
            ServiceSpec("180f", (CharacteristicSpec("2a19", ("read", "notify"), b"\x50"),), advertised=False),
            ServiceSpec(
                pmd.SERVICE,
                (
                    CharacteristicSpec(
                        pmd.CONTROL_POINT,
                        ("read", "write", "notify", "indicate"),
                        bytes([0x0F, features & 0xFF, features >> 8]),
                    ),
                    CharacteristicSpec(pmd.DATA, ("notify",)),
                ),
                advertised=False,
            ),
        ]
        super().__init__(name or f"Polar {model} 1A2B3C4D", services, **kwargs)
        if not 23 <= int(min_mtu) <= 517:
            raise ValueError(f"min_mtu must be within 23..517 bytes, got {min_mtu!r}")
        self.min_mtu = int(min_mtu)
        self.device_epoch_ns = int(device_time_at_origin_ns)
        if segment in session.imu and session.imu[segment][0].shape[0] >= 2:
            acc, gyro = session.imu[segment]
        else:
            n = 2
            acc, gyro = np.tile([-1.0, 0.0, 0.0], (n, 1)), np.zeros((n, 3))
        self._imu = SessionSignal((acc, gyro), float(session.config.imu_rate))
        self.factors: dict[Measurement, float] = {}
        for m in self.specs:
            self.add_stream(_NAMES[m], self.specs[m].rates[-1], 1)

    def reset_state(self) -> None:
        self.factors.clear()
        if self._overload is not None:
            self._overload.cancel()
        self._overload = None

    def _arm_overload(self) -> None:
        """H10 with ACC and ECG both on: drop the link later (bleakheart issue 12)."""
        both = all(
            self.streams[_NAMES[m]].active for m in (Measurement.ACC, Measurement.ECG) if m in self.specs
        )
        if self.acc_ecg_drop_after_s is None or self.model != "H10" or not both or self._overload is not None:
            return
        self._overload = self.spawn(self._overload_drop(self.acc_ecg_drop_after_s))

    async def _overload_drop(self, after_s: float) -> None:
        await self.clock.sleep(after_s)
        await self.drop_link("ACC and ECG streaming together (bleakheart issue 12)")

    # ------------------------------------------------------------------ control point
    async def handle_write(self, char_uuid: str, data: bytes) -> None:
        if char_uuid != pmd.CONTROL_POINT:
            return
        if not (self.is_subscribed(pmd.CONTROL_POINT) and self.is_subscribed(pmd.DATA)):
            self.ledger.event(self.clock.now(), "refused", "PMD notifications not enabled")
            raise att.ATT_Error(_CCCD_IMPROPER)
        self.ledger.event(self.clock.now(), "command", data)
        response = self._command(data)
        self.spawn(self.notify(pmd.CONTROL_POINT, response))  # after the write response

    def _command(self, data: bytes) -> bytes:
        op = data[0] if data else 0
        kind = data[1] & 0x3F if len(data) > 1 else 0

        def answer(status: int, params: bytes = b"") -> bytes:
            if status:
                self.ledger.event(self.clock.now(), "refused", pmd.STATUS_NAMES.get(status))
            return bytes([0xF0, op, kind, status, 0]) + params

        if len(data) < 2:
            return answer(4)
        if op not in (Op.GET_SETTINGS, Op.START, Op.STOP):
            return answer(1)
        if kind not in set(Measurement):
            return answer(2)
        if kind not in self.specs:
            return answer(3)
        m, spec = Measurement(kind), self.specs[Measurement(kind)]
        stream = self.streams[_NAMES[m]]
        if op == Op.GET_SETTINGS:
            return answer(0, self._settings(spec))
        if op == Op.STOP:
            if not stream.active:
                return answer(6)
            self.stop_stream(stream.name)
            return answer(0)
        if self.mtu < self.min_mtu:
            return answer(10)
        if stream.active:
            return answer(6)
        try:
            asked = pmd.parse_settings(data[2:])
        except DecodeError:
            return answer(4)
        if any(len(v) != 1 for v in asked.values()) or Setting.SAMPLE_RATE not in asked:
            return answer(5)
        rate = int(asked[Setting.SAMPLE_RATE][0])
        res = int(asked.get(Setting.RESOLUTION, spec.resolutions)[0])
        rng = int(asked.get(Setting.RANGE, spec.ranges or (0,))[0])
        channels = int(asked.get(Setting.CHANNELS, (1 if m == Measurement.ECG else 3,))[0])
        for ok, status in (
            (rate in spec.rates, 8),
            (res in spec.resolutions, 7),
            (not spec.ranges or rng in spec.ranges, 9),
            (channels == (1 if m == Measurement.ECG else 3), 11),
        ):
            if not ok:
                return answer(status)
        # type 0 counts need a FACTOR (range / 32768 per count); type 1 ACC is milli-g: no FACTOR
        needs = spec.compressed and spec.frame_type == 0
        factor = rng / 32768.0 if needs else 1.0
        self.factors[m] = factor
        self.start_stream(stream.name, per_packet=self._frame_samples(m, rate), fs=rate)
        self._arm_overload()
        if self.model == "H10" and spec.compressed:  # the H10 sends FACTOR 1.0 with its ACC
            return answer(0, pmd.encode_settings({Setting.FACTOR: factor}))
        return answer(0, pmd.encode_settings({Setting.FACTOR: factor}) if needs else b"")

    @staticmethod
    def _settings(spec: MeasurementSpec) -> bytes:
        out = _tlv(Setting.SAMPLE_RATE, spec.rates, "<u2")
        out += _tlv(Setting.RESOLUTION, spec.resolutions, "<u2")
        if spec.ranges:
            out += _tlv(Setting.RANGE, spec.ranges, "<u2") + _tlv(Setting.CHANNELS, (3,), "u1")
        return out

    def _frame_samples(self, m: Measurement, rate: int) -> int:
        """Samples per frame: nominal duration, cut to what fits the MTU in the worst case."""
        room = self.mtu - 3 - pmd.HEADER_BYTES
        if self.specs[m].compressed:  # 6 reference bytes, 1 block header, 17-bit deltas
            fit = 1 + (room - 6 - 2) * 8 // (3 * 17)
        else:
            fit = room // 3
        nominal = VERITY_FRAME_SAMPLES if self.model == "Sense" else round(rate * FRAME_S[m])
        return max(1, min(fit, nominal, 255))

    # ------------------------------------------------------------------ frames
    def encode(
        self, stream: StreamSource, first: int, true_time: np.ndarray, device_ns: np.ndarray
    ) -> list[tuple[str, bytes, np.ndarray, dict[str, Any]]]:
        t = self.session_time(true_time)
        m = next(k for k, v in _NAMES.items() if v == stream.name)
        spec = self.specs[m]
        if m == Measurement.ECG:
            counts = np.rint(synthetic_ecg(t))[:, None]
        elif m == Measurement.ACC:
            g = self._imu(t)[:, :3]
            counts = np.rint(g * 1000.0 if spec.frame_type == 1 else g / self.factors[m])
        else:
            counts = np.rint(self._imu(t)[:, 3:] / self.factors[m])
        lim = (1 << 23) - 1 if m == Measurement.ECG else 32767
        counts = np.clip(counts, -lim, lim).astype(np.int64)
        per = stream.per_packet
        out = []
        for j in range(counts.shape[0] // per):
            v = counts[j * per : (j + 1) * per]
            ts = int(device_ns[(j + 1) * per - 1])
            if spec.compressed:
                frame = pmd.encode_compressed(m, v, ts, spec.frame_type)
            else:
                frame = pmd.encode_raw(m, v, ts, spec.frame_type)
            out.append((pmd.DATA, frame, v, {"time_ns": ts}))
        return out


def _polar(model: str) -> Callable[..., VirtualPolar]:
    def build(session: Any, index: int, **common: Any) -> VirtualPolar:
        serial = 0x1A2B3C00 + index
        return VirtualPolar(session, model=model, name=f"Polar {model} {serial:08X}", **common)

    return build


#: The virtual straps of this protocol by kind: ``factory(session, index, **common)``.
VIRTUAL_KINDS = {"polar_h10": _polar("H10"), "polar_verity": _polar("Sense")}
