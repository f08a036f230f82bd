"""Names of the glute preset's straps and streams (a leaf: importing it loads no Bluetooth).

The preset itself is :func:`myoflow.rigs.virtual_rig.virtual_rig` (``preset="glute"``).
"""

from __future__ import annotations

__all__ = ["EMG_CHANNELS", "EMG_STRAP", "EMG_STREAM", "PELVIS_STRAP", "THIGH_STRAP"]

#: Strap names in the session (stream names are ``"<strap>/<stream>"``).
EMG_STRAP, PELVIS_STRAP, THIGH_STRAP = "diy", "pelvis", "thigh"
#: The EMG stream of the DIY strap.
EMG_STREAM = f"{EMG_STRAP}/emg"
#: Channels of the DIY EMG strap (the session's placements, repeated if fewer).
EMG_CHANNELS = 4
