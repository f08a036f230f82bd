"""Profile rules of the myoflow DIY strap: what its ``[settings]`` imply for the writes and streams."""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

from myoflow.devices._profile_reader import Reader, int_in, one_of, show
from myoflow.devices._profile_rules import SettingsResult, fixed_rates, setting


def settings_rule(r: Reader, t: Any, codec: ModuleType) -> SettingsResult:
    r.table(t, "settings", {"channels", "sample_rate", "sample_bits", "samples_per_packet"})
    s = {
        "channels": setting(r, t, "channels", "1..4", int_in(1, codec.MAX_CHANNELS)),
        "sample_rate": setting(r, t, "sample_rate", "whole Hz 1..65535", int_in(1, 0xFFFF)),
        "sample_bits": setting(r, t, "sample_bits", "16 or 24", one_of((16, 24))),
        "samples_per_packet": setting(r, t, "samples_per_packet", "1..4096", int_in(1, 4096)),
    }
    return s, [("command", codec.START, "start")], [("command", codec.STOP, "stop")]


def streams_rule(r: Reader, settings: Mapping, streams: tuple, min_mtu: int, codec: Any) -> None:
    fixed_rates(r, streams, {"emg": None})
    ch, fs, bits, n = (settings[k] for k in ("channels", "sample_rate", "sample_bits", "samples_per_packet"))
    for i, s in enumerate(streams):
        for field, want, got in (("channels", ch, len(s.channels)), ("rate", fs, s.rate)):
            if want != got:
                r.fail(f"streams[{i}].{field}", f"expected {want} (settings), got {show(got)}")
        if s.resolution_bits > bits:
            r.fail(
                f"streams[{i}].resolution_bits",
                f"expected at most {bits} (settings.sample_bits), got {s.resolution_bits}",
            )
    need = 3 + codec.HEADER_BYTES + n * ch * bits // 8
    if min_mtu < need:
        r.fail(
            "min_mtu",
            f"expected at least {need} (3 + {codec.HEADER_BYTES}-byte header + "
            f"{n} samples x {ch} channels x {bits // 8} bytes), got {min_mtu}",
        )
