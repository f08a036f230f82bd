"""Report pictures (matplotlib): PNG, PDF and SVG read back by tools we did not write.

PNG: the file's own header (signature and IHDR size); PDF: poppler's ``pdfinfo`` and
``pdftotext``; SVG: Python's XML parser. The layout checks measure the drawn figure: the legend
box overlaps no axes, a 60-rep session wraps into rows, calibration stays off the session scale.
"""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from myoflow.reports.figures import check_format
from myoflow.reports.plot import plot_report, plot_reps, reps_figure, session_figure
from myoflow.reports.plot_draw import CalibrationSpan, envelope_top
from myoflow.synth.config import SessionConfig

pytest.importorskip("matplotlib")
REPO = Path(__file__).resolve().parents[2]
RECORDING = REPO / "recordings" / "glute_bridge_virtual.h5"


@pytest.fixture(scope="module")
def short(make_report):
    """6 reps, the third (index 2 of the plan) tense at the bottom."""
    return make_report(SessionConfig(n_reps=6, emg_rate=1000.0, imu_rate=100.0, tense_reps=(2,), seed=5))


@pytest.fixture(scope="module")
def long(make_report):
    cfg = SessionConfig(n_reps=60, emg_rate=500.0, imu_rate=50.0, tense_reps=(5, 17, 40), seed=3)
    return make_report(cfg, "long.h5")


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def test_png_pdf_and_svg_are_written_by_extension(short, tmp_path: Path, poppler) -> None:
    _, report = short
    png = plot_report(report, None, tmp_path / "s.png", width=1200)
    assert png_size(png) == (1200, 720)
    pdf = plot_report(report, None, tmp_path / "s.pdf")
    info = poppler("pdfinfo", str(pdf))
    assert re.search(r"Pages:\s+1\n", info) and re.search(
        r"Page size:\s+1152 x 691.2 pts", info
    )  # 16 x 9.6 in
    text = poppler("pdftotext", str(pdf), "-")
    for words in ("glute max r", "biceps femoris r", "time (s)", "crossover", "bottom window: not relaxed"):
        assert words in text
    svg = plot_report(report, None, tmp_path / "s.svg")
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("width") == "1152pt"
    assert len(root.findall(".//{http://www.w3.org/2000/svg}path")) > 50
    words = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "glute max r" in words and "bottom window: relaxed" in words
    # each rep is numbered; the one that stayed tense (the third) in bold red
    fig = session_figure(report, report.signals, [], 16.0)
    marks = {t.get_text(): (t.get_color(), t.get_fontweight()) for t in fig.axes[0].texts}
    assert sorted(marks) == ["1", "2", "3", "4", "5", "6"]
    assert [k for k, (colour, weight) in marks.items() if weight == "bold"] == ["3"]
    for ext in ("png", "pdf", "svg"):
        assert plot_reps(report, None, tmp_path / f"reps.{ext}").stat().st_size > 5000
    assert not list(tmp_path.glob(".*part"))


def test_an_unknown_extension_or_an_unwritable_path_is_one_clear_error(short, tmp_path: Path) -> None:
    _, report = short
    with pytest.raises(
        ValueError, match=r"s\.jpg: cannot tell the picture format .*'\.jpg'.*\.png, \.pdf, \.svg"
    ):
        plot_report(report, None, tmp_path / "s.jpg")
    with pytest.raises(OSError, match="cannot write .*missing/s.png"):
        plot_report(report, None, tmp_path / "missing" / "s.png")
    assert check_format("A.SVG") == "svg"


def _boxes(fig):
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    axes = [ax.get_window_extent(r) for ax in fig.axes if ax.get_visible()]
    legend = fig.legends[0].get_window_extent(r)
    return axes, legend


def test_sixty_reps_wrap_into_rows_with_the_legend_off_the_data(long) -> None:
    session, report = long
    assert len(report.reps) == len(session.truth) == 60
    fig = session_figure(report, report.signals, [], 16.0)
    axes, legend = _boxes(fig)
    assert len(axes) == 5 * 3  # 12 reps per row: envelopes, angle, glute share
    assert not any(legend.overlaps(box) for box in axes)
    # every rep is numbered once, in the row that holds its start
    numbers = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert sorted(numbers, key=int) == [str(i) for i in range(1, 61)]
    env_axes = fig.axes[::3]
    for k, ax in enumerate(env_axes):
        lo, hi = ax.get_xlim()
        starts = [r.phases["start"] for r in report.reps[12 * k : 12 * k + 12]]
        assert lo <= starts[0] and starts[-1] < hi and hi - lo < 90
    grid = reps_figure(report, report.signals, [])
    axes, legend = _boxes(grid)
    assert len(axes) == 60 and not any(legend.overlaps(box) for box in axes)
    titles = [ax.get_title(loc="left") for ax in grid.axes if ax.get_visible()]
    tense = [t for t in titles if "NOT relaxed" in t]
    assert len(tense) == sum(not all(m.relaxed for m in t.muscles.values()) for t in session.truth) >= 3


def test_calibration_is_labelled_and_not_drawn_into_the_session_scale(short) -> None:
    """A recording that starts with MVC contractions at 100 % MVC: they get their own strip."""
    from dataclasses import replace

    _, report = short
    sig = report.signals
    fs = sig.emg_fs
    env = sig.envelope.copy()
    # the synthetic session starts with ~2 s of rest: put two 100 % MVC contractions there
    spans = [CalibrationSpan(0.2, 0.9, "glute_max_r"), CalibrationSpan(1.0, 1.6, "biceps_femoris_r")]
    for c, s in enumerate(spans):
        env[int(s.start_s * fs) : int(s.end_s * fs), c] = 100.0
    signals = replace(sig, envelope=env)
    top = envelope_top(signals, spans)
    assert top == pytest.approx(envelope_top(sig, spans), rel=0.05) and top < 90
    fig = session_figure(report, signals, spans, 16.0)
    cal, first = fig.axes[0], fig.axes[1]
    assert cal.get_ylabel() == "MVC\ncalibration" and cal.get_ylim()[1] >= 100
    assert [t.get_text() for t in cal.texts] == ["glute max r", "biceps femoris r"]
    assert first.get_ylim()[1] == pytest.approx(top) and first.get_xlim()[0] >= 1.6


def test_the_calibration_events_of_a_recording_are_found(tmp_path: Path) -> None:
    """``record --calibrate-mvc`` stores one ``calibration`` event per contraction."""
    from myoflow.reports import analyze
    from myoflow.reports.plot import calibration_spans

    report = analyze(RECORDING)
    assert calibration_spans(report) == []  # this file was made before the guided calibration existed
    report.source["file"] = str(tmp_path / "gone.h5")
    assert calibration_spans(report) == []


def test_the_command_writes_every_format_and_refuses_an_unknown_one(tmp_path: Path, capsys) -> None:
    from myoflow.cli import main

    out = [tmp_path / "s.svg", tmp_path / "r.pdf"]
    assert main(["analyze", str(RECORDING), "--plot", str(out[0]), "--plot-reps", str(out[1])]) == 0
    assert all(p.stat().st_size > 5000 for p in out)
    assert "plot written to" in capsys.readouterr().err
    assert main(["analyze", str(RECORDING), "--plot", str(tmp_path / "s.gif")]) == 2
    assert "cannot tell the picture format from the extension '.gif'" in capsys.readouterr().err
    assert not (tmp_path / "s.gif").exists()
