"""Real straps without flags: start with none, scan, pick, place each EMG channel, remember it.

``myoflow dashboard`` with no ``--device``, ``--virtual`` or ``--replay`` opens on an
:class:`IdleSource` (nothing streams; the status says what to do). Scan lists the straps in
range; Connect selected opens a :class:`PlacementDialog`: one row per EMG channel of each chosen
strap, a placement from the vocabulary (:data:`PLACEMENT_CHOICES`, e.g. ``glute_max_r``) or
"not used". The choices are remembered per strap address in
``$XDG_CONFIG_HOME/myoflow/straps.json`` (``~/.config/...``) and offered next time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from myoflow.analysis.placement import ROLES
from myoflow.dashboard.model import StatusLine

__all__ = ["PLACEMENT_CHOICES", "IdleSource", "emg_channels", "remember", "remembered", "setup_file"]

#: Every muscle of the placement vocabulary, left and right.
PLACEMENT_CHOICES: tuple[str, ...] = tuple(
    f"{muscle}_{side}" for muscles in ROLES.values() for muscle in muscles for side in ("r", "l")
)


def setup_file() -> Path:
    """Where the last set-up per strap is kept."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "myoflow" / "straps.json"


def remembered(address: str) -> dict[str, dict[str, str]]:
    """The placements last used for the strap at ``address`` (``{stream: {channel: placement}}``)."""
    try:
        data = json.loads(setup_file().read_text())
    except (OSError, ValueError):
        return {}
    entry = data.get(address, {}) if isinstance(data, dict) else {}
    return {str(k): {str(c): str(p) for c, p in v.items()} for k, v in entry.items() if isinstance(v, dict)}


def remember(address: str, placements: dict[str, dict[str, str]]) -> None:
    """Keep ``placements`` as the strap's set-up for next time."""
    path = setup_file()
    try:
        data = json.loads(path.read_text())
        data = data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        data = {}
    data[address] = placements
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    tmp.replace(path)


def emg_channels(profile: str) -> dict[str, tuple[str, ...]]:
    """``{stream: channels}`` of the EMG streams of a shipped profile (or profile path)."""
    from myoflow.devices.profiles import load_profile

    return {s.name: tuple(s.channels) for s in load_profile(profile).streams if s.kind == "emg"}


class IdleSource:
    """A session with no straps yet: nothing streams, commands explain what to do first."""

    kind = "live"

    def __init__(self, exercise: str = "glute_bridge") -> None:
        self.exercise = exercise
        self.label = "no straps yet"
        self.analysis = None
        self.raw = None
        self.generation = 0
        self.ingest = None
        self.error = None
        self.finished = False
        self.recording = None
        self.saved: list[Path] = []
        self.extra_sinks: tuple = ()
        self.mvc = None
        self.mains_hz = 50.0
        self.markers: list[Any] = []

    def start(self, record: Any = None, subject_id: str = "") -> None:
        if record is not None:
            raise ValueError("--record needs straps: give --device/--profile, or use --virtual")

    def stop(self, timeout: float = 30.0) -> None:
        self.finished = True

    @property
    def running(self) -> bool:
        return False

    def statuses(self) -> list[Any]:
        return []

    def status_lines(self) -> list[StatusLine]:
        text = "no straps connected: press Scan, select your straps, then Connect selected"
        return [StatusLine("straps", "idle", text, False)]

    def start_recording(self, *_args: Any, **_kwargs: Any) -> None:
        raise ValueError("connect straps first (Scan, then Connect selected)")

    def stop_recording(self) -> None:
        """Nothing is being recorded."""

    def marker(self, label: str = "marker") -> None:
        return None

    def set_exercise(self, exercise: str) -> None:
        self.exercise = exercise

    def muscles(self) -> tuple[str, ...]:
        return ()

    def set_mvc(self, mvc: Any) -> None:
        raise ValueError("connect straps first (Scan, then Connect selected)")

    def contraction(self, muscle: str, seconds: float) -> Any:
        raise ValueError("connect straps first (Scan, then Connect selected)")
