# The two commands a newcomer needs: `make run` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/.venv/bin:$(PATH)
PY := .venv/bin/python
FORGE_PROFILE ?= $(if $(CI),ci,default)

.PHONY: setup run test test-contracts test-python test-ape lint slither bench clean compile gas

setup:
	@scripts/setup.sh

compile: setup
	@ape compile --force > /dev/null

run: setup compile
	$(PY) scripts/_devstack.py

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
	mypy

slither: setup
	slither . --config-file slither.config.json

gas: setup
	forge test --match-contract Gas -vv

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf data .build/forge .build/ape contracts/.cache
