"""Normalisation of activation envelopes to a maximum voluntary contraction (% MVC).

A calibration step records each muscle's strongest contraction. Its reference is the peak of
the envelope averaged over a short window (0.5 s by default), which keeps one spike or one
peak of envelope ripple from setting the scale. Several trials or joint positions combine by
taking each channel's maximum; any later envelope is then expressed in percent of it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from myoflow._checks import as_signal, check_channels, check_positive, check_rate


def mvc_reference(envelope_segment: np.ndarray, fs: float, window_s: float = 0.5) -> np.ndarray:
    """Peak moving-average envelope of an MVC calibration segment, per channel.

    Parameters
    ----------
    envelope_segment
        Shape ``(n_samples, n_channels)`` (1-D is one channel): the activation envelope during
        the maximum contraction, in its physical unit (e.g. uV).
    fs
        Sample rate in Hz.
    window_s
        Length of the moving average in seconds (rounded to whole samples, at least 1).

    Returns
    -------
    numpy.ndarray
        Shape ``(n_channels,)``, float64: the largest mean of the envelope over any window of
        ``window_s`` that holds only finite samples (windows touching a NaN or inf are skipped).

    Raises
    ------
    ValueError
        If the segment is shorter than the window, or a channel has no window of finite data.
    """
    fs = check_rate(fs)
    window_s = check_positive(window_s, "window_s", "s")
    x = as_signal(envelope_segment, "envelope_segment")
    n, n_ch = x.shape
    w = max(1, round(window_s * fs))
    if n < w:
        raise ValueError(
            f"envelope_segment lasts {n / fs:g} s ({n} samples at {fs:g} Hz), shorter than the "
            f"MVC averaging window of {window_s:g} s ({w} samples)"
        )
    out = np.empty(n_ch)
    for c in range(n_ch):  # one channel at a time: an hour at 2 kHz is 7 M samples per channel
        best = _largest_window_sum(x[:, c], w)
        if best is None:  # lost samples: windows that touch one are skipped
            col = np.asarray(x[:, c], dtype=np.float64)
            finite = np.isfinite(col)
            csum = np.cumsum(np.where(finite, col, 0.0))
            sums = csum[w - 1 :].copy()  # window k: csum[k + w - 1] - csum[k - 1] (0 before the start)
            sums[1:] -= csum[:-w]
            ccount = np.concatenate([[0.0], np.cumsum(finite, dtype=np.float64)])
            sums[(ccount[w:] - ccount[:-w]) != w] = -np.inf
            best = float(sums.max())
        out[c] = best / w  # the largest mean: dividing by w > 0 keeps the order
        if out[c] == -np.inf:
            raise ValueError(
                f"envelope_segment channel {c} has no {window_s:g} s window of finite "
                f"data: no MVC reference can be taken from it"
            )
    return out


#: Rows of a channel :func:`_largest_window_sum` sums at once (a few MB of float64).
_BLOCK_ROWS = 1 << 18


def _largest_window_sum(col: np.ndarray, w: int) -> float | None:
    """Largest sum of ``w`` consecutive samples of ``col`` ``(n,)``, ``n >= w``, from cumulative
    sums taken a block of rows at a time (each block's running sum starts from the previous
    block's last one: the same additions in the same order as one ``np.cumsum``); None when a
    sample is not finite."""
    n = col.size
    tail = np.zeros(w)  # the running sums of the w rows before the block (0 before the start)
    best = -np.inf
    for a in range(0, n, max(_BLOCK_ROWS, w)):
        block = np.array(col[a : a + max(_BLOCK_ROWS, w)], dtype=np.float64)  # a copy: changed below
        if not np.isfinite(block).all():
            return None
        block[0] += tail[-1]
        csum = np.concatenate([tail, np.cumsum(block)])  # rows a - w ... a + len - 1
        first = max(0, w - 1 - a)  # the first window ends at row w - 1
        sums = csum[w + first :] - csum[first : csum.size - w]
        if sums.size:
            best = max(best, float(sums.max()))
        tail = csum[-w:]
    return best


def combine_mvc(references: Sequence[np.ndarray]) -> np.ndarray:
    """Per-channel maximum of several MVC references (trials, joint positions).

    Parameters
    ----------
    references
        One array of shape ``(n_channels,)`` per trial, all with the same channel count. A NaN
        entry (a channel not calibrated in that trial) is ignored.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_channels,)``, float64; NaN for a channel that is NaN in every trial.
    """
    refs = [np.asarray(r, dtype=np.float64).reshape(-1) for r in references]
    if not refs:
        raise ValueError("references must hold at least one MVC reference, got none")
    sizes = sorted({r.size for r in refs})
    if len(sizes) != 1:
        raise ValueError(f"references must all have the same number of channels, got sizes {sizes}")
    return np.fmax.reduce(np.stack(refs), axis=0)


class PercentMvc:
    """Express envelopes in percent of each channel's MVC reference.

    Parameters
    ----------
    reference
        Shape ``(n_channels,)``: each channel's MVC reference in the envelope's unit
        (:func:`mvc_reference`, :func:`combine_mvc`). ``None``, NaN or a value <= 0 marks a
        channel without a reference; calling with such a channel is an error.
    channel_labels
        One label per channel for error messages (e.g. ``"glute_max_r"``); defaults to
        ``"ch0"``, ``"ch1"``, ...

    Notes
    -----
    Stateless: the result of a chunk does not depend on earlier chunks, so any chunking gives
    the same output.
    """

    def __init__(
        self,
        reference: Sequence[float | None] | np.ndarray,
        channel_labels: Sequence[str] | None = None,
    ) -> None:
        entries = np.asarray(reference, dtype=object).reshape(-1)
        try:
            ref = np.array([np.nan if r is None else float(r) for r in entries], dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"reference must hold numbers (or None), got {reference!r}") from None
        if ref.size == 0:
            raise ValueError("reference must hold one MVC reference per channel, got none")
        if channel_labels is None:
            labels = tuple(f"ch{i}" for i in range(ref.size))
        else:
            labels = tuple(str(label) for label in channel_labels)
            if len(labels) != ref.size:
                raise ValueError(
                    f"channel_labels has {len(labels)} label(s) but reference has {ref.size} channel(s)"
                )
        self.reference = ref
        self.channel_labels = labels
        self.has_reference = np.isfinite(ref) & (ref > 0)
        safe = np.where(self.has_reference, ref, 1.0)
        self._scale = np.where(self.has_reference, 100.0 / safe, np.nan).astype(np.float32)

    @property
    def n_channels(self) -> int:
        """Number of channels (one reference each)."""
        return int(self.reference.size)

    def __call__(self, envelope: np.ndarray) -> np.ndarray:
        """``100 * envelope / reference`` per channel.

        Parameters
        ----------
        envelope
            Shape ``(n_samples, n_channels)`` (1-D is one channel), same unit as the reference.

        Returns
        -------
        numpy.ndarray
            Same shape as a 2-D input, float32, percent of MVC.

        Raises
        ------
        ValueError
            If a channel has no MVC reference, or the channel count differs.
        """
        x = as_signal(envelope, "envelope")
        check_channels(x, self.n_channels, "PercentMvc")
        missing = np.flatnonzero(~self.has_reference)
        if missing.size:
            label = self.channel_labels[missing[0]]
            raise ValueError(f"no MVC reference for channel {label!r}: run the MVC calibration first")
        return np.ascontiguousarray(x * self._scale)
