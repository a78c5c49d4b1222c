# postkind: every target is a thin call to the `postkind` CLI or a script; no logic lives here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
MODEL  := models/postkind.joblib
DATA   := data/posts.csv
SHARED ?= ../shared
SRC    := $(wildcard src/postkind/*.py)

.DEFAULT_GOAL := help
.PHONY: help install train evaluate quality test lint bench bench-dask clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: $(STAMP) ## create .venv and install postkind with its dev extras

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

train: $(MODEL) ## train the default model on data/ (skipped when data and code are unchanged)

$(MODEL): $(DATA) $(SRC) $(STAMP)
	$(BIN)/postkind train --data $(DATA) --model $@

evaluate: $(MODEL) ## score the model on its held-out split; report in reports/heldout
	$(BIN)/postkind evaluate --model $(MODEL) --report-dir reports/heldout

quality: $(MODEL) ## score the model on real labelled posts (../shared/eval); reports/quality.md
	$(BIN)/python scripts/quality.py --model $(MODEL) --shared $(SHARED) --out reports

test: $(STAMP) $(MODEL) ## run the test suite
	$(BIN)/python -m pytest -n 2 -q

lint: $(STAMP) ## ruff, ruff format --check and mypy
	$(BIN)/ruff check src tests scripts conftest.py
	$(BIN)/ruff format --check src tests scripts conftest.py
	$(BIN)/mypy

bench: $(MODEL) ## speed and memory benchmark; reports/bench.json
	$(BIN)/python scripts/bench.py --model $(MODEL) --shared $(SHARED) --out reports

bench-dask: $(MODEL) ## Dask engine, 1 and 2 workers vs single-machine tag; reports/bench_dask.json
	$(BIN)/python scripts/bench_dask.py --model $(MODEL) --shared $(SHARED) --out reports

clean: ## remove the virtualenv, caches and reports (keeps the model)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache reports build dist src/*.egg-info
