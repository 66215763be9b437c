# Painmap — `make run` serves the app, `make test` runs every test. Nothing else is needed.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# The first Python >= 3.12 found: on PATH, then under pyenv. Django 6 needs 3.12.
FIND_PYTHON = for p in python3.14 python3.13 python3.12 python3 \
	  $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
	  if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	    command -v $$p; exit 0; fi; done; exit 1

.PHONY: help run test unit e2e lint format bench migrate clean messages

help:
	@echo "make run    - install, migrate, create demo accounts, serve on http://$(HOST):$(PORT)"
	@echo "make test   - unit tests, then browser tests and API fuzzing against a live Daphne"
	@echo "make unit   - unit tests only          make e2e   - browser tests only"
	@echo "make lint   - ruff, formatting, missing migrations"
	@echo "make bench  - load benchmarks (HTTP and WebSocket), printed as figures"
	@echo "make messages - collect new strings into locale/*/LC_MESSAGES/*.po and compile them (needs GNU gettext)"

$(VENV)/.runtime: requirements.txt
	@if ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	  python="$${PYTHON_BIN:-$$($(FIND_PYTHON))}"; \
	  if [ -z "$$python" ]; then echo "Painmap needs Python >= 3.12 and none was found (looked for python3.14 to python3.12, python3, and pyenv's versions). Install one, or name it: make PYTHON_BIN=/path/to/python3.13 run" >&2; exit 1; fi; \
	  echo "Creating $(VENV) with $$python"; rm -rf $(VENV); "$$python" -m venv $(VENV); fi
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

migrate: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput -v0

run: migrate
	@$(PY) manage.py seed_demo
	@echo "Painmap on http://$(HOST):$(PORT)/ (Ctrl-C stops it)"
	$(PY) -m daphne -b $(HOST) -p $(PORT) config.asgi:application

# Browser tests need Chromium: Debian's package when we are root, Playwright's own otherwise.
chromium: $(VENV)/.dev
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Chromium from Debian's packages"; \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) >/dev/null; \
	else $(PY) -m playwright install chromium; fi

unit: $(VENV)/.dev
	$(PY) -m pytest

e2e: chromium
	$(PY) -m pytest e2e --screenshot only-on-failure --output test-results

test: unit e2e

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Translations: every language in locale/ (the README says how to add one). The compiled .mo
# files are committed, so running Painmap needs no gettext; only this target does.
MESSAGE_LANGUAGES = $(notdir $(wildcard locale/*))
MESSAGES_IGNORE = --ignore=staticfiles --ignore=test-results --ignore=bench --ignore=e2e --ignore=node_modules
messages: $(VENV)/.dev
	@command -v msgfmt >/dev/null || { echo "make messages needs GNU gettext (apt-get install gettext)" >&2; exit 1; }
	$(PY) manage.py makemessages --no-obsolete --no-location $(MESSAGES_IGNORE) $(addprefix -l ,$(MESSAGE_LANGUAGES))
	$(PY) manage.py makemessages -d djangojs --no-obsolete --no-location $(MESSAGES_IGNORE) --ignore=static/vendor $(addprefix -l ,$(MESSAGE_LANGUAGES))
	$(PY) manage.py compilemessages --ignore=.venv --ignore=staticfiles --ignore=node_modules

bench: $(VENV)/.dev
	@if ls bench/*.py >/dev/null 2>&1; then for script in bench/bench_*.py; do $(PY) $$script || exit 1; done; \
	else echo "No benchmarks yet."; fi

clean:
	rm -rf $(VENV) staticfiles test-results .pytest_cache .ruff_cache
