# The two commands a fresh machine needs (see README):
#   make demo   - set up .venv if needed, then run the main job (headless when there is no display)
#   make test   - set up .venv if needed, then run the whole test suite
# Extras: make bench, make lock, make clean.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo test bench lock clean system-libs

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "myoflow needs $(PYTHON) on PATH (or run: make PYTHON=/path/to/python3.11 ...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test,bench]"
	touch $(BENCH_STAMP)

system-libs:
	@bash scripts/ensure_system_libs.sh

demo: $(STAMP) system-libs
	$(BIN)/myoflow demo $(DEMO_ARGS)

test: $(STAMP) system-libs
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(BENCH_STAMP) system-libs
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/run_all.py $(BENCH)

lock: $(STAMP)
	@{ sed -n '1,2p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^pip=='; } > constraints.new && mv constraints.new constraints.txt
	@echo "constraints.txt updated"

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis src/*.egg-info
