# distill2rules — developer entry points. `make demo` and `make test` work from a clean clone.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
# Real public datasets live beside the repo in ../shared/datasets (see README "Datasets").
SHARED_DATA := $(abspath ../shared/datasets)
export DISTILL2RULES_DATA ?= $(if $(wildcard $(SHARED_DATA)),$(SHARED_DATA),)
# Keep BLAS/torch from oversubscribing a small machine.
export OMP_NUM_THREADS ?= 2
export MPLBACKEND ?= Agg
PYTEST_ARGS ?=

.PHONY: demo test bench install clean lint wheel-smoke

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt -e '.[all,test,peers,bench,dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/distill2rules quickstart --out runs/quickstart

test: lint
	$(PY) -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

# Build the wheel, install it as users do (core only, then [all]) in fresh venvs outside the
# source tree, and smoke-test the CLI on the committed fixture artifact (see .ci/wheel-smoke.sh).
# SMOKE_ALL_VENV=.venv reuses the dev venv for the [all] part instead of a fresh one.
wheel-smoke:
	PYTHON=$(PYTHON) .ci/wheel-smoke.sh

# ruff (lint + format check) and mypy; any finding fails `make lint` and so `make test`.
LINT_PATHS := distill2rules exporters tests benchmarks docs examples
RUFF_PATHS ?= $(LINT_PATHS)
RUFF_FORMAT_PATHS ?= $(LINT_PATHS)
lint: $(STAMP)
	$(PY) -m ruff check $(RUFF_PATHS)
	$(PY) -m ruff format --check $(RUFF_FORMAT_PATHS)
	$(PY) -m mypy

clean:
	rm -rf $(VENV) runs build dist *.egg-info
