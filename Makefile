# The two commands of the quick start: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format worker beat install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

# The demo: the app, the fake Kustomer and Shopify, a trained intent model (all idempotent).
run: export COPILOT_DEMO ?= true
# The fake Kustomer sends its webhooks here, and the demo calls its fakes here: the address it
# serves on (unless set), so that `make run PORT=9000` receives customers' messages.
run: export COPILOT_PUBLIC_URL ?= http://$(HOST):$(PORT)
run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py demo_setup
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Production-style background processes (need REDIS_URL and DATABASE_URL).
worker: install
	$(BIN)/celery -A copilot worker --queues default,training --without-gossip --without-mingle --loglevel INFO

beat: install
	$(BIN)/celery -A copilot beat --loglevel INFO

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
