"""A virtual DIY EMG strap speaking the open myoflow format (``docs/diy-strap-protocol.md``).

Behaviour, as the firmware rules of that page describe it:

* GATT: the DIY service (advertised) with data (notify) and control (write).
* Control ``01`` starts (or restarts) streaming: block counter 0, restart flag on the first
  block, sampling from the next whole microsecond of the device clock; ``02`` stops. Streaming
  stops on disconnect. Other bytes are noted in the ledger and ignored. A start at an MTU too
  small for even one sample fails with ATT error 0xFC "write request rejected".
* ``n_channels`` (1-4) at ``fs`` Hz (integer, up to 2000), int16 or int24 samples,
  ``round(fs * block_s)`` samples per notification, fewer if the MTU does not hold them.
  The counter increments for every block made, so a lost notification shows in it; the
  ``clipped`` flag is set when a sample hit the rail. ``t_first_us`` is the device's
  ``micros()`` (booted ``boot_us`` before the clock's origin, skewed by ``clock_ppm``),
  wrapping at 2**32.

Signal content: channel ``j`` is session channel ``j % n`` in uV over ``uv_per_count``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from bumble import att

from myoflow._checks import check_positive
from myoflow.devices.protocols.diy import codec as diy
from myoflow.devices.virtual.base import SessionSignal, StreamSource, VirtualStrap
from myoflow.devices.virtual.peripheral import CharacteristicSpec, ServiceSpec

__all__ = ["VirtualDiyStrap"]

_REJECTED = att.ErrorCode.WRITE_REQUEST_REJECTED


class VirtualDiyStrap(VirtualStrap):
    """A simulated DIY strap (schema 1) driven by a synthetic session.

    Parameters
    ----------
    session : SyntheticSession or WornSignals
        EMG content (uV).
    name : str
        Advertised name (at most 8 characters keep the advert within 31 bytes).
    n_channels : int
        1 to 4.
    fs : int
        Sample rate in Hz, 1 to 2000.
    uv_per_count : float
        Microvolts per count, sent in every packet.
    int24 : bool
        24-bit samples instead of 16-bit.
    block_s : float
        Seconds of data per notification (before the MTU limit).
    boot_us : int
        Device ``micros()`` at the clock's origin (>= 0; near 2**32 to test the wrap).
    **kwargs
        ``clock``, ``conditions``, ``radio_id``, ``address``, ``max_mtu``.
    """

    def __init__(
        self,
        session: Any,
        *,
        name: str = "DIYemg-0",
        n_channels: int = 2,
        fs: int = 1000,
        uv_per_count: float = 0.5,
        int24: bool = False,
        block_s: float = 0.02,
        boot_us: int = 10_000_000,
        **kwargs: Any,
    ) -> None:
        services = [
            ServiceSpec(
                diy.SERVICE,
                (
                    CharacteristicSpec(diy.DATA, ("notify",)),
                    CharacteristicSpec(diy.CONTROL, ("write",)),
                ),
            )
        ]
        super().__init__(name, services, **kwargs)
        if n_channels not in range(1, diy.MAX_CHANNELS + 1):
            raise ValueError(f"n_channels must be 1..{diy.MAX_CHANNELS}, got {n_channels!r}")
        if isinstance(fs, bool) or not isinstance(fs, (int, np.integer)) or not 1 <= fs <= 2000:
            raise ValueError(f"fs must be an integer sample rate 1..2000 Hz, got {fs!r}")
        if isinstance(boot_us, bool) or not isinstance(boot_us, int) or boot_us < 0:
            raise ValueError(f"boot_us must be a non-negative integer (us), got {boot_us!r}")
        self.n_channels, self.fs, self.int24 = int(n_channels), int(fs), bool(int24)
        self.uv_per_count = check_positive(uv_per_count, "uv_per_count", "uV per count")
        self.block_s = check_positive(block_s, "block_s", "s")
        self.device_epoch_ns = boot_us * 1000
        n_sess = session.emg.shape[1]
        self._emg = SessionSignal(
            session.emg, float(session.config.emg_rate), columns=np.arange(n_channels) % n_sess
        )
        self.add_stream("emg", self.fs, 1)
        self.block = 0
        self._restart_flag = True

    def reset_state(self) -> None:
        self.block, self._restart_flag = 0, True

    async def handle_write(self, char_uuid: str, data: bytes) -> None:
        if char_uuid != diy.CONTROL:
            return
        now = self.clock.now()
        self.ledger.event(now, "command", data)
        if data == diy.START:
            n = min(
                diy.max_samples(self.n_channels, self.int24, self.mtu), max(1, round(self.fs * self.block_s))
            )
            if n < 1:
                self.ledger.event(now, "refused", f"MTU {self.mtu} holds no sample")
                raise att.ATT_Error(_REJECTED)
            self.stop_stream("emg")
            self.block, self._restart_flag = 0, True
            self.start_stream("emg", per_packet=n, align_ns=1000)
        elif data == diy.STOP:
            self.stop_stream("emg")
        else:
            self.ledger.event(now, "refused", "unknown control command")

    def encode(
        self, stream: StreamSource, first: int, true_time: np.ndarray, device_ns: np.ndarray
    ) -> list[tuple[str, bytes, np.ndarray, dict[str, Any]]]:
        lim = (1 << (23 if self.int24 else 15)) - 1
        raw = np.rint(self._emg(self.session_time(true_time)) / self.uv_per_count)
        counts = np.clip(raw, -lim - 1, lim).astype(np.int64)
        hit = (counts == lim) | (counts == -lim - 1)
        per = stream.per_packet
        out = []
        for j in range(counts.shape[0] // per):
            sl = slice(j * per, (j + 1) * per)
            t_first_us = int(device_ns[sl.start]) // 1000
            payload = diy.encode(
                counts[sl],
                block=self.block,
                t_first_us=t_first_us,
                fs_hz=self.fs,
                uv_per_count=self.uv_per_count,
                int24=self.int24,
                clipped=bool(hit[sl].any()),
                restart=self._restart_flag,
                mtu=self.mtu,
            )
            out.append(
                (
                    diy.DATA,
                    payload,
                    counts[sl],
                    {"block": self.block % 0x10000, "restart": self._restart_flag},
                )
            )
            self.block += 1
            self._restart_flag = False
        return out


def _diy(session: Any, index: int, **common: Any) -> VirtualDiyStrap:
    return VirtualDiyStrap(session, name=f"DIYemg-{index}", **common)


#: The virtual straps of this protocol by kind: ``factory(session, index, **common)``.
VIRTUAL_KINDS = {"diy": _diy}
