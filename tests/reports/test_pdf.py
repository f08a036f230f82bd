"""The printable PDF report, read back with poppler (pdfinfo, pdftoppm, pdftotext), and its findings.

The pages are rendered to PNG by poppler, a renderer myoflow did not write, and must hold ink;
the words poppler extracts must include the subject, the exercise and every finding the report
states. Findings are checked against the synthetic generator's truth (which reps stayed tense).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from myoflow.reports.findings import muscle_name, rep_list, session_findings
from myoflow.reports.pdf import TABLE_ROWS, table_rows, write_pdf_report
from myoflow.synth.config import SessionConfig

pytest.importorskip("matplotlib")
REPO = Path(__file__).resolve().parents[2]
RECORDING = REPO / "recordings" / "glute_bridge_virtual.h5"


def words(text: str) -> str:
    return " ".join(text.split())


def pdf_text(poppler, pdf: Path, page: int | None = None) -> str:
    pages = [] if page is None else ["-f", str(page), "-l", str(page)]
    return words(poppler("pdftotext", *pages, str(pdf), "-"))


def rendered_pages(poppler, pdf: Path, folder: Path) -> list[np.ndarray]:
    """Each page rendered by pdftoppm at 50 dpi, as an (h, w, 3) array read back from its PNG."""
    from matplotlib.image import imread

    poppler("pdftoppm", "-r", "50", "-png", str(pdf), str(folder / "page"))
    return [imread(p)[:, :, :3] for p in sorted(folder.glob("page-*.png"))]


def test_the_report_command_writes_two_a4_pages_with_ink_and_the_findings(
    tmp_path: Path, capsys, poppler
) -> None:
    from myoflow.cli import main
    from myoflow.reports import analyze

    pdf = tmp_path / "report.pdf"
    assert main(["report", str(RECORDING), "--pdf", str(pdf)]) == 0
    assert f"report written to {pdf}" in capsys.readouterr().out
    info = poppler("pdfinfo", str(pdf))
    assert re.search(r"Pages:\s+2\n", info) and re.search(r"Page size:\s+595.44 x 841.68 pts \(A4\)", info)
    pages = rendered_pages(poppler, pdf, tmp_path)
    assert len(pages) == 2
    for img in pages:
        assert img.shape[0] > img.shape[1] > 350  # portrait, 8.27 in x 50 dpi
        ink = (img.sum(axis=2) < 2.4).mean()  # not white
        assert 0.02 < ink < 0.6
    colour = np.abs(pages[1] - pages[1].mean(axis=2, keepdims=True)).sum(axis=2) > 0.25
    assert colour.mean() > 0.05  # page 2: curves, phases, bars
    report = analyze(RECORDING)
    first = pdf_text(poppler, pdf, 1)
    for expected in ("Session report", "Subject demo-01", "glute bridge", "Findings", "Bottom of the rep"):
        assert expected in first
    for sentence in session_findings(report):
        assert words(sentence) in first, sentence
    assert first.count(" relaxed") + first.count(" tense: ") >= len(report.reps)  # a verdict per rep
    second = pdf_text(poppler, pdf, 2)
    for expected in (
        "Handover per rep",
        "Relaxation",
        "Concentric: mean",
        "Eccentric: mean",
        "% of the concentric phase",
    ):
        assert expected in second


def test_findings_say_which_reps_stayed_tense_as_the_generator_planned(make_report) -> None:
    session, report = make_report(
        SessionConfig(n_reps=6, emg_rate=1000.0, imu_rate=100.0, tense_reps=(2,), seed=5)
    )
    said = session_findings(report)
    for name in session.placements:
        tense = [k + 1 for k, t in enumerate(session.truth) if not t.muscles[name].relaxed]
        match = [s for s in said if muscle_name(name) in s.lower() and "stayed above rest" in s]
        if tense:
            assert len(match) == 1 and f"of 6 reps ({rep_list(tense)})" in match[0]
        else:
            assert not match
    assert any(s.startswith("The glutes took over from the hamstrings in ") for s in said)
    assert all(s[0].isupper() and s.endswith(".") for s in said)
    assert (
        muscle_name("glute_max_r") == "gluteus maximus (right)"
        and muscle_name("weird_thing") == "weird thing"
    )
    assert rep_list([4]) == "rep 4" and rep_list(range(1, 12)) == "reps 1, 2, 3, 4, 5, 6, 7, 8, ..."


def test_a_long_session_keeps_two_pages_and_lists_the_reps_with_a_finding(
    make_report, tmp_path: Path, poppler
) -> None:
    cfg = SessionConfig(n_reps=40, emg_rate=500.0, imu_rate=50.0, tense_reps=(5, 17, 30), seed=3)
    session, report = make_report(cfg, "long.h5")
    head, rows, flags, note = table_rows(report)
    assert len(report.reps) == 40 > TABLE_ROWS and 3 <= len(rows) <= TABLE_ROWS and all(flags)
    assert note is not None and note.startswith(f"{40 - len(rows)} other reps")
    pdf = write_pdf_report(report, tmp_path / "long.pdf")
    info = poppler("pdfinfo", str(pdf))
    assert re.search(r"Pages:\s+2\n", info)
    assert words(note) in pdf_text(poppler, pdf, 1)
    with pytest.raises(ValueError, match="ending in .pdf"):
        write_pdf_report(report, tmp_path / "long.png")


def test_bad_arguments_and_unreadable_files_are_one_line(tmp_path: Path, capsys) -> None:
    from myoflow.cli import main

    assert main(["report", str(RECORDING), "--pdf", str(tmp_path / "r.png")]) == 2
    assert "give a file name ending in .pdf" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing.h5"), "--pdf", str(tmp_path / "r.pdf")]) == 1
    assert "missing.h5" in capsys.readouterr().err
    assert main(["report", str(RECORDING), "--pdf", str(tmp_path / "no" / "r.pdf")]) == 1
    assert "cannot write" in capsys.readouterr().err and not list(tmp_path.rglob("*.pdf*"))
    assert main(["report", str(RECORDING)]) == 0
    assert capsys.readouterr().out.startswith("- ")


def test_fatigue_and_symmetry_are_drawn_and_told_when_the_report_has_them(
    make_report, tmp_path: Path, poppler
) -> None:
    """A bilateral session: the analysis modules' own results appear on page 2 and in the findings."""
    from myoflow.analysis.fatigue import session_fatigue
    from myoflow.analysis.symmetry import session_symmetry
    from myoflow.reports.pdf import pictures_page

    cfg = SessionConfig(
        n_reps=5,
        emg_rate=1000.0,
        imu_rate=100.0,
        placements=("glute_max_l", "glute_max_r", "biceps_femoris_l", "biceps_femoris_r"),
        seed=2,
    )
    session, report = make_report(cfg, "bilateral.h5")
    unit = report.metrics.context.unit
    report.symmetry = session_symmetry(report.reps, report.placements, unit)
    report.fatigue = session_fatigue(session.emg, cfg.emg_rate, report.placements, report.reps)
    assert [p[0] for p in report.symmetry.pairs] == ["glute_max", "biceps_femoris"]
    said = session_findings(report)
    for s in report.symmetry.sets:
        assert any(f"left/right symmetry index of the peaks {s.si_peak_pct:+.0f} %" in x for x in said)
    fig = pictures_page(report, report.signals, [])
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert any(t.startswith("Fatigue: median frequency per rep") for t in titles)
    sym_ax = next(ax for ax in fig.axes if ax.get_title(loc="left").startswith("Symmetry index"))
    assert len(sym_ax.get_lines()) == 2 + 1  # one line per pair and the 0 line
    fat_ax = next(ax for ax in fig.axes if ax.get_title(loc="left").startswith("Fatigue"))
    assert len(fat_ax.get_lines()) == 4  # one per muscle
    pdf = write_pdf_report(report, tmp_path / "bilateral.pdf")
    second = pdf_text(poppler, pdf, 2)
    assert "Symmetry index of the peaks" in second and "Fatigue: median frequency" in second
