"""Qt-free rules that keep sessions safe: recording names, set summaries, the platform check."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np

from myoflow.dashboard.naming import recording_path, safe_part
from myoflow.dashboard.platform import XCB_PACKAGES, missing_libraries, platform_name


def test_recording_names_never_meet_an_existing_file(tmp_path: Path) -> None:
    when = datetime(2026, 3, 15, 14, 30, 2)
    first = recording_path(tmp_path / "new", "s 01/x", "glute_bridge", when)
    assert first == tmp_path / "new" / "s-01-x_glute_bridge_20260315-143002.h5"
    first.parent.mkdir()
    first.write_bytes(b"taken")
    second = recording_path(tmp_path / "new", "s 01/x", "glute_bridge", when)
    assert second.name == "s-01-x_glute_bridge_20260315-143002_run2.h5"
    second.write_bytes(b"taken")
    assert recording_path(tmp_path / "new", "s 01/x", "glute_bridge", when).name.endswith("_run3.h5")
    assert recording_path(tmp_path, "", "rdl", when).name == "anon_rdl_20260315-143002.h5"
    assert safe_part("../..", "x") == "x"


def test_missing_libraries_are_read_from_ldd_output() -> None:
    text = (
        "\tlibQt6XcbQpa.so.6 => /x/libQt6XcbQpa.so.6 (0x1)\n"
        "\tlibxcb-cursor.so.0 => not found\n"
        "\tlibxcb-icccm.so.4 => not found\n"
        "/x/libqxcb.so: error while loading shared libraries: /lib/libxcb-keysyms.so.1: file too short\n"
    )
    missing = missing_libraries(text)
    assert missing == ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert [XCB_PACKAGES[m] for m in missing] == ["libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1"]
    assert missing_libraries("\tlibc.so.6 => /lib/libc.so.6 (0x1)\n") == []


def test_platform_name_follows_qt_qpa_platform() -> None:
    assert platform_name({"QT_QPA_PLATFORM": "offscreen"}) == "offscreen"
    assert platform_name({"QT_QPA_PLATFORM": "xcb:display=:3;offscreen"}) == "xcb"
    assert platform_name({}) in ("xcb", "cocoa", "windows")


def test_a_set_summary_counts_full_reps_and_relaxed_ones(recording: Path) -> None:
    import time

    from myoflow.analysis.rep_summary import RepResult
    from myoflow.dashboard.replay_source import ReplaySource
    from myoflow.dashboard.sets import summarize_set

    source = ReplaySource(recording, speed=8.0)
    source.start()
    results: list[RepResult] = []
    deadline = time.monotonic() + 120.0
    try:
        while not source.ended and time.monotonic() < deadline:
            if source.analysis is not None:
                results += [i for i in source.analysis.poll() if isinstance(i, RepResult)]
            time.sleep(0.05)
    finally:
        source.stop()
    results += [i for i in source.analysis.poll() if isinstance(i, RepResult)]
    summary = summarize_set(results, "glute_bridge", 2, "exercise changed to rdl")
    full = [r for r in results if not r.partial]
    assert summary.reps == len(full) >= 2
    assert 0 <= summary.relaxed <= summary.judged == len(full)
    assert len(summary.handovers) == len(full)
    assert summary.text.startswith(f"set 2 (glute_bridge): {len(full)} reps, relaxed ")
    assert np.isnan(summary.hold_pct) or 0 <= summary.hold_pct <= 200


def test_virtual_straps_honour_placements_and_compare_with_the_truth(stream_to_end) -> None:

    import pytest

    from myoflow.dashboard.virtual_source import truth_summary, virtual_source

    with pytest.raises(ValueError, match="ch1-ch4"):
        virtual_source(5.0, fast=True, placements={"diy/emg": {"ch9": "glute_max_l"}})
    source = virtual_source(16.0, fast=True, placements={"diy/emg": {"ch1": "glute_max_l"}})
    assert "glute_max_l" in source.mvc and "glute_max_r" not in source.mvc
    stream_to_end(source)
    assert source.analysis.muscles[0] == "glute_max_l"
    emg, fs = source.contraction("glute_max_l", 4.0)  # the wizard finds the renamed muscle
    assert emg.size > fs
    summary = truth_summary(source)
    assert summary is not None and summary.startswith("live reps: ")
    found, agreeing = int(summary.split()[2]), summary.rsplit(" ", 1)[1]
    assert found >= 2 and agreeing == f"{found}/{found}", summary
    assert summary.startswith("live reps: 2 of the 2 synthetic reps that ended in the "), summary
