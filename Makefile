# The two commands a newcomer needs: `make run` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/.venv/bin:$(PATH)
PY := .venv/bin/python
FORGE_PROFILE ?= $(if $(CI),ci,default)

.PHONY: setup run test test-contracts test-python test-ape test-e2e lint slither bench clean compile deploy gas

setup:
	@scripts/setup.sh

compile: setup
	forge build
	ape compile

run: setup
	$(PY) -m scripts.run_local

test: setup
	@scripts/test.sh

test-contracts: setup
	FOUNDRY_PROFILE=$(FORGE_PROFILE) forge test

test-python: setup
	$(PY) -m pytest -q

test-ape: setup
	ape test tests/ape -q

lint: setup
	ruff check .
	ruff format --check .

slither: setup
	slither . --config-file slither.config.json

gas: setup
	forge test --match-contract Gas -vv

bench: setup
	$(PY) -m bench.run

clean:
	rm -rf data .build/forge .build/ape contracts/.cache
