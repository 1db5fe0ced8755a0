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

run: install
	COPILOT_DEMO=$${COPILOT_DEMO:-true} $(BIN)/python manage.py migrate --no-input
	COPILOT_DEMO=$${COPILOT_DEMO:-true} $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Production-style background processes (need REDIS_URL and DATABASE_URL).
worker: install
	$(BIN)/celery -A copilot worker --queues default,training --loglevel INFO

beat: install
	$(BIN)/celery -A copilot beat --loglevel INFO

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
