"""Virtual straps that behave as the real ones were reported to, through the real ingest.

* Verity Sense: ACC in compressed type 1 frames of 71 samples (milli-g, no FACTOR), so the data
  come in batches 1.37 s apart (polar-ble-sdk issues 317 and 443).
* H10 streaming ACC and ECG together drops the link after a while (bleakheart issue 12): the
  ingest reconnects, re-sends the start writes and reports the missed samples as gaps.
* A Ganglion whose Software Revision says firmware 2 is refused by name at connect (BrainFlow's
  detection), never decoded as firmware 3.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from myoflow.devices.errors import IngestError
from myoflow.devices.ingest import Ingest, ReconnectPolicy, StrapConfig
from myoflow.devices.protocols.ganglion.virtual import VirtualGanglion
from myoflow.devices.protocols.polar_pmd import codec as pmd
from myoflow.devices.protocols.polar_pmd.virtual import VirtualPolar
from myoflow.devices.sinks import CollectingSink
from myoflow.devices.virtual import VirtualLink
from myoflow.devices.virtual.radio import VirtualClock
from myoflow.synth.session import glute_bridge_session

SESSION = glute_bridge_session(n_reps=2, emg_rate=1000.0, imu_rate=100.0, seed=13)
FAST_RECONNECT = ReconnectPolicy(initial_s=0.01, max_s=0.2, max_attempts=20)


def _stream(make: Any, profile: str, seconds: float) -> tuple[Any, CollectingSink, Any]:
    """Stream one virtual strap ``make(clock)`` with ``profile`` for ``seconds`` of virtual time."""
    sink = CollectingSink()
    out: dict[str, Any] = {}

    async def main() -> None:
        clock = VirtualClock()
        async with VirtualLink() as link:
            strap = await link.add_peripheral(make(clock))
            ingest = Ingest(
                [StrapConfig(profile, device=strap.address, name="strap")],
                [sink],
                clock=clock,
                scanner_backend=link.scanner_backend,
                client_backend=link.client_backend,
                reconnect=FAST_RECONNECT,
                scan_timeout=5.0,
            )
            async with ingest:
                await ingest.run(seconds)
            out.update(strap=strap, status=ingest.status()[0])

    asyncio.run(main())
    return out["strap"], sink, out["status"]


def test_verity_sends_milli_g_batches_without_factor() -> None:
    strap, sink, status = _stream(
        lambda clock: VirtualPolar(SESSION, model="Sense", clock=clock), "polar_verity_acc_gyro", 12.0
    )
    frames = [r for r in strap.ledger.packets("acc") if r.fate == "sent"]
    assert {r.n for r in frames} == {71}  # 1.37 s of samples per frame at 52 Hz
    first = pmd.decode(frames[0].payload)
    assert (first.meta["compressed"], first.meta["frame_type"]) == (True, 1)
    assert pmd.Measurement.ACC not in {m for m, f in strap.factors.items() if f != 1.0}
    acc = sink.data("strap/acc")
    assert acc.shape[0] == sum(r.n for r in frames) and status.corrupt == 0
    np.testing.assert_allclose(acc, strap.ledger.samples("acc", "sent").values * 1e-3, rtol=1e-6)
    assert 0.5 < float(np.median(np.linalg.norm(acc, axis=1))) < 1.5  # about 1 g: g, not milli-g
    delay = status.streams["acc"].delivery_s
    assert 1.2 < delay < 1.6, delay  # the oldest sample of a frame is ~1.37 s old when it arrives
    from myoflow.dashboard.model import status_line  # Qt-free: what the dashboard shows

    assert f"acc 52 Hz, loss 0.0%, data {delay:.1f} s late" in status_line(status).text


def test_h10_acc_and_ecg_together_drop_and_come_back() -> None:
    strap, sink, status = _stream(
        lambda clock: VirtualPolar(SESSION, model="H10", clock=clock, acc_ecg_drop_after_s=5.0),
        "polar_h10_acc_ecg",
        16.0,
    )
    drops = [e for e in strap.ledger.events if e[1] == "drop"]
    assert len(drops) >= 2 and status.reconnects >= 2
    for stream in ("strap/acc", "strap/ecg"):
        assert len(sink.gaps[stream]) >= 2, stream
        assert sink.times(stream)[-1] > 14.0  # streaming again after the last drop


def test_ganglion_firmware_2_is_refused_by_name() -> None:
    with pytest.raises(IngestError, match=r"firmware 2 \(Software Revision '2\.0\.1'"):
        _stream(lambda clock: VirtualGanglion(SESSION, firmware=b"2.0.1", clock=clock), "ganglion_fw3", 1.0)


def test_ganglion_first_packet_255_and_firmware_axes() -> None:
    strap, sink, status = _stream(lambda clock: VirtualGanglion(SESSION, clock=clock), "ganglion_fw3", 4.0)
    ids = [r.meta["packet_id"] for r in strap.ledger.packets("emg")]
    assert ids[:3] == [255, 0, 1]
    emg = sink.data("strap/emg")
    assert emg.shape[0] == 2 * len([r for r in strap.ledger.packets("emg") if r.fate == "sent"])
    assert not sink.gaps and status.corrupt == 0
    acc = sink.data("strap/acc")
    assert acc.shape[0] >= 30 and np.all(np.abs(acc) <= 128 * 0.016)
