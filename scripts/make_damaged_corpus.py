"""Write a corpus of damaged myoflow recordings: one file per kind of damage.

Usage: python scripts/make_damaged_corpus.py OUT_DIR [--base FILE.h5]

The base is ``recordings/glute_bridge_virtual.h5`` (recorded from the virtual straps through
the real BLE ingest): each damage copies it and breaks one thing with plain h5py or by
overwriting bytes - an attribute, a table row, a dataset's shape, a chunk of samples, the
file's header. A second base, a "live" file left as a killed recorder leaves it, is written
with the Recorder and damaged the same way (recover reads those).

Every damage says what a correct program must do with it (``expect``):

``"error"``
    refuse it with a clear one-line error naming the file (exit code 1; ``batch`` lists it
    among the failed files);
``"data"``
    damaged samples: every command that reads samples refuses the file as above; ``info``,
    which reads only the description and the tables, may describe it;
``"same"``
    harmless damage (an unknown attribute, an extra dataset): every command gives the same
    result as on the undamaged base.

``benchmarks/bench_damaged.py`` runs every command on every file and counts the outcomes;
``tests/storage/test_damaged_corpus.py`` runs the quick commands on all of them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "recordings" / "glute_bridge_virtual.h5"
EMG = "streams/diy_emg"


@dataclass(frozen=True)
class Damage:
    """One damaged file: its name, how it was made, and what a correct program does with it."""

    name: str
    path: Path
    expect: str  # "error", "data" or "same"
    base: str  # "final" or "live"
    what: str


def _attr(path: str, name: str, value: Any) -> Callable[[Any], None]:
    def apply(f: Any) -> None:
        obj = f[path] if path else f
        if name in obj.attrs:
            del obj.attrs[name]
        if value is not _DELETE:
            obj.attrs[name] = value

    return apply


_DELETE = object()


def _table(path: str, edit: Callable[[np.ndarray], np.ndarray]) -> Callable[[Any], None]:
    def apply(f: Any) -> None:
        ds = f[path]
        new = edit(ds[:].copy())
        ds.resize((len(new),))
        ds[:] = new

    return apply


def _row(path: str, k: int, **values: Any) -> Callable[[Any], None]:
    def edit(a: np.ndarray) -> np.ndarray:
        for key, v in values.items():
            a[key][k] = v
        return a

    return _table(path, edit)


def _append_gap(f: Any, **values: Any) -> None:
    g = f[EMG]
    tm = g["time_map"][:]
    row = values.pop("row", 5000)
    t = float(np.interp(row, tm["row"], tm["time"]))
    gaps = g["gaps"]
    rec = np.zeros(1, gaps.dtype)
    rec["row"], rec["index"], rec["n_missing"] = row, row, 10
    rec["t_start"], rec["t_end"], rec["reason"] = t, t + 0.01, b"loss"
    for key, v in values.items():
        rec[key] = v
    gaps.resize((len(gaps) + 1,))
    gaps[-1] = rec[0]


def _gap(**values: Any) -> Callable[[Any], None]:
    return lambda f: _append_gap(f, **values)


def _replace(path: str, make: Callable[[np.ndarray], np.ndarray]) -> Callable[[Any], None]:
    def apply(f: Any) -> None:
        old = f[path][:]
        del f[path]
        f[path] = make(old)

    return apply


def _delete(path: str) -> Callable[[Any], None]:
    def apply(f: Any) -> None:
        del f[path]

    return apply


def _event_json(k: int, text: bytes) -> Callable[[Any], None]:
    """Replace event ``k``'s JSON record by ``text`` (the blob is rebuilt, offsets fixed)."""

    def apply(f: Any) -> None:
        table, blob = f["events/table"][:], f["events/json"][:].tobytes()
        records = [blob[o : o + n] for o, n in zip(table["offset"], table["length"], strict=True)]
        records[k] = text
        offsets = np.cumsum([0] + [len(r) for r in records[:-1]])
        table["offset"], table["length"] = offsets, [len(r) for r in records]
        joined = np.frombuffer(b"".join(records), dtype=np.uint8)
        f["events/json"].resize((len(joined),))
        f["events/json"][:] = joined
        f["events/table"][:] = table

    return apply


def _add_event(record: dict[str, Any], time: float | None = None) -> Callable[[Any], None]:
    def apply(f: Any) -> None:
        table, js = f["events/table"], f["events/json"]
        text = json.dumps(record).encode()
        row = np.zeros(1, table.dtype)
        row["time"] = f[EMG]["time_map"][-1]["time"] if time is None else time
        row["kind"], row["offset"], row["length"] = record.get("kind", "x"), len(js), len(text)
        js.resize((len(js) + len(text),))
        js[-len(text) :] = np.frombuffer(text, dtype=np.uint8)
        table.resize((len(table) + 1,))
        table[-1] = row[0]

    return apply


def _float_raw_with(value: float) -> Callable[[Any], None]:
    def make(raw: np.ndarray) -> np.ndarray:
        out = raw.astype(np.float64)
        out[1000, 2] = value
        return out

    return _replace(f"{EMG}/raw", make)


# name -> (edit, expect, what); edits take the open h5py file (r+)
H5_DAMAGES: dict[str, tuple[Callable[[Any], None], str, str]] = {
    # root attributes
    "root_format_missing": (_attr("", "format", _DELETE), "error", "no 'format' attribute"),
    "root_format_other": (_attr("", "format", "something-else"), "error", "foreign 'format'"),
    "root_schema_text": (_attr("", "schema_version", "1"), "error", "schema_version as text"),
    "root_schema_newer": (_attr("", "schema_version", np.int64(99)), "error", "schema_version 99"),
    "root_schema_zero": (_attr("", "schema_version", np.int64(0)), "error", "schema_version 0"),
    "root_state_missing": (_attr("", "state", _DELETE), "error", "no 'state'"),
    "root_state_bogus": (_attr("", "state", "half-done"), "error", "unknown state"),
    "root_state_int": (_attr("", "state", np.int64(1)), "error", "state as a number"),
    "clock_unix_nan": (_attr("", "clock_unix_s", np.nan), "error", "clock_unix_s NaN"),
    "clock_unix_inf": (_attr("", "clock_unix_s", np.inf), "error", "clock_unix_s infinite"),
    "clock_unix_absurd": (_attr("", "clock_unix_s", 1e300), "error", "clock_unix_s 1e300"),
    "clock_unix_negative": (_attr("", "clock_unix_s", -1e12), "error", "clock_unix_s before 1970"),
    "clock_unix_text": (_attr("", "clock_unix_s", "yesterday"), "error", "clock_unix_s as text"),
    "clock_mono_missing": (_attr("", "clock_monotonic_s", _DELETE), "error", "no clock_monotonic_s"),
    "clock_mono_absurd": (_attr("", "clock_monotonic_s", -1e200), "error", "clock_monotonic_s -1e200"),
    "version_number": (_attr("", "myoflow_version", np.int64(3)), "error", "myoflow_version a number"),
    "no_session_group": (_delete("session"), "error", "/session deleted"),
    "no_streams_group": (_delete("streams"), "error", "/streams deleted"),
    "no_events_json": (_delete("events/json"), "error", "/events/json deleted"),
    "unknown_root_attr": (_attr("", "colour", "blue"), "same", "an extra root attribute"),
    "extra_group": (lambda f: f.create_group("scratch"), "same", "an extra group"),
    # session metadata
    "subject_number": (_attr("session", "subject_id", np.int64(7)), "error", "subject_id a number"),
    "mvc_list": (_attr("session", "mvc_references", "[1, 2, 3]"), "error", "MVC references a list"),
    "mvc_text_value": (
        _attr("session", "mvc_references", '{"glute_max_r": "strong"}'),
        "error",
        "an MVC reference as text",
    ),
    "mvc_bad_json": (_attr("session", "mvc_references", "{oops"), "error", "MVC references not JSON"),
    "filters_deep_json": (_attr("session", "filter_settings", "[" * 100_000), "error", "100k-deep JSON"),
    "extra_number": (_attr("session", "extra", "42"), "error", "extra a number"),
    # stream description
    "stream_name_missing": (_attr(EMG, "name", _DELETE), "error", "stream without a name"),
    "stream_kind_bogus": (_attr(EMG, "kind", "eeg"), "error", "unknown kind"),
    "rate_zero": (_attr(EMG, "nominal_rate", 0.0), "error", "rate 0"),
    "rate_nan": (_attr(EMG, "nominal_rate", np.nan), "error", "rate NaN"),
    "rate_text": (_attr(EMG, "nominal_rate", "fast"), "error", "rate as text"),
    "rate_huge": (_attr(EMG, "nominal_rate", 1e300), "error", "rate 1e300"),
    "channels_empty": (_attr(EMG, "channels", np.array([], dtype="S1")), "error", "no channels"),
    "channels_numbers": (_attr(EMG, "channels", np.arange(4)), "error", "channels as numbers"),
    "placements_short": (_attr(EMG, "placements", ["glute_max_r"]), "error", "1 placement, 4 channels"),
    "scale_one": (_attr(EMG, "scale", np.array([0.5])), "error", "one scale for four channels"),
    "scale_zero": (_attr(EMG, "scale", np.zeros(4)), "error", "scale 0"),
    "scale_nan": (_attr(EMG, "scale", np.array([0.5, np.nan, 0.5, 0.5])), "error", "a NaN scale"),
    "scale_text": (_attr(EMG, "scale", "0.5"), "error", "scale as text"),
    "offset_two": (_attr(EMG, "offset", np.zeros(2)), "error", "two offsets for four channels"),
    "effective_rate_neg": (_attr(EMG, "effective_rate", -5.0), "error", "effective_rate < 0"),
    "raw_columns": (_replace(f"{EMG}/raw", lambda r: r[:, :3]), "error", "raw with 3 of 4 columns"),
    "raw_text": (_replace(f"{EMG}/raw", lambda r: r.astype("S6")), "error", "raw as strings"),
    "raw_deleted": (_delete(f"{EMG}/raw"), "error", "raw deleted"),
    "raw_nan": (_float_raw_with(np.nan), "data", "a NaN sample in float raw"),
    "raw_inf": (_float_raw_with(np.inf), "data", "an infinite sample in float raw"),
    "raw_longer": (
        _replace(f"{EMG}/raw", lambda r: np.concatenate([r, r[:500]])),
        "error",
        "raw longer than the time map",
    ),
    # time map
    "tm_deleted": (_delete(f"{EMG}/time_map"), "error", "time_map deleted"),
    "tm_empty": (_table(f"{EMG}/time_map", lambda a: a[:0]), "error", "empty time map"),
    "tm_reversed": (_table(f"{EMG}/time_map", lambda a: a[::-1]), "error", "reversed time map"),
    "tm_nan": (_row(f"{EMG}/time_map", 1, time=np.nan), "error", "a NaN time"),
    "tm_inf_last": (_row(f"{EMG}/time_map", -1, time=np.inf), "error", "an infinite last time"),
    "tm_start_row5": (_row(f"{EMG}/time_map", 0, row=5), "error", "first anchor at row 5"),
    "tm_past_raw": (_row(f"{EMG}/time_map", -1, row=10**9), "error", "last anchor past the samples"),
    "tm_half": (_table(f"{EMG}/time_map", lambda a: a[: len(a) // 2]), "error", "half the time map"),
    "tm_backwards": (_row(f"{EMG}/time_map", 2, time=-5.0), "error", "a time going backwards"),
    "tm_far_future": (
        _table(f"{EMG}/time_map", lambda a: np.rec.fromarrays([a["row"], a["time"] + 1e15], dtype=a.dtype)),
        "error",
        "times 1e15 s later",
    ),
    # gaps
    "gap_past_data": (_gap(row=10**6), "error", "a gap after the last sample"),
    "gap_negative_row": (_gap(row=-3), "error", "a gap at row -3"),
    "gap_huge": (_gap(n_missing=10**15), "error", "a 1e15-sample gap"),
    "gap_negative": (_gap(n_missing=-7), "error", "n_missing -7"),
    "gap_reversed_times": (_gap(t_end=0.0), "error", "a gap ending before it starts"),
    "gap_nan_time": (_gap(t_start=np.nan), "error", "a NaN gap time"),
    "gap_bad_index": (_gap(index=3), "error", "a gap's index not matching its row"),
    "gap_bad_utf8": (_gap(reason=b"\xff\xfe"), "error", "a gap reason not UTF-8"),
    # packets
    "packet_past_data": (_row(f"{EMG}/packets", -1, row=10**7), "error", "a packet after the data"),
    "packet_negative": (_row(f"{EMG}/packets", 3, n_samples=-20), "error", "a packet of -20 samples"),
    "packet_nan_time": (_row(f"{EMG}/packets", 3, host_time=np.nan), "error", "a NaN receive time"),
    # events
    "event_past_blob": (_row("events/table", 0, offset=10**6), "error", "event text past the JSON bytes"),
    "event_negative_len": (_row("events/table", 0, length=-4), "error", "event length -4"),
    "event_garbage": (_event_json(0, b"\x00\x01garbage"), "error", "event text not JSON"),
    "event_list": (_event_json(0, b"[1, 2]"), "error", "event record a list"),
    "event_no_kind": (_event_json(0, b'{"label": "x", "stream": null, "data": {}}'), "error", "no kind"),
    "event_nan_time": (_row("events/table", 0, time=np.nan), "error", "a NaN event time"),
    "event_unknown_stream": (
        _add_event({"kind": "marker", "label": "m", "stream": "nope/emg", "data": {}}),
        "error",
        "an event naming a stream that does not exist",
    ),
    "event_meta_mvc_list": (
        _add_event({"kind": "metadata", "label": "", "stream": None, "data": {"mvc_references": [1, 2]}}),
        "error",
        "a metadata event setting MVC references to a list",
    ),
    "event_meta_unknown": (
        _add_event({"kind": "metadata", "label": "", "stream": None, "data": {"colour": "blue"}}),
        "error",
        "a metadata event setting an unknown field",
    ),
}


def _bytes_damage(base: Path, out: Path, name: str) -> str:
    """Damage at the byte level; returns what was done."""
    data = bytearray(base.read_bytes())
    if name == "bytes_truncated":
        out.write_bytes(bytes(data[: len(data) // 2]))
        return "the file cut in half"
    if name == "bytes_superblock":
        data[8:400] = bytes(392)
        out.write_bytes(bytes(data))
        return "superblock and root header zeroed"
    if name == "bytes_chunk":
        with h5py.File(base, "r") as f:
            info = f[f"{EMG}/raw"].id.get_chunk_info(1)
        rng = np.random.default_rng(1)
        start = info.byte_offset + 10
        data[start : start + 200] = rng.integers(0, 256, 200, dtype=np.uint8).tobytes()
        out.write_bytes(bytes(data))
        return "200 random bytes inside a compressed chunk of samples"
    if name == "bytes_empty":
        out.write_bytes(b"")
        return "an empty file"
    if name == "bytes_text":
        out.write_text("time,emg\n0,1\n")
        return "a CSV file named .h5"
    raise ValueError(name)


BYTE_DAMAGES = ("bytes_truncated", "bytes_superblock", "bytes_chunk", "bytes_empty", "bytes_text")

#: Damages also applied to the live base (tolerant rules: tables may run ahead of the samples).
LIVE_DAMAGES = ("tm_nan", "tm_reversed", "scale_one", "gap_huge", "gap_negative", "clock_unix_absurd")


def make_live_base(path: Path) -> Path:
    """A file as a killed recorder leaves it: state 'live', samples of one EMG stream, a gap."""
    from myoflow.storage.writer import Recorder
    from myoflow.stream import Event, Gap, StreamInfo

    emg = StreamInfo("diy/emg", "emg", 1000.0, ("ch1", "ch2", "ch3", "ch4"), None)
    rec = Recorder(path, overwrite=True, on_full="wait")
    rec.add_stream(emg, "int16", 0.5)
    rec.start()
    rng = np.random.default_rng(3)
    t0 = 100.0
    for k in range(20):
        n0 = k * 500 + (20 if k >= 10 else 0)
        if k == 10:
            rec.write_gap(Gap(emg, 5000, 20, t0 + 5.0, t0 + 5.019))
        rec.write_block("diy/emg", rng.integers(-900, 900, (500, 4)), t0 + (n0 + np.arange(500)) / 1000.0)
        if k % 5 == 0:
            rec.write_event(Event(t0 + n0 / 1000.0, "marker", f"m{k}"))
    rec.close(finalise=False)
    return path


def make_corpus(out_dir: str | Path, base: str | Path = BASE) -> list[Damage]:
    """Write every damaged file into ``out_dir``; returns them with their expectations.

    The undamaged bases are included (``"control_final"``, ``"control_live"``, expect
    ``"same"``).
    """
    out, base = Path(out_dir), Path(base)
    out.mkdir(parents=True, exist_ok=True)
    corpus = []
    final = out / "control_final.h5"
    shutil.copy(base, final)
    corpus.append(Damage("control_final", final, "same", "final", "the undamaged recording"))
    live = make_live_base(out / "control_live.h5")
    corpus.append(Damage("control_live", live, "same", "live", "a live file left by a killed recorder"))
    for name, (edit, expect, what) in H5_DAMAGES.items():
        path = out / f"{name}.h5"
        shutil.copy(final, path)
        with h5py.File(path, "r+") as f:
            edit(f)
        corpus.append(Damage(name, path, expect, "final", what))
    for name in LIVE_DAMAGES:
        edit, expect, what = H5_DAMAGES[name]
        path = out / f"live_{name}.h5"
        shutil.copy(live, path)
        with h5py.File(path, "r+") as f:
            edit(f)
        corpus.append(Damage(f"live_{name}", path, expect, "live", what + " (live file)"))
    for name in BYTE_DAMAGES:
        path = out / f"{name}.h5"
        what = _bytes_damage(final, path, name)
        corpus.append(Damage(name, path, "data" if name == "bytes_chunk" else "error", "final", what))
    return corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", help="folder to write the damaged files into")
    parser.add_argument("--base", default=str(BASE), help="the undamaged recording (default: %(default)s)")
    args = parser.parse_args(argv)
    corpus = make_corpus(args.out, args.base)
    for d in corpus:
        print(f"{d.path.name:32} {d.expect:12} {d.what}")
    print(f"{len(corpus)} files in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
