# chainrule: `make demo` installs only what the demo needs and runs it; `make test` adds the
# test tools and runs the whole suite (lint, types, tests, notebooks). Both work on a fresh
# Debian machine.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_STAMP := $(VENV)/.installed-demo
TEST_STAMP := $(VENV)/.installed-test
NB_STAMP   := $(VENV)/.installed-notebooks
DOCS_STAMP := $(VENV)/.installed-docs
OUT    ?= out
PORT   ?= 8000
LINTED := engine nn viz chainrule tests benchmarks notebooks/*.py docs/*.py
TYPECHECK := build/typecheck
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# (this machine's pip config names local indexes that may be absent: hide that noise only)
QUIET_PIP := 2>&1 | { grep -v '^WARNING: Location' || true; }
APT_INSTALL := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq

.PHONY: setup demo playground test lint bench notebooks notebooks-build docs clean

setup: $(TEST_STAMP)

# The demo: the library and its five dependencies (numpy, graphviz, matplotlib, tqdm,
# anywidget) and Debian's graphviz for the real `dot`. No torch, test or lint tools.
$(DEMO_STAMP): pyproject.toml
	@command -v dot >/dev/null || { $(SUDO) apt-get update -qq && $(APT_INSTALL) graphviz >/dev/null; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e . $(QUIET_PIP)
	touch $(DEMO_STAMP)

# The tests: torch (the reference), hypothesis, ruff, mypy, playwright, Jupyter, and
# Debian's chromium for the stepper's page.
$(TEST_STAMP): $(DEMO_STAMP)
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(APT_INSTALL) chromium >/dev/null; }
	$(BIN)/pip install -q -e '.[test,bench,notebooks]' $(QUIET_PIP)
	$(BIN)/python -c "import torch, micrograd, graphviz, playwright, nbclient, hypothesis; \
	  assert torch.__version__.startswith('2.13.0'), torch.__version__"
	touch $(TEST_STAMP)

# The course: Jupyter and jupytext only (no torch, no Chromium).
$(NB_STAMP): $(DEMO_STAMP)
	$(BIN)/pip install -q -e '.[notebooks]' $(QUIET_PIP)
	touch $(NB_STAMP)

# The documentation site: Sphinx, MyST-NB, Furo and MathJax's files (no torch, no Chromium).
$(DOCS_STAMP): $(DEMO_STAMP)
	$(BIN)/pip install -q -e '.[docs]' $(QUIET_PIP)
	touch $(DOCS_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/chainrule demo --out $(OUT)

# The interactive playground in a browser (http://127.0.0.1:$(PORT)).
playground: $(DEMO_STAMP)
	$(BIN)/chainrule playground --port $(PORT)

lint: $(TEST_STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	rm -rf $(TYPECHECK) && mkdir -p $(TYPECHECK)/chainrule
	for f in chainrule/* engine nn viz; do ln -s "$$PWD/$$f" $(TYPECHECK)/chainrule/; done
	cd $(TYPECHECK) && $(CURDIR)/$(BIN)/mypy --config-file $(CURDIR)/pyproject.toml -p chainrule

# The site is built first (warnings are errors); tests/test_docs.py checks it.
test: $(TEST_STAMP) lint docs
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider

bench: $(TEST_STAMP)
	$(BIN)/python -m benchmarks.run

notebooks: $(NB_STAMP)
	$(BIN)/jupyter lab notebooks/

# Build each lesson's notebook from its source notebooks/NN_name.py, run it, save the outputs.
notebooks-build: $(NB_STAMP)
	$(BIN)/python notebooks/build.py

# The site (home, course, API reference, interactive pages) into site/: open site/index.html.
docs: $(DOCS_STAMP)
	$(BIN)/python docs/build.py

clean:
	rm -rf $(VENV) $(OUT) site build .pytest_cache .mypy_cache .ruff_cache .hypothesis
