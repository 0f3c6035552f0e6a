# One entry point: `make run` serves the example app, `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000

.PHONY: run test lint typecheck pytest bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/.installed
	ERLEN_RUN_PORT=$(PORT) $(BIN)/python examples/hello.py

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests examples bench
	$(BIN)/ruff format --check src tests examples bench

typecheck: $(BIN)/.installed
	$(BIN)/mypy --strict src

pytest: $(BIN)/.installed
	$(BIN)/pytest -q

test: lint typecheck pytest

$(BIN)/.bench-installed: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

bench: $(BIN)/.bench-installed
	$(BIN)/python bench/hello.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
