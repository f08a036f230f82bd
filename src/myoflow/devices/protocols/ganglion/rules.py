"""Profile rules of the OpenBCI Ganglion: what its ``[settings]`` imply for the writes and streams."""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

from myoflow.devices._profile_reader import Reader, is_bool, show
from myoflow.devices._profile_rules import SettingsResult, fixed_rates, setting


def settings_rule(r: Reader, t: Any, codec: ModuleType) -> SettingsResult:
    r.table(t, "settings", {"accelerometer"})
    acc = setting(r, t, "accelerometer", "true or false", is_bool)
    start = [
        ("command", codec.ACCEL_ON if acc else codec.ACCEL_OFF, f"accelerometer {show(acc)}"),
        ("command", codec.START, "start streaming"),
    ]
    return {"accelerometer": acc}, start, [("command", codec.STOP, "stop streaming")]


def streams_rule(r: Reader, settings: Mapping, streams: tuple, _: int, codec: Any) -> None:
    # The accelerometer: one axis per 18-bit packet, each axis every 10 packets of 2 samples.
    fixed_rates(r, streams, {"emg": codec.FS, "acc": codec.FS / 20})
    acc = settings["accelerometer"]
    if acc != any(s.kind == "acc" for s in streams):
        r.fail(
            "streams",
            f"expected {'an' if acc else 'no'} acc stream with settings."
            f"accelerometer = {show(acc)}, got {'none' if acc else 'one'}",
        )
    bits = 18 if acc else 19  # firmware 3: IDs 0-99 (accelerometer on) or 100-199
    for i, s in enumerate(streams):
        if s.kind == "emg" and s.resolution_bits != bits:
            r.fail(
                f"streams[{i}].resolution_bits",
                f"expected {bits} (the sample width with "
                f"settings.accelerometer = {show(acc)}), got {s.resolution_bits}",
            )
