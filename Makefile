# 整改台账 — two commands do everything:
#   make run    set up, migrate, load the demo county, start Celery (worker + beat) and serve http://127.0.0.1:8000
#   make test   set up (including the browser for browser tests) and run the whole test suite
# With DATABASE_URL / REDIS_URL unset: SQLite in var/db.sqlite3 and Celery on a filesystem broker in var/.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# pytest-django takes an exported DJANGO_SETTINGS_MODULE over pyproject.toml: tests always use the test settings.
PYTEST := env -u DJANGO_SETTINGS_MODULE $(VENV)/bin/pytest
DEV := DJANGO_SETTINGS_MODULE=config.settings.dev

.PHONY: help run test smoke lint typecheck bench clean distclean install vendor dirs browser-deps migrate demo screenshots

help:
	@echo "make run      set up, migrate, load the demo county, start Celery worker+beat, serve http://$(HOST):$(PORT)"
	@echo "make test     set up and run the whole test suite (PYTEST_ARGS='-n 2' to parallelise)"
	@echo "make smoke    run the smoke tests against whatever database is configured"
	@echo "make lint     ruff check ."
	@echo "make typecheck  mypy with the Django plugin over every app and config"
	@echo "make bench    run the benchmarks (bench/run.py)"
	@echo "make clean    remove var/ (database, logs, broker, media), collected static files and caches"
	@echo "make distclean  clean, and also remove .venv, node_modules and static/vendor"

# --- Setup --------------------------------------------------------------------------------------------------
$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-installs only when a requirements file changes.
$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(STAMP)

# Front-end assets are vendored into static/vendor (no CDN at run time); rebuilt when package-lock.json changes.
vendor:
	@if [ ! -f scripts/vendor_static.sh ]; then \
		echo "scripts/vendor_static.sh not found: skipping front-end assets"; \
	elif [ ! -d static/vendor ] || { [ -f package-lock.json ] && [ package-lock.json -nt static/vendor ]; }; then \
		bash scripts/vendor_static.sh && touch static/vendor; \
	fi

dirs:
	@mkdir -p var/log var/media var/celery-broker/processed

# Browser tests drive the system Chromium; without the CJK fonts every Chinese character renders as a box.
browser-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="chromium"; \
	{ dpkg -s fonts-noto-cjk || fc-list :lang=zh | grep -qi "noto"; } >/dev/null 2>&1 || missing="$$missing fonts-noto-cjk"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing for browser tests:$$missing"; \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
		else \
			echo "Hint: browser tests need$$missing: sudo apt-get install -y$$missing"; \
		fi; \
	fi

migrate: install dirs
	$(DEV) $(PY) manage.py migrate --noinput

demo: migrate
	$(DEV) $(PY) manage.py load_demo

# --- The two commands ---------------------------------------------------------------------------------------
# Celery runs in the background (worker with embedded beat, DatabaseScheduler) and stops when runserver exits.
run: install vendor dirs demo
	@$(DEV) $(VENV)/bin/celery -A config worker -B -P solo --loglevel=INFO >>var/log/celery.log 2>&1 & \
	celery_pid=$$!; \
	stop_celery() { \
		kill -TERM "$$celery_pid" 2>/dev/null || return 0; \
		for _ in $$(seq 40); do kill -0 "$$celery_pid" 2>/dev/null || return 0; sleep 0.25; done; \
		kill -KILL "$$celery_pid" 2>/dev/null || true; \
	}; \
	trap stop_celery EXIT; \
	trap 'exit 130' INT; \
	trap 'exit 143' TERM; \
	echo "Celery worker + beat started (pid $$celery_pid, broker: $${REDIS_URL:-filesystem in var/celery-broker}), log: var/log/celery.log"; \
	echo "Serving http://$(HOST):$(PORT)/ — log in with a demo account above; Ctrl-C stops the server and Celery."; \
	$(DEV) $(PY) manage.py runserver $(HOST):$(PORT)

# The whole suite: the tests without a browser on TEST_WORKERS processes (each has its own test database), then the
# browser tests one at a time (several Chromiums at once on a 2-core machine make their waits flaky). With
# PYTEST_ARGS set, one plain run with those arguments instead.
TEST_WORKERS ?= 2
test: install vendor dirs browser-deps
	@rc=0; \
	if [ -n "$(PYTEST_ARGS)" ]; then $(PYTEST) $(PYTEST_ARGS) || rc=$$?; \
	else $(PYTEST) -n $(TEST_WORKERS) -m "not browser" || rc=$$?; \
	     if [ $$rc -eq 0 ]; then $(PYTEST) -m browser || rc=$$?; fi; fi; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; fi; \
	exit $$rc

# --- More ---------------------------------------------------------------------------------------------------
smoke: install vendor dirs
	@rc=0; $(PYTEST) -m smoke $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no smoke tests" >&2; fi; \
	exit $$rc

lint: install
	$(VENV)/bin/ruff check .

# mypy and its Django plugin are configured in pyproject.toml (the plugin loads config.settings.test).
typecheck: install
	$(PY) -m mypy core units notifications campaigns ledger supervision reports config

# Refresh the screenshots under docs/screenshots/ from the browser tests.
screenshots: install vendor dirs browser-deps
	SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(PYTEST) -m browser

bench: install vendor dirs
	$(PY) bench/run.py

clean:
	rm -rf var staticfiles .pytest_cache .ruff_cache .mypy_cache test-results
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o -type d -name __pycache__ -print0 \
		| xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV) node_modules static/vendor
