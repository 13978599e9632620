# Timón Pet Store — the two commands: `make up` and `make test`.
# Both install what is missing first (Debian packages when run as root, then the pinned Python
# packages into .venv), so they work on a fresh Debian machine.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# tesseract-ocr-*: language data for the tesserocr wheel's engine (Spanish, English, orientation; and the
# languages a foreign page is read again in, documents/read/languages.py; the Latin script's letters for foreign
# names, documents/read/engine.py); fonts-dejavu-core: the OCR tests render pages;
# redis-server: Debian's Redis 7, the major version compose runs, for make up and the tests;
# chromium: the browser the console's stories drive through Playwright (tests/test_console_browser.py)
OCR_LANGUAGES := tesseract-ocr-spa tesseract-ocr-eng tesseract-ocr-osd tesseract-ocr-fra tesseract-ocr-deu tesseract-ocr-nld \
	tesseract-ocr-ita tesseract-ocr-por tesseract-ocr-cat tesseract-ocr-script-latn
APT_PACKAGES := docker-compose redis-server $(OCR_LANGUAGES) fonts-dejavu-core chromium
PYTEST_ARGS ?=

.PHONY: up test test-sqlite test-postgresql install system-deps bench vendor clean

up: install
	$(PY) -m common.devstack

# Both passes at once: most of a pass is waiting on real processes (a worker's job, a server
# starting), so two overlap well even on two cores. Each line is prefixed with its pass; the full
# output of each is also kept in var/test-logs/ to read a failure without the other pass's lines.
test: install
	@mkdir -p var/test-logs
	@echo "== test suite on SQLite and on PostgreSQL, side by side (logs: var/test-logs/) =="
	@set -o pipefail; \
	( TEST_DATABASE=sqlite $(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS) 2>&1 \
		| tee var/test-logs/sqlite.log | sed -u 's/^/[sqlite] /' ) & sqlite=$$!; \
	( TEST_DATABASE=postgresql $(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS) 2>&1 \
		| tee var/test-logs/postgresql.log | sed -u 's/^/[postgresql] /' ) & postgresql=$$!; \
	wait $$sqlite; sqlite_rc=$$?; wait $$postgresql; postgresql_rc=$$?; \
	echo "== SQLite: $$(tail -n 1 var/test-logs/sqlite.log)"; \
	echo "== PostgreSQL: $$(tail -n 1 var/test-logs/postgresql.log)"; \
	for rc in $$sqlite_rc $$postgresql_rc; do case $$rc in 0|5) ;; *) exit 1;; esac; done  # 5: PYTEST_ARGS picked nothing for a pass

test-sqlite: install
	TEST_DATABASE=sqlite $(PY) -m pytest $(PYTEST_ARGS)

test-postgresql: install
	TEST_DATABASE=postgresql $(PY) -m pytest $(PYTEST_ARGS)

install: system-deps $(STAMP)
	@# the OCR's word lists (documents/read/spelling.py), built once per machine, not in the first OCR job
	@$(PY) -c "from veterinaria.app.documents.read.spelling import Speller; Speller()"

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
