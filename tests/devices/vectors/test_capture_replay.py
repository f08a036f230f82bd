"""Raw captures: what straps sent, with host times, replays through the live decoding.

1. A capture taken while virtual straps stream replays (``replay_capture``) to exactly the blocks
   and gaps the live ingest delivered: the same decoder, fed the same bytes at the same times.
2. Every capture in ``captures/`` (a real strap's report, see docs/hardware-testing.md) decodes to
   the per-stream counts in its ``.expected.json``.
3. Captures that are broken name the file and line.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from myoflow.commands.capture import check_report
from myoflow.devices.capture import CaptureError, CaptureWriter, read_capture, replay_capture
from myoflow.devices.ingest import ReconnectPolicy
from myoflow.devices.sinks import CollectingSink
from myoflow.devices.virtual.radio import LinkConditions
from myoflow.rigs.virtual_rig import virtual_rig
from myoflow.synth.session import glute_bridge_session

CAPTURES = Path(__file__).parent / "captures"
SESSION = glute_bridge_session(n_reps=2, emg_rate=1000.0, imu_rate=100.0, seed=11)


def _live_capture(path: Path, kinds: tuple[str, ...], seconds: float, conditions: Any) -> CollectingSink:
    sink = CollectingSink()

    async def main() -> None:
        async with virtual_rig(kinds, conditions=conditions, session=SESSION) as rig:
            with CaptureWriter(path, (rig.clock(), "2026-12-06T00:00:00+00:00")) as writer:
                ingest = rig.ingest([sink, writer], reconnect=ReconnectPolicy(initial_s=0.01, max_s=0.2))
                async with ingest:
                    for strap in ingest.straps:
                        writer.add_strap(strap.name, strap.profile, strap.device.address)
                    await ingest.run(seconds)

    asyncio.run(main())
    return sink


@pytest.fixture(scope="module")
def captured(tmp_path_factory) -> tuple[Path, CollectingSink]:
    path = tmp_path_factory.mktemp("capture") / "three.jsonl"
    conditions = LinkConditions(drop_prob=0.01, disconnect_at_s=(6.0,), seed=4)
    return path, _live_capture(path, ("ganglion", "polar_verity", "myo"), 12.0, conditions)


def test_replay_of_a_capture_equals_the_live_session(captured) -> None:
    path, live = captured
    capture = read_capture(path)
    assert set(capture.profiles) == {"ganglion", "polar_verity", "myo"}
    assert any(n.uuid == "" for n in capture.notifications)  # the reconnect was captured
    replayed = CollectingSink()
    decoders = replay_capture(capture, [replayed])
    assert set(replayed.blocks) == set(live.blocks)
    for name in live.blocks:
        np.testing.assert_array_equal(replayed.data(name), live.data(name), err_msg=name)
        np.testing.assert_array_equal(replayed.times(name), live.times(name), err_msg=name)
        np.testing.assert_array_equal(replayed.indices(name), live.indices(name), err_msg=name)
    key = {
        name: [(g.start_index, g.n_missing, g.t_start, g.t_end) for g in gaps]
        for name, gaps in live.gaps.items()
    }
    assert {
        name: [(g.start_index, g.n_missing, g.t_start, g.t_end) for g in gaps]
        for name, gaps in replayed.gaps.items()
    } == key
    assert sum(len(g) for g in live.gaps.values()) >= 3  # drops and the reconnect made gaps
    assert all(d.corrupt == 0 for d in decoders.values())


def test_check_report_names_every_stream(captured) -> None:
    path, live = captured
    report = check_report(str(path))
    for name in live.blocks:
        assert f"{name}: {len(live.data(name))} samples" in report


def _expected_cases() -> list[Path]:
    return sorted(CAPTURES.glob("*.jsonl"))


@pytest.mark.parametrize("path", _expected_cases(), ids=lambda p: p.stem)
def test_reported_captures_decode_as_expected(path: Path) -> None:
    want = json.loads(path.with_suffix(".expected.json").read_text())
    decoders = replay_capture(path)
    got = {}
    for name, decoder in decoders.items():
        got[name] = {"corrupt": decoder.corrupt}
        for stream, stats in decoder.stats().items():
            got[name][stream] = {"samples": stats.samples, "gaps": stats.gaps, "lost": stats.lost_samples}
    assert got == want["straps"]


def test_broken_captures_name_the_line(tmp_path) -> None:
    good = _expected_cases()[0].read_text().splitlines()
    cases = {
        "not_a_capture": ['{"hello": 1}'],
        "bad_hex": [
            *good[:2],
            '{"t": 1.0, "s": "verity", "c": "fb005c82-02e7-f387-1cad-8acd2d8df0c8", "x": "zz"}',
        ],
        "unknown_strap": [*good[:2], '{"t": 1.0, "s": "nobody", "c": "x", "x": "00"}'],
        "not_json": [*good[:2], "{oops", *good[2:3]],
    }
    for name, lines in cases.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_text("\n".join(lines) + "\n")
        with pytest.raises(CaptureError, match=rf"{name}\.jsonl, line \d+: "):
            read_capture(path)
    cut = tmp_path / "cut.jsonl"  # a crash mid-line: everything before the cut is kept
    cut.write_text("\n".join(good) + '\n{"t": 9.0, "s": "ver')
    assert len(read_capture(cut).notifications) == len(good) - 2


def test_capture_command_writes_and_checks(tmp_path, capsys) -> None:
    from myoflow.cli import main

    out = tmp_path / "virtual.jsonl"
    argv = ["capture", "--virtual", "--fast", "--kinds", "ganglion", "--seconds", "3", "--out", str(out)]
    assert main(argv) == 0
    assert "notifications written" in capsys.readouterr().out
    assert main(["capture", "--check", str(out)]) == 0
    report = capsys.readouterr().out
    assert "ganglion/emg: " in report and "0 corrupt notifications" in report
    assert re.search(r"ganglion/emg: .* data up to 0\.0\d s late", report)
    assert main(["capture", "--seconds", "3"]) == 2  # neither --out nor --check
    assert "give --out FILE" in capsys.readouterr().err
