# BCFL: the two commands that matter are `make demo` and `make test`; both install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
FORGE ?= $(or $(BCFL_FORGE),$(CURDIR)/node_modules/.bin/forge)
PIP_VERSION := 25.3
AUDIT_ASSETS := bcfl/audit/assets/uPlot.iife.min.js bcfl/audit/assets/uPlot.min.css
DASHBOARD_ASSETS := dashboard/web/vendor/uPlot.iife.min.js dashboard/web/vendor/uPlot.min.css

.PHONY: help setup audit-assets dashboard-assets contracts contracts-check demo test test-contracts coverage-contracts test-python test-compose compose-file bench lint lock clean soak

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

setup: $(PY_STAMP) $(NPM_STAMP) $(AUDIT_ASSETS) $(DASHBOARD_ASSETS) ## Install the pinned Python venv and npm tools (anvil, forge, solc)

$(PY_STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check "pip==$(PIP_VERSION)"
	$(BIN)/python -m pip install -q --no-deps -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	@touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The audit report inlines its chart library (uPlot, pinned in package.json) so that the HTML opens
# offline: copied from node_modules into the package (generated, gitignored; not in the Flower FAB).
audit-assets: $(AUDIT_ASSETS) ## Copy the audit report's chart library (uPlot) into bcfl/audit/assets

bcfl/audit/assets/%: $(NPM_STAMP)
	@mkdir -p $(dir $@)
	cp node_modules/uplot/dist/$* $@

# The dashboard's page draws its charts with the same library, served by the app itself (its CSP
# allows no other origin): copied from node_modules (generated, gitignored).
dashboard-assets: $(DASHBOARD_ASSETS) ## Copy the dashboard page's chart library (uPlot) into dashboard/web/vendor

dashboard/web/vendor/%: $(NPM_STAMP)
	@mkdir -p $(dir $@)
	cp node_modules/uplot/dist/$* $@

contracts: setup ## Recompile contracts; rewrites generated artifacts only when they changed
	$(BIN)/python scripts/compile_contracts.py

contracts-check: setup ## Fail if the committed artifacts differ from a fresh compile
	$(BIN)/python scripts/compile_contracts.py --check

demo: setup ## Start a chain, deploy the consortium and print where to look
	$(BIN)/bcfl demo

# The checks that need no chain (lint, forge's tests and coverage: about a minute and a half on one
# core) run beside the Python suite, whose first minutes (audit, chain, coordinator tests) leave the
# second of two cores mostly idle. The suite prints as it runs; the checks' output follows it, from
# $(CHECKS_LOG). Either failing fails `make test`; stopping it stops both (the checks run in a
# session of their own, killed as a whole).
CHECKS_LOG := build/test-checks.log
test: setup ## Install, then lint and the contract tests beside the whole Python suite (compose test included)
	@mkdir -p $(dir $(CHECKS_LOG))
	@setsid $(MAKE) --no-print-directory lint test-contracts coverage-contracts > $(CHECKS_LOG) 2>&1 & \
	checks=$$!; trap 'kill -- -$$checks 2>/dev/null; exit 130' INT TERM; \
	$(BIN)/python -m pytest -m "compose or not compose"; suite=$$?; \
	wait $$checks; checked=$$?; trap - INT TERM; \
	echo "== make lint test-contracts coverage-contracts, run beside the suite (exit $$checked; $(CHECKS_LOG)):"; \
	cat $(CHECKS_LOG); \
	exit $$(( suite != 0 || checked != 0 ))

test-contracts: setup ## Foundry unit, fuzz and invariant tests
	cd contracts && $(FORGE) test

# forge coverage (optimizer off, as forge sets it) over the unit and fuzz tests: the gas ceilings do not
# hold for instrumented code and the invariant campaign adds time, not coverage. The OpenZeppelin
# remapping is made absolute because forge's source analysis does not resolve relative imports under
# the `../node_modules` one in foundry.toml.
COVERAGE_LCOV := build/coverage/lcov.info
coverage-contracts: setup ## Coverage of contracts/src; fails below 100% of lines or branches
	@mkdir -p $(dir $(COVERAGE_LCOV))
	cd contracts && FOUNDRY_REMAPPINGS="@openzeppelin/contracts/=$(CURDIR)/node_modules/@openzeppelin/contracts/" \
		$(FORGE) coverage --report summary --report lcov --report-file $(CURDIR)/$(COVERAGE_LCOV) \
		--no-match-coverage 'test/' --no-match-contract 'RoundLedgerGas|ConsortiumInvariantTest'
	$(BIN)/python -m scripts.check_coverage $(COVERAGE_LCOV) --source src/ --minimum 100

test-python: setup ## Python tests against a real Anvil
	$(BIN)/python -m pytest

test-compose: setup ## docker-compose.yml for real (root: installs and starts Docker if needed)
	$(BIN)/python -m pytest -m compose

compose-file: setup ## Regenerate docker-compose.yml and docker-compose.hospital.yml from bcfl/demo/topology.py and .env
	$(BIN)/python -m bcfl.demo.compose_file
	$(BIN)/python -m bcfl.demo.compose_hospital

bench: setup ## Gas, federated-learning, client start, `make demo` time, round latency (against plain Flower), ten SuperNodes, robustness, differential privacy, audit-index, audit, dashboard and scale (simulation) benchmarks, written to docs/benchmarks.md
	$(BIN)/python -m scripts.bench_gas --out docs/benchmarks.md
	$(BIN)/python -m scripts.bench_federated --out docs/benchmarks.md
	$(BIN)/python -m scripts.bench_round --out docs/benchmarks.md
	$(BIN)/python -m scripts.bench_supernodes --out docs/benchmarks.md
	$(BIN)/python -m scripts.bench_robustness --out docs/benchmarks.md
	$(BIN)/python -m scripts.bench_privacy --out docs/benchmarks.md
	$(BIN)/python -m scripts.bench_index --out docs/benchmarks.md
	$(BIN)/python -m scripts.bench_audit --out docs/benchmarks.md
	$(BIN)/python -m scripts.bench_dashboard --out docs/benchmarks.md
	$(BIN)/python -m scripts.bench_scale --out docs/benchmarks.md --plot docs/benchmarks-scale.svg
	$(BIN)/python -m scripts.bench_client_start --out docs/benchmarks.md
	$(BIN)/python -m scripts.bench_demo --out docs/benchmarks.md

soak: setup ## 200 rounds of the heart consortium under random SuperNode and coordinator kills (about an hour), into docs/reliability.md
	$(BIN)/python -m scripts.soak --rounds 200

lint: setup ## ruff, mypy and the import layers (import-linter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

lock: ## Re-pin the Python environment from pyproject.toml
	rm -rf /tmp/bcfl-lock && $(PYTHON) -m venv /tmp/bcfl-lock
	/tmp/bcfl-lock/bin/python -m pip install -q "pip==$(PIP_VERSION)" && /tmp/bcfl-lock/bin/python -m pip install -q -e ".[dev]"
	/tmp/bcfl-lock/bin/python -m pip install -q --no-deps "fedimpute==0.3.0" "medmnist==3.0.2"
	{ head -2 requirements.lock; /tmp/bcfl-lock/bin/python -m pip freeze --exclude-editable; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean: ## Remove build outputs and demo runs (not the installs)
	rm -rf build runs .pytest_cache .mypy_cache
