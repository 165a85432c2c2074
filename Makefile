# NETcare - two commands for a newcomer:
#   make run    set up everything (virtualenv, install, migrate, knowledge base, demo users) and serve
#   make test   set up and run the whole test suite (SQLite; PostgreSQL when DATABASE_URL is set)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DEV_ENV := DEBUG=true
# make run writes this for development (DEBUG on, a generated SECRET_KEY); manage.py reads it too.
ENV_FILE ?= .env
# make serve reads the real environment only, never the development .env (docs/deployment.md).
PROD_ENV := NETCARE_ENV_FILE=
# JSON log lines in production (netcare/logging.py); LOG_FORMAT=text for the classic lines.
LOG_FORMAT ?= json

.PHONY: run test install install-dev serve worker lint typecheck benchmark soak clean help

help:
	@echo "make run       set up and serve NETcare on http://$(HOST):$(PORT)"
	@echo "make test      set up and run the whole test suite"
	@echo "make serve     production: collectstatic, migrate, check --deploy, gunicorn (docs/deployment.md)"
	@echo "make worker    production: the background task worker (meeting packs), beside make serve"
	@echo "make lint      ruff;  make typecheck: mypy;  make benchmark: engine and API figures"
	@echo "make soak      10 minutes of mixed load with a database fault (PostgreSQL and Redis on this host)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet -c requirements.lock -e .
	@touch $@

$(VENV)/.dev: pyproject.toml requirements.lock $(VENV)/.runtime
	$(BIN)/pip install --quiet -c requirements.lock -e ".[dev]"
	@touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

# Written once and never overwritten: delete it to get a new key. Gitignored; development only.
$(ENV_FILE):
	@umask 077; { \
	  echo "# Written by 'make run' for local development only; variables set in the environment win."; \
	  echo "DEBUG=true"; \
	  echo "SECRET_KEY=insecure-dev-$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')"; \
	} > $@.tmp && mv $@.tmp $@
	@echo "wrote $@ (DEBUG on, a generated SECRET_KEY): manage.py now works in this checkout"

run: install $(ENV_FILE)
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py load_knowledge_base --no-approval
	$(DEV_ENV) $(BIN)/python manage.py seed_demo
	$(DEV_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Production: SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL ... from the environment (docs/deployment.md).
serve: install
	$(PROD_ENV) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(PROD_ENV) $(BIN)/python manage.py migrate --noinput
	$(PROD_ENV) $(BIN)/python manage.py check --deploy --fail-level WARNING
	$(PROD_ENV) LOG_FORMAT=$(LOG_FORMAT) $(BIN)/gunicorn --config gunicorn.conf.py netcare.wsgi:application

# The background worker (django-tasks' database backend): runs queued meeting packs. Start it beside
# `make serve`, with the same environment; more than one may run. It never reloads on code changes.
worker: install
	$(PROD_ENV) LOG_FORMAT=$(LOG_FORMAT) $(BIN)/python manage.py task_worker --queue-name default

# Serial by default: on this project's 2-core machine two xdist workers measured no faster (each
# worker creates its own database and publishes the knowledge base). PYTEST_WORKERS=2 or auto runs
# pytest-xdist workers, each with its own test database (browser tests included).
# Any pytest options through PYTEST_ARGS, e.g. make test PYTEST_ARGS="-k golden -x".
PYTEST_WORKERS ?= 0

# The tests marked `redis` use REDIS_URL (this host's Redis unless set), each under its own key
# prefix; without a server they are skipped (NETCARE_REQUIRE_REDIS=1 fails them instead, as in CI).
REDIS_URL ?= redis://127.0.0.1:6379/0

test: install-dev
	REDIS_URL=$(REDIS_URL) $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --durations=10 $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy netcare treatments tests

benchmark: install-dev
	$(BIN)/python benchmarks/engine.py

# Mixed load against gunicorn + PostgreSQL + Redis + the task worker, with a database fault half-way
# (README "Benchmarks"). Its own database on the local cluster; SOAK_ARGS=--quick for one minute.
SOAK_ARGS ?=
soak: install-dev
	$(BIN)/python benchmarks/soak.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
