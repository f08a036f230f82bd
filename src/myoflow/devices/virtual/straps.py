"""Virtual straps by kind: :func:`virtual_straps` builds them from the protocol registry.

Each protocol folder's ``virtual.py`` holds its simulator (a
:class:`~myoflow.devices.virtual.base.VirtualStrap`) and the kinds it offers
(``StrapProtocol.virtual_straps``); this module only asks the registry for them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from myoflow._checks import check_option
from myoflow.devices.protocols import NAMES, get_protocol
from myoflow.devices.virtual.base import Clock, VirtualStrap
from myoflow.devices.virtual.radio import LinkConditions, VirtualClock

__all__ = ["KINDS", "VirtualStrap", "virtual_straps"]


def virtual_straps(
    session: Any,
    kinds: Sequence[str] = ("ganglion", "polar_h10", "myo"),
    conditions: LinkConditions | Mapping[str, LinkConditions] | None = None,
    clock: Clock | None = None,
) -> list[VirtualStrap]:
    """Build one virtual strap per entry of ``kinds``, driven by one synthetic session.

    Parameters
    ----------
    session : SyntheticSession
        Signal content (EMG in uV, IMU in g and deg/s).
    kinds : sequence of str
        Any of :data:`KINDS`; repeats get distinct names.
    conditions : LinkConditions or mapping kind -> LinkConditions, optional
        Radio impairments (one for all, or per kind; missing kinds get a clean link).
        Each strap draws its own random streams (``radio_id`` = its position in ``kinds``).
    clock : VirtualClock or RealTimeClock, optional
        Shared by every strap (default: one new :class:`VirtualClock`, fast mode).

    Returns
    -------
    list of VirtualStrap
        Ready for ``await link.add_peripheral(strap)``; the link gives each an address.

    Examples
    --------
    A fast end-to-end test (the ingest stamps arrivals with ``clock``)::

        clock = VirtualClock()
        straps = virtual_straps(session, conditions=LinkConditions(drop_prob=0.02), clock=clock)
        async with VirtualLink() as link:
            for s in straps:
                await link.add_peripheral(s)
            with clock.hold():  # scanning and connecting wait in real time
                ...  # connect, subscribe, send the start commands
            await clock.sleep(60.0)  # 60 s of data, about a second of wall time per strap
            ...  # compare what arrived with s.ledger.samples(...) and s.ledger.packets(...)
    """
    clock = clock if clock is not None else VirtualClock()
    factories = _factories()
    out: list[VirtualStrap] = []
    for i, kind in enumerate(kinds):
        check_option(kind, "kinds", KINDS)
        cond = conditions.get(kind) if isinstance(conditions, Mapping) else conditions
        out.append(factories[kind](session, i, clock=clock, conditions=cond, radio_id=i))
    return out


def _factories() -> dict[str, Callable[..., VirtualStrap]]:
    return {kind: f for name in NAMES for kind, f in get_protocol(name).virtual_straps().items()}


#: Strap kinds :func:`virtual_straps` builds, protocol by protocol.
KINDS = tuple(_factories())
