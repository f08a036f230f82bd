"""What a recording holds, as a JSON-ready dict and as text: used by ``myoflow info``.

:func:`describe_recording` reads only the small parts of a file (attributes, tables, the first
and last sample times), never the samples, so it is quick on hour-long recordings and works on
live and crashed files too. Its keys (``myoflow info FILE --json`` prints them):

``file``, ``format`` (``"myoflow-recording"``), ``schema_version``, ``myoflow_version``,
``state`` (``"live"``, ``"final"`` or ``"recovered"``), ``swmr`` (the file was still open for
writing), ``size_bytes``, ``start_utc`` (ISO 8601 of the clock anchor),
``clock`` (``monotonic_s``, ``unix_s``), ``duration_s`` (first to last sample of any stream),
``metadata`` (``subject_id``, ``exercise``, ``notes``, ``profile_toml``, ``filter_settings``,
``mvc_references``, ``extra``), ``streams`` (list, below), ``gaps`` (``count``,
``lost_samples``, ``unknown_size``, ``by_reason``) and ``events`` (``count``, ``by_kind``).

Each stream: ``name``, ``kind``, ``unit``, ``channels``, ``placements`` (None when unknown),
``raw_dtype``, ``device`` (``model``, ``firmware``, ``address``), ``nominal_rate`` and
``effective_rate`` (Hz; None with fewer than 2 samples), ``samples`` (stored),
``lost_samples`` (in gaps of known size), ``unknown_gaps`` (gaps of unknown size),
``loss_percent`` (lost / (stored + lost) x 100, counting known sizes only), ``gaps``,
``start_s``/``end_s`` (host-clock times of the first and last sample; None when empty),
``duration_s``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from myoflow.storage.reader import Recording, StreamView

__all__ = ["describe_recording", "format_description"]


def describe_recording(recording: Recording) -> dict[str, Any]:
    """Describe ``recording`` (see the module docstring for the keys).

    Every value is plain JSON: non-finite numbers (e.g. a NaN in the filter settings) become
    None.
    """
    streams = [_describe_stream(v) for v in recording.streams.values()]
    starts = [s["start_s"] for s in streams if s["start_s"] is not None]
    ends = [s["end_s"] for s in streams if s["end_s"] is not None]
    gaps = recording.gaps
    events = recording.events
    clock = recording.clock
    return _json_safe(
        {
            "file": str(recording.path),
            "format": "myoflow-recording",
            "schema_version": recording.schema_version,
            "myoflow_version": recording.myoflow_version,
            "state": recording.state,
            "swmr": recording.swmr,
            "size_bytes": recording.path.stat().st_size,
            "start_utc": datetime.fromtimestamp(clock.unix_s, tz=UTC).isoformat(),
            "clock": {"monotonic_s": clock.monotonic_s, "unix_s": clock.unix_s},
            "duration_s": max(ends) - min(starts) if starts else 0.0,
            "metadata": asdict(recording.metadata),
            "streams": streams,
            "gaps": {
                "count": len(gaps),
                "lost_samples": sum(g.n_missing or 0 for g in gaps),
                "unknown_size": sum(g.n_missing is None for g in gaps),
                "by_reason": dict(Counter(g.reason for g in gaps)),
            },
            "events": {"count": len(events), "by_kind": dict(Counter(e.kind for e in events))},
        }
    )


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _describe_stream(view: StreamView) -> dict[str, Any]:
    n = view.n_samples
    gaps = view.gaps
    lost = sum(g.n_missing or 0 for g in gaps)
    rate = view.effective_rate
    start = float(view.times(0, 1)[0]) if n else None
    end = float(view.times(n - 1, n)[0]) if n else None
    duration = end - start if start is not None and end is not None else 0.0
    info = view.info
    return {
        "name": view.name,
        "kind": info.kind,
        "unit": info.unit,
        "channels": list(info.channels),
        "placements": None if info.placements is None else list(info.placements),
        "raw_dtype": str(view.raw_dtype),
        "device": asdict(view.device),
        "nominal_rate": info.rate,
        "effective_rate": None if math.isnan(rate) else rate,
        "samples": n,
        "lost_samples": lost,
        "unknown_gaps": sum(g.n_missing is None for g in gaps),
        "loss_percent": 100.0 * lost / (n + lost) if n + lost else 0.0,
        "gaps": len(gaps),
        "start_s": start,
        "end_s": end,
        "duration_s": duration,
    }


def format_description(desc: dict[str, Any]) -> str:
    """The human summary printed by ``myoflow info`` for a :func:`describe_recording` dict."""
    state = {
        "live": "live (being written, or left by a crashed recorder: run 'myoflow recover')",
        "final": "final",
        "recovered": "recovered (rebuilt by 'myoflow recover')",
    }
    lines = [
        f"{desc['file']}",
        f"  myoflow recording, schema {desc['schema_version']} (written by myoflow "
        f"{desc['myoflow_version']}), {_size(desc['size_bytes'])}",
        f"  state:    {state.get(desc['state'], desc['state'])}",
        f"  started:  {desc['start_utc']}",
        f"  duration: {_duration(desc['duration_s'])}",
    ]
    meta = desc["metadata"]
    for key, label in (("subject_id", "subject"), ("exercise", "exercise"), ("notes", "notes")):
        if meta[key]:
            lines.append(f"  {label + ':':<9} {meta[key]}")
    if meta["profile_toml"]:
        lines.append(f"  profile:  {len(meta['profile_toml'].splitlines())} lines of TOML")
    for key, label in (("filter_settings", "filters"), ("mvc_references", "MVC refs")):
        if meta[key]:
            lines.append(f"  {label + ':':<9} " + ", ".join(f"{k}={_short(v)}" for k, v in meta[key].items()))
    lines.append(f"streams ({len(desc['streams'])}):")
    for s in desc["streams"]:
        eff = "n/a" if s["effective_rate"] is None else f"{s['effective_rate']:.2f} Hz"
        loss = f"{s['loss_percent']:.2f} %"
        if s["unknown_gaps"]:
            loss = f">= {loss} ({s['unknown_gaps']} gap(s) of unknown size)"
        dev = " ".join(x for x in (s["device"]["model"], s["device"]["firmware"]) if x)
        lines.append(
            f"  {s['name']}: {s['kind']}, {len(s['channels'])} ch in {s['unit']}"
            f" ({s['raw_dtype']} raw){', ' + dev if dev else ''}"
        )
        lines.append(
            f"    rate {s['nominal_rate']:g} Hz nominal, {eff} effective; {s['samples']} samples "
            f"({_duration(s['duration_s'])}); {s['gaps']} gap(s), {s['lost_samples']} lost, "
            f"loss {loss}"
        )
        places = s["placements"] or [None] * len(s["channels"])
        pairs = zip(s["channels"], places, strict=True)
        chans = ", ".join(c if p in (None, c) else f"{c}={p}" for c, p in pairs)
        lines.append(f"    channels: {chans}")
    g = desc["gaps"]
    reasons = ", ".join(f"{r} {n}" for r, n in sorted(g["by_reason"].items()))
    lines.append(
        f"gaps: {g['count']}" + (f" ({reasons}), {g['lost_samples']} samples lost" if g["count"] else "")
    )
    e = desc["events"]
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(e["by_kind"].items()))
    lines.append(f"events: {e['count']}" + (f" ({kinds})" if e["count"] else ""))
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds < 59.95:
        return f"{seconds:.1f} s"
    tenths = round(seconds * 10)  # round once, then split: 2399.97 s is 40:00.0, not 39:60.0
    m, t = divmod(tenths, 600)
    h, m = divmod(m, 60)
    s = f"{t // 10:02d}.{t % 10}"
    return f"{h}:{m:02d}:{s}" if h else f"{m}:{s} min"


def _short(value: Any) -> str:
    """A metadata value for the text summary: floats to 0.1 (3 significant digits below 10),
    so an MVC reference reads 263.1, not 263.0604107055664; lists item by item."""
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}"
    return str(value)


def _size(n: float) -> str:
    if n < 1000:
        return f"{int(n)} bytes"
    for unit in ("kB", "MB", "GB"):
        n /= 1000
        if n < 1000 or unit == "GB":
            return f"{n:.1f} {unit}"
    raise AssertionError("unreachable")
