# walletflow — the two commands a newcomer types: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint format bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,dashboard]'
	touch $(STAMP)

install: $(STAMP)

# Debian chromium + bun from npm (for Reflex), installed idempotently; exports their env.
TOOLCHAIN_ENV = eval "$$(bash scripts/install_dashboard_toolchain.sh --env)"

## Install, migrate and start API + worker + dashboard on embedded PostgreSQL/Redis by default.
run: install
	$(TOOLCHAIN_ENV) && $(BIN)/walletflow run

## Lint, type-check, then the whole test suite against real PostgreSQL and Redis.
test: install lint
	$(TOOLCHAIN_ENV) && $(BIN)/pytest

lint: install
	$(BIN)/ruff check backend tests bench dashboard
	$(BIN)/ruff format --check backend tests bench dashboard
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

format: install
	$(BIN)/ruff check --fix backend tests bench dashboard
	$(BIN)/ruff format backend tests bench dashboard

bench: install
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script; done
