# Kairos platform: the README's commands. Everything the project needs is installed from here:
# uv into .tools/ (from PyPI), the Python workspace into .venv/ (uv.lock), Kafka's jars into
# .cache/ (Maven Central). Prerequisites on the machine (checked first, installed when run as
# root on Debian: deploy/local/prerequisites.sh): Python 3.11+ with venv, Java 17+, Maven,
# openssl, git.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
PY := .venv/bin/python
export UV_PYTHON_DOWNLOADS := never
# The interpreter itself, not a wrapper (a pyenv shim made uv rebuild .venv on every make,
# under any test running from it).
export UV_PYTHON := $(shell $(PYTHON) -c 'import sys; print(sys.executable)' 2>/dev/null)
export UV_LINK_MODE := copy
# The tests' Kafka and PostgreSQL (README, Tests): `make test INFRA=local|containers|env`.
ifneq ($(INFRA),)
export KAIROS_TEST_INFRA := $(INFRA)
endif

TEST_BUDGET_MINUTES ?= 40

.PHONY: help prerequisites install chromium run demo test test-unit faults security soak hardening lint format schemas bench up down clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

prerequisites: ## check what the machine must provide (python3-venv, Java 17+, Maven, openssl, git); as root, install it
	@PYTHON=$(PYTHON) deploy/local/prerequisites.sh

$(UV): | prerequisites
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

install: prerequisites $(UV) ## install the workspace (uv.lock), Kafka's jars, the portal's npm packages, Chromium
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

test: install lint ## lint, then every test (real Kafka and PostgreSQL) within 40 min (TEST_BUDGET_MINUTES)
	@echo "make test: the tests' time budget is $(TEST_BUDGET_MINUTES) min; pytest is stopped past it"
	@status=0; timeout --foreground --signal=INT --kill-after=120 $(TEST_BUDGET_MINUTES)m \
	  $(PY) -m pytest || status=$$?; \
	if [ $$status -eq 124 ] || [ $$status -eq 137 ]; then \
	  echo "make test: stopped: over its budget of $(TEST_BUDGET_MINUTES) min" >&2; fi; \
	exit $$status

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
