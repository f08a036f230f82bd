"""Remake the report pictures in docs/img from the example recording (docs/reports.md).

    .venv/bin/python scripts/report_images.py

Writes docs/img/report_page1.png and report_page2.png (the PDF report of
recordings/glute_bridge_virtual.h5, rendered by poppler's pdftoppm at 80 dpi, as a reader sees
it), docs/img/analysis_report.png (`myoflow analyze --plot`) and docs/img/analysis_reps.png
(`--plot-reps`) of the same recording. Needs matplotlib (myoflow[plot]) and poppler-utils
(scripts/ensure_system_libs.sh reports).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RECORDING = REPO / "recordings" / "glute_bridge_virtual.h5"
IMG = REPO / "docs" / "img"


def main() -> int:
    from myoflow.cli import main as cli

    if shutil.which("pdftoppm") is None:
        print("pdftoppm is missing: apt-get install poppler-utils", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "report.pdf"
        if cli(["report", str(RECORDING), "--pdf", str(pdf)]) != 0:
            return 1
        subprocess.run(["pdftoppm", "-r", "80", "-png", str(pdf), str(Path(tmp) / "page")], check=True)
        for k in (1, 2):
            shutil.copy(Path(tmp) / f"page-{k}.png", IMG / f"report_page{k}.png")
    argv = ["analyze", str(RECORDING), "--plot", str(IMG / "analysis_report.png")]
    argv += ["--plot-reps", str(IMG / "analysis_reps.png")]
    code = cli(argv)
    print(
        "wrote",
        ", ".join(
            f"docs/img/{n}"
            for n in ("report_page1.png", "report_page2.png", "analysis_report.png", "analysis_reps.png")
        ),
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
