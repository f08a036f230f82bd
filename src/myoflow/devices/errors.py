"""Errors of the BLE ingest, with structured reasons a program can act on.

Every error is an :class:`IngestError` whose message says what happened and what to do; the
attributes carry the same facts as data (``reason``, ``device``, status codes, MTUs):

=========================  =====================================================================
error                      when
=========================  =====================================================================
:class:`AdapterUnavailable`  no Bluetooth adapter, Bluetooth off, no BlueZ/D-Bus, access denied
:class:`DeviceNotFound`      nothing matching advertised within the scan timeout (lists the seen)
:class:`CommandRefused`      a strap answered a command with an error status (Polar PMD status,
                             ATT error)
:class:`MtuTooSmall`         the negotiated ATT MTU is below the profile's ``min_mtu``
:class:`ConnectionLost`      a strap could not be reconnected within the reconnect policy
:class:`ProfileMismatch`     the first packets of a stream do not fit the profile (channels, rate,
                             sample width, or they do not decode at all)
=========================  =====================================================================

:func:`adapter_unavailable` maps the platform errors bleak raises when there is no usable adapter
(``BleakBluetoothNotAvailableError``, BlueZ D-Bus errors, a missing system bus socket) onto
:class:`AdapterUnavailable`. This module imports bleak only inside that function.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from myoflow.devices.seen import SeenDevice

__all__ = [
    "AdapterUnavailable",
    "CommandRefused",
    "ConnectionLost",
    "DeviceNotFound",
    "IngestError",
    "MtuTooSmall",
    "ProfileMismatch",
    "adapter_unavailable",
]

#: What to tell a user who has no adapter: the virtual straps need none.
VIRTUAL_HINT = (
    "To try myoflow without Bluetooth hardware, use the virtual straps: "
    "'myoflow scan --virtual' or 'myoflow stream --virtual'."
)
#: D-Bus error names (BlueZ) that mean "no usable adapter", with what they mean.
_DBUS_REASONS = {
    "org.freedesktop.DBus.Error.ServiceUnknown": (
        "no_bluez",
        "the BlueZ service (bluetoothd) is not running",
    ),
    "org.freedesktop.DBus.Error.NoReply": ("no_bluez", "BlueZ (bluetoothd) does not answer"),
    "org.bluez.Error.NotReady": ("powered_off", "the Bluetooth adapter is not ready (powered off?)"),
    "org.bluez.Error.NotAvailable": ("no_bluetooth", "the Bluetooth adapter is not available"),
    "org.freedesktop.DBus.Error.AccessDenied": ("denied", "access to BlueZ over D-Bus was denied"),
}


class IngestError(Exception):
    """Base of the ingest's errors.

    Parameters
    ----------
    message
        The full, human-readable message.
    reason
        A short machine-readable reason, e.g. ``"no_bluetooth"``, ``"not_found"``, ``"status"``.
    device
        The strap concerned (name or address), when there is one.
    """

    def __init__(self, message: str, *, reason: str, device: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.device = device


class AdapterUnavailable(IngestError):
    """No usable Bluetooth adapter: none present, powered off, BlueZ or D-Bus missing, denied.

    ``reason`` is one of ``"no_bluetooth"``, ``"no_central_role"``, ``"powered_off"``,
    ``"denied"``, ``"no_bluez"``, ``"no_dbus"``, ``"unknown"``; ``detail`` is what the platform
    said. The message ends with how to use the virtual straps instead.
    """

    def __init__(self, reason: str, detail: str) -> None:
        self.detail = detail
        super().__init__(
            f"Bluetooth is not available: {detail}. Check that an adapter is present and switched "
            f"on (and, on Linux, that BlueZ is running). {VIRTUAL_HINT}",
            reason=reason,
        )


class DeviceNotFound(IngestError):
    """Nothing that matches ``query`` advertised within ``timeout`` seconds.

    ``seen`` lists every device that did advertise (name, address, RSSI, matching profiles);
    the message names them, so a typo in a name or a strap that is off is easy to tell apart.
    """

    def __init__(self, query: str, timeout: float, seen: Sequence[SeenDevice] = ()) -> None:
        self.query, self.timeout, self.seen = query, float(timeout), tuple(seen)
        if self.seen:
            listed = "; ".join(d.describe() for d in self.seen)
            what = f"seen {len(self.seen)} device(s): {listed}"
        else:
            what = "no device advertised at all (is the strap switched on and not connected elsewhere?)"
        super().__init__(f"no device matching {query} within {timeout:g} s; {what}", reason="not_found")


class CommandRefused(IngestError):
    """A strap refused a command: ``status`` is the device's status code, ``status_name`` its name.

    For Polar PMD this is the control point status (e.g. 10, ``INVALID_MTU``); for a GATT write
    the strap rejected, the ATT error code. ``command`` holds the bytes written.
    """

    def __init__(self, device: str, command: bytes, status: int, status_name: str) -> None:
        self.command, self.status, self.status_name = bytes(command), int(status), status_name
        super().__init__(
            f"{device} refused the command {self.command.hex(' ')}: status {self.status} ({status_name})",
            reason="status",
            device=device,
        )


class MtuTooSmall(IngestError):
    """The negotiated ATT MTU (bytes) is smaller than the profile needs for its notifications."""

    def __init__(self, device: str, negotiated: int, needed: int, profile: str = "") -> None:
        self.negotiated, self.needed = int(negotiated), int(needed)
        of = f" by profile {profile!r}" if profile else ""
        super().__init__(
            f"{device}: the negotiated ATT MTU is {self.negotiated} bytes but {self.needed} are "
            f"needed{of}; its notifications would be cut short. Use an adapter/OS that allows a "
            f"larger MTU, or a profile with smaller packets",
            reason="mtu",
            device=device,
        )


class ConnectionLost(IngestError):
    """A strap dropped and every reconnect attempt of the policy failed (``attempts`` tries)."""

    def __init__(self, device: str, attempts: int, last_error: BaseException | None) -> None:
        self.attempts, self.last_error = int(attempts), last_error
        why = f": last error {type(last_error).__name__}: {last_error}" if last_error else ""
        super().__init__(
            f"{device} disconnected and {attempts} reconnect attempt(s) failed{why}",
            reason="reconnect_failed",
            device=device,
        )


class ProfileMismatch(IngestError):
    """The strap's first packets of ``stream`` do not fit ``profile``; ``observed`` says how."""

    def __init__(self, device: str, profile: str, stream: str, observed: str) -> None:
        self.profile, self.stream, self.observed = profile, stream, observed
        super().__init__(
            f"{device}: profile {profile!r} does not fit this strap: stream {stream!r} {observed}. "
            f"Choose the profile that matches the strap's firmware (--profile), or write one "
            f"(docs/device-profiles.md)",
            reason="profile_mismatch",
            device=device,
        )


def adapter_unavailable(exc: BaseException, *, platform: bool = True) -> AdapterUnavailable | None:
    """The :class:`AdapterUnavailable` that ``exc`` means, or ``None`` if it means something else.

    Parameters
    ----------
    exc
        An exception raised by a bleak scanner or client call.
    platform
        True when bleak used its platform backend: then an ``OSError`` while connecting to the
        D-Bus system bus (no socket, refused, denied) also means "no Bluetooth here".
    """
    from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError

    if isinstance(exc, AdapterUnavailable):
        return exc
    if isinstance(exc, BleakBluetoothNotAvailableError):
        reason = getattr(exc.reason, "name", "UNKNOWN").lower()
        reason = {"no_ble_central_role": "no_central_role"}.get(reason, reason)
        if reason.startswith("denied"):
            reason = "denied"
        return AdapterUnavailable(reason, str(exc.args[0]) if exc.args else "unknown reason")
    if isinstance(exc, BleakDBusError) and exc.dbus_error in _DBUS_REASONS:
        reason, detail = _DBUS_REASONS[exc.dbus_error]
        return AdapterUnavailable(reason, f"{detail} [{exc.dbus_error}]")
    if platform and isinstance(exc, (FileNotFoundError, ConnectionRefusedError, PermissionError)):
        what = _oserror_text(exc)
        return AdapterUnavailable(
            "denied" if isinstance(exc, PermissionError) else "no_dbus",
            f"cannot reach BlueZ over the D-Bus system bus ({what})",
        )
    return None


def _oserror_text(exc: OSError) -> Any:
    return exc.strerror or type(exc).__name__
