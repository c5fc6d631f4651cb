# Two entry points (see README): `make demo` and `make test`. Both set up everything first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test setup setup-test lean system lint

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

lint: $(VENV)/.test
	$(BIN)/ruff check pipeline tests experiments benchmarks
	$(BIN)/mypy pipeline
