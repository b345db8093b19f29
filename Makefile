# chainrule: `make demo` sets everything up and runs the main job; `make test` sets up and
# runs the whole suite (lint, types, tests, notebooks). Both work on a fresh Debian machine.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out
LINTED := engine nn viz tests benchmarks notebooks/*.py docs/make_images.py
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system demo test lint bench notebooks notebooks-build clean

setup: $(STAMP)

# Debian packages: graphviz for the real `dot`, chromium to test the HTML stepper.
system:
	@command -v dot >/dev/null && command -v chromium >/dev/null || { \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz chromium >/dev/null; }

$(STAMP): pyproject.toml
	$(MAKE) system
	$(PYTHON) -m venv $(VENV)
	# (this machine's pip config names local indexes that may be absent: hide that noise only)
	$(BIN)/pip install -q -e '.[test,bench,notebooks]' 2>&1 | { grep -v '^WARNING: Location' || true; }
	$(BIN)/python -c "import torch, micrograd, graphviz, playwright, nbclient, hypothesis; \
	  assert torch.__version__.startswith('2.13.0'), torch.__version__"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/chainrule demo --out $(OUT)

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

test: $(STAMP) lint
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

notebooks: $(STAMP)
	$(BIN)/jupyter lab notebooks/

# Build each lesson's notebook from its source notebooks/NN_name.py, run it, save the outputs.
notebooks-build: $(STAMP)
	$(BIN)/python notebooks/build.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache .hypothesis
