# Timón Pet Store — the two commands: `make up` and `make test`.
# Both install what is missing first (Debian packages when run as root, then the pinned Python
# packages into .venv), so they work on a fresh Debian machine.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# tesseract-ocr-*: language data for the tesserocr wheel's engine; fonts-dejavu-core: the OCR tests render pages;
# redis-server: Debian's Redis 7, the major version compose runs, for make up and the tests;
# chromium: the browser the console's stories drive through Playwright (tests/test_console_browser.py)
APT_PACKAGES := docker-compose redis-server tesseract-ocr-spa tesseract-ocr-eng tesseract-ocr-osd fonts-dejavu-core chromium
PYTEST_ARGS ?=

.PHONY: up test test-sqlite test-postgresql install system-deps bench vendor clean

up: install
	$(PY) -m common.devstack

test: install
	@echo "== test suite on SQLite =="
	TEST_DATABASE=sqlite $(PY) -m pytest $(PYTEST_ARGS)
	@echo "== test suite on PostgreSQL =="
	TEST_DATABASE=postgresql $(PY) -m pytest $(PYTEST_ARGS)

test-sqlite: install
	TEST_DATABASE=sqlite $(PY) -m pytest $(PYTEST_ARGS)

test-postgresql: install
	TEST_DATABASE=postgresql $(PY) -m pytest $(PYTEST_ARGS)

install: system-deps $(STAMP)

# Debian packages: installed when missing if we are root, otherwise we say what to run.
system-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing Debian packages: $$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		else \
			echo "missing Debian packages: $$missing — run: sudo apt-get install $$missing"; exit 1; \
		fi; \
	fi

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "python3.11 not found: apt-get install python3 python3-venv"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "could not create $(VENV): apt-get install python3-venv"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

bench: install
	@dpkg -s tesseract-ocr >/dev/null 2>&1 || apt-get install -y -qq --no-install-recommends tesseract-ocr  # the CLI baseline
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# re-download the console's pinned browser assets (htmx, axe-core, uPlot) with npm pack and check
# their hashes against console/static/vendor/manifest.json; --write puts them in place
vendor: install
	$(PY) -m console.vendor $(VENDOR_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
