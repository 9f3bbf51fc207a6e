# Two commands on a fresh machine: `make demo` runs the demo recipe, `make test` runs the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check

BROWSER_TEST := tests/argilla/browser

.PHONY: demo test install install-dev test-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	# torch first, pinned: the CPU build; an unpinned torch pulled in later would be a CUDA build.
	$(PIP) torch==2.13.0

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(PIP) -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The Argilla browser test drives Debian's chromium with playwright-core (npm). The Argilla server's
# own virtualenv is built by the tests' session fixture on first use (.curate-cache/argilla-venv).
$(BROWSER_TEST)/node_modules/.installed: $(BROWSER_TEST)/package.json $(BROWSER_TEST)/package-lock.json
	cd $(BROWSER_TEST) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

test-deps: $(BROWSER_TEST)/node_modules/.installed

demo: install
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/curate run pipelines/demo.yaml -o exports/demo

test: install-dev test-deps
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/python -m pytest

clean:
	rm -rf $(VENV) exports/demo
