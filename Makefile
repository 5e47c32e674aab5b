# kass — developer entry points. `make demo` and `make test` work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DATASETS ?= ../shared/datasets
DEMO_QUESTION ?= Why did login fail after the 2.3 release?

.PHONY: venv demo test test-all lint openapi build bench eval clean

# torch is pinned (torch==2.13.0, the CPU build pip finds here) in pyproject's `local` extra.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[local,aws,agent,dev]"
	@touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(BIN)/kass ingest samples/workspace --prune
	@echo
	@echo "Q: $(DEMO_QUESTION)"
	@$(BIN)/kass ask "$(DEMO_QUESTION)"
	@echo
	@echo "Ask more:   $(BIN)/kass ask \"your question\"   (any language; try: $(BIN)/kass ask \"プッシュ通知が届かない問題の原因は？\")"
	@echo "Also:       $(BIN)/kass search \"rate limit\" --filter source=slack   |   $(BIN)/kass stats   |   $(BIN)/kass --help"

test: venv
	$(BIN)/pytest -m "not slow and not e2e" -q

# Includes the slow tests (retrieval evaluation on the shared datasets).
test-all: venv
	$(BIN)/pytest -m "not e2e" -q

lint: venv
	$(BIN)/ruff check lambda_functions tests scripts
	$(BIN)/mypy

# docs/api/openapi.json is generated from the handlers' code; a test fails when it is stale.
openapi: venv
	$(BIN)/python -m kass.api.openapi > docs/api/openapi.json

# Lambda layers + function zips + sizes under dist/ (pip downloads for the Lambda target; cached
# in build/). Target: KASS_LAMBDA_PYTHON_VERSION, KASS_LAMBDA_ARCHITECTURE. ADR 0006.
build: venv
	$(BIN)/python scripts/build_lambda.py

# First run: ~20 min to embed the 100K real chunks (cached in .kass/bench-cache) and ~15 min to
# build the 1M index (kept in .kass/bench-index); later runs reuse both. Figures: docs/performance.md
bench: venv
	$(BIN)/python scripts/bench_lambda.py
	$(BIN)/python scripts/bench_api.py --requests 200
	$(BIN)/python scripts/bench_ingest.py --docs 2000 --repeats 3
	$(BIN)/python scripts/bench_search.py --corpus real --size 100000 --reuse
	$(BIN)/python scripts/bench_search.py --corpus synthetic --size 1000000 --reuse

eval: venv
	$(BIN)/kass eval $(DATASETS)/msmarco-5k --mode all
	$(BIN)/kass eval $(DATASETS)/dbpedia-5k --mode all

clean:
	rm -rf $(VENV) .kass dist build .pytest_cache .ruff_cache .mypy_cache
