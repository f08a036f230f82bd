"""Pseudonymised exports: no BLE addresses, subject ids replaced by a keyed hash.

A recording holds what identifies a person only indirectly: the subject id the user typed, the
Bluetooth addresses of the straps (a strap's address follows its owner), free-text notes, the
source file name of an import, and the UTC start time (see ``docs/privacy.md``).
:class:`Pseudonymiser` is applied by ``myoflow export csv|nwb --pseudonymise`` to what is
written:

* ``subject_id`` -> ``sub-`` + the first 16 hex digits of HMAC-SHA256(key, subject_id): the
  same subject gets the same pseudonym under the same key (sessions stay linkable for the
  study), and without the key the id cannot be recovered by trying likely names;
* every ``device_address`` -> ``""``, and any text that looks like a BLE/MAC address
  (``AA:BB:CC:DD:EE:FF``, ``-`` separated too) anywhere in the metadata, profile TOML and
  events -> ``<address removed>``;
* ``notes`` (free text) and the import's source file name -> dropped.

Samples, times (including the UTC anchor), placements, device models and firmware stay: they
are the measurement. The key is read from a file (``--key-file``) or the ``MYOFLOW_PSEUDONYM_KEY``
environment variable; it must hold at least 16 bytes and is never written anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from myoflow.storage.schema import DeviceInfo, SessionMetadata

__all__ = ["KEY_ENV", "MIN_KEY_BYTES", "Pseudonymiser", "load_key"]

#: Environment variable holding the key when no key file is given.
KEY_ENV = "MYOFLOW_PSEUDONYM_KEY"
MIN_KEY_BYTES = 16
_MAC = re.compile(r"\b[0-9A-Fa-f]{2}(?:([:-])[0-9A-Fa-f]{2})(?:\1[0-9A-Fa-f]{2}){4}\b")
REMOVED = "<address removed>"


def load_key(key_file: str | os.PathLike[str] | None = None) -> bytes:
    """The HMAC key: the bytes of ``key_file`` (trailing newline dropped), else ``$MYOFLOW_PSEUDONYM_KEY``.

    Raises ValueError naming the file or variable when there is no key or it is shorter than
    :data:`MIN_KEY_BYTES` bytes.
    """
    if key_file is not None:
        try:
            key = Path(key_file).read_bytes().rstrip(b"\r\n")
        except OSError as exc:
            raise ValueError(f"--key-file {key_file}: cannot read it ({exc.strerror})") from None
        where = f"--key-file {key_file}"
    else:
        key = os.environ.get(KEY_ENV, "").encode("utf-8")
        where = f"${KEY_ENV}"
        if not key:
            raise ValueError(
                f"--pseudonymise needs a secret key: --key-file FILE or the {KEY_ENV} environment "
                "variable (e.g. 'head -c 32 /dev/urandom | base64 > key.txt'; keep it to link sessions)"
            )
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"{where}: the key has {len(key)} bytes; use at least {MIN_KEY_BYTES}")
    return key


@dataclass(frozen=True)
class Pseudonymiser:
    """Replace what identifies a subject in exported metadata (see the module docstring)."""

    key: bytes

    def subject(self, subject_id: str) -> str:
        """``sub-<16 hex digits>`` of HMAC-SHA256(key, subject_id); ``""`` stays ``""``."""
        if not subject_id:
            return ""
        digest = hmac.new(self.key, subject_id.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"sub-{digest[:16]}"

    def text(self, text: str) -> str:
        """``text`` with every MAC-address-like token replaced by ``<address removed>``."""
        return _MAC.sub(REMOVED, text)

    def value(self, value: Any) -> Any:
        """A JSON-like value with addresses removed from every string in it."""
        return json.loads(self.text(json.dumps(value, ensure_ascii=False)))

    def metadata(self, meta: SessionMetadata) -> SessionMetadata:
        """Subject id hashed, notes dropped, addresses removed, the import's source name dropped."""
        extra = self.value(meta.extra)
        if isinstance(extra.get("import"), dict):
            extra["import"].pop("source", None)
            extra["import"]["notes"] = [self.text(n) for n in extra["import"].get("notes", [])]
        return replace(
            meta,
            subject_id=self.subject(meta.subject_id),
            notes="",
            profile_toml=self.text(meta.profile_toml),
            filter_settings=self.value(meta.filter_settings),
            mvc_references=self.value(meta.mvc_references),
            extra=extra,
        )

    def device(self, device: DeviceInfo) -> DeviceInfo:
        """The strap without its address."""
        return replace(device, address="", model=self.text(device.model), firmware=self.text(device.firmware))

    def event(self, event: Any) -> Any:
        """An event with addresses removed from its label and data (subject ids in the data hashed)."""
        data = self.value(event.data)
        if isinstance(data.get("subject_id"), str):
            data["subject_id"] = self.subject(data["subject_id"])
        if isinstance(data.get("notes"), str):
            data["notes"] = ""
        return replace(event, label=self.text(event.label), data=data)
