"""The LSL sink: one outlet per myoflow stream, an envelope outlet per EMG stream, and markers.

See :mod:`myoflow.lsl` for what is published and how time stamps and gaps are handled.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from myoflow._checks import check_option
from myoflow.lsl._setup import ClockMap, LslError, import_pylsl, wanted_session
from myoflow.stream import Block, Event, Gap, StreamInfo

__all__ = ["ENVELOPE_TYPE", "LSL_TYPES", "MARKER_FORMATS", "MARKER_TYPE", "LslSink"]

#: LSL content type of each myoflow stream kind.
LSL_TYPES = {"emg": "EMG", "ecg": "ECG", "acc": "ACC", "gyro": "GYRO", "quat": "QUAT", "angle": "ANGLE"}
#: LSL content type of the envelope outlets (distinct, so that ``type='EMG'`` finds raw EMG only).
ENVELOPE_TYPE = "EMGEnvelope"
MARKER_TYPE = "Markers"
#: ``"json"``: each marker is a JSON object with ``kind`` and ``label``; ``"text"``: the label.
MARKER_FORMATS = ("json", "text")


@dataclass(frozen=True)
class _Strap:
    """A strap's ``acquisition`` description (empty fields are left out)."""

    manufacturer: str = ""
    model: str = ""
    profile: str = ""
    firmware: str = ""
    device: str = ""
    address: str = ""


class LslSink:
    """Publishes blocks, envelopes, gaps, events, strap states and rep results over LSL.

    Parameters
    ----------
    streams
        Streams to open outlets for now (LabRecorder then lists them before data flows); any
        other stream gets its outlet at its first block.
    clock
        The session's host clock (the ingest's ``clock``), used once to measure the offset to
        LSL's clock and to stamp status markers.
    envelope
        Also publish ``<name>/envelope`` per EMG stream (the live :class:`EmgPipeline
        <myoflow.dsp.pipeline.EmgPipeline>` for its rate; restarted after a gap).
    mvc
        MVC references in envelope units, by ``"<stream>/<channel>"``, channel label or placement:
        an EMG stream whose channels all have one gets its envelope in %MVC, else in its own unit.
    mains_hz
        50 or 60 Hz notches of the envelope pipeline, or None.
    marker_name
        Name of the marker outlet.
    marker_format
        One of :data:`MARKER_FORMATS`.

    Raises
    ------
    LslError
        If pylsl cannot be loaded.
    ValueError
        For an invalid argument, naming it.
    """

    def __init__(
        self,
        streams: Iterable[StreamInfo] = (),
        *,
        clock: Callable[[], float] = time.monotonic,
        envelope: bool = True,
        mvc: Mapping[str, float] | None = None,
        mains_hz: float | None = 50.0,
        marker_name: str = "myoflow/markers",
        marker_format: str = "json",
    ) -> None:
        if not callable(clock):
            raise ValueError(f"clock must be a callable returning seconds, got {clock!r}")
        self.mains_hz = check_option(mains_hz, "mains_hz", (50, 60, None))
        self.marker_format = check_option(marker_format, "marker_format", MARKER_FORMATS)
        if not isinstance(marker_name, str) or not marker_name:
            raise ValueError(f"marker_name must be a non-empty string, got {marker_name!r}")
        self.envelope, self.mvc, self.clock = bool(envelope), dict(mvc or {}), clock
        if self.envelope:
            # Load the signal core now, not at the first EMG block: importing it (scipy) takes
            # 1-4 s, and inside the ingest that stalled every strap, stamped their first packets
            # late and made the timebase discard what followed ("implausible device time").
            import myoflow.dsp.normalise
            import myoflow.dsp.pipeline  # noqa: F401
        self._lsl = import_pylsl()
        self.clock_map = ClockMap.measure(clock, self._lsl.local_clock)
        self._lock = threading.RLock()
        self._straps: dict[str, _Strap] = {}
        self._outlets: dict[str, Any] = {}
        self._infos: dict[str, StreamInfo] = {}
        self._envelopes: dict[str, tuple[Any, Any, Any]] = {}  # name -> (pipeline, percent, outlet)
        self.delays_ms: dict[str, float] = {}
        self._closed = False
        self._markers = self._open_markers(marker_name)
        got, wanted = self._markers.get_info().session_id(), wanted_session()
        if wanted is not None and got != wanted:
            self._markers = None
            raise LslError(
                f"LSL session is {got!r}, not {wanted!r}: liblsl was configured before "
                "myoflow.lsl.configure() was called; call it before any LSL stream is made"
            )
        for info in streams:
            self.add_stream(info)

    # ------------------------------------------------------------------ sink interface
    def on_status(self, status: Any) -> None:
        """Remember the strap (device, address, profile) and publish a ``status`` marker."""
        self.describe_strap(status.name, device=status.device, address=status.address, profile=status.profile)
        payload = {"strap": status.name, "state": status.state, "reconnects": status.reconnects}
        if status.error:
            payload["error"] = str(status.error)
        self._mark(float(self.clock()), "status", f"{status.name} {status.state}", payload)

    def on_block(self, block: Block) -> None:
        """Push the block's samples (float32) with their times, and its envelope for EMG."""
        if len(block) == 0:
            return
        with self._lock:
            self._check_open()
            name = block.stream.name
            outlet = self._outlets.get(name) or self.add_stream(block.stream)
            if block.stream != self._infos[name]:
                raise ValueError(
                    f"stream {name!r} changed: outlet has {self._infos[name]}, block has {block.stream}"
                )
            stamps = self.clock_map.to_lsl(block.times).tolist()
            outlet.push_chunk(block.data, stamps)
            env = self._envelopes.get(name)
            if env is not None:
                pipe, percent, env_outlet = env
                values = pipe.process(block.data).envelope
                env_outlet.push_chunk(values if percent is None else percent(values), stamps)

    def on_gap(self, gap: Gap) -> None:
        """Restart the stream's envelope filters and publish a ``gap`` marker (at ``t_start``)."""
        with self._lock:
            self._check_open()
            env = self._envelopes.get(gap.stream.name)
            if env is not None:
                env[0].reset()
        lost = "?" if gap.n_missing is None else str(gap.n_missing)
        payload = {
            "stream": gap.stream.name,
            "n_missing": gap.n_missing,
            "start_index": gap.start_index,
            "t_start": float(self.clock_map.to_lsl(gap.t_start)),
            "t_end": float(self.clock_map.to_lsl(gap.t_end)),
            "reason": gap.reason,
        }
        self._mark(gap.t_start, "gap", f"gap {gap.stream.name} {lost} samples ({gap.reason})", payload)

    def on_event(self, event: Event) -> None:
        """Publish an event (rep boundary, cue, marker, calibration...) at its time."""
        payload = {"stream": event.stream, "data": event.data}
        label = f"{event.kind} {event.label}".strip()
        self._mark(event.time, event.kind, label, payload)

    def on_results(self, items: Iterable[Any]) -> None:
        """Publish rep results and cues (what ``LiveAnalysis.poll()`` returns).

        A rep is stamped at its movement onset (``phases["start"]``) and carries the whole
        result (``myoflow.analysis.report.rep_to_dict``; times in host-clock seconds); a cue is
        stamped at its ``time`` (the rep's end). Anything else is a ``ValueError``.
        """
        from myoflow.analysis.live import Cue
        from myoflow.analysis.rep_summary import RepResult
        from myoflow.analysis.report import rep_to_dict

        for item in items:
            if isinstance(item, RepResult):
                self._mark(item.phases["start"], "rep", f"rep {item.index}", rep_to_dict(item))
            elif isinstance(item, Cue):
                payload = {"cue": item.kind, "text": item.text, "rep_index": item.rep_index}
                self._mark(item.time, "cue", f"cue {item.kind}: {item.text}", payload)
            else:
                raise ValueError(f"items must be RepResult or Cue objects, got {type(item).__name__}")

    # ------------------------------------------------------------------ metadata, lifetime
    def describe_strap(self, name: str, *, device: str = "", address: str = "", profile: Any = None) -> None:
        """Metadata of strap ``name`` (prefix of its streams' names) for outlets opened later.

        ``profile`` is a :class:`~myoflow.devices.profiles.DeviceProfile` or a profile name
        (shipped profiles give model, firmware and manufacturer). :meth:`on_status` calls this,
        so with the ingest the metadata is known before the first block.
        """
        prof = profile
        if isinstance(profile, str) and profile:
            from myoflow.devices.profiles import shipped_profiles

            prof = shipped_profiles().get(profile, profile)
        if prof is None or isinstance(prof, str):
            meta = _Strap(profile=prof or "", device=device, address=address)
        else:
            from myoflow.devices.protocols import get_protocol

            try:  # the manufacturer comes with the protocol (the profile TOML names only the model)
                maker = get_protocol(prof.protocol).manufacturer
            except KeyError:
                maker = ""
            meta = _Strap(maker, prof.model, prof.name, prof.firmware, device, address)
        with self._lock:
            self._straps[name] = meta

    def add_stream(self, info: StreamInfo) -> Any:
        """Open the outlet of ``info`` (and its envelope's) now, if not open yet; return it."""
        with self._lock:
            self._check_open()
            if info.name in self._outlets:
                return self._outlets[info.name]
            stage = self._envelope_stage(info) if info.kind == "emg" and self.envelope else None
            strap_name, short = info.name.split("/", 1) if "/" in info.name else (info.name, info.name)
            strap = self._straps.get(strap_name, _Strap())
            source = f"myoflow/{strap.address or strap_name}/{short}"
            outlet = self._outlet(info.name, LSL_TYPES[info.kind], info, info.unit, strap, source)
            self._outlets[info.name], self._infos[info.name] = outlet, info
            if stage is not None:
                pipe, percent = stage
                prof = pipe.profile
                details = {
                    "of": info.name,
                    "delay_ms": round(pipe.delay_ms, 3),
                    "profile": prof.name,
                    "method": prof.envelope,
                    **({"cutoff_hz": prof.envelope_hz} if prof.envelope == "lowpass" else {}),
                    **({"window_s": prof.window_s} if prof.envelope != "lowpass" else {}),
                    "mains_hz": "none" if prof.mains_hz is None else f"{prof.mains_hz:g}",
                    "reference": "none" if percent is None else "mvc",
                }
                unit = info.unit if percent is None else "%MVC"
                name, src = f"{info.name}/envelope", f"{source}/envelope"
                env = self._outlet(name, ENVELOPE_TYPE, info, unit, strap, src, {"envelope": details})
                self._envelopes[info.name] = (pipe, percent, env)
                self.delays_ms[info.name] = pipe.delay_ms
            return outlet

    def _envelope_stage(self, info: StreamInfo) -> tuple[Any, Any]:
        """``(EmgPipeline, PercentMvc or None)`` of an EMG stream; checks ``mvc`` covers it."""
        from myoflow.dsp.normalise import PercentMvc
        from myoflow.dsp.pipeline import EmgPipeline, profile_for_rate

        try:
            pipe = EmgPipeline(info.rate, profile_for_rate(info.rate, self.mains_hz))
        except ValueError as exc:
            raise ValueError(f"EMG stream {info.name!r}: no live envelope at {info.rate} Hz: {exc}") from None
        refs = [self._mvc_of(info, j) for j in range(info.n_channels)]
        if all(r is None for r in refs):
            return pipe, None
        missing = [info.channels[j] for j, r in enumerate(refs) if r is None]
        if missing:
            raise ValueError(f"mvc covers only part of EMG stream {info.name!r}: none for {missing}")
        return pipe, PercentMvc(refs, channel_labels=info.placements or info.channels)

    @property
    def outlets(self) -> tuple[str, ...]:
        """Names of the open outlets (data, envelope and marker)."""
        with self._lock:
            names = list(self._outlets) + [f"{n}/envelope" for n in self._envelopes]
            return (*names, self._markers.get_info().name())

    def close(self) -> None:
        """Close every outlet (inlets see the streams end); further calls raise."""
        with self._lock:
            self._closed = True
            self._outlets.clear()
            self._envelopes.clear()
            self._markers = None

    def __enter__(self) -> LslSink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ internals
    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this LslSink is closed")

    def _mvc_of(self, info: StreamInfo, j: int) -> float | None:
        from myoflow.analysis.normalisation import lookup_mvc

        place = info.placements[j] if info.placements else None
        return lookup_mvc(self.mvc, info.name, info.channels[j], place)

    def _outlet(
        self,
        name: str,
        stype: str,
        info: StreamInfo,
        unit: str,
        strap: _Strap,
        source: str,
        extra: Mapping[str, Any] | None = None,
    ) -> Any:
        """An outlet with the XDF-style description: channels, acquisition, synchronization."""
        lsl = self._lsl
        sinfo = lsl.StreamInfo(name, stype, info.n_channels, info.rate, lsl.cf_float32, source)
        desc = sinfo.desc()
        channels = desc.append_child("channels")
        for j, label in enumerate(info.channels):
            entry = {"label": label, "unit": unit, "type": stype}
            if info.placements:
                entry["location"] = info.placements[j]
            _put(channels.append_child("channel"), entry)
        _put(desc.append_child("acquisition"), {k: v for k, v in asdict(strap).items() if v})
        _put(desc, {"synchronization": {"can_drop_samples": "true"}, **(extra or {})})
        self._describe_clock(desc, {"stream": info.name, "kind": info.kind})
        return lsl.StreamOutlet(sinfo)

    def _describe_clock(self, desc: Any, extra: dict[str, Any]) -> None:
        from myoflow import __version__

        clock = {
            "offset_s": repr(self.clock_map.offset_s),
            "same_clock": str(self.clock_map.same_clock).lower(),
        }
        _put(desc.append_child("myoflow"), {**extra, "version": __version__, "clock": clock})

    def _open_markers(self, name: str) -> Any:
        lsl = self._lsl
        sinfo = lsl.StreamInfo(name, MARKER_TYPE, 1, lsl.IRREGULAR_RATE, lsl.cf_string, name)
        desc = sinfo.desc()
        _put(desc.append_child("channels").append_child("channel"), {"label": "marker", "type": MARKER_TYPE})
        self._describe_clock(desc, {"format": self.marker_format})
        return lsl.StreamOutlet(sinfo)

    def _mark(self, host_time: float, kind: str, label: str, payload: dict[str, Any]) -> None:
        if self.marker_format == "json":
            text = json.dumps(_plain({"kind": kind, "label": label, **payload}), allow_nan=False, default=str)
        else:
            text = label
        with self._lock:
            self._check_open()
            self._markers.push_sample([text], float(self.clock_map.to_lsl(host_time)))


def _put(element: Any, values: Mapping[str, Any]) -> None:
    """Append ``values`` under an LSL XML ``element``: a dict becomes a child element."""
    for key, value in values.items():
        if isinstance(value, Mapping):
            _put(element.append_child(key), value)
        else:
            element.append_child_value(key, "" if value is None else str(value))


def _plain(x: Any) -> Any:
    """JSON types: numpy scalars to Python, tuples to lists, NaN and infinities to None."""
    if isinstance(x, Mapping):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [_plain(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    return x
