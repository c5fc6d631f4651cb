# Two entry points (see README): `make demo` and `make test`. Both set up everything first.
# `make test-fast` is the quick lane for people changing code (see README, "Tests").
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-fast setup setup-test lean system lint

$(VENV)/.main: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test: pyproject.toml $(VENV)/.main
	$(BIN)/pip install -q -e '.[test,hf,lightning,wandb]'
	touch $@

setup: $(VENV)/.main lean
setup-test: $(VENV)/.test lean system

lean:
	$(BIN)/sequent lean install

system:
	bash scripts/install-system-deps.sh

demo: setup
	$(BIN)/sequent demo

test: setup-test lint
	$(BIN)/pytest

# Every test that runs no Lean, drives no browser, trains no model and is not a file of minutes
# (the markers in pyproject.toml): ~1,000 tests, ~190 s of CPU over 2 processes. Lean is pointed at a
# folder that holds none, so a test that starts it without its `lean` marker fails here with
# "embedded Lean not installed" instead of slowing the lane down.
FAST := not (lean or heavy or browser or torch or native_lean)
test-fast: $(VENV)/.test
	SEQUENT_LEAN_HOME=$(CURDIR)/.sequent/no-lean $(BIN)/pytest -m "$(FAST)"

lint: $(VENV)/.test
	$(BIN)/ruff check pipeline tests experiments benchmarks
	$(BIN)/mypy pipeline
