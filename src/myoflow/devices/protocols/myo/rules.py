"""Profile rules of the Thalmic Myo: what its ``[settings]`` imply for the writes and streams."""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

from myoflow.devices._profile_reader import Reader, is_bool, one_of
from myoflow.devices._profile_rules import SettingsResult, fixed_rates, setting


def settings_rule(r: Reader, t: Any, codec: ModuleType) -> SettingsResult:
    r.table(t, "settings", {"emg_mode", "imu_mode", "classifier", "never_sleep"})
    emg = setting(r, t, "emg_mode", f"one of {', '.join(codec.EMG_MODES)}", one_of(codec.EMG_MODES))
    imu = setting(r, t, "imu_mode", f"one of {', '.join(codec.IMU_MODES)}", one_of(codec.IMU_MODES))
    clf = setting(r, t, "classifier", "true or false", is_bool)
    awake = setting(r, t, "never_sleep", "true or false", is_bool)
    start = [("command", codec.set_mode(emg, imu, clf), f"set mode emg={emg} imu={imu}")]
    if awake:
        start.append(("command", codec.sleep_mode(never=True), "never sleep"))
    stop = [("command", codec.set_mode("off", "off", False), "set mode off")]
    return {"emg_mode": emg, "imu_mode": imu, "classifier": clf, "never_sleep": awake}, start, stop


def streams_rule(r: Reader, settings: Mapping, streams: tuple, _: int, codec: Any) -> None:
    fixed_rates(r, streams, {"emg": codec.FS_EMG, "imu": codec.FS_IMU})
