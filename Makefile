# Kairos platform: the README's commands. Everything the project needs is installed from here:
# uv into .tools/ (from PyPI), the Python workspace into .venv/ (uv.lock), Kafka's jars into
# .cache/ (Maven Central). Prerequisites on the machine: Python 3.11+, Java 17, Maven.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
PY := .venv/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(shell command -v $(PYTHON))
export UV_LINK_MODE := copy

.PHONY: help install chromium run demo test test-unit faults security soak hardening lint format schemas bench up down clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

install: $(UV) ## install the workspace (uv.lock), Kafka's jars, the portal's npm packages, Chromium
	$(UV) sync --all-packages --locked --quiet
	$(PY) -m kairos_devstack kafka-jars >/dev/null
	@$(MAKE) --no-print-directory $(PORTAL_NPM) chromium
	$(PY) -m kairos_portal.assets

# The portal's front-end packages (npm, without install scripts: the DSFR's refuses to run
# without a project configuration), installed again only when the lock changes.
PORTAL_NPM := services/portal/node_modules/.package-lock.json
$(PORTAL_NPM): services/portal/package-lock.json
	cd services/portal && npm ci --ignore-scripts --no-audit --no-fund --silent

chromium: ## Debian's Chromium for the portal's browser tests (installed when root and missing)
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	else echo "The portal's browser tests need Debian's Chromium: run 'sudo apt-get install chromium'" >&2; fi

run: install ## run Kafka, PostgreSQL, the SMTP sink, the four services and the portal until Ctrl-C
	$(PY) -m kairos_devstack run

demo: install ## tell the whole story (adhesion → declarations → day 21) to the stack `make run` started
	$(PY) -m kairos_devstack demo

test: install lint ## lint, then every test (starts a real Kafka and PostgreSQL)
	$(PY) -m pytest

test-unit: install ## only the tests that need no Kafka or PostgreSQL
	$(PY) -m pytest -m "not infra"

faults: install ## issue 9's fault injection: brokers, databases, services killed, poison events, SMTP down
	$(PY) -m pytest -m faults

security: install ## hostile input: the authorisation matrix, fuzzing, tokens, brute force, sizes, secrets, Kafka ACLs
	$(PY) -m pytest -m security

soak: install ## the bounded load run (10 min, 20 OFs, 200 people), then the reconciliation of every service
	KAIROS_SOAK_SECONDS=600 KAIROS_SOAK_ORGANISATIONS=20 KAIROS_SOAK_PEOPLE=10 KAIROS_SOAK_WORKERS=12 \
	  $(PY) -m pytest -m soak -s

hardening: install ## faults, security and the full soak in one run (see the README's Tests section)
	KAIROS_SOAK_SECONDS=600 KAIROS_SOAK_ORGANISATIONS=20 KAIROS_SOAK_PEOPLE=10 KAIROS_SOAK_WORKERS=12 \
	  $(PY) -m pytest -m "faults or security or soak" -s

lint: install ## ruff, formatting, mypy (strict), import-linter contracts
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	.venv/bin/lint-imports

format: install ## apply ruff's fixes and formatting
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

schemas: install ## regenerate the JSON Schemas and the AsyncAPI document from the event classes
	$(PY) -m kairos_schemas.generate

bench: install ## benchmarks, each against its raw baseline measured in the same run (about 15 min)
	rm -rf bench/results
	$(PY) bench/propagation.py
	$(PY) bench/declarations.py
	$(PY) bench/outbox.py
	$(PY) bench/notifications.py
	$(PY) bench/portal.py
	$(PY) bench/report.py

up: ## the container stack (needs a Docker engine)
	docker compose up --build --detach --wait

down: ## stop the container stack
	docker compose down

clean: ## remove the local stack's data (.local) and caches; keeps Kafka's jars
	rm -rf .local .pytest_cache .mypy_cache .ruff_cache
