"""Every command on every damaged file: a clear error or the correct result, never a traceback
or a silent wrong answer (the corpus is made by scripts/make_damaged_corpus.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list:
    make = _load("make_damaged_corpus")
    return make.make_corpus(tmp_path_factory.mktemp("corpus"))


def test_corpus_covers_the_reported_damages(corpus: list) -> None:
    names = {d.name for d in corpus}
    for name in ("tm_empty", "tm_reversed", "scale_one", "gap_past_data", "event_past_blob", "tm_nan",
                 "clock_unix_absurd", "mvc_list", "gap_huge", "bytes_chunk"):
        assert name in names
    assert len(corpus) >= 80
    assert {d.expect for d in corpus} == {"error", "data", "same"}


def test_every_quick_command_on_every_damaged_file(corpus: list, tmp_path: Path) -> None:
    run = _load("run_damaged_corpus")
    bad: list[str] = []
    commands = ["info", "check", "recover", "export_csv", "replay", "analyze"]
    counts = run.run_corpus(corpus, commands, tmp_path, report=bad.append)
    assert bad == []
    for c in commands:
        assert counts[c]["silent wrong"] == counts[c]["traceback"] == 0
        assert counts[c]["clear error"] >= 80, counts[c]
