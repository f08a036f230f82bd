"""Loading and configuring liblsl, and the map from myoflow's clock to LSL's.

Nothing here loads ``pylsl`` until :func:`import_pylsl` (or :func:`configure`) is called.
:func:`configure` remembers the LSL session id it asked for (:func:`wanted_session`), so that an
:class:`~myoflow.lsl.LslSink` can check liblsl really took that configuration.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import numpy as np

__all__ = [
    "SAME_CLOCK_TOLERANCE_S",
    "ClockMap",
    "LslError",
    "configure",
    "import_pylsl",
    "local_only_config",
    "wanted_session",
]

#: Two clocks whose offset is below this (s) are taken to be the same clock.
SAME_CLOCK_TOLERANCE_S = 1e-4
_WANTED_SESSION: str | None = None  # the session id configure() asked for


class LslError(RuntimeError):
    """LSL cannot be used: ``pylsl`` or its ``liblsl`` is missing, or it was configured too late."""


def import_pylsl() -> ModuleType:
    """``pylsl``, or an :class:`LslError` that says how to install it."""
    from myoflow._extras import require

    try:
        return require("pylsl", "LSL output")
    except ImportError as exc:
        raise LslError(str(exc)) from None
    except RuntimeError as exc:  # pylsl raises RuntimeError when its liblsl is missing
        raise LslError(
            f"LSL output needs pylsl with its liblsl: pip install 'myoflow[lsl]' ({exc})"
        ) from None


def local_only_config(session_id: str = "default", log_level: int | None = None) -> str:
    """An ``lsl_api.cfg`` text that keeps LSL on this machine.

    IPv4 only, discovery at ``machine`` scope (queries and answers on 127.0.0.1, TTL 0), the
    discovery responders bound to 127.0.0.1, and the LSL session ``session_id`` (inlets resolve
    only outlets of the same session). ``log_level`` -3..9 sets liblsl's stderr verbosity.
    """
    text = "[ports]\nIPv6 = disable\n[multicast]\nResolveScope = machine\nListenAddress = 127.0.0.1\n"
    text += f"[lab]\nSessionID = {session_id}\n"
    return text + ("" if log_level is None else f"[log]\nlevel = {int(log_level)}\n")


def configure(
    session_id: str = "default", *, machine_only: bool = True, log_level: int | None = None
) -> None:
    """Configure liblsl for this process, before anything else makes an LSL stream.

    liblsl reads its configuration once, when the first stream is made; this sets it to
    :func:`local_only_config` (``machine_only=True``) or to only the session id and log level,
    ahead of ``LSLAPICFG`` and the ``lsl_api.cfg`` files. An :class:`~myoflow.lsl.LslSink` made afterwards
    checks that the configuration applied (its marker outlet carries ``session_id``) and raises
    :class:`LslError` if liblsl had been configured earlier.
    """
    global _WANTED_SESSION
    pylsl = import_pylsl()
    if machine_only:
        text = local_only_config(session_id, log_level)
    else:
        text = f"[lab]\nSessionID = {session_id}\n" + (
            "" if log_level is None else f"[log]\nlevel = {log_level}\n"
        )
    pylsl.set_config_content(text)
    _WANTED_SESSION = session_id


@dataclass(frozen=True)
class ClockMap:
    """``lsl_time = host_time + offset_s``, measured once.

    Attributes
    ----------
    offset_s
        LSL clock minus host clock, s; exactly 0 when :attr:`same_clock`.
    same_clock
        The two clocks agreed within the measurement's resolution plus
        :data:`SAME_CLOCK_TOLERANCE_S` (on Linux both are ``CLOCK_MONOTONIC``).
    resolution_s
        Width of the tightest host-clock bracket around an LSL clock reading, s.
    """

    offset_s: float
    same_clock: bool
    resolution_s: float

    @classmethod
    def measure(cls, clock: Callable[[], float], lsl_clock: Callable[[], float], rounds: int = 9) -> ClockMap:
        """Read ``lsl_clock`` between two ``clock`` readings ``rounds`` times; keep the tightest."""
        best = (math.inf, 0.0)
        for _ in range(rounds):
            a = float(clock())
            t = float(lsl_clock())
            b = float(clock())
            if b - a < best[0]:
                best = (b - a, t - 0.5 * (a + b))
        width, offset = best
        same = abs(offset) <= max(width, 0.0) + SAME_CLOCK_TOLERANCE_S
        return cls(0.0 if same else offset, same, max(width, 0.0))

    def to_lsl(self, times: np.ndarray | float) -> np.ndarray:
        """Host-clock seconds to LSL seconds (float64)."""
        return np.asarray(times, dtype=np.float64) + self.offset_s


def wanted_session() -> str | None:
    """The LSL session id the last :func:`configure` call asked for (None before any)."""
    return _WANTED_SESSION
