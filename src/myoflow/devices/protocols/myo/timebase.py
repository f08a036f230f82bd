"""Thalmic Myo timebase: no counter; loss only from arrival gaps (its size unknown)."""

from __future__ import annotations

from myoflow._checks import check_positive
from myoflow.devices.codec import Packet
from myoflow.devices.timebase import Step, Timebase
from myoflow.stream import StreamInfo

__all__ = ["MyoTimebase"]


class MyoTimebase(Timebase):
    """Myo EMG: no counter, two samples per notification, spread over four characteristics.

    Loss cannot be counted. A notification that arrives more than ``max_delay_s`` later than
    the fitted clock allows for its index is taken as the end of an unknown loss: a
    :class:`Gap` with ``n_missing=None``, the index jumps by the size the host clock suggests,
    and the fit re-learns its offset. The same happens after :meth:`restart`. Shorter delays
    are bunching or retransmissions that the following burst catches up.

    Parameters
    ----------
    max_delay_s
        Lateness (host s) above which a notification marks an unknown loss.
    """

    def __init__(self, stream: StreamInfo, *, max_delay_s: float = 0.25, **kwargs) -> None:
        super().__init__(stream, **kwargs)
        self.max_delay_s = check_positive(max_delay_s, "max_delay_s", "s")

    def _account(self, packet: Packet, h: float) -> Step | None:
        n = packet.n_samples
        if self._restart_pending:
            est = self._estimate_missing(h, n)
            return Step(est, False, est / n, "reconnect (Myo has no counter)", True)
        if self.fit.n_fits and self._lateness(h, n) > self.max_delay_s:
            est = self._estimate_missing(h, n)
            return Step(est, False, est / n, "unknown loss (Myo arrival gap, no counter)", True)
        return Step(0, True, 0.0)
