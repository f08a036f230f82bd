"""Where is each EMG channel? A dialog shown before connecting scanned straps.

One row per EMG channel of each chosen strap (its best-matching profile), a combo box with the
placement vocabulary (:data:`~myoflow.dashboard.straps.PLACEMENT_CHOICES`) or "not used",
preset from the strap's remembered set-up. :meth:`PlacementDialog.placements` gives
``{address: {stream: {channel: placement}}}`` for :class:`~myoflow.devices.ingest.StrapConfig`.
"""

from __future__ import annotations

from typing import Any

from PySide6 import QtWidgets

from myoflow.dashboard.straps import PLACEMENT_CHOICES, emg_channels, remember, remembered

__all__ = ["NOT_USED", "PlacementDialog"]

NOT_USED = "not used"


class PlacementDialog(QtWidgets.QDialog):
    """Placement per EMG channel of each of ``seen`` (SeenDevice objects)."""

    def __init__(self, seen: list[Any], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Where is each EMG channel?")
        self.setMinimumWidth(480)
        self.seen = list(seen)
        self.boxes: dict[tuple[str, str, str], QtWidgets.QComboBox] = {}
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(QtWidgets.QLabel("Pick the muscle under each EMG channel (remembered per strap)."))
        for device in self.seen:
            box = QtWidgets.QGroupBox(f"{device.name or device.address} ({device.profiles[0]})")
            form = QtWidgets.QFormLayout(box)
            before = remembered(device.address)
            for stream, channels in emg_channels(device.profiles[0]).items():
                for channel in channels:
                    combo = QtWidgets.QComboBox()
                    combo.addItems([NOT_USED, *PLACEMENT_CHOICES])
                    combo.setCurrentText(before.get(stream, {}).get(channel, NOT_USED))
                    form.addRow(f"{stream} {channel}", combo)
                    self.boxes[(device.address, stream, channel)] = combo
            layout.addWidget(box)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel
        )
        buttons.button(QtWidgets.QDialogButtonBox.Ok).setText("Connect")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def placements(self) -> dict[str, dict[str, dict[str, str]]]:
        """``{address: {stream: {channel: placement}}}`` (channels "not used" left out)."""
        out: dict[str, dict[str, dict[str, str]]] = {d.address: {} for d in self.seen}
        for (address, stream, channel), combo in self.boxes.items():
            if combo.currentText() != NOT_USED:
                out[address].setdefault(stream, {})[channel] = combo.currentText()
        return out

    def accept(self) -> None:
        """Remember the set-up of each strap, then close."""
        for address, placed in self.placements().items():
            remember(address, placed)
        super().accept()
