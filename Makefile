# The two commands a newcomer needs: `make run` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/.venv/bin:$(PATH)
PY := .venv/bin/python
FORGE_PROFILE ?= $(if $(CI),ci,default)
# The npm wrapper node_modules/.bin/forge exits 0 whatever the binary it starts returns, so a
# failing test or gas check would pass: call the platform binary it wraps (or a forge on PATH).
FORGE := $(or $(firstword $(wildcard $(CURDIR)/node_modules/@foundry-rs/forge-*/bin/forge)),forge)
# Percent by which a gas test's total may differ from .gas-snapshot before `make gas` fails.
GAS_TOLERANCE ?= 1

.PHONY: setup run redeploy test test-contracts test-python test-ape lint slither bench soak clean compile gas gas-snapshot

setup:
	@scripts/setup.sh

compile: setup
	@ape compile --force > /dev/null

run: setup compile
	$(PY) scripts/_devstack.py

# `make run` never replaces a deployment; this deploys afresh on the chain (the old manifest stays
# in data/deployments, the old deployment's outbox, index and demo feeds move to data/archive).
redeploy: setup compile
	$(PY) scripts/_devstack.py --redeploy

test: setup
	@scripts/test.sh

test-contracts: setup
	FOUNDRY_PROFILE=$(FORGE_PROFILE) $(FORGE) test --no-match-contract SettlementGasTest

test-python: setup
	$(PY) -m pytest -q

test-ape: setup
	ape test tests/ape -q

lint: setup
	ruff check .
	ruff format --check .
	mypy

slither: setup
	slither . --config-file slither.config.json

# Gas of the calls users pay for (tests/foundry/GasReport.t.sol, in-transaction figures) and of each
# settlement as one transaction (tests/foundry/SettlementGasTest, --isolate, its named snapshots in
# snapshots/SettlementGasTest.json), printed and compared with the
# committed .gas-snapshot; after a deliberate change, `make gas-snapshot` and commit the file.
gas: setup
	$(FORGE) snapshot --match-contract GasReportTest --check --tolerance $(GAS_TOLERANCE) -vv
	$(FORGE) test --isolate --match-contract SettlementGasTest --gas-snapshot-check true -vv

gas-snapshot: setup
	$(FORGE) snapshot --match-contract GasReportTest
	$(FORGE) test --isolate --match-contract SettlementGasTest

bench: setup
	$(PY) bench/run.py

# The fault suite's machinery (tests/python/e2e/fault_world.py) over SOAK_CYCLES fault cycles
# (default 1,000, about 4 s each on 2 cores); figures in bench/results/soak.json and soak.md.
# SOAK_SEED repeats a run's faults. Not part of `make test`.
SOAK_CYCLES ?= 1000
soak: setup
	SOAK_CYCLES=$(SOAK_CYCLES) PYTHONPATH=$(CURDIR) $(PY) tests/python/e2e/fault_world.py

clean:
	rm -rf data .build/forge .build/ape contracts/.cache
