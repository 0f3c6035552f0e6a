# One entry point: `make run` serves the example app, `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
# The browser tests (tests/browser/) drive Debian's Chromium with Playwright.
CHROMIUM := /usr/bin/chromium

.PHONY: run test test-fast lint typecheck pytest upstream compat chromium redis-server valgrind bench \
	docs clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# `make run` needs erlen and its ASGI development server only (the `server` extra): the blog
# example is served on uvicorn, for its live feed (see examples/blog/blog/live.py).
$(BIN)/.run-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[server]'
	touch $@

# The blog of examples/blog on http://127.0.0.1:$(PORT)/; its database and secret key are
# created in examples/blog/instance/ on the first run.
run: $(BIN)/.run-installed
	cd examples/blog && ERLEN_APP=blog ERLEN_RUN_ASGI=1 \
		$(abspath $(BIN))/erlen run --host 127.0.0.1 --port $(PORT)

# Also the import contracts: no cycle, and who may import the app, the adapters and the tools.
lint: $(BIN)/.installed
	$(BIN)/ruff check src tests examples bench
	$(BIN)/ruff format --check src tests examples bench
	$(BIN)/python tests/import_contracts.py

typecheck: $(BIN)/.installed
	$(BIN)/mypy --strict src
	MYPYPATH=examples/blog $(BIN)/mypy --strict tests

# $(call apt_install,PACKAGE,PATH,WHO NEEDS IT): installs Debian's PACKAGE when PATH is missing
# (as root; otherwise says what to run).
define apt_install
	@if [ ! -x $(2) ]; then \
		if [ "$$(id -u)" -eq 0 ]; then \
			apt-get update && apt-get install -y --no-install-recommends $(1); \
		else \
			echo "$(3) Debian's $(1) at $(2). Install it with 'sudo apt-get update &&" \
				"sudo apt-get install -y --no-install-recommends $(1)', or run make as root." >&2; \
			exit 1; \
		fi; \
	fi
endef

chromium:
	$(call apt_install,chromium,$(CHROMIUM),The browser tests need)

# The channels tests start a redis-server on a free port.
REDIS_SERVER := /usr/bin/redis-server
redis-server:
	$(call apt_install,redis-server,$(REDIS_SERVER),The channels tests need)

# bench/instructions.py counts instructions with valgrind (and its test in tests/test_bench.py).
VALGRIND := /usr/bin/valgrind
valgrind:
	$(call apt_install,valgrind,$(VALGRIND),bench/instructions.py needs)

# With the share of erlen's lines the in-process tests run (TOTAL, at the end of the table).
pytest: $(BIN)/.installed chromium redis-server valgrind
	$(BIN)/pytest -q --cov --cov-report=term

# Lint, types and the tests that need no root, no browser and no server process: for the edit
# and test loop (CONTRIBUTING.md). CI runs `make test`.
test-fast: lint typecheck
	$(BIN)/pytest -q -m "not servers and not browser"

# Flask's own test suite and its examples', and the suites of Flask-Login, Flask-WTF,
# Flask-SQLAlchemy, Flask-CORS, Flask-Limiter and Flask-Migrate: fetched from the package index
# into .compat/, run on Flask and on erlen (through erlen.flask_alias), compared; fails when a
# suite keeps less than its minimum share (tests/compat/suites.py).
compat: $(BIN)/.installed
	$(BIN)/python tests/compat/suites.py

# The in-process behavioural tests once more with ERLEN_SPEEDUPS=0: erlen on werkzeug's and
# itsdangerous' own code instead of erlen._speedups (whose tests, against those, are left out).
upstream: $(BIN)/.installed
	ERLEN_SPEEDUPS=0 $(BIN)/pytest -q -p no:cacheprovider -m "not servers and not browser" \
		--ignore=tests/speedups

test: lint typecheck chromium pytest upstream compat

$(BIN)/.bench-installed: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

# In-process tables, instructions per request (valgrind), real servers (wrk if installed:
# apt-get install wrk) and memory, written to bench/RESULTS.md. Takes several minutes.
bench: $(BIN)/.bench-installed valgrind
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" -eq 0 ] && apt-get update -qq >/dev/null \
		&& apt-get install -y -qq wrk >/dev/null 2>&1; } \
		|| echo "wrk is not installed: bench/servers.py uses its Python client"
	$(BIN)/python bench/run_all.py --output bench/RESULTS.md

$(BIN)/.docs-installed: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $@

# The documentation site in site/; warnings (a broken link, a missing page) are errors.
docs: $(BIN)/.docs-installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache site .compat
