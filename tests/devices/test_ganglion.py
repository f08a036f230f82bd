"""OpenBCI Ganglion firmware-3 codec: packing, error bound, sign convention, accel, loss."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from myoflow.devices.codec import DecodeError, Loss
from myoflow.devices.protocols.ganglion import codec as ganglion

int24 = st.integers(-(1 << 23), (1 << 23) - 1)
values_2x4 = hnp.arrays(np.int64, (2, 4), elements=int24)


@given(values=values_2x4, packet_id=st.integers(0, 199))
def test_round_trip_error_within_documented_bound(values: np.ndarray, packet_id: int) -> None:
    p = ganglion.decode(ganglion.encode(values, packet_id))
    width = 18 if packet_id < 100 else 19
    assert p.meta["bits"] == width and p.counter == packet_id
    err = np.abs(p.samples.astype(np.int64) - values)
    assert err.max() <= ganglion.ERROR_BOUND[width]
    # The sign survives, and decoded values are multiples of 2**(24 - N).
    assert np.all(p.samples % (1 << (24 - width)) == 0)
    assert np.all((p.samples < 0) == (values < 0))


@pytest.mark.parametrize(
    ("packet_id", "value", "decoded"),
    [
        (5, 127, 0),  # 18-bit: the worst case, error exactly 127
        (5, 128, 128),
        (5, -1, -64),
        (105, 63, 0),  # 19-bit: error exactly 63
        (105, -1, -32),
        (5, (1 << 23) - 1, (1 << 23) - 128),
        (5, -(1 << 23), -(1 << 23) + 64),
    ],
)
def test_known_values_and_tight_bound(packet_id: int, value: int, decoded: int) -> None:
    values = np.full((2, 4), value)
    p = ganglion.decode(ganglion.encode(values, packet_id))
    assert np.all(p.samples == decoded)


def _brainflow_field(bits: int, width: int) -> int:
    """BrainFlow's reading of an N-bit field (ones' complement minus one for negatives)."""
    if bits >> (width - 1):
        return -((~bits) & ((1 << width) - 1)) - 2
    return bits


@given(values=values_2x4, packet_id=st.integers(0, 199))
def test_sign_convention_vs_brainflow(values: np.ndarray, packet_id: int) -> None:
    """Ours is two's complement: equal to BrainFlow for positive fields, one field unit
    (64 or 32 counts) higher for negative ones."""
    data = ganglion.encode(values, packet_id)
    width = 18 if packet_id < 100 else 19
    bits = int.from_bytes(data[1 : 1 + width], "big")
    fields = [(bits >> (8 * width - width * (i + 1))) & ((1 << width) - 1) for i in range(8)]
    brainflow = np.array([_brainflow_field(f, width) << (24 - width) for f in fields]).reshape(2, 4)
    ours = ganglion.decode(data).samples
    diff = ours - brainflow
    assert np.all(diff[brainflow >= 0] == 0)
    assert np.all(diff[brainflow < 0] == 1 << (24 - width))


def test_accelerometer_axis_by_id_and_scale() -> None:
    zero = np.zeros((2, 4), int)
    pids = (20, 21, 22, 23, 24, 120)
    axes = {pid: ganglion.decode(ganglion.encode(zero, pid, -5)).meta for pid in pids}
    # firmware 3.0.2: X, Y, Z on IDs ending 1, 2, 3 (BrainFlow's 0 -> z, 1 -> y, 2 -> x is a remap)
    assert [axes[p]["accel_axis"] for p in (20, 21, 22, 23, 24)] == [None, "x", "y", "z", None]
    assert axes[21]["accel_raw"] == -5 and axes[20]["accel_raw"] is None
    assert axes[120]["accel_axis"] is None  # 19-bit packets carry no accelerometer
    assert ganglion.accel_g("x", 10) == pytest.approx(0.16)
    assert ganglion.accel_g("z", 10) == pytest.approx(0.16)  # the LIS2DH's own axes, +-2 g
    with pytest.raises(ValueError, match="axis"):
        ganglion.accel_g("w", 1)


def test_scale_constant() -> None:
    assert ganglion.UV_PER_COUNT == pytest.approx(0.001869917138805, rel=1e-12)
    # Full scale of the 24-bit ADC is +-15686 uV.
    assert (2**23 - 1) * ganglion.UV_PER_COUNT == pytest.approx(15686.0)


def test_impedance_and_message_packets() -> None:
    p = ganglion.decode(ganglion.encode_impedance(5, 1234))
    assert p.kind == "impedance" and p.meta["channel"] == 5 and p.samples.tolist() == [[1234]]
    p = ganglion.decode(bytes([202]) + b"87Z" + bytes(16))  # padded to 20 bytes
    assert p.samples.tolist() == [[87]] and p.meta["channel"] == 2
    m = ganglion.decode(ganglion.encode_message("Ganglion 3.1.2", final=False))
    assert m.kind == "message" and m.meta == {"text": "Ganglion 3.1.2", "final": False}
    assert m.samples.shape == (0, 1)
    for bad in (
        bytes([201]) + b"Z",
        bytes([203]) + b"12",
        bytes([204]) + b"1a2Z",
        bytes([201]) + b"-3Z",
    ):
        with pytest.raises(DecodeError, match="impedance"):
            ganglion.decode(bad)


@pytest.mark.parametrize("pid", [200, 208, 254])
def test_undocumented_ids_raise(pid: int) -> None:
    with pytest.raises(DecodeError, match=f"packet ID {pid}"):
        ganglion.decode(bytes([pid]) + bytes(19))


def test_encode_rejects_bad_arguments() -> None:
    ok = np.zeros((2, 4), int)
    with pytest.raises(ValueError, match="24-bit"):
        ganglion.encode(np.full((2, 4), 1 << 23), 0)
    with pytest.raises(ValueError, match="packet_id"):
        ganglion.encode(ok, 200)
    with pytest.raises(ValueError, match=r"shape \(2, 4\)"):
        ganglion.encode(np.zeros((1, 4), int), 0)
    with pytest.raises(ValueError, match="accel_raw"):
        ganglion.encode(ok, 0, 200)


def test_tracker_counts_loss_within_each_range_and_resyncs_on_switch() -> None:
    t = ganglion.GanglionTracker()
    ids = [97, 98, 99, 0, 3, 4, 150, 151, 199, 100, 102, 230]
    losses = [t.update(i) for i in ids]
    assert [loss.packets for loss in losses] == [0, 0, 0, 0, 2, 0, 0, 0, 47, 0, 1, 0]
    assert losses[4] == Loss(2, 4)  # two packets = four samples
    assert t.lost == 50 and t.received == 11
