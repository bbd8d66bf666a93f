# Two commands for a fresh machine: `make run` (demo on http://127.0.0.1:8000) and `make test` (everything CI runs).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
KEY_FILE := var/secret_key

# The local demo: plain http on loopback, demo accounts allowed, a secret key that never leaves var/.
DEMO_ENV := SECRET_KEY_FILE=$(KEY_FILE) DEMO_MODE=true ALLOWED_HOSTS=127.0.0.1,localhost SECURE_COOKIES=false

.PHONY: help run test bench report lint system-deps clean

help:
	@echo "make run    create .venv, migrate, load the demo, serve http://127.0.0.1:8000"
	@echo "make test   lint, checks, and the test suite on SQLite and on a throwaway PostgreSQL"
	@echo "make bench  the bench/ scripts at 1,000 and 10,000 subjects on a throwaway PostgreSQL; writes bench/RESULTS.md"
	@echo "make report STUDY=DLC   a study's analysis from the local database (after make run)"

$(RUNTIME_STAMP): requirements.txt
	@test -x $(BIN)/pip || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/pip || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@ $(RUNTIME_STAMP)

$(KEY_FILE):
	@mkdir -p var
	@umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@
	@echo "Generated a local secret key in $@ (untracked)."

run: $(RUNTIME_STAMP) $(KEY_FILE)
	$(DEMO_ENV) $(MANAGE) migrate --noinput
	$(DEMO_ENV) $(MANAGE) seed_demo
	$(DEMO_ENV) $(MANAGE) collectstatic --noinput --verbosity 0
	@echo "Serving on http://127.0.0.1:8000 (demo logins in README.md), with a task worker for exports; Ctrl-C stops both."
	$(DEMO_ENV) $(MANAGE) db_worker --no-reload & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT; \
	$(DEMO_ENV) $(MANAGE) runserver 127.0.0.1:8000

STUDY ?= DLC
report: $(RUNTIME_STAMP) $(KEY_FILE)
	@SECRET_KEY_FILE=$(KEY_FILE) $(MANAGE) migrate --noinput --verbosity 0
	@SECRET_KEY_FILE=$(KEY_FILE) $(MANAGE) analysis_report --study $(STUDY)

system-deps:
	@scripts/system-deps.sh

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: $(DEV_STAMP) $(KEY_FILE) system-deps lint
	SECRET_KEY_FILE=$(KEY_FILE) $(MANAGE) check --fail-level WARNING
	SECRET_KEY_FILE=$(KEY_FILE) $(MANAGE) makemigrations --check --dry-run
	@echo "== Test suite on SQLite and on a throwaway PostgreSQL, side by side (logs follow when both end) =="
	scripts/test-both.sh $(BIN)/pytest

# Not part of `make test` (9 minutes on two cores here); BENCH_SIZES="200 1000" for a shorter run.
BENCH_SIZES ?= 1000 10000
bench: $(DEV_STAMP) $(KEY_FILE) system-deps
	scripts/with-postgres.sh env SECRET_KEY_FILE=$(KEY_FILE) DEMO_MODE=true $(BIN)/python bench/run.py --sizes $(BENCH_SIZES)

clean:
	rm -rf $(VENV) var
